//! `show`: one job with its downloads.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::job::JobId;
use crate::protocol::{JobDetail, Request};

/// Asks for the job's detail and prints it.
pub async fn run(ctx: &Context<'_>, id: JobId) -> Result<Exit, Failure> {
    let detail: JobDetail = ctx.connect().await?.call(Request::Show(id)).await?;
    render::job_detail(&detail, ctx.json);
    Ok(Exit::Ok)
}
