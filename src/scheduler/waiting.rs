//! Tells why jobs that should be moving are not: reads what each still needs from the store and
//! what holds each source back from its gate, and lets [`crate::waiting::holding_up`] decide.

use super::shared::Shared;
use crate::job::{Job, JobState};
use crate::source_kind::SourceKind;
use crate::store::StoreError;
use crate::waiting::{holding_up, SourceHold, Waiting};

/// For each of `jobs`, in order, the sources holding it up (empty when it moves, or is paused or
/// ended: only the scheduler's own jobs can wait on a source).
pub(super) async fn of(shared: &Shared, jobs: &[Job]) -> Result<Vec<Vec<Waiting>>, StoreError> {
    // One reading of the gates for every job, so the jobs of one answer agree.
    let holds: Vec<(SourceKind, SourceHold)> = SourceKind::ALL
        .into_iter()
        .map(|s| {
            (
                s,
                shared.gate(s).map_or(SourceHold::default(), |g| g.hold()),
            )
        })
        .collect();
    // Nothing held (the usual case): no job can wait, so `list` costs no extra query.
    let anything_held = holds.iter().any(|(_, h)| *h != SourceHold::default());
    let live = |job: &Job| {
        anything_held
            && matches!(
                job.state,
                JobState::Queued | JobState::Searching | JobState::Downloading
            )
    };
    let ids: Vec<_> = jobs.iter().filter(|j| live(j)).map(|j| j.id).collect();
    let mut pending = if ids.is_empty() {
        Vec::new()
    } else {
        shared.store.pending_sources(ids).await?
    }
    .into_iter();
    let hold = |source| {
        holds
            .iter()
            .find(|(s, _)| *s == source)
            .map_or(SourceHold::default(), |(_, h)| *h)
    };
    Ok(jobs
        .iter()
        .map(|job| match live(job) {
            true => holding_up(&pending.next().unwrap_or_default(), hold),
            false => Vec::new(),
        })
        .collect())
}
