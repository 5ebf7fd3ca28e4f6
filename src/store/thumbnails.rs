//! Which finished downloads have thumbnails: recorded after each try, read by the gallery and
//! by `thumbnails --missing`.

use rusqlite::{params, Connection};

use super::{Store, StoreError};
use crate::download::DownloadId;
use crate::gallery::{ThumbnailSet as Made, ThumbnailSubject as Subject};
use crate::timestamp::Timestamp;

impl Store {
    /// Records what a thumbnail try left: what exists, or why nothing does. A download removed
    /// meanwhile is left alone (no row appears for it).
    pub async fn record_thumbnails(
        &self,
        download: DownloadId,
        outcome: Result<Made, String>,
    ) -> Result<(), StoreError> {
        self.run(move |db| record(db, download, &outcome)).await
    }

    /// Up to `limit` finished downloads after id `after`, in id order, with their video, its
    /// duration and what the store says of their thumbnails.
    pub async fn thumbnail_subjects(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Subject>, StoreError> {
        self.run(move |db| subjects(db, after, limit)).await
    }
}

fn record(
    db: &Connection,
    download: DownloadId,
    outcome: &Result<Made, String>,
) -> Result<(), StoreError> {
    let (poster, frames, error) = match outcome {
        Ok(made) => (made.poster, made.sprite_frames, None),
        Err(why) => (false, None, Some(why.as_str())),
    };
    db.execute(
        "INSERT OR REPLACE INTO thumbnails (download_id, poster, sprite_frames, error, made_at)
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM downloads WHERE id = ?1)",
        params![download.0, poster, frames, error, Timestamp::now().0],
    )?;
    Ok(())
}

fn subjects(db: &Connection, after: i64, limit: u32) -> Result<Vec<Subject>, StoreError> {
    let mut statement = db.prepare_cached(
        "SELECT d.id, d.path, COALESCE(json_extract(d.probe, '$.duration'), c.duration),
                t.poster, t.sprite_frames
         FROM downloads d JOIN candidates c ON c.id = d.candidate_id
         LEFT JOIN thumbnails t ON t.download_id = d.id
         WHERE d.state = 'done' AND d.path IS NOT NULL AND d.id > ?1
         ORDER BY d.id LIMIT ?2",
    )?;
    let rows = statement.query_map(params![after, limit], |r| {
        let poster: Option<bool> = r.get(3)?;
        let sprite_frames: Option<u32> = r.get(4)?;
        Ok(Subject {
            download: DownloadId(r.get(0)?),
            video: r.get::<_, String>(1)?.into(),
            duration: r.get(2)?,
            recorded: poster.map(|poster| Made {
                poster,
                sprite_frames,
            }),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
