//! Queries on `candidates` and `job_sources` (lazy paging cursors).

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::StoreError;
use crate::attribution::Attribution;
use crate::candidate::{Candidate, CandidateId, CandidateState, Checksum, StoredCandidate};
use crate::job::JobId;
use crate::source_kind::SourceKind;
use crate::timestamp::Timestamp;

const SELECT: &str =
    "SELECT id, state, rank, source, source_id, title, page_url, author_name, author_url,
        license, tags, duration, width, height, fps, size, url, mime, checksum
     FROM candidates";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<StoredCandidate, StoreError>> {
    let state: String = row.get(1)?;
    let source: String = row.get(3)?;
    let tags: String = row.get(10)?;
    let checksum: Option<String> = row.get(18)?;
    let size: Option<i64> = row.get(15)?;
    let id = CandidateId(row.get(0)?);
    let rank: i64 = row.get(2)?;
    let video = (
        row.get::<_, String>(4)?,
        row.get::<_, String>(5)?,
        row.get::<_, Option<String>>(6)?,
        row.get::<_, Option<String>>(7)?,
        row.get::<_, Option<String>>(8)?,
        row.get::<_, Option<String>>(9)?,
        row.get::<_, Option<f64>>(11)?,
        row.get::<_, Option<u32>>(12)?,
        row.get::<_, Option<u32>>(13)?,
        row.get::<_, Option<f64>>(14)?,
        row.get::<_, String>(16)?,
        row.get::<_, Option<String>>(17)?,
    );
    Ok((|| {
        let (
            source_id,
            title,
            page_url,
            author_name,
            author_url,
            license,
            duration,
            width,
            height,
            fps,
            url,
            mime,
        ) = video;
        Ok(StoredCandidate {
            id,
            state: state.parse::<CandidateState>()?,
            rank: u32::try_from(rank).unwrap_or(u32::MAX),
            video: Candidate {
                attribution: Attribution {
                    source: source.parse::<SourceKind>()?,
                    source_id,
                    title,
                    page_url,
                    author_name,
                    author_url,
                    license,
                },
                tags: serde_json::from_str(&tags)?,
                duration,
                width,
                height,
                fps,
                size: size.and_then(|s| u64::try_from(s).ok()),
                url,
                mime,
                checksum: checksum.as_deref().and_then(Checksum::from_stored),
            },
        })
    })())
}

/// Stores a job's new candidates in rank order; ones already known (same source and id, or same
/// URL, in any job) are skipped. Returns how many were new.
/// Runs inside the caller's transaction, so the ranks it reads stay its own.
pub(super) fn insert_new(
    db: &Connection,
    job: JobId,
    found: &[Candidate],
) -> Result<usize, StoreError> {
    let mut rank: i64 = db.query_row(
        "SELECT COALESCE(MAX(rank), 0) FROM candidates WHERE job_id = ?1",
        [job.0],
        |r| r.get(0),
    )?;
    let now = Timestamp::now().0;
    let mut added = 0;
    {
        let mut insert = db.prepare(
            "INSERT OR IGNORE INTO candidates (job_id, source, source_id, title, page_url, author_name,
                author_url, license, tags, duration, width, height, fps, size, url, mime, checksum,
                rank, state, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, 'new', ?19)",
        )?;
        for c in found {
            let size = c.size.and_then(|s| i64::try_from(s).ok());
            let a = &c.attribution;
            let changed = insert.execute(params![
                job.0,
                a.source.as_str(),
                a.source_id,
                a.title,
                a.page_url,
                a.author_name,
                a.author_url,
                a.license,
                serde_json::to_string(&c.tags)?,
                c.duration,
                c.width,
                c.height,
                c.fps,
                size,
                c.url,
                c.mime,
                c.checksum.as_ref().map(Checksum::to_stored),
                rank + 1,
                now
            ])?;
            if changed > 0 {
                rank += 1;
                added += 1;
            }
        }
    }
    Ok(added)
}

/// A job's candidates in rank order.
pub(super) fn for_job(db: &Connection, job: JobId) -> Result<Vec<StoredCandidate>, StoreError> {
    let mut statement = db.prepare(&format!("{SELECT} WHERE job_id = ?1 ORDER BY rank"))?;
    let rows = statement.query_map([job.0], from_row)?;
    rows.map(|r| r?).collect()
}

/// One candidate.
pub(super) fn get(db: &Connection, id: CandidateId) -> Result<Option<StoredCandidate>, StoreError> {
    db.query_row(&format!("{SELECT} WHERE id = ?1"), [id.0], from_row)
        .optional()?
        .transpose()
}

/// Where a source's paging stands for a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub source: SourceKind,
    pub next_page: u32,
    pub exhausted: bool,
    pub error: Option<String>,
}

/// Creates cursors for the sources a job will search (existing ones are kept).
pub(super) fn open_cursors(
    db: &Connection,
    job: JobId,
    sources: &[SourceKind],
) -> Result<(), StoreError> {
    for source in sources {
        db.execute(
            "INSERT OR IGNORE INTO job_sources (job_id, source) VALUES (?1, ?2)",
            params![job.0, source.as_str()],
        )?;
    }
    Ok(())
}

/// A job's cursors.
pub(super) fn cursors(db: &Connection, job: JobId) -> Result<Vec<Cursor>, StoreError> {
    let mut statement =
        db.prepare("SELECT source, next_page, exhausted, error FROM job_sources WHERE job_id = ?1 ORDER BY source")?;
    let rows = statement.query_map([job.0], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    rows.map(|row| {
        let (source, next_page, exhausted, error) = row?;
        Ok(Cursor {
            source: source.parse()?,
            next_page: u32::try_from(next_page).unwrap_or(u32::MAX),
            exhausted,
            error,
        })
    })
    .collect()
}

/// Records the outcome of one page: advance, or mark the source dry (with the reason if it failed).
pub(super) fn advance_cursor(
    db: &Connection,
    job: JobId,
    source: SourceKind,
    exhausted: bool,
    error: Option<&str>,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE job_sources SET next_page = next_page + 1, exhausted = ?3, error = ?4
         WHERE job_id = ?1 AND source = ?2",
        params![job.0, source.as_str(), exhausted, error],
    )?;
    Ok(())
}
