//! The gallery's pages of the library: finished downloads newest first, keyset paged by id.

use std::path::Path;

use rusqlite::types::Type;
use rusqlite::{params, Connection};

use super::{Store, StoreError};
use crate::attribution::Attribution;
use crate::gallery::{LibraryQuery, LibraryVideo};
use crate::timestamp::Timestamp;

impl Store {
    /// Up to `query.limit` library videos with a smaller id than `query.cursor`, newest first,
    /// narrowed by theme, source and finish time.
    pub async fn library_page(&self, query: LibraryQuery) -> Result<Vec<LibraryVideo>, StoreError> {
        self.run(move |db| page(db, &query)).await
    }
}

/// One page: a walk down `downloads_library` (finished downloads only) from the cursor, so the
/// first page reads `limit` rows however large the library is. Video facts are ffprobe's,
/// else the provider's, exactly as `export` reports them.
fn page(db: &Connection, query: &LibraryQuery) -> Result<Vec<LibraryVideo>, StoreError> {
    let mut statement = db.prepare_cached(
        "SELECT d.id, j.id, j.theme, d.path, d.offset,
            COALESCE(json_extract(d.probe, '$.duration'), c.duration),
            COALESCE(json_extract(d.probe, '$.width'), c.width),
            COALESCE(json_extract(d.probe, '$.height'), c.height),
            json_extract(d.probe, '$.codec'),
            COALESCE(json_extract(d.probe, '$.fps'), c.fps),
            json_extract(d.probe, '$.bitrate'),
            d.finished_at,
            c.source, c.source_id, c.title, c.page_url, c.author_name, c.author_url, c.license,
            t.poster, t.sprite_frames
         FROM downloads d INDEXED BY downloads_library
         JOIN jobs j ON j.id = d.job_id
         JOIN candidates c ON c.id = d.candidate_id
         LEFT JOIN thumbnails t ON t.download_id = d.id
         WHERE d.state = 'done' AND d.id < ?1
           AND (?2 IS NULL OR j.theme = ?2 COLLATE NOCASE)
           AND (?3 IS NULL OR d.source = ?3)
           AND (?4 IS NULL OR d.finished_at >= ?4)
           AND (?5 IS NULL OR d.finished_at < ?5)
         ORDER BY d.id DESC LIMIT ?6",
    )?;
    let source = query.source.map(|s| s.as_str());
    let bind = params![
        query.cursor.unwrap_or(i64::MAX),
        query.theme,
        source,
        query.since.map(|t| t.0),
        query.until.map(|t| t.0),
        query.limit,
    ];
    let rows = statement.query_map(bind, |r| {
        let path: Option<String> = r.get(3)?;
        let file_name = path
            .as_deref()
            .and_then(|p| Path::new(p).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let size: i64 = r.get(4)?;
        let source: String = r.get(12)?;
        let poster: Option<bool> = r.get(19)?;
        Ok(LibraryVideo {
            download: r.get(0)?,
            job: r.get(1)?,
            theme: r.get(2)?,
            file_name,
            size: u64::try_from(size).unwrap_or(0),
            duration: r.get(5)?,
            width: r.get(6)?,
            height: r.get(7)?,
            codec: r.get(8)?,
            fps: r.get(9)?,
            bitrate: r
                .get::<_, Option<i64>>(10)?
                .and_then(|b| u64::try_from(b).ok()),
            finished_at: Timestamp(r.get::<_, Option<i64>>(11)?.unwrap_or(0)),
            attribution: Attribution {
                source: source.parse().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(12, Type::Text, Box::new(e))
                })?,
                source_id: r.get(13)?,
                title: r.get(14)?,
                page_url: r.get(15)?,
                author_name: r.get(16)?,
                author_url: r.get(17)?,
                license: r.get(18)?,
            },
            thumbnail: poster.unwrap_or(false),
            sprite_frames: r.get(20)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
