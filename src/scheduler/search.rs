//! Searching for a job: all its sources at once, one page each per round, lazily, until it has
//! enough candidates or every source has run dry.

use std::sync::Arc;

use futures::future::join_all;

use super::shared::Shared;
use crate::job::Job;
use crate::protocol::Event;
use crate::source_kind::SourceKind;
use crate::sources::{SearchPage, SearchQuery, SourceError};
use crate::store::{PageOutcome, StoreError};
use crate::text::for_log;

/// Pages fetched from one source for one job before it counts as exhausted.
const MAX_PAGES: u32 = 20;
/// Rounds one search task runs before handing back to the scheduler.
const MAX_ROUNDS: u32 = 5;

/// Runs search rounds for `job` until it has enough untried candidates or its sources are dry.
pub(super) async fn run(shared: Arc<Shared>, job: Job) -> Result<(), StoreError> {
    let wanted: Vec<SourceKind> = if job.options.sources.is_empty() {
        SourceKind::ALL
            .into_iter()
            .filter(|k| shared.searcher().has(*k))
            .collect()
    } else {
        job.options
            .sources
            .iter()
            .copied()
            .filter(|k| shared.searcher().has(*k))
            .collect()
    };
    let id = job.id;
    shared.store.open_cursors(id, wanted).await?;

    for _ in 0..MAX_ROUNDS {
        let (progress, cursors) = shared.store.search_standing(id).await?;
        let needed = progress
            .count
            .saturating_sub(progress.done + progress.active + progress.fresh);
        let open: Vec<_> = cursors.into_iter().filter(|c| !c.exhausted).collect();
        if needed == 0 || open.is_empty() {
            break;
        }
        let per_page = (needed * 2).clamp(10, 50);
        let job = &job;
        let rounds = open.iter().map(|cursor| {
            let query = SearchQuery {
                theme: job.theme.clone(),
                page: cursor.next_page,
                per_page,
                options: job.options.clone(),
            };
            let source = cursor.source;
            let shared = Arc::clone(&shared);
            async move {
                let result = shared.searcher().page(source, &query).await;
                record(&shared, job, source, &query, result).await
            }
        });
        for outcome in join_all(rounds).await {
            outcome?;
        }
        // Let the scheduler queue downloads for what was found while the next round runs.
        shared.wake.notify_one();
    }
    Ok(())
}

/// Stores one page's outcome (candidates, search history, the cursor, and notes on the job) in
/// one store transaction.
async fn record(
    shared: &Shared,
    job: &Job,
    source: SourceKind,
    query: &SearchQuery,
    result: Result<SearchPage, SourceError>,
) -> Result<(), StoreError> {
    let (id, page) = (job.id, query.page);
    let (outcome, returned) = match result {
        Ok(found) => (
            PageOutcome::Found {
                exhausted: !found.has_more || found.returned == 0 || page >= MAX_PAGES,
                returned: found.returned,
                candidates: found.candidates,
                skipped: found.skipped,
            },
            Some(found.returned),
        ),
        Err(e) => {
            tracing::warn!(job = %id, source = %source, error = %for_log(&e.to_string()), "search failed");
            let reason = format!("{source}: {e}");
            (PageOutcome::Failed { reason }, None)
        }
    };
    let recorded = shared
        .store
        .record_search_page(id, job.theme.clone(), source, page, outcome)
        .await?;
    if let Some(returned) = returned {
        tracing::debug!(job = %id, source = %source, page, returned, added = recorded.added, "search page");
    }
    if let Some(job) = recorded.job {
        shared.publish(Event::Job(job));
    }
    Ok(())
}
