//! Queries on the `jobs` table.

use std::collections::BTreeMap;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use super::{Store, StoreError};
use crate::candidate::StoredCandidate;
use crate::download::Download;
use crate::job::{Job, JobId, JobState, NewJob};
use crate::timestamp::Timestamp;

/// Which jobs to list, and which page of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFilter {
    /// Only jobs in these states; empty means all.
    pub states: Vec<JobState>,
    pub limit: u32,
    pub offset: u32,
}

/// One job with everything found and fetched for it, read at one instant.
#[derive(Debug, Clone)]
pub struct JobParts {
    pub job: Job,
    pub downloads: Vec<Download>,
    pub candidates: Vec<StoredCandidate>,
}

impl Store {
    /// Creates a queued job and returns it as stored.
    pub async fn add_job(&self, new: NewJob) -> Result<Job, StoreError> {
        self.run(move |db| insert(db, &new)).await
    }

    /// One job, or [`StoreError::JobNotFound`].
    pub async fn job(&self, id: JobId) -> Result<Job, StoreError> {
        self.run(move |db| get(db, id)).await
    }

    /// One job with its downloads and candidates, from one read transaction.
    pub async fn job_parts(&self, id: JobId) -> Result<JobParts, StoreError> {
        self.run(move |db| {
            let tx = db.transaction()?;
            let parts = JobParts {
                job: get(&tx, id)?,
                downloads: super::downloads::for_job(&tx, id)?,
                candidates: super::candidates::for_job(&tx, id)?,
            };
            tx.commit()?;
            Ok(parts)
        })
        .await
    }

    /// Jobs in queue order (priority, then age), filtered by state and paged.
    pub async fn list_jobs(&self, filter: JobFilter) -> Result<Vec<Job>, StoreError> {
        self.run(move |db| list(db, &filter)).await
    }

    /// Jobs the scheduler must look at: queued, searching or downloading, in queue order.
    pub async fn runnable_jobs(&self) -> Result<Vec<Job>, StoreError> {
        self.run(|db| runnable(db)).await
    }

    /// Moves a job to `to` if the life-cycle rules allow it (its downloads follow).
    pub async fn move_job(&self, id: JobId, to: JobState) -> Result<Job, StoreError> {
        self.run(move |db| transition(db, id, to)).await
    }

    /// Moves a job to `to` and notes why (for failures and pauses).
    pub async fn move_job_noting(
        &self,
        id: JobId,
        to: JobState,
        notes: Vec<String>,
    ) -> Result<Job, StoreError> {
        self.run(move |db| transition_with_errors(db, id, to, &notes))
            .await
    }

    /// Moves every job that may make the move to `to`; returns those that changed.
    pub async fn move_all_jobs(&self, to: JobState) -> Result<Vec<Job>, StoreError> {
        self.run(move |db| transition_all(db, to)).await
    }

    /// Changes a job's priority, and that of its queued downloads so the pick order follows.
    pub async fn set_priority(&self, id: JobId, priority: i32) -> Result<Job, StoreError> {
        self.run(move |db| set_priority(db, id, priority)).await
    }

    /// How many jobs are in each state; every state is present, zero included.
    pub async fn job_counts(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        self.run(|db| count_by_state(db)).await
    }

    /// After a crash or stop, work that was in flight goes back to the queue; returns how many
    /// jobs.
    pub async fn requeue_interrupted(&self) -> Result<usize, StoreError> {
        self.run(requeue_interrupted).await
    }
}

const SELECT_JOB: &str =
    "SELECT id, theme, count, priority, state, options, errors, created_at, updated_at,
        (SELECT COUNT(*) FROM downloads d WHERE d.job_id = jobs.id AND d.state = 'done')
     FROM jobs";

fn job_from_row(row: &Row<'_>) -> rusqlite::Result<Result<Job, StoreError>> {
    let state: String = row.get(4)?;
    let options: String = row.get(5)?;
    let errors: String = row.get(6)?;
    let count: i64 = row.get(2)?;
    let done: i64 = row.get(9)?;
    let id = JobId(row.get(0)?);
    let theme: String = row.get(1)?;
    let priority: i32 = row.get(3)?;
    let created_at = Timestamp(row.get(7)?);
    let updated_at = Timestamp(row.get(8)?);
    Ok((|| {
        Ok(Job {
            id,
            theme,
            count: u32::try_from(count).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            priority,
            state: state.parse()?,
            options: serde_json::from_str(&options)?,
            done: u32::try_from(done).unwrap_or(u32::MAX),
            errors: serde_json::from_str(&errors)?,
            created_at,
            updated_at,
        })
    })())
}

