//! pause, resume, cancel, priority: state changes a user asks for.

use std::sync::Arc;

use crate::daemon::Shared;
use crate::job::{Job, JobId, JobState};
use crate::protocol::{Event, Response, RpcError, SetPriority, Target};

/// Pauses one job, or every job that can be paused.
pub async fn pause(shared: &Arc<Shared>, target: Target) -> Result<Response, RpcError> {
    move_jobs(shared, target, JobState::Paused).await
}

/// Puts paused jobs back in the queue.
pub async fn resume(shared: &Arc<Shared>, target: Target) -> Result<Response, RpcError> {
    move_jobs(shared, target, JobState::Queued).await
}

/// Stops a job for good.
pub async fn cancel(shared: &Arc<Shared>, id: JobId) -> Result<Response, RpcError> {
    let job = shared.store.move_job(id, JobState::Cancelled).await?;
    announce(shared, std::slice::from_ref(&job));
    Ok(Response::Job(job))
}

/// Changes a job's place in the queue.
pub async fn set_priority(
    shared: &Arc<Shared>,
    SetPriority { id, priority }: SetPriority,
) -> Result<Response, RpcError> {
    let job = shared.store.set_priority(id, priority).await?;
    announce(shared, std::slice::from_ref(&job));
    Ok(Response::Job(job))
}

async fn move_jobs(
    shared: &Arc<Shared>,
    target: Target,
    to: JobState,
) -> Result<Response, RpcError> {
    let changed = match target {
        Target::Job(id) => vec![shared.store.move_job(id, to).await?],
        Target::All => shared.store.move_all_jobs(to).await?,
    };
    announce(shared, &changed);
    Ok(Response::Jobs(changed))
}

fn announce(shared: &Shared, jobs: &[Job]) {
    for job in jobs {
        if matches!(job.state, JobState::Paused | JobState::Cancelled) {
            shared.scheduler.stop_job(job.id);
        }
        tracing::info!(job = %job.id, state = %job.state, priority = job.priority, "job changed");
        shared.publish(Event::Job(job.clone()));
    }
    // Resumed work, freed slots and new priorities all change what the scheduler should run.
    shared.scheduler.wake();
}
