//! `pause`: stop one job (or all) at clean offsets.

use super::{target_of, Context};
use crate::cli::args::TargetArgs;
use crate::cli::{render, Exit, Failure};
use crate::job::Job;
use crate::protocol::Request;

/// Pauses and prints the jobs that changed.
pub async fn run(ctx: &Context<'_>, target: &TargetArgs) -> Result<Exit, Failure> {
    let request = Request::Pause(target_of(target));
    let changed: Vec<Job> = ctx.connect().await?.call(request).await?;
    render::jobs_changed(&changed, ctx.json);
    Ok(Exit::Ok)
}
