//! The gallery's data (`library`, `GET /api/library`) and the thumbnail backfill's report.

use schemars::JsonSchema;
use serde::Serialize;

use super::job::Attribution;
use crate::gallery::{
    LibraryPage as DomainLibraryPage, LibraryVideo as DomainLibraryVideo,
    ThumbnailReport as DomainThumbnailReport,
};
use crate::timestamp::Timestamp;

/// One finished video in the library, with its file facts, credit and thumbnails. The poster
/// is `GET /thumbs/{download}`, the sprite `GET /thumbs/{download}/sprite`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LibraryVideo {
    /// The download's id (the key of its thumbnails and media).
    pub download: i64,
    pub job: i64,
    pub theme: String,
    /// The file's name in the library (never its path).
    pub file_name: String,
    /// Bytes.
    pub size: u64,
    /// Seconds (ffprobe's, else the provider's).
    pub duration: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The video codec, from ffprobe.
    pub codec: Option<String>,
    pub fps: Option<f64>,
    /// Bits per second, from ffprobe.
    pub bitrate: Option<u64>,
    pub finished_at: Timestamp,
    /// The video's source, its id there, and its credit.
    pub attribution: Attribution,
    /// Whether the poster exists.
    pub thumbnail: bool,
    /// Frames in the hover sprite (tiled left to right, equal widths), when one exists.
    pub sprite_frames: Option<u32>,
}

/// One page of the library, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LibraryPage {
    pub videos: Vec<LibraryVideo>,
    /// Pass as `cursor` for the next page; null when this was the last.
    pub next_cursor: Option<i64>,
}

/// What `thumbnails --missing` did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ThumbnailReport {
    /// Finished videos looked at.
    pub checked: u64,
    /// Videos whose missing thumbnails were made now.
    pub made: u64,
    /// Videos whose thumbnails could not be made (the daemon's log says why).
    pub failed: u64,
}

impl From<&DomainLibraryVideo> for LibraryVideo {
    fn from(v: &DomainLibraryVideo) -> Self {
        LibraryVideo {
            download: v.download,
            job: v.job,
            theme: v.theme.clone(),
            file_name: v.file_name.clone(),
            size: v.size,
            duration: v.duration,
            width: v.width,
            height: v.height,
            codec: v.codec.clone(),
            fps: v.fps,
            bitrate: v.bitrate,
            finished_at: v.finished_at,
            attribution: Attribution::from(&v.attribution),
            thumbnail: v.thumbnail,
            sprite_frames: v.sprite_frames,
        }
    }
}

impl From<&DomainLibraryPage> for LibraryPage {
    fn from(p: &DomainLibraryPage) -> Self {
        LibraryPage {
            videos: p.videos.iter().map(LibraryVideo::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

impl From<&DomainThumbnailReport> for ThumbnailReport {
    fn from(r: &DomainThumbnailReport) -> Self {
        ThumbnailReport {
            checked: r.checked,
            made: r.made,
            failed: r.failed,
        }
    }
}
