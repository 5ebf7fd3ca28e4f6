//! The HTTP API's own answers: the shapes the original Video Fetcher Pro (Flask) documented for
//! its endpoints, and `/health`. Typed like the rest of the public schema, so the OpenAPI
//! description (`/api/openapi.json`) is derived from the very types that are sent. They are not
//! `--json` outputs, so they are not part of schema/vfetch.schema.json.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::insight::{Setting, Stats};
use crate::download::DownloadState;
use crate::insight::{ExportRecord, Stats as DomainStats, ThemeCount as DomainThemeCount};
use crate::job::{Job as DomainJob, JobState};
use crate::protocol::JobDetail as DomainJobDetail;
use crate::source_kind::SourceKind;
use crate::timestamp::Timestamp;

/// `GET /api/stats`: `stats --json`'s document with the original's keys beside it, so the one
/// route serves both kinds of client.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StatsAnswer {
    #[serde(flatten)]
    pub stats: Stats,
    /// The original's name for `totals.downloads`.
    pub total_downloads: u64,
    /// The original's name for `totals.done`.
    pub successful: u64,
    pub failed: u64,
    pub total_size_bytes: u64,
    /// Average download speed in megabits per second (0 when nothing finished).
    pub avg_speed_mbps: f64,
    pub total_duration_hours: f64,
    /// Per source name.
    pub sources: BTreeMap<String, SourceCounts>,
    /// Per period (day, week or month, as `by` asks), oldest first.
    pub daily: Vec<DailyCounts>,
}

/// One source's counts in the original's `sources`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SourceCounts {
    pub count: u64,
    pub successful: u64,
    pub bytes: u64,
}

/// One period in the original's `daily`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DailyCounts {
    /// The period's label ("2026-12-03", "2026-W49", "2026-12").
    pub date: String,
    pub downloads: u64,
    pub successful: u64,
    pub failed: u64,
    pub bytes: u64,
}

impl From<&DomainStats> for StatsAnswer {
    fn from(stats: &DomainStats) -> Self {
        let totals = &stats.totals;
        StatsAnswer {
            stats: Stats::from(stats),
            total_downloads: totals.downloads,
            successful: totals.done,
            failed: totals.failed,
            total_size_bytes: totals.bytes,
            avg_speed_mbps: totals
                .avg_speed
                .map_or(0.0, |bytes_per_sec| rounded(bytes_per_sec * 8.0 / 1e6)),
            // Not rounded: a library of short clips is a few thousandths of an hour.
            total_duration_hours: totals.video_seconds / 3600.0,
            sources: stats
                .per_source
                .iter()
                .map(|s| {
                    let counts = SourceCounts {
                        count: s.downloads,
                        successful: s.done,
                        bytes: s.bytes,
                    };
                    (s.source.clone(), counts)
                })
                .collect(),
            daily: stats
                .periods
                .iter()
                .map(|(label, t)| DailyCounts {
                    date: label.clone(),
                    downloads: t.downloads,
                    successful: t.done,
                    failed: t.failed,
                    bytes: t.bytes,
                })
                .collect(),
        }
    }
}

/// Two decimals are all a person reads; more only looks precise.
fn rounded(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `POST /api/setup`: the original's acknowledgement, with the settings now in force.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SetupAnswer {
    /// Always "ok" (a refusal is a problem document).
    pub status: String,
    pub settings: Vec<Setting>,
}

/// `POST /api/fetch`: the queued job as the original announced it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FetchAccepted {
    pub job_id: i64,
    pub status: JobState,
    pub theme: String,
    pub count: u32,
    pub message: String,
}

impl From<&DomainJob> for FetchAccepted {
    fn from(job: &DomainJob) -> Self {
        FetchAccepted {
            job_id: job.id.0,
            status: job.state,
            theme: job.theme.clone(),
            count: job.count,
            message: format!("job {} queued", job.id),
        }
    }
}

/// `GET /api/status/{id}`: the original's progress view of one job.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JobProgress {
    pub job_id: i64,
    pub status: JobState,
    pub theme: String,
    pub count: u32,
    pub downloaded: u32,
    /// Percent of `count` downloaded, two decimals.
    pub progress: f64,
    pub errors: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub downloads: Vec<DownloadProgress>,
}

/// One download in [`JobProgress`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DownloadProgress {
    pub id: i64,
    pub source: SourceKind,
    pub state: DownloadState,
    /// Bytes written so far, or the final size once done.
    pub bytes: u64,
    pub total: Option<u64>,
    /// Where the file is in the library, once done.
    pub path: Option<String>,
}

impl From<&DomainJobDetail> for JobProgress {
    fn from(detail: &DomainJobDetail) -> Self {
        let job = &detail.job;
        let progress = if job.count == 0 {
            0.0
        } else {
            rounded(f64::from(job.done.min(job.count)) * 100.0 / f64::from(job.count))
        };
        JobProgress {
            job_id: job.id.0,
            status: job.state,
            theme: job.theme.clone(),
            count: job.count,
            downloaded: job.done,
            progress,
            errors: job.errors.clone(),
            created_at: job.created_at,
            updated_at: job.updated_at,
            downloads: detail
                .downloads
                .iter()
                .map(|d| DownloadProgress {
                    id: d.id.0,
                    source: d.source,
                    state: d.state,
                    bytes: d.bytes,
                    total: d.total,
                    path: d.path.clone(),
                })
                .collect(),
        }
    }
}

/// `GET /api/search/suggestions`: themes, most used first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Suggestions {
    pub suggestions: Vec<String>,
}

impl From<&[DomainThemeCount]> for Suggestions {
    fn from(rows: &[DomainThemeCount]) -> Self {
        Suggestions {
            suggestions: rows.iter().map(|r| r.theme.clone()).collect(),
        }
    }
}

/// `GET /api/themes/popular`: themes with how often they were searched.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PopularThemes {
    pub themes: Vec<PopularTheme>,
}

/// One theme in [`PopularThemes`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PopularTheme {
    pub theme: String,
    /// How often it was searched.
    pub count: u64,
    pub last_used: Timestamp,
}

impl From<&[DomainThemeCount]> for PopularThemes {
    fn from(rows: &[DomainThemeCount]) -> Self {
        PopularThemes {
            themes: rows
                .iter()
                .map(|r| PopularTheme {
                    theme: r.theme.clone(),
                    count: r.searches,
                    last_used: r.last_used,
                })
                .collect(),
        }
    }
}

/// `GET /api/export/metadata/{id}`: one job's videos with attribution, as `export --json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExportMetadata {
    pub job_id: i64,
    pub count: usize,
    pub videos: Vec<ExportRecord>,
}

/// `GET /health`: whether the daemon can read its database, and nothing secret.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Health {
    pub status: HealthState,
    pub timestamp: Timestamp,
    pub database: DatabaseState,
    /// Jobs in the queue, of every state; null when the database cannot be read.
    pub jobs_count: Option<u64>,
    pub active_downloads: usize,
    /// The daemon's version.
    pub version: String,
}

/// [`Health::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Healthy,
    Unhealthy,
}

/// [`Health::database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseState {
    Connected,
    Unavailable,
}