/// Creates a queued job and returns it as stored.
pub(super) fn insert(db: &Connection, new: &NewJob) -> Result<Job, StoreError> {
    let now = Timestamp::now().0;
    db.execute(
        "INSERT INTO jobs (theme, count, priority, state, options, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            new.theme,
            new.count,
            new.priority,
            JobState::Queued.as_str(),
            serde_json::to_string(&new.options)?,
            now
        ],
    )?;
    get(db, JobId(db.last_insert_rowid()))
}

/// One job, or [`StoreError::JobNotFound`].
pub(super) fn get(db: &Connection, id: JobId) -> Result<Job, StoreError> {
    db.query_row(&format!("{SELECT_JOB} WHERE id = ?1"), [id.0], job_from_row)
        .optional()?
        .ok_or(StoreError::JobNotFound(id))?
}

/// Jobs in queue order (priority, then age), filtered by state and paged.
fn list(db: &Connection, query: &JobFilter) -> Result<Vec<Job>, StoreError> {
    let mut sql = SELECT_JOB.to_string();
    let states: Vec<&str> = query.states.iter().map(|s| s.as_str()).collect();
    if !states.is_empty() {
        let marks = vec!["?"; states.len()].join(", ");
        sql.push_str(&format!(" WHERE state IN ({marks})"));
    }
    sql.push_str(&format!(
        " ORDER BY priority DESC, created_at, id LIMIT {} OFFSET {}",
        query.limit, query.offset
    ));
    let mut statement = db.prepare(&sql)?;
    let rows = statement.query_map(params_from_iter(states), job_from_row)?;
    rows.map(|r| r?).collect()
}

/// Moves a job to `to` if the life-cycle rules allow it, in one transaction.
pub(super) fn transition(db: &mut Connection, id: JobId, to: JobState) -> Result<Job, StoreError> {
    let tx = db.transaction()?;
    set_state(&tx, id, to)?;
    let job = get(&tx, id)?;
    tx.commit()?;
    Ok(job)
}

fn set_state(db: &Connection, id: JobId, to: JobState) -> Result<(), StoreError> {
    let from = get(db, id)?.state;
    if !from.can_become(to) {
        return Err(StoreError::Transition { id, from, to });
    }
    db.execute(
        "UPDATE jobs SET state = ?2, updated_at = ?3 WHERE id = ?1",
        params![id.0, to.as_str(), Timestamp::now().0],
    )?;
    super::downloads::follow_job_state(db, id, to)
}

/// Moves a job to `to` and appends why (for failures), in one transaction.
pub(super) fn transition_with_errors(
    db: &mut Connection,
    id: JobId,
    to: JobState,
    errors: &[String],
) -> Result<Job, StoreError> {
    let tx = db.transaction()?;
    let job = move_noting(&tx, id, to, errors)?;
    tx.commit()?;
    Ok(job)
}

/// Moves a job to `to` and appends why, inside the caller's transaction. A refused move
/// ([`StoreError::Transition`]) writes nothing.
pub(super) fn move_noting(
    db: &Connection,
    id: JobId,
    to: JobState,
    errors: &[String],
) -> Result<Job, StoreError> {
    set_state(db, id, to)?;
    add_errors(db, id, errors)
}

/// Most reasons a job keeps; later ones are dropped so a flaky source cannot grow a row forever.
const MAX_ERRORS: usize = 20;

/// Appends one-line reasons to a job's errors (skipping repeats).
pub(super) fn add_errors(db: &Connection, id: JobId, notes: &[String]) -> Result<Job, StoreError> {
    let mut job = get(db, id)?;
    for note in notes {
        if job.errors.len() < MAX_ERRORS && !job.errors.contains(note) {
            job.errors.push(note.clone());
        }
    }
    db.execute(
        "UPDATE jobs SET errors = ?2, updated_at = ?3 WHERE id = ?1",
        params![
            id.0,
            serde_json::to_string(&job.errors)?,
            Timestamp::now().0
        ],
    )?;
    get(db, id)
}

/// Jobs the scheduler must look at: queued, searching or downloading, in queue order.
pub(super) fn runnable(db: &Connection) -> Result<Vec<Job>, StoreError> {
    let mut statement = db.prepare(&format!(
        "{SELECT_JOB} WHERE state IN ('queued', 'searching', 'downloading') ORDER BY priority DESC, created_at, id"
    ))?;
    let rows = statement.query_map([], job_from_row)?;
    rows.map(|r| r?).collect()
}

