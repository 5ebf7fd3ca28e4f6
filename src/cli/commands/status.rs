//! `status`: the daemon's version, uptime, paths, queue depth and sources.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::protocol::{Request, StatusView};

/// Asks for the daemon's health and prints it.
pub async fn run(ctx: &Context<'_>) -> Result<Exit, Failure> {
    let status: StatusView = ctx.connect().await?.call(Request::Status).await?;
    render::status(&status, ctx.json);
    Ok(Exit::Ok)
}
