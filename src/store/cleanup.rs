//! Removing old records for `cleanup`; a dry run does the same work and rolls it back.

use rusqlite::{params, Connection};

use super::{Store, StoreError};
use crate::insight::{CleanupQuery, CleanupReport};
use crate::timestamp::Timestamp;

/// What a cleanup removed: the report, the staging download ids, and the finished downloads'
/// ids with their library paths.
pub type Removed = (CleanupReport, Vec<i64>, Vec<(i64, String)>);

impl Store {
    /// Deletes the old records `query` selects (rolled back for a dry run). Returns the report
    /// plus the staging download ids, and the finished downloads' ids with their library paths,
    /// whose files the caller may delete.
    pub async fn clean_up(&self, query: CleanupQuery) -> Result<Removed, StoreError> {
        self.run(move |db| run(db, &query)).await
    }
}

/// Deletes what `query` selects in one transaction (rolled back for a dry run). Returns the
/// report plus the staging download ids, and the finished ones' ids with their library paths.
pub(super) fn run(db: &mut Connection, query: &CleanupQuery) -> Result<Removed, StoreError> {
    let cutoff = Timestamp::now().0 - i64::from(query.older_than_days) * 86_400_000;
    let tx = db.transaction()?;
    let job_states = if query.failed_only {
        "('failed', 'cancelled')"
    } else {
        "('done', 'failed', 'cancelled')"
    };
    let jobs: Vec<i64> = {
        let mut s = tx.prepare(&format!(
            "SELECT id FROM jobs WHERE state IN {job_states} AND updated_at < ?1 ORDER BY id"
        ))?;
        let rows = s.query_map([cutoff], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    // Downloads that go: those of removed jobs, and old unsuccessful ones of any job.
    let condition = "(job_id IN (SELECT id FROM jobs WHERE state IN {S} AND updated_at < ?1))
         OR (state IN ('failed', 'invalid', 'duplicate', 'cancelled') AND COALESCE(finished_at, updated_at) < ?1)"
        .replace("{S}", job_states);
    let (staging, library): (Vec<i64>, Vec<(i64, String)>) = {
        let mut s = tx.prepare(&format!(
            "SELECT id, state, path FROM downloads WHERE {condition}"
        ))?;
        let rows = s.query_map([cutoff], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut staging = Vec::new();
        let mut library = Vec::new();
        for row in rows {
            let (id, state, path) = row?;
            match (state.as_str(), path) {
                ("done", Some(path)) => library.push((id, path)),
                _ => staging.push(id),
            }
        }
        (staging, library)
    };
    let downloads = tx.execute(
        &format!("DELETE FROM downloads WHERE {condition}"),
        [cutoff],
    )? as u64;
    tx.execute(
        &format!("DELETE FROM jobs WHERE state IN {job_states} AND updated_at < ?1"),
        params![cutoff],
    )?;
    let searches = if query.failed_only {
        0
    } else {
        tx.execute("DELETE FROM searches WHERE created_at < ?1", [cutoff])? as u64
    };
    if query.dry_run {
        tx.rollback()?;
    } else {
        tx.commit()?;
    }
    let report = CleanupReport {
        dry_run: query.dry_run,
        jobs,
        downloads,
        searches,
        staging_files: Vec::new(),
        library_files: Vec::new(),
    };
    Ok((report, staging, library))
}
