//! add, list, show.

use std::sync::Arc;

use crate::daemon::Shared;
use crate::job::{JobId, NewJob};
use crate::protocol::{ErrorKind, Event, JobDetail, ListQuery, Response, RpcError};
use crate::store::{candidates, downloads, jobs};
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
    let job = shared.store.run(move |db| jobs::insert(db, &new)).await?;
    tracing::info!(job = %job.id, theme = %for_log(&job.theme), count = job.count, priority = job.priority, "job added");
    shared.publish(Event::Job(job.clone()));
    shared.scheduler.wake();
    Ok(Response::Job(job))
}

/// Jobs in queue order, filtered and paged.
pub async fn list(shared: &Arc<Shared>, mut query: ListQuery) -> Result<Response, RpcError> {
    query.limit = query.limit.clamp(1, MAX_PAGE);
    let jobs = shared.store.run(move |db| jobs::list(db, &query)).await?;
    Ok(Response::Jobs(jobs))
}

/// One job with its downloads.
pub async fn show(shared: &Arc<Shared>, id: JobId) -> Result<Response, RpcError> {
    let detail = shared
        .store
        .run(move |db| {
            Ok(JobDetail {
                job: jobs::get(db, id)?,
                downloads: downloads::for_job(db, id)?,
                candidates: candidates::for_job(db, id)?,
            })
        })
        .await?;
    let mut detail = detail;
    shared.scheduler.live_progress(&mut detail.downloads);
    Ok(Response::Detail(detail))
}
