//! The vocabulary of the insight commands: statistics, history, themes, exports and cleanup.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::download::DownloadState;
use crate::job::InvalidInput;
use crate::timestamp::Timestamp;

/// How `stats` groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    pub source: String,
    pub source_id: String,
    pub state: String,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRecord {
    pub job: i64,
    pub theme: String,
    pub source: String,
    pub source_id: String,
    pub title: String,
    pub page_url: Option<String>,
    pub author_name: Option<String>,
    pub author_url: Option<String>,
    pub license: Option<String>,
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
