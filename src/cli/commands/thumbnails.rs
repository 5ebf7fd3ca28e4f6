//! `thumbnails --missing`: make the thumbnails finished videos lack, and say how many.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::gallery::ThumbnailReport;
use crate::protocol::Request;

/// Asks the daemon to make every missing thumbnail; waits until all were tried.
pub async fn run(ctx: &Context<'_>) -> Result<Exit, Failure> {
    let report: ThumbnailReport = ctx
        .connect()
        .await?
        .call(Request::MakeMissingThumbnails)
        .await?;
    render::thumbnails(&report, ctx.json);
    Ok(Exit::Ok)
}
