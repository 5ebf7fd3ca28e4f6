//! `metrics`: the Prometheus text format, printed exactly as the daemon wrote it.

use super::Context;
use crate::cli::{Exit, Failure};
use crate::protocol::Request;

/// Prints the figures for node_exporter's textfile collector.
pub async fn run(ctx: &Context<'_>) -> Result<Exit, Failure> {
    let text: String = ctx.connect().await?.call(Request::Metrics).await?;
    print!("{text}");
    Ok(Exit::Ok)
}
