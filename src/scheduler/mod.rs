//! Decides what runs: which jobs search, which candidates become downloads, when a job is done
//! or failed. Woken by events (new job, search finished, resume), never by a polling loop.
//!
//! Its host (the daemon) builds a [`Context`] and keeps a [`Scheduler`] handle; nothing here
//! knows the host, so the dependency runs one way. Inside too: `context`, `running` and
//! `searcher` know nothing of the rest, `shared` holds them, `search`, `validation` and
//! `worker` do the work, `waiting` tells why a job does not move, this file's loop starts it,
//! and `handle` is what the host sees.

mod context;
mod handle;
mod running;
mod search;
mod searcher;
mod shared;
mod validation;
mod waiting;
mod worker;

pub use context::Context;
pub use handle::Scheduler;
pub use running::LiveProgress;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::job::{Job, JobState};
use crate::protocol::Event;
use crate::source_kind::SourceKind;
use crate::store::StoreError;
use crate::text::for_log;
use running::Running;
use shared::Shared;

/// Runs until shutdown, re-evaluating runnable jobs each time it is woken.
async fn run(shared: Arc<Shared>) {
    loop {
        if let Err(e) = step(&shared).await {
            tracing::error!(error = %e, "scheduler step failed");
        }
        // An open breaker's recovery is the one thing no event announces: wake for it.
        let reopening = shared
            .gates
            .values()
            .filter_map(|g| g.closed_for())
            .min()
            .map(|d| d + Duration::from_millis(10))
            .unwrap_or(Duration::from_secs(3600));
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(reopening) => {}
            _ = shared.shutdown.cancelled() => break,
        }
    }
}

/// One pass over the runnable jobs, in queue order.
async fn step(shared: &Arc<Shared>) -> Result<(), StoreError> {
    let runnable = shared.store.runnable_jobs().await?;
    for job in runnable {
        if lock(&shared.searching).contains(&job.id) {
            continue;
        }
        let id = job.id;
        let progress = shared.store.top_up(id).await?;
        if progress.done >= progress.count {
            move_job(shared, &job, JobState::Done, &[]).await?;
            continue;
        }
        let short = progress.done + progress.active < progress.count;
        let sources_left = shared.store.has_open_sources(id).await?;
        let never_searched =
            job.state == JobState::Queued && progress.active == 0 && progress.fresh == 0;
        if short && (sources_left || never_searched) {
            if progress.active == 0 {
                move_job(shared, &job, JobState::Searching, &[]).await?;
            } else if job.state != JobState::Downloading {
                move_job(shared, &job, JobState::Downloading, &[]).await?;
            }
            start_search(shared, job);
        } else if progress.active > 0 {
            if job.state != JobState::Downloading {
                move_job(shared, &job, JobState::Downloading, &[]).await?;
            }
        } else {
            let reasons = vec![format!(
                "sources exhausted: found {} of {} videos for {:?}",
                progress.done, progress.count, job.theme
            )];
            move_job(shared, &job, JobState::Failed, &reasons).await?;
        }
    }
    start_downloads(shared).await
}

/// Fills free download slots in queue order, honouring the global and per-source limits.
async fn start_downloads(shared: &Arc<Shared>) -> Result<(), StoreError> {
    loop {
        if shared.shutdown.is_cancelled() {
            return Ok(());
        }
        let full: Vec<SourceKind> = {
            let running = shared.running.lock();
            if running.len() >= shared.config().parallel_downloads as usize {
                return Ok(());
            }
            SourceKind::ALL
                .into_iter()
                .filter(|s| {
                    // A source whose breaker is open waits; the others carry on.
                    let open = shared.gate(*s).is_some_and(|g| g.closed_for().is_some());
                    open || running.values().filter(|r| r.source == *s).count()
                        >= shared.config().per_source_downloads as usize
                })
                .collect()
        };
        let Some(work) = shared.store.pick_next(full).await? else {
            return Ok(());
        };
        let cancel = shared.shutdown.child_token();
        let received = Arc::new(AtomicU64::new(work.offset));
        // The size as last stored (the server's from an earlier attempt, else the source's
        // claim) until this attempt's response says; 0 = unknown.
        let total = Arc::new(AtomicU64::new(
            work.total.or(work.candidate.size).unwrap_or(0),
        ));
        shared.running.insert(
            work.download,
            Running {
                job: work.job,
                source: work.candidate.attribution.source,
                cancel: cancel.clone(),
                received: Arc::clone(&received),
                started: Instant::now(),
                start_offset: work.offset,
                total: Arc::clone(&total),
            },
        );
        tracing::info!(download = %work.download, job = %work.job, source = %work.candidate.attribution.source, offset = work.offset, "download started");
        shared.workers.spawn(worker::run(
            Arc::clone(shared),
            work,
            cancel,
            received,
            total,
        ));
    }
}

fn start_search(shared: &Arc<Shared>, job: Job) {
    let id = job.id;
    lock(&shared.searching).insert(id);
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        if let Err(e) = search::run(Arc::clone(&shared), job).await {
            tracing::error!(job = %id, error = %for_log(&e.to_string()), "search failed");
        }
        lock(&shared.searching).remove(&id);
        shared.wake.notify_one();
    });
}

async fn move_job(
    shared: &Shared,
    job: &Job,
    to: JobState,
    reasons: &[String],
) -> Result<(), StoreError> {
    if job.state == to {
        return Ok(());
    }
    let (id, reasons) = (job.id, reasons.to_vec());
    let result = shared.store.move_job_noting(id, to, reasons).await;
    match result {
        Ok(job) => {
            tracing::info!(job = %job.id, state = %job.state, done = job.done, count = job.count, "job state");
            shared.publish(Event::Job(job));
            Ok(())
        }
        // A user paused or cancelled it meanwhile: their decision stands.
        Err(StoreError::Transition { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The set is only touched briefly and never across an await, so a poisoned lock is still sound.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