/// Moves every job that may make the move to `to`; returns those that changed.
pub(super) fn transition_all(db: &mut Connection, to: JobState) -> Result<Vec<Job>, StoreError> {
    let tx = db.transaction()?;
    let candidates: Vec<(i64, String)> = {
        let mut statement =
            tx.prepare("SELECT id, state FROM jobs ORDER BY priority DESC, created_at, id")?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut changed = Vec::new();
    for (id, state) in candidates {
        let state: JobState = state.parse()?;
        if state.can_become(to) {
            set_state(&tx, JobId(id), to)?;
            changed.push(get(&tx, JobId(id))?);
        }
    }
    tx.commit()?;
    Ok(changed)
}

/// Changes a job's priority, and that of its queued downloads so the pick order follows.
pub(super) fn set_priority(
    db: &mut Connection,
    id: JobId,
    priority: i32,
) -> Result<Job, StoreError> {
    let tx = db.transaction()?;
    let job = get(&tx, id)?;
    if job.state.is_terminal() {
        return Err(StoreError::Transition {
            id,
            from: job.state,
            to: job.state,
        });
    }
    tx.execute(
        "UPDATE jobs SET priority = ?2, updated_at = ?3 WHERE id = ?1",
        params![id.0, priority, Timestamp::now().0],
    )?;
    tx.execute(
        "UPDATE downloads SET priority = ?2 WHERE job_id = ?1",
        params![id.0, priority],
    )?;
    let job = get(&tx, id)?;
    tx.commit()?;
    Ok(job)
}

/// How many jobs are in each state; every state is present, zero included.
pub(super) fn count_by_state(db: &Connection) -> Result<BTreeMap<String, u64>, StoreError> {
    let mut counts: BTreeMap<String, u64> = JobState::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    let mut statement = db.prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (state, n) = row?;
        counts.insert(state, u64::try_from(n).unwrap_or(0));
    }
    Ok(counts)
}

/// After a crash or stop, work that was in flight goes back to the queue; returns how many jobs.
pub(super) fn requeue_interrupted(db: &mut Connection) -> Result<usize, StoreError> {
    let tx = db.transaction()?;
    let now = Timestamp::now().0;
    let jobs = tx.execute(
        "UPDATE jobs SET state = 'queued', updated_at = ?1 WHERE state IN ('searching', 'downloading')",
        [now],
    )?;
    tx.execute(
        "UPDATE downloads SET state = 'queued', updated_at = ?1 WHERE state = 'running'",
        [now],
    )?;
    tx.commit()?;
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobOptions;
    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        (dir, store)
    }

    fn new_job(theme: &str, priority: i32) -> NewJob {
        NewJob {
            theme: theme.into(),
            count: 2,
            priority,
            options: JobOptions::default(),
        }
    }

    #[test]
    fn list_is_in_priority_then_age_order() {
        let (_dir, store) = store();
        store
            .run_blocking(|db| {
                insert(db, &new_job("low", 0))?;
                insert(db, &new_job("high", 5))?;
                insert(db, &new_job("also low", 0))?;
                let all = list(
                    db,
                    &JobFilter {
                        states: vec![],
                        limit: 10,
                        offset: 0,
                    },
                )?;
                let themes: Vec<_> = all.iter().map(|j| j.theme.as_str()).collect();
                assert_eq!(themes, ["high", "low", "also low"]);
                let page = list(
                    db,
                    &JobFilter {
                        states: vec![],
                        limit: 1,
                        offset: 1,
                    },
                )?;
                assert_eq!(page[0].theme, "low");
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn illegal_transitions_are_refused_and_nothing_changes() {
        let (_dir, store) = store();
        store
            .run_blocking(|db| {
                let job = insert(db, &new_job("x", 0))?;
                transition(db, job.id, JobState::Cancelled)?;
                let err = transition(db, job.id, JobState::Queued).unwrap_err();
                assert!(matches!(err, StoreError::Transition { .. }));
                assert_eq!(get(db, job.id)?.state, JobState::Cancelled);
                assert!(matches!(
                    get(db, JobId(999)),
                    Err(StoreError::JobNotFound(_))
                ));
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn interrupted_jobs_are_requeued() {
        let (_dir, store) = store();
        store
            .run_blocking(|db| {
                let job = insert(db, &new_job("x", 0))?;
                transition(db, job.id, JobState::Searching)?;
                assert_eq!(requeue_interrupted(db)?, 1);
                assert_eq!(get(db, job.id)?.state, JobState::Queued);
                Ok(())
            })
            .unwrap();
    }
}
