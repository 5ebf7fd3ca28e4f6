//! The vfetch client's entry point: parse arguments and hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use vfetch::cli::{self, Cli, Exit};

fn main() -> ExitCode {
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
