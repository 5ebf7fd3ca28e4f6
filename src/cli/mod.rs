//! `vfetchctl`: parse, connect (starting a daemon if needed), ask, render.

pub mod args;
mod autostart;
mod commands;
pub mod docs;
mod exit;
mod render;
mod sentences;
mod watch;

pub use args::Cli;
pub use exit::{Exit, Failure};

/// Runs one `vfetchctl` invocation and returns its exit status.
pub async fn run(cli: Cli) -> Exit {
    match commands::execute(cli).await {
        Ok(exit) => exit,
        Err(failure) => {
            // Messages can echo a provider's or a user's text: one line, nothing that acts on
            // the terminal.
            eprintln!(
                "vfetchctl: error: {}",
                crate::text::escaped(&failure.to_string())
            );
            failure.exit()
        }
    }
}
