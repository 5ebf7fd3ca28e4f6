//! The vfetch client's entry point: parse arguments and hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use vfetch::cli::{self, Cli, Exit};

fn main() -> ExitCode {
    // Like other command-line tools, stop quietly when the reader of our output goes away
    // (`vfetchctl list | head -1`) instead of panicking on a broken pipe.
    // SAFETY: resetting a signal to its default disposition before any threads exist.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("vfetchctl: error: cannot start the async runtime: {e}");
            return Exit::Failed.into();
        }
    };
    runtime.block_on(cli::run(cli)).into()
}
