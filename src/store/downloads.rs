//! Queries on `downloads`: creating them from candidates, listing, the scheduler's pick, the
//! worker's checkpoints and how a download ends (settling its job in the same transaction).

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{candidates, jobs, Store, StoreError};
use crate::candidate::CandidateId;
use crate::chunk_sums::ChunkSums;
use crate::download::{Download, DownloadId, DownloadState, FailureKind, Validation, VideoFacts};
use crate::job::{Job, JobId, JobState};
use crate::source_kind::SourceKind;
use crate::timestamp::Timestamp;

/// A durable point of a running download: the bytes `[0, offset)` are on disk, described by
/// `sums` and valid for the validators `etag`/`last_modified`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    pub offset: u64,
    /// The full size, when the server stated it.
    pub total: Option<u64>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sums: ChunkSums,
}

/// What recording a download's end changed.
#[derive(Debug, Clone)]
pub struct Settled {
    /// The download as it now is (`None` if it no longer exists).
    pub download: Option<Download>,
    /// Its job as it now is (`None` if it no longer exists).
    pub job: Option<Job>,
}

impl Store {
    /// Where a job stands and its search cursors, read together.
    pub async fn search_standing(
        &self,
        job: JobId,
    ) -> Result<(Progress, Vec<candidates::Cursor>), StoreError> {
        self.run(move |db| {
            let tx = db.transaction()?;
            let standing = (progress(&tx, job)?, candidates::cursors(&tx, job)?);
            tx.commit()?;
            Ok(standing)
        })
        .await
    }

    /// Whether any of a job's sources may still have pages to search.
    pub async fn has_open_sources(&self, job: JobId) -> Result<bool, StoreError> {
        self.run(move |db| Ok(candidates::cursors(db, job)?.iter().any(|c| !c.exhausted)))
            .await
    }

    /// Queues downloads for the best untried candidates until done + active reaches the job's
    /// count. Returns the progress afterwards.
    pub async fn top_up(&self, job: JobId) -> Result<Progress, StoreError> {
        self.run(move |db| top_up(db, job)).await
    }

    /// Takes the next queued download in queue order whose source is not in `full`, and marks
    /// it running.
    pub async fn pick_next(&self, full: Vec<SourceKind>) -> Result<Option<Work>, StoreError> {
        self.run(move |db| pick_next(db, &full)).await
    }

    /// [`Store::pick_next`] on the calling thread, for tools outside the async runtime (the
    /// benchmark times the query itself).
    pub fn pick_next_blocking(&self, full: &[SourceKind]) -> Result<Option<Work>, StoreError> {
        self.run_blocking(|db| pick_next(db, full))
    }

    /// Stores a durable offset with the validators and chunk sums that describe it.
    pub async fn checkpoint(
        &self,
        id: DownloadId,
        record: CheckpointRecord,
    ) -> Result<(), StoreError> {
        self.run(move |db| checkpoint(db, id, &record)).await
    }

    /// Counts a failed attempt of a running download and its reason.
    pub async fn attempt_failed(&self, id: DownloadId, error: String) -> Result<(), StoreError> {
        self.run(move |db| attempt_failed(db, id, &error)).await
    }

    /// Records that ffprobe did not finish on a complete download, and when it is tried again.
    pub async fn validation_unfinished(
        &self,
        id: DownloadId,
        tries: u32,
        error: String,
        retry_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(move |db| validation_unfinished(db, id, tries, &error, retry_at))
            .await
    }

    /// The finished download already holding this content, if any.
    pub async fn holder_of(&self, sha256: String) -> Result<Option<DownloadId>, StoreError> {
        self.run(move |db| Ok(done_with_sha256(db, &sha256)?.map(|(id, _)| id)))
            .await
    }

    /// A download, if it exists.
    pub async fn download(&self, id: DownloadId) -> Result<Option<Download>, StoreError> {
        self.run(move |db| get(db, id)).await
    }

    /// A download's state, if it exists.
    pub async fn download_state(
        &self,
        id: DownloadId,
    ) -> Result<Option<DownloadState>, StoreError> {
        self.run(move |db| Ok(get(db, id)?.map(|d| d.state))).await
    }

