//! `priority`: move a job in the queue.

use super::Context;
use crate::cli::{render, Exit, Failure};
use crate::job::{Job, JobId};
use crate::protocol::SetPriority;

/// Sets the priority and prints the job as it now is.
pub async fn run(ctx: &Context<'_>, id: JobId, priority: i32) -> Result<Exit, Failure> {
    let message = SetPriority { id, priority };
    let job: Job = ctx.connect().await?.call(message).await?;
    render::jobs_changed(std::slice::from_ref(&job), ctx.json);
    Ok(Exit::Ok)
}
