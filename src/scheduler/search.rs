//! Searching for a job: all its sources at once, one page each per round, lazily, until it has
//! enough candidates or every source has run dry.

use std::sync::Arc;

use futures::future::join_all;

use super::shared::Shared;
use crate::job::Job;
use crate::protocol::Event;
use crate::source_kind::SourceKind;
use crate::sources::{SearchPage, SearchQuery, SourceError};
use crate::store::{candidates, downloads, jobs, searches, StoreError};
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
    shared
        .store
        .run(move |db| candidates::open_cursors(db, id, &wanted))
        .await?;

    for _ in 0..MAX_ROUNDS {
        let (progress, cursors) = shared
            .store
            .run(move |db| Ok((downloads::progress(db, id)?, candidates::cursors(db, id)?)))
            .await?;
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

/// Stores one page's outcome: candidates, search history, the cursor, and errors on the job.
async fn record(
    shared: &Shared,
    job: &Job,
    source: SourceKind,
    query: &SearchQuery,
    result: Result<SearchPage, SourceError>,
) -> Result<(), StoreError> {
    let (id, theme, page) = (job.id, job.theme.clone(), query.page);
    let updated = shared
        .store
        .run(move |db| {
            let mut notes = Vec::new();
            match result {
                Ok(found) => {
                    let added = candidates::insert_new(db, id, &found.candidates)?;
                    searches::record(db, &theme, source, page, found.returned, None)?;
                    let dry = !found.has_more || found.returned == 0 || page >= MAX_PAGES;
                    candidates::advance_cursor(db, id, source, dry, None)?;
                    tracing::debug!(job = %id, source = %source, page, returned = found.returned, added, "search page");
                    notes.extend(found.skipped);
                }
                Err(e) => {
                    let reason = format!("{source}: {e}");
                    searches::record(db, &theme, source, page, 0, Some(&reason))?;
                    candidates::advance_cursor(db, id, source, true, Some(&reason))?;
                    tracing::warn!(job = %id, source = %source, error = %for_log(&e.to_string()), "search failed");
                    notes.push(reason);
                }
            }
            if notes.is_empty() {
                return Ok(None);
            }
            jobs::add_errors(db, id, &notes).map(Some)
        })
        .await?;
    if let Some(job) = updated {
        shared.publish(Event::Job(job));
    }
    Ok(())
}
