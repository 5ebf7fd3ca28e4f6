//! `list`: jobs in queue order, filtered and paged.

use super::Context;
use crate::cli::args::ListArgs;
use crate::cli::{render, Exit, Failure};
use crate::protocol::{JobView, ListQuery};

/// Asks for one page of jobs and prints it.
pub async fn run(ctx: &Context<'_>, args: &ListArgs) -> Result<Exit, Failure> {
    let query = ListQuery {
        states: args.states.clone(),
        limit: args.limit,
        offset: args.offset,
    };
    let jobs: Vec<JobView> = ctx.connect().await?.call(query).await?;
    render::job_list(&jobs, ctx.json);
    Ok(Exit::Ok)
}
