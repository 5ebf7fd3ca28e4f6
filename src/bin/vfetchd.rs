//! The vfetch daemon's entry point: arguments, config, logging, then the library's daemon.

use std::process::ExitCode;

use clap::Parser;
use vfetch::config::{Config, Mode};
use vfetch::daemon::{self, args::DaemonArgs, logging};

fn main() -> ExitCode {
    // Every download's writer runs on a blocking thread, and glibc gives each thread its own
    // malloc arena; two arenas keep resident memory near 200 KiB per download.
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only tunes the allocator; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    let args = DaemonArgs::parse();
    let mode = if args.system {
        Mode::System
    } else {
        Mode::User
    };
    let env = |name: &str| std::env::var(name).ok();
    let config = match Config::load(mode, &args.overrides(), &env) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("vfetchd: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(args.verbose, config.log_file.as_deref());
    if args.recover {
        return match daemon::recover::run(&config) {
            Ok(recovery) => {
                println!("{recovery}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("vfetchd: cannot recover the database: {e}");
                ExitCode::from(e.exit_code())
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("vfetchd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(daemon::run(config, args.overrides())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("vfetchd: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
