//! `thumbnails --missing`: make the thumbnails finished videos lack, and say how many.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::ipc::client::ClientError;
use crate::protocol::{Request, Response};

/// Asks the daemon to make every missing thumbnail and waits until all were tried (progress
/// frames keep a long backfill from looking like a stuck daemon).
pub async fn run(ctx: &Context<'_>) -> Result<Exit, Failure> {
    let mut client = ctx.connect().await?.client;
    // A streamed answer: progress, then the report; the only place two kinds are right.
    let mut response = client.request(&Request::MakeMissingThumbnails).await?;
    loop {
        match response {
            Response::ThumbnailsProgress(_) => {}
            Response::Thumbnails(report) => {
                render::thumbnails(&report, ctx.json);
                return Ok(Exit::Ok);
            }
            other => return Err(ClientError::Unexpected(format!("{other:?}")).into()),
        }
        response = client.next_response().await?;
    }
}
