//! The vocabulary of the insight commands: statistics, history, themes, exports and cleanup.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::attribution::Attribution;
use crate::download::DownloadState;
use crate::job::InvalidInput;
use crate::source_kind::SourceKind;
use crate::timestamp::Timestamp;

/// How `stats` groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl FromStr for Period {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            other => Err(InvalidInput(format!(
                "unknown period {other:?}: expected one of day, week, month"
            ))),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        })
    }
}

/// Counts and rates over a set of finished downloads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub downloads: u64,
    pub done: u64,
    pub failed: u64,
    pub duplicates: u64,
    pub invalid: u64,
    /// done / downloads, 0 when there are none.
    pub success_rate: f64,
    /// Bytes of finished files.
    pub bytes: u64,
    /// Seconds of video in finished files (from ffprobe).
    pub video_seconds: f64,
    /// Bytes per second, over finished downloads.
    pub avg_speed: Option<f64>,
    pub median_speed: Option<f64>,
}

/// One source's line in `stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStats {
    pub source: String,
    pub downloads: u64,
    pub done: u64,
    pub bytes: u64,
}

/// The answer to `stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub days: u32,
    pub by: Period,
    pub totals: Totals,
    pub per_source: Vec<SourceStats>,
    /// (period label, totals), oldest first.
    pub periods: Vec<(String, Totals)>,
}

/// Filters for `history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryQuery {
    pub limit: u32,
    pub theme: Option<String>,
    pub state: Option<DownloadState>,
}

/// One finished download in `history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub download: i64,
    pub job: i64,
    pub theme: String,
    /// The video's source, its id there, and its credit.
    pub attribution: Attribution,
    pub state: DownloadState,
    pub bytes: u64,
    pub speed: Option<f64>,
    pub path: Option<String>,
    pub error: Option<String>,
    pub finished_at: Timestamp,
}

/// A theme with how often and how lately it was searched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThemeCount {
    pub theme: String,
    pub searches: u64,
    pub last_used: Timestamp,
}

/// One downloaded video with its attribution, for `export`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRecord {
    pub job: i64,
    pub theme: String,
    /// Who made it and under what terms.
    pub attribution: Attribution,
    /// Comma-separated.
    pub tags: String,
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub duration: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fps: Option<f64>,
    pub codec: Option<String>,
    pub downloaded_at: Timestamp,
}

/// [`ExportRecord`] as the wire and `export --json` carry it: the attribution's fields flat
/// among the others, in the order they always had.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename = "ExportRecord")]
struct FlatExportRecord {
    job: i64,
    theme: String,
    source: SourceKind,
    source_id: String,
    title: String,
    page_url: Option<String>,
    author_name: Option<String>,
    author_url: Option<String>,
    license: Option<String>,
    tags: String,
    path: String,
    sha256: String,
    size: u64,
    duration: Option<f64>,
    width: Option<u32>,
    height: Option<u32>,
    fps: Option<f64>,
    codec: Option<String>,
    downloaded_at: Timestamp,
}

/// Described as it is serialised: flat.
impl schemars::JsonSchema for ExportRecord {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        FlatExportRecord::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        FlatExportRecord::json_schema(generator)
    }
}

impl Serialize for ExportRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let a = &self.attribution;
        FlatExportRecord {
            job: self.job,
            theme: self.theme.clone(),
            source: a.source,
            source_id: a.source_id.clone(),
            title: a.title.clone(),
            page_url: a.page_url.clone(),
            author_name: a.author_name.clone(),
            author_url: a.author_url.clone(),
            license: a.license.clone(),
            tags: self.tags.clone(),
            path: self.path.clone(),
            sha256: self.sha256.clone(),
            size: self.size,
            duration: self.duration,
            width: self.width,
            height: self.height,
            fps: self.fps,
            codec: self.codec.clone(),
            downloaded_at: self.downloaded_at,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ExportRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let f = FlatExportRecord::deserialize(deserializer)?;
        Ok(ExportRecord {
            job: f.job,
            theme: f.theme,
            attribution: Attribution {
                source: f.source,
                source_id: f.source_id,
                title: f.title,
                page_url: f.page_url,
                author_name: f.author_name,
                author_url: f.author_url,
                license: f.license,
            },
            tags: f.tags,
            path: f.path,
            sha256: f.sha256,
            size: f.size,
            duration: f.duration,
            width: f.width,
            height: f.height,
            fps: f.fps,
            codec: f.codec,
            downloaded_at: f.downloaded_at,
        })
    }
}

/// What `cleanup` removes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanupQuery {
    pub older_than_days: u32,
    /// Only failed and cancelled jobs, and failed, invalid, duplicate or cancelled downloads.
    pub failed_only: bool,
    pub dry_run: bool,
    /// Also delete the library files of removed downloads.
    pub delete_files: bool,
}

/// What `cleanup` removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CleanupReport {
    pub dry_run: bool,
    pub jobs: Vec<i64>,
    pub downloads: u64,
    pub searches: u64,
    /// Staging `.part` files removed.
    pub staging_files: Vec<String>,
    /// Library files removed (only with `delete_files`).
    pub library_files: Vec<String>,
}
