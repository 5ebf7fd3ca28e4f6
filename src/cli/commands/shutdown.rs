//! `shutdown`: stop the daemon gracefully.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::protocol::{Request, ShuttingDown};

/// Asks the daemon to stop and confirms it is on its way.
pub async fn run(ctx: &Context<'_>) -> Result<Exit, Failure> {
    let ShuttingDown = ctx.connect().await?.call(Request::Shutdown).await?;
    render::message("vfetchd is shutting down", ctx.json);
    Ok(Exit::Ok)
}
