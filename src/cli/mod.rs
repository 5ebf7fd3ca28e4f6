//! `vfetchctl`: parse, connect (starting a daemon if needed), ask, render.

pub mod args;
mod autostart;
mod commands;
mod exit;
mod export;
mod render;
mod watch;

pub use args::Cli;
pub use exit::{Exit, Failure};

/// Runs one `vfetchctl` invocation and returns its exit status.
pub async fn run(cli: Cli) -> Exit {
    match commands::execute(cli).await {
        Ok(exit) => exit,
        Err(failure) => {
            eprintln!("vfetchctl: error: {failure}");
            failure.exit()
        }
    }
}
