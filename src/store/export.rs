//! Pages of finished downloads with their attribution, for `export`.

use rusqlite::types::Type;
use rusqlite::{params, Connection};

use super::{Store, StoreError};
use crate::attribution::Attribution;
use crate::insight::ExportRecord;
use crate::job::JobId;
use crate::timestamp::Timestamp;

impl Store {
    /// Up to `limit` export records after download id `after`, each with its download id (the
    /// next page's `after`); `job` narrows it to one job.
    pub async fn export_page(
        &self,
        job: Option<JobId>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, ExportRecord)>, StoreError> {
        self.run(move |db| page(db, job, after, limit)).await
    }
}

/// Up to `limit` records after download id `after` (keyset paging, so a large export never
/// sits in memory at once); `job` narrows it to one job.
pub(super) fn page(
    db: &Connection,
    job: Option<JobId>,
    after: i64,
    limit: u32,
) -> Result<Vec<(i64, ExportRecord)>, StoreError> {
    let mut statement = db.prepare(
        "SELECT d.id, j.id, j.theme, c.source, c.source_id, c.title, c.page_url, c.author_name, c.author_url,
            c.license, c.tags, d.path, d.sha256, d.offset,
            COALESCE(json_extract(d.probe, '$.duration'), c.duration),
            COALESCE(json_extract(d.probe, '$.width'), c.width),
            COALESCE(json_extract(d.probe, '$.height'), c.height),
            COALESCE(json_extract(d.probe, '$.fps'), c.fps),
            json_extract(d.probe, '$.codec'),
            d.finished_at
         FROM downloads d JOIN jobs j ON j.id = d.job_id JOIN candidates c ON c.id = d.candidate_id
         WHERE d.state = 'done' AND d.id > ?1 AND (?2 IS NULL OR d.job_id = ?2)
         ORDER BY d.id LIMIT ?3",
    )?;
    let rows = statement.query_map(params![after, job.map(|j| j.0), limit], |r| {
        let source: String = r.get(3)?;
        let tags: String = r.get(10)?;
        let size: i64 = r.get(13)?;
        Ok((
            r.get::<_, i64>(0)?,
            ExportRecord {
                job: r.get(1)?,
                theme: r.get(2)?,
                attribution: Attribution {
                    source: source.parse().map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(3, Type::Text, Box::new(e))
                    })?,
                    source_id: r.get(4)?,
                    title: r.get(5)?,
                    page_url: r.get(6)?,
                    author_name: r.get(7)?,
                    author_url: r.get(8)?,
                    license: r.get(9)?,
                },
                tags: serde_json::from_str::<Vec<String>>(&tags)
                    .unwrap_or_default()
                    .join(", "),
                path: r.get::<_, Option<String>>(11)?.unwrap_or_default(),
                sha256: r.get::<_, Option<String>>(12)?.unwrap_or_default(),
                size: u64::try_from(size).unwrap_or(0),
                duration: r.get(14)?,
                width: r.get(15)?,
                height: r.get(16)?,
                fps: r.get(17)?,
                codec: r.get(18)?,
                downloaded_at: Timestamp(r.get::<_, Option<i64>>(19)?.unwrap_or(0)),
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
