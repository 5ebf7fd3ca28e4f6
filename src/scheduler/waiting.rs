//! Tells why jobs that should be moving are not: reads what each still needs from the store and
//! what holds each source back from its gate, and lets [`crate::waiting::holding_up`] decide.

use super::shared::Shared;
use crate::job::{Job, JobState};
use crate::store::StoreError;
use crate::waiting::{holding_up, PendingSources, SourceHold, Waiting};

/// For each of `jobs`, in order, the sources holding it up (empty when it moves, or is paused or
/// ended: only the scheduler's own jobs can wait on a source).
pub(super) async fn of(shared: &Shared, jobs: &[Job]) -> Result<Vec<Vec<Waiting>>, StoreError> {
    let live: Vec<_> = jobs
        .iter()
        .filter(|j| {
            matches!(
                j.state,
                JobState::Queued | JobState::Searching | JobState::Downloading
            )
        })
        .map(|j| j.id)
        .collect();
    let mut pending = if live.is_empty() {
        Vec::new()
    } else {
        shared.store.pending_sources(live.clone()).await?
    }
    .into_iter();
    let hold = |source| {
        shared
            .gate(source)
            .map_or(SourceHold::default(), |g| g.hold())
    };
    Ok(jobs
        .iter()
        .map(|job| {
            if !live.contains(&job.id) {
                return Vec::new();
            }
            let needs: PendingSources = pending.next().unwrap_or_default();
            holding_up(&needs, hold)
        })
        .collect())
}
