//! `history`: recent finished downloads, newest first.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::download::DownloadState;
use crate::insight::{HistoryQuery, HistoryRow};

/// Asks for the newest `limit` finished downloads (of one theme or state) and prints them.
pub async fn run(
    ctx: &Context<'_>,
    limit: u32,
    theme: Option<&str>,
    state: Option<DownloadState>,
) -> Result<Exit, Failure> {
    let query = HistoryQuery {
        limit,
        theme: theme.map(str::to_string),
        state,
    };
    let rows: Vec<HistoryRow> = ctx.connect().await?.call(query).await?;
    render::history(&rows, ctx.json);
    Ok(Exit::Ok)
}
