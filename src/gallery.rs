//! The vocabulary of the gallery: the library's finished videos as pages (newest first, keyset
//! paged by download id so the first page is as fast at 10,000 videos as at 10), each with its
//! file facts, attribution and thumbnails; and the report of a thumbnail backfill.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::attribution::Attribution;
use crate::download::DownloadId;
use crate::source_kind::SourceKind;
use crate::timestamp::Timestamp;

/// The most videos one page holds.
pub const MAX_PAGE: u32 = 500;
/// A page's size when the client names none.
pub const DEFAULT_PAGE: u32 = 60;

/// Which library videos, and which page of them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LibraryQuery {
    /// Only videos of jobs with this theme (any case).
    pub theme: Option<String>,
    /// Only videos from this source.
    pub source: Option<SourceKind>,
    /// Only videos finished at or after this time.
    pub since: Option<Timestamp>,
    /// Only videos finished before this time.
    pub until: Option<Timestamp>,
    /// Videos with a smaller download id than this (the previous page's `next_cursor`).
    pub cursor: Option<i64>,
    /// At most this many (1 to [`MAX_PAGE`]).
    pub limit: u32,
}

/// One finished video in the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryVideo {
    pub download: i64,
    pub job: i64,
    pub theme: String,
    /// The file's name in the library (never its path).
    pub file_name: String,
    /// Bytes.
    pub size: u64,
    pub duration: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub codec: Option<String>,
    pub fps: Option<f64>,
    /// Bits per second, from ffprobe.
    pub bitrate: Option<u64>,
    pub finished_at: Timestamp,
    /// Who made it and under what terms.
    pub attribution: Attribution,
    /// Whether the poster exists.
    pub thumbnail: bool,
    /// Frames in the hover sprite, when one exists.
    pub sprite_frames: Option<u32>,
}

/// One page of the library and where the next one starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryPage {
    pub videos: Vec<LibraryVideo>,
    /// The `cursor` of the next page; `None` when this was the last.
    pub next_cursor: Option<i64>,
}

/// What `thumbnails --missing` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThumbnailReport {
    /// Finished videos looked at.
    pub checked: u64,
    /// Videos whose thumbnails were made now.
    pub made: u64,
    /// Videos whose thumbnails could not be made (the daemon's log says why).
    pub failed: u64,
}

/// A thumbnail image, as the HTTP API serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThumbnailImage {
    /// `image/jpeg`.
    pub content_type: String,
    /// A strong validator of the bytes, quoted, for `ETag`.
    pub etag: String,
    pub bytes: Vec<u8>,
}

/// What exists of one video's thumbnails after a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThumbnailSet {
    /// The poster was made.
    pub poster: bool,
    /// Frames in the sprite, when one was made (none without a known duration).
    pub sprite_frames: Option<u32>,
}

/// One finished video to make thumbnails for.
#[derive(Debug, Clone, PartialEq)]
pub struct ThumbnailSubject {
    pub download: DownloadId,
    /// The video in the library.
    pub video: PathBuf,
    /// Seconds, from ffprobe or else the provider; `None` when neither said.
    pub duration: Option<f64>,
    /// What the store says exists, if a try was recorded.
    pub recorded: Option<ThumbnailSet>,
}

/// Which of a video's two thumbnails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThumbKind {
    /// One representative frame.
    Poster,
    /// A few frames across the clip, in one row.
    Sprite,
}
