//! `add`: queue a job, and with `--wait` follow it to its end.

use super::{watch, Context, Session};
use crate::cli::args::AddArgs;
use crate::cli::watch::View;
use crate::cli::{render, Exit, Failure};
use crate::job::{validate_count, Job, JobId, JobOptions, JobState, NewJob};

/// Checks the job here first, so bad input never starts a daemon.
pub async fn run(ctx: &Context<'_>, args: &AddArgs) -> Result<Exit, Failure> {
    let new = new_job(args)?;
    let mut session = ctx.connect().await?;
    let job: Job = session.call(new).await?;
    if args.wait {
        return wait_for(&mut session, job.id, ctx.json).await;
    }
    render::job_added(&job, ctx.json);
    Ok(Exit::Ok)
}

fn new_job(args: &AddArgs) -> Result<NewJob, Failure> {
    let count = validate_count(args.count).map_err(|e| Failure::Usage(e.0))?;
    let job = NewJob {
        theme: args.theme.clone(),
        count,
        priority: args.priority,
        options: JobOptions {
            sources: args.sources.clone(),
            quality: args.quality,
            orientation: args.orientation,
            min_duration: args.min_duration,
            max_duration: args.max_duration,
            min_width: args.min_width,
            min_height: args.min_height,
            max_file_size_mb: args.max_file_size_mb,
        },
    };
    job.validate().map_err(|e| Failure::Usage(e.0))?;
    Ok(job)
}

/// Follows a job's events until it ends; exit 1 unless it is done.
async fn wait_for(session: &mut Session, id: JobId, json: bool) -> Result<Exit, Failure> {
    // With --json only the final job is printed, for scripts; on a terminal, live bars.
    let view = if json {
        View::Quiet
    } else {
        View::for_stdout(false, View::Quiet)
    };
    let job = watch::follow(session, Some(id), view).await?;
    let Some(job) = job else {
        return Err(Failure::Other(format!("job {id} did not end")));
    };
    render::job_finished(&job, json);
    Ok(if job.state == JobState::Done {
        Exit::Ok
    } else {
        Exit::Failed
    })
}
