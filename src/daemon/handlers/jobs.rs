//! add, list, show.

use std::sync::Arc;

use crate::daemon::Shared;
use crate::job::{JobId, NewJob};
use crate::protocol::{ErrorKind, Event, JobDetail, JobView, ListQuery, Response, RpcError};
use crate::store::{JobFilter, JobParts};
use crate::text::for_log;

/// Largest page `list` returns at once.
const MAX_PAGE: u32 = 1000;

/// Validates, fills config defaults, stores the job queued, and announces it.
pub async fn add(shared: &Arc<Shared>, mut new: NewJob) -> Result<Response, RpcError> {
    new.validate()
        .map_err(|e| RpcError::new(ErrorKind::BadRequest, e.0))?;
    for source in &new.options.sources {
        if let Some(reason) = shared.config().source(*source).disabled_reason(*source) {
            return Err(RpcError::new(
                ErrorKind::BadRequest,
                format!("source {source} is {reason}"),
            ));
        }
    }
    shared.config().defaults.apply(&mut new.options);
    new.options.validate().map_err(|e| {
        RpcError::new(
            ErrorKind::BadRequest,
            format!("{} (after config defaults)", e.0),
        )
    })?;
    let job = shared.store.add_job(new).await?;
    tracing::info!(job = %job.id, theme = %for_log(&job.theme), count = job.count, priority = job.priority, "job added");
    shared.publish(Event::Job(job.clone()));
    shared.scheduler.wake();
    Ok(Response::Job(job))
}

/// Jobs in queue order, filtered and paged, each with what holds it up.
pub async fn list(shared: &Arc<Shared>, mut query: ListQuery) -> Result<Response, RpcError> {
    query.limit = query.limit.clamp(1, MAX_PAGE);
    let jobs = shared.store.list_jobs(JobFilter::from(query)).await?;
    let waiting = shared.scheduler.waiting(&jobs).await?;
    let views = jobs
        .into_iter()
        .zip(waiting)
        .map(|(job, waiting)| JobView { job, waiting })
        .collect();
    Ok(Response::JobList(views))
}

/// One job with its downloads, candidates and what holds it up.
pub async fn show(shared: &Arc<Shared>, id: JobId) -> Result<Response, RpcError> {
    let JobParts {
        job,
        downloads,
        candidates,
    } = shared.store.job_parts(id).await?;
    let waiting = shared
        .scheduler
        .waiting(std::slice::from_ref(&job))
        .await?
        .pop()
        .unwrap_or_default();
    let mut detail = JobDetail {
        job,
        downloads,
        candidates,
        waiting,
    };
    shared.scheduler.live_progress(&mut detail.downloads);
    Ok(Response::Detail(detail))
}

/// The wire's list request in the store's terms.
impl From<ListQuery> for JobFilter {
    fn from(query: ListQuery) -> Self {
        JobFilter {
            states: query.states,
            limit: query.limit,
            offset: query.offset,
        }
    }
}