    /// Records how a running download of `job` ended and settles the job with it, in one
    /// transaction: a paused download (disk full, library not writable) pauses its whole job,
    /// noting why, unless the user moved the job meanwhile. A download the user paused or
    /// cancelled meanwhile keeps that state.
    pub async fn finish_download(
        &self,
        id: DownloadId,
        job: JobId,
        outcome: Outcome,
    ) -> Result<Settled, StoreError> {
        self.run(move |db| {
            let tx = db.transaction()?;
            let download = finish(&tx, id, &outcome)?;
            if let Outcome::Paused { reason, .. } = &outcome {
                let note = std::slice::from_ref(reason);
                match jobs::move_noting(&tx, job, JobState::Paused, note) {
                    // Paused, cancelled or gone meanwhile: the user's decision stands.
                    Ok(_) | Err(StoreError::Transition { .. } | StoreError::JobNotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            let job = match jobs::get(&tx, job) {
                Ok(job) => Some(job),
                Err(StoreError::JobNotFound(_)) => None,
                Err(e) => return Err(e),
            };
            tx.commit()?;
            Ok(Settled { download, job })
        })
        .await
    }

    /// Job counts by state and the downloads waiting for the user or a validation retry (one
    /// line each), read together for `status`.
    pub async fn status_summary(&self) -> Result<(BTreeMap<String, u64>, Vec<String>), StoreError> {
        self.run(|db| {
            let tx = db.transaction()?;
            let summary = (jobs::count_by_state(&tx)?, problems(&tx)?);
            tx.commit()?;
            Ok(summary)
        })
        .await
    }
}

const SELECT: &str = "SELECT d.id, d.job_id, d.candidate_id, c.source, c.source_id, c.url, d.state,
        d.offset, d.total, d.attempts, d.sha256, d.path, d.error, d.validation, d.probe, d.elapsed_ms,
        d.failure_kind
     FROM downloads d JOIN candidates c ON c.id = d.candidate_id";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<Download, StoreError>> {
    let source: String = row.get(3)?;
    let state: String = row.get(6)?;
    let offset: i64 = row.get(7)?;
    let total: Option<i64> = row.get(8)?;
    let fields = (
        DownloadId(row.get(0)?),
        JobId(row.get(1)?),
        CandidateId(row.get(2)?),
        row.get::<_, String>(4)?,
        row.get::<_, String>(5)?,
        row.get::<_, u32>(9)?,
        row.get::<_, Option<String>>(10)?,
        row.get::<_, Option<String>>(11)?,
        row.get::<_, Option<String>>(12)?,
    );
    let validation: Option<String> = row.get(13)?;
    let probe: Option<String> = row.get(14)?;
    let elapsed_ms: Option<i64> = row.get(15)?;
    let failure_kind: Option<String> = row.get(16)?;
    Ok((|| {
        let (id, job_id, candidate_id, source_id, url, attempts, sha256, path, error) = fields;
        let state = state.parse::<DownloadState>()?;
        let bytes = u64::try_from(offset).unwrap_or(0);
        Ok(Download {
            id,
            job_id,
            candidate_id,
            source: source.parse()?,
            source_id,
            url,
            state,
            bytes,
            total: total.and_then(|t| u64::try_from(t).ok()),
            // Finished downloads report their average speed; running ones get a live figure.
            speed: elapsed_ms
                .filter(|ms| *ms > 0)
                .map(|ms| bytes as f64 * 1000.0 / ms as f64),
            attempts,
            sha256,
            path,
            error,
            failure_kind: failure_kind.as_deref().map(str::parse).transpose()?,
            validation: validation.map(|text| stored_validation(text, state)),
            probe: probe.as_deref().map(serde_json::from_str).transpose()?,
        })
    })())
}

/// The `validation` column as its typed value. The column keeps the one-line text the daemon
/// always wrote ([`Validation`]'s `Display`: "valid", "not validated: <why>", or a rejected
/// file's reason), so it is read back here, at the store's edge, and nowhere else.
fn stored_validation(text: String, state: DownloadState) -> Validation {
    if text == "valid" {
        return Validation::Valid;
    }
    match text.strip_prefix("not validated: ") {
        Some(why) => Validation::NotValidated(why.to_string()),
        // A kept file whose text has no known form was at least not rejected.
        None if state == DownloadState::Done => Validation::NotValidated(text),
        None => Validation::Invalid(text),
    }
}

/// One download.
pub(super) fn get(db: &Connection, id: DownloadId) -> Result<Option<Download>, StoreError> {
    db.query_row(&format!("{SELECT} WHERE d.id = ?1"), [id.0], from_row)
        .optional()?
        .transpose()
}

/// A job's downloads, oldest first.
pub(super) fn for_job(db: &Connection, job: JobId) -> Result<Vec<Download>, StoreError> {
    let mut statement = db.prepare(&format!("{SELECT} WHERE d.job_id = ?1 ORDER BY d.id"))?;
    let rows = statement.query_map([job.0], from_row)?;
    rows.map(|r| r?).collect()
}

/// Where a job stands, as the scheduler needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub count: u32,
    pub done: u32,
    /// Queued, running or paused downloads.
    pub active: u32,
    /// Candidates not yet tried.
    pub fresh: u32,
}

/// Counts a job's downloads and untried candidates.
pub(super) fn progress(db: &Connection, job: JobId) -> Result<Progress, StoreError> {
    let (count, done, active, fresh): (u32, u32, u32, u32) = db.query_row(
        "SELECT j.count,
            (SELECT COUNT(*) FROM downloads WHERE job_id = j.id AND state = 'done'),
            (SELECT COUNT(*) FROM downloads WHERE job_id = j.id AND state IN ('queued', 'running', 'paused')),
            (SELECT COUNT(*) FROM candidates WHERE job_id = j.id AND state = 'new')
         FROM jobs j WHERE j.id = ?1",
        [job.0],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .optional()?
    .ok_or(StoreError::JobNotFound(job))?;
    Ok(Progress {
        count,
        done,
        active,
        fresh,
    })
}

/// Queues downloads for the best untried candidates until done + active reaches the job's count.
/// Returns the progress afterwards.
pub(super) fn top_up(db: &mut Connection, job: JobId) -> Result<Progress, StoreError> {
    let tx = db.transaction()?;
    let before = progress(&tx, job)?;
    let wanted = before.count.saturating_sub(before.done + before.active);
    if wanted > 0 && before.fresh > 0 {
        let now = Timestamp::now().0;
        let picked: Vec<i64> = {
            let mut statement = tx.prepare(
                "SELECT id FROM candidates WHERE job_id = ?1 AND state = 'new' ORDER BY rank LIMIT ?2",
            )?;
            let rows = statement.query_map(params![job.0, wanted], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for candidate in picked {
            tx.execute(
                "INSERT INTO downloads (job_id, candidate_id, source, state, priority, job_created_at, total, created_at, updated_at)
                 SELECT j.id, c.id, c.source, 'queued', j.priority, j.created_at, c.size, ?3, ?3
                 FROM jobs j JOIN candidates c ON c.id = ?2 WHERE j.id = ?1",
                params![job.0, candidate, now],
            )?;
            tx.execute(
                "UPDATE candidates SET state = 'taken' WHERE id = ?1",
                [candidate],
            )?;
        }
    }
    let after = progress(&tx, job)?;
    tx.commit()?;
    Ok(after)
}

/// Moves a job's downloads along with the job: pause keeps offsets, resume queues them again,
/// cancel ends them and frees untried candidates for other jobs.
pub(super) fn follow_job_state(
    db: &Connection,
    job: JobId,
    job_state: JobState,
) -> Result<(), StoreError> {
    let now = Timestamp::now().0;
    match job_state {
        JobState::Paused => {
            db.execute(
                "UPDATE downloads SET state = 'paused', updated_at = ?2 WHERE job_id = ?1 AND state IN ('queued', 'running')",
                params![job.0, now],
            )?;
        }
        JobState::Queued => {
            db.execute(
                "UPDATE downloads SET state = 'queued', updated_at = ?2 WHERE job_id = ?1 AND state = 'paused'",
                params![job.0, now],
            )?;
        }
        JobState::Cancelled | JobState::Failed => {
            db.execute(
                "UPDATE downloads SET state = 'cancelled', updated_at = ?2, finished_at = ?2
                 WHERE job_id = ?1 AND state IN ('queued', 'running', 'paused')",
                params![job.0, now],
            )?;
            db.execute(
                "DELETE FROM candidates WHERE job_id = ?1 AND state = 'new'",
                [job.0],
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// Everything a worker needs to run one download.
#[derive(Debug, Clone)]
pub struct Work {
    pub download: DownloadId,
    pub job: JobId,
    pub theme: String,
    pub max_file_size_mb: Option<u64>,
    pub candidate: crate::candidate::Candidate,
    pub offset: u64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Chunk sums of `[0, offset)`; `None` if stored before they were kept.
    pub chunk_sums: Option<ChunkSums>,
    pub attempts: u32,
    /// The full size as last known (the server's, else the source's claim).
    pub total: Option<u64>,
    /// ffprobe runs that did not finish so far, over restarts.
    pub validation_tries: u32,
}

/// Takes the next queued download in queue order (priority, job age, id) whose source is not at
/// its limit, and marks it running, in one transaction.
fn pick_next(db: &mut Connection, full: &[SourceKind]) -> Result<Option<Work>, StoreError> {
    let tx = db.transaction()?;
    // One indexed LIMIT 1 per source that may start work, then the best of those.
    let open: Vec<&str> = SourceKind::ALL
        .iter()
        .filter(|s| !full.contains(s))
        .map(|s| s.as_str())
        .collect();
    if open.is_empty() {
        return Ok(None);
    }
    let per_source = vec![
        "SELECT * FROM (SELECT id, priority, job_created_at FROM downloads INDEXED BY downloads_pick_by_source
             WHERE state = 'queued' AND source = ? ORDER BY priority DESC, job_created_at, id LIMIT 1)";
        open.len()
    ];
    let sql = format!(
        "SELECT id FROM ({}) ORDER BY priority DESC, job_created_at, id LIMIT 1",
        per_source.join(" UNION ALL ")
    );
    let id: Option<i64> = tx
        .query_row(&sql, rusqlite::params_from_iter(open), |r| r.get(0))
        .optional()?;
    let Some(id) = id else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE downloads SET state = 'running', error = NULL, failure_kind = NULL, retry_at = NULL,
            updated_at = ?2 WHERE id = ?1",
        params![id, Timestamp::now().0],
    )?;
    let ((job, offset, etag, last_modified, attempts, candidate), chunk_sums) = tx.query_row(
        "SELECT job_id, offset, etag, last_modified, attempts, candidate_id, chunk_sums FROM downloads WHERE id = ?1",
        [id],
        |r| {
            let row: (i64, i64, Option<String>, Option<String>, u32, i64) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
            let sums: Option<Vec<u8>> = r.get(6)?;
            Ok((row, sums.as_deref().map(ChunkSums::from_le_bytes)))
        },
    )?;
    let (total, validation_tries): (Option<i64>, u32) = tx.query_row(
        "SELECT total, validation_tries FROM downloads WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let stored = candidates::get(&tx, CandidateId(candidate))?
        .ok_or_else(|| StoreError::Corrupt(format!("download {id} has no candidate")))?;
    let job_row = jobs::get(&tx, JobId(job))?;
    tx.commit()?;
    Ok(Some(Work {
        download: DownloadId(id),
        job: JobId(job),
        theme: job_row.theme,
        max_file_size_mb: job_row.options.max_file_size_mb,
        candidate: stored.video,
        offset: u64::try_from(offset).unwrap_or(0),
        etag,
        last_modified,
        chunk_sums,
        attempts,
        total: total.and_then(|t| u64::try_from(t).ok()),
        validation_tries,
    }))
}

/// Stores a durable offset, the validators it is valid for and the chunk sums of the prefix it
/// ends, in one statement so they always describe the same bytes (whatever the download's state).
fn checkpoint(db: &Connection, id: DownloadId, cp: &CheckpointRecord) -> Result<(), StoreError> {
    db.execute(
        "UPDATE downloads SET offset = ?2, total = COALESCE(?3, total), etag = ?4, last_modified = ?5, updated_at = ?6,
            chunk_sums = ?7
         WHERE id = ?1",
        params![
            id.0,
            i64::try_from(cp.offset).unwrap_or(i64::MAX),
            cp.total.and_then(|t| i64::try_from(t).ok()),
            cp.etag,
            cp.last_modified,
            Timestamp::now().0,
            cp.sums.to_le_bytes()
        ],
    )?;
    Ok(())
}

/// Records that ffprobe did not finish on a complete download: the try, the reason and when the
/// next try is due (shown by `status` while the download waits).
pub(super) fn validation_unfinished(
    db: &Connection,
    id: DownloadId,
    tries: u32,
    error: &str,
    retry_at: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE downloads SET failure_kind = ?2, validation_tries = ?3, error = ?4, retry_at = ?5,
            updated_at = ?6 WHERE id = ?1 AND state = 'running'",
        params![
            id.0,
            FailureKind::ValidationUnfinished.as_str(),
            tries,
            error,
            retry_at.0,
            Timestamp::now().0
        ],
    )?;
    Ok(())
}

/// Counts a failed attempt and its reason.
pub(super) fn attempt_failed(
    db: &Connection,
    id: DownloadId,
    error: &str,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE downloads SET attempts = attempts + 1, error = ?2, updated_at = ?3 WHERE id = ?1",
        params![id.0, error, Timestamp::now().0],
    )?;
    Ok(())
}

/// The finished download holding this content, if any.
pub(super) fn done_with_sha256(
    db: &Connection,
    sha256: &str,
) -> Result<Option<(DownloadId, Option<String>)>, StoreError> {
    Ok(db
        .query_row(
            "SELECT id, path FROM downloads WHERE sha256 = ?1 AND state = 'done' LIMIT 1",
            [sha256],
            |r| Ok((DownloadId(r.get(0)?), r.get(1)?)),
        )
        .optional()?)
}

/// How a running download ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Done {
        sha256: String,
        path: String,
        bytes: u64,
        elapsed_ms: u64,
        validation: Validation,
        probe: Option<VideoFacts>,
    },
    Duplicate {
        sha256: String,
        of: DownloadId,
    },
    /// ffprobe found no usable video (stored as [`FailureKind::InvalidVideo`]).
    Invalid {
        reason: String,
    },
    Failed {
        kind: FailureKind,
        reason: String,
    },
    /// Stopped with its offset (or its complete file) kept until the user resumes it.
    Paused {
        kind: FailureKind,
        reason: String,
    },
    /// Back in the queue with its offset (e.g. its source's breaker is open).
    Requeued {
        reason: String,
    },
}

/// Records the end of a running download; a download the user paused or cancelled meanwhile
/// keeps that state. Returns the row as it now is.
fn finish(
    tx: &Connection,
    id: DownloadId,
    outcome: &Outcome,
) -> Result<Option<Download>, StoreError> {
    let now = Timestamp::now().0;
    let changed = match outcome {
        Outcome::Done { sha256, path, bytes, elapsed_ms, validation, probe } => tx.execute(
            "UPDATE downloads SET state = 'done', sha256 = ?2, path = ?3, offset = ?4, elapsed_ms = ?5,
                validation = ?6, probe = ?7, error = NULL, updated_at = ?8, finished_at = ?8
             WHERE id = ?1 AND state = 'running'",
            params![
                id.0,
                sha256,
                path,
                i64::try_from(*bytes).unwrap_or(i64::MAX),
                i64::try_from(*elapsed_ms).unwrap_or(i64::MAX),
                validation.to_string(),
                probe.as_ref().map(serde_json::to_string).transpose()?,
                now
            ],
        )?,
        Outcome::Duplicate { sha256, of } => tx.execute(
            "UPDATE downloads SET state = 'duplicate', sha256 = ?2, duplicate_of = ?3,
                error = 'same content as download ' || ?3, updated_at = ?4, finished_at = ?4
             WHERE id = ?1 AND state = 'running'",
            params![id.0, sha256, of.0, now],
        )?,
        Outcome::Invalid { reason } => tx.execute(
            "UPDATE downloads SET state = 'invalid', validation = ?2, error = ?2, failure_kind = ?3,
                retry_at = NULL, updated_at = ?4, finished_at = ?4
             WHERE id = ?1 AND state = 'running'",
            params![id.0, reason, FailureKind::InvalidVideo.as_str(), now],
        )?,
        Outcome::Failed { kind, reason } => tx.execute(
            "UPDATE downloads SET state = 'failed', error = ?2, failure_kind = ?3, retry_at = NULL,
                updated_at = ?4, finished_at = ?4
             WHERE id = ?1 AND state = 'running'",
            params![id.0, reason, kind.as_str(), now],
        )?,
        Outcome::Requeued { reason } => tx.execute(
            "UPDATE downloads SET state = 'queued', error = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'running'",
            params![id.0, reason, now],
        )?,
        Outcome::Paused { kind, reason } => tx.execute(
            "UPDATE downloads SET state = 'paused', error = ?2, failure_kind = ?3, updated_at = ?4
             WHERE id = ?1 AND state = 'running'",
            params![id.0, reason, kind.as_str(), now],
        )?,
    };
    if changed > 0
        && matches!(
            outcome,
            Outcome::Done { .. } | Outcome::Duplicate { .. } | Outcome::Requeued { .. }
        )
    {
        // Whatever it waited for is over.
        tx.execute(
            "UPDATE downloads SET failure_kind = NULL, retry_at = NULL WHERE id = ?1",
            [id.0],
        )?;
    }
    if changed > 0
        && !matches!(
            outcome,
            Outcome::Done { .. } | Outcome::Paused { .. } | Outcome::Requeued { .. }
        )
    {
        tx.execute(
            "UPDATE candidates SET state = 'rejected' WHERE id = (SELECT candidate_id FROM downloads WHERE id = ?1)",
            [id.0],
        )?;
    }
    get(tx, id)
}

/// Downloads waiting for the user (disk full, library not writable) or for a validation retry,
/// as one line each for `status`.
pub(super) fn problems(db: &Connection) -> Result<Vec<String>, StoreError> {
    let mut statement = db.prepare(
        "SELECT id, job_id, failure_kind, COALESCE(error, ''), retry_at FROM downloads
         WHERE failure_kind IS NOT NULL AND (
            (failure_kind = ?1 AND state IN ('queued', 'running'))
            OR (failure_kind IN (?2, ?3) AND state = 'paused'))
         ORDER BY id LIMIT 20",
    )?;
    let codes = [
        FailureKind::ValidationUnfinished,
        FailureKind::DiskFull,
        FailureKind::LibraryUnwritable,
    ]
    .map(FailureKind::as_str);
    let rows = statement.query_map(codes, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<i64>>(4)?,
        ))
    })?;
    let mut lines = Vec::new();
    for row in rows {
        let (id, job, kind, error, retry_at) = row?;
        let kind = kind.parse::<FailureKind>()?;
        lines.push(if kind == FailureKind::ValidationUnfinished {
            let when = retry_at.map_or("now".to_string(), |t| Timestamp(t).to_string());
            format!("validation of download {id} of job {job} did not finish ({error}); retrying at {when}")
        } else {
            format!("download {id} of job {job} paused: {error}; `vfetchctl resume {job}` continues it")
        });
    }
    Ok(lines)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::attribution::Attribution;
    use crate::candidate::Candidate;
    use crate::job::{JobOptions, NewJob};
    use crate::source_kind::SourceKind;
    use crate::store::{candidates, jobs, Store};

