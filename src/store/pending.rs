//! What a job still needs from its sources, so the scheduler can tell why it waits (see
//! [`crate::waiting`]): the sources of its downloads in the queue or under way, and the sources
//! it still searches while it is short of candidates.

use rusqlite::Connection;

use super::{downloads, Store, StoreError};
use crate::job::JobId;
use crate::source_kind::SourceKind;
use crate::waiting::PendingSources;

impl Store {
    /// For each of `jobs`, in order, the sources it still needs (nothing for a job that is gone),
    /// read in one transaction.
    pub async fn pending_sources(
        &self,
        jobs: Vec<JobId>,
    ) -> Result<Vec<PendingSources>, StoreError> {
        self.run(move |db| {
            let tx = db.transaction()?;
            let pending = jobs
                .iter()
                .map(|job| pending(&tx, *job))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit()?;
            Ok(pending)
        })
        .await
    }
}

/// One job's pending sources.
fn pending(db: &Connection, job: JobId) -> Result<PendingSources, StoreError> {
    let progress = match downloads::progress(db, job) {
        Ok(progress) => progress,
        Err(StoreError::JobNotFound(_)) => return Ok(PendingSources::default()),
        Err(e) => return Err(e),
    };
    let downloads = sources(
        db,
        "SELECT DISTINCT source FROM downloads
         WHERE job_id = ?1 AND state IN ('queued', 'running') ORDER BY source",
        job,
    )?;
    // The same test the search uses: it runs while found + fetched + untried fall short.
    let short = progress.done + progress.active + progress.fresh < progress.count;
    let searches = if short {
        sources(
            db,
            "SELECT source FROM job_sources WHERE job_id = ?1 AND NOT exhausted ORDER BY source",
            job,
        )?
    } else {
        Vec::new()
    };
    Ok(PendingSources {
        downloads,
        searches,
    })
}

/// The sources one query lists for `job`.
fn sources(db: &Connection, sql: &str, job: JobId) -> Result<Vec<SourceKind>, StoreError> {
    let mut statement = db.prepare_cached(sql)?;
    let rows = statement.query_map([job.0], |r| r.get::<_, String>(0))?;
    rows.map(|source| Ok(source?.parse()?)).collect()
}
