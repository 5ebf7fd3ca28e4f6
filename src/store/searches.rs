//! Search history: one row per request sent to a source, and the recording of one search page
//! (candidates, history, cursor and the job's notes) as one transaction.

use rusqlite::{params, Connection};

use super::{candidates, jobs, Store, StoreError};
use crate::candidate::Candidate;
use crate::job::{Job, JobId};
use crate::source_kind::SourceKind;
use crate::timestamp::Timestamp;

/// What one page of a search brought.
#[derive(Debug, Clone)]
pub enum PageOutcome {
    /// The source answered.
    Found {
        /// The videos on the page, in the source's rank order.
        candidates: Vec<Candidate>,
        /// How many results the source returned (before any were skipped).
        returned: u32,
        /// No further page is worth asking for.
        exhausted: bool,
        /// One line per result that was skipped, noted on the job.
        skipped: Vec<String>,
    },
    /// The search failed; the source is dry for this job and the reason is noted on it.
    Failed { reason: String },
}

/// What recording a search page changed.
#[derive(Debug, Clone)]
pub struct RecordedPage {
    /// Candidates that were new.
    pub added: usize,
    /// The job as it now is, when notes were added to it.
    pub job: Option<Job>,
}

impl Store {
    /// Creates cursors for the sources a job will search (existing ones are kept).
    pub async fn open_cursors(
        &self,
        job: JobId,
        sources: Vec<SourceKind>,
    ) -> Result<(), StoreError> {
        self.run(move |db| {
            let tx = db.transaction()?;
            candidates::open_cursors(&tx, job, &sources)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// A job's search cursors.
    pub async fn cursors(&self, job: JobId) -> Result<Vec<candidates::Cursor>, StoreError> {
        self.run(move |db| candidates::cursors(db, job)).await
    }

    /// Records one page of `theme`'s search on `source` for `job`: its new candidates, the
    /// search history row, the source's cursor (advanced, or dry) and notes on the job, all in
    /// one transaction.
    pub async fn record_search_page(
        &self,
        job: JobId,
        theme: String,
        source: SourceKind,
        page: u32,
        outcome: PageOutcome,
    ) -> Result<RecordedPage, StoreError> {
        self.run(move |db| {
            let tx = db.transaction()?;
            let recorded = record_page(&tx, job, &theme, source, page, outcome)?;
            tx.commit()?;
            Ok(recorded)
        })
        .await
    }
}

fn record_page(
    db: &Connection,
    job: JobId,
    theme: &str,
    source: SourceKind,
    page: u32,
    outcome: PageOutcome,
) -> Result<RecordedPage, StoreError> {
    let (added, notes) = match outcome {
        PageOutcome::Found {
            candidates: found,
            returned,
            exhausted,
            skipped,
        } => {
            let added = candidates::insert_new(db, job, &found)?;
            record(db, theme, source, page, returned, None)?;
            candidates::advance_cursor(db, job, source, exhausted, None)?;
            (added, skipped)
        }
        PageOutcome::Failed { reason } => {
            record(db, theme, source, page, 0, Some(&reason))?;
            candidates::advance_cursor(db, job, source, true, Some(&reason))?;
            (0, vec![reason])
        }
    };
    let job = match notes.is_empty() {
        true => None,
        false => Some(jobs::add_errors(db, job, &notes)?),
    };
    Ok(RecordedPage { added, job })
}

/// Records one search request and what it returned (or why it failed).
fn record(
    db: &Connection,
    theme: &str,
    source: SourceKind,
    page: u32,
    results: u32,
    error: Option<&str>,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO searches (theme, source, page, results, error, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![theme, source.as_str(), page, results, error, Timestamp::now().0],
    )?;
    Ok(())
}

/// How many searches were recorded for a theme (for tests and stats).
#[cfg(test)]
fn count_for_theme(db: &Connection, theme: &str) -> Result<u64, StoreError> {
    let n: i64 = db.query_row(
        "SELECT COUNT(*) FROM searches WHERE theme = ?1",
        [theme],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{JobOptions, NewJob};

    fn candidate(id: &str) -> Candidate {
        super::super::downloads::tests::candidate(SourceKind::Pexels, id)
    }

    fn theme_searches(store: &Store, theme: &str) -> u64 {
        store.run_blocking(|db| count_for_theme(db, theme)).unwrap()
    }

    #[tokio::test]
    async fn a_search_page_is_recorded_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let job = store
            .add_job(NewJob {
                theme: "sea".into(),
                count: 3,
                priority: 0,
                options: JobOptions::default(),
            })
            .await
            .unwrap();
        store
            .open_cursors(job.id, vec![SourceKind::Pexels])
            .await
            .unwrap();
        let page = PageOutcome::Found {
            candidates: vec![candidate("1"), candidate("2")],
            returned: 3,
            exhausted: false,
            skipped: vec!["pexels: 3 has no file".into()],
        };
        let recorded = store
            .record_search_page(job.id, "sea".into(), SourceKind::Pexels, 1, page)
            .await
            .unwrap();
        assert_eq!(recorded.added, 2);
        let noted = recorded
            .job
            .expect("the skipped result is noted on the job");
        assert_eq!(noted.errors, vec!["pexels: 3 has no file".to_string()]);
        assert_eq!(theme_searches(&store, "sea"), 1);
        let cursors = store.cursors(job.id).await.unwrap();
        assert_eq!((cursors[0].next_page, cursors[0].exhausted), (2, false));
    }

    #[tokio::test]
    async fn a_search_page_that_cannot_be_recorded_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        // The job is gone by the time its page is recorded: noting the failure on it fails, and
        // the history row written before it in the same transaction must go with it.
        let page = PageOutcome::Failed {
            reason: "pexels: HTTP 500".into(),
        };
        let result = store
            .record_search_page(JobId(42), "gone".into(), SourceKind::Pexels, 1, page)
            .await;
        assert!(
            matches!(result, Err(StoreError::JobNotFound(JobId(42)))),
            "{result:?}"
        );
        assert_eq!(theme_searches(&store, "gone"), 0);
    }
}