    #[test]
    fn a_validation_reads_back_as_the_value_that_was_stored() {
        let kept = [
            (Validation::Valid, DownloadState::Done),
            (
                Validation::NotValidated("ffprobe not found (ffprobe)".into()),
                DownloadState::Done,
            ),
            (
                Validation::Invalid("invalid video: no video stream".into()),
                DownloadState::Invalid,
            ),
        ];
        for (validation, state) in kept {
            assert_eq!(stored_validation(validation.to_string(), state), validation);
        }
    }

    /// A bare candidate from `source`, for tests that only need rows to exist.
    pub(in crate::store) fn candidate(source: SourceKind, id: &str) -> Candidate {
        Candidate {
            attribution: Attribution {
                source,
                source_id: id.into(),
                title: id.into(),
                page_url: None,
                author_name: None,
                author_url: None,
                license: None,
            },
            tags: vec![],
            duration: None,
            width: None,
            height: None,
            fps: None,
            size: None,
            url: format!("https://x/{id}"),
            mime: None,
            checksum: None,
        }
    }

    #[test]
    fn pick_follows_priority_and_skips_full_sources() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        store
            .run_blocking(|db| {
                let job = |theme: &str, priority| NewJob {
                    theme: theme.into(),
                    count: 5,
                    priority,
                    options: JobOptions::default(),
                };
                let low = jobs::insert(db, &job("low", 0))?;
                let high = jobs::insert(db, &job("high", 9))?;
                candidates::insert_new(db, low.id, &[candidate(SourceKind::Wikimedia, "a")])?;
                candidates::insert_new(db, high.id, &[candidate(SourceKind::Archive, "b")])?;
                top_up(db, low.id)?;
                top_up(db, high.id)?;
                let first = pick_next(db, &[])?.expect("work");
                assert_eq!(first.job, high.id, "higher priority first");
                // The archive one is running now; with archive full, the wikimedia one is next.
                let second = pick_next(db, &[SourceKind::Archive])?.expect("work");
                assert_eq!(second.candidate.attribution.source, SourceKind::Wikimedia);
                assert!(pick_next(db, &[])?.is_none());
                assert!(pick_next(db, &SourceKind::ALL)?.is_none());
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn chunk_sums_are_kept_with_their_offset() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        store
            .run_blocking(|db| {
                let job = jobs::insert(
                    db,
                    &NewJob {
                        theme: "sea".into(),
                        count: 1,
                        priority: 0,
                        options: JobOptions::default(),
                    },
                )?;
                candidates::insert_new(db, job.id, &[candidate(SourceKind::Pexels, "1")])?;
                top_up(db, job.id)?;
                let work = pick_next(db, &[])?.expect("work");
                // Nothing stored yet (as for a download from before chunk sums were kept).
                assert_eq!(work.chunk_sums, None);
                let sums = ChunkSums::new(vec![7, 0x8000_0001]);
                let cp = CheckpointRecord {
                    offset: (1 << 20) + 5,
                    total: Some(3 << 20),
                    etag: Some("\"e\"".into()),
                    last_modified: None,
                    sums: sums.clone(),
                };
                checkpoint(db, work.download, &cp)?;
                db.execute(
                    "UPDATE downloads SET state = 'queued' WHERE id = ?1",
                    [work.download.0],
                )?;
                let again = pick_next(db, &[])?.expect("work");
                assert_eq!(again.offset, cp.offset);
                assert_eq!(again.chunk_sums, Some(sums));
                Ok(())
            })
            .unwrap();
    }

    /// Queues and starts one download of a new job; returns its work.
    fn running_download(db: &mut Connection, theme: &str, id: &str) -> Result<Work, StoreError> {
        let job = jobs::insert(
            db,
            &NewJob {
                theme: theme.into(),
                count: 1,
                priority: 0,
                options: JobOptions::default(),
            },
        )?;
        candidates::insert_new(db, job.id, &[candidate(SourceKind::Pexels, id)])?;
        top_up(db, job.id)?;
        Ok(pick_next(db, &[])?.expect("work"))
    }

    fn stored_kind(db: &Connection, id: DownloadId) -> Result<Option<String>, StoreError> {
        Ok(db.query_row(
            "SELECT failure_kind FROM downloads WHERE id = ?1",
            [id.0],
            |r| r.get(0),
        )?)
    }

    #[test]
    fn every_failed_invalid_or_paused_download_keeps_its_kind_as_a_code() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        store
            .run_blocking(|db| {
                let ended = [
                    (
                        Outcome::Failed {
                            kind: FailureKind::ChecksumMismatch,
                            reason: "checksum published by the provider does not match".into(),
                        },
                        Some("checksum_mismatch"),
                    ),
                    (
                        Outcome::Failed {
                            kind: FailureKind::HttpStatus,
                            reason: "HTTP 404".into(),
                        },
                        Some("http_status"),
                    ),
                    (
                        Outcome::Invalid {
                            reason: "invalid video: no video stream".into(),
                        },
                        Some("invalid_video"),
                    ),
                    (
                        Outcome::Paused {
                            kind: FailureKind::DiskFull,
                            reason: "disk full: no space".into(),
                        },
                        Some("disk_full"),
                    ),
                    (
                        Outcome::Requeued {
                            reason: "pexels circuit breaker is open".into(),
                        },
                        None,
                    ),
                ];
                for (n, (outcome, code)) in ended.into_iter().enumerate() {
                    let work = running_download(db, &format!("t{n}"), &n.to_string())?;
                    finish(db, work.download, &outcome)?;
                    assert_eq!(
                        stored_kind(db, work.download)?.as_deref(),
                        code,
                        "{outcome:?}"
                    );
                }
                // `status` lists only what waits: the paused one, read by its code.
                let problems = problems(db)?;
                assert_eq!(problems.len(), 1, "{problems:?}");
                assert!(problems[0].contains("paused: disk full"), "{problems:?}");
                Ok(())
            })
            .unwrap();
    }
}
