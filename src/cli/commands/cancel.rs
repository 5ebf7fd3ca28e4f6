//! `cancel`: stop a job for good.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::job::{Job, JobId};
use crate::protocol::Request;

/// Cancels and prints the job as it now is.
pub async fn run(ctx: &Context<'_>, id: JobId) -> Result<Exit, Failure> {
    let job: Job = ctx.connect().await?.call(Request::Cancel(id)).await?;
    render::jobs_changed(std::slice::from_ref(&job), ctx.json);
    Ok(Exit::Ok)
}
