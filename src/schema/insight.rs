//! The insight commands (`stats`, `history`, `themes`, `cleanup`), `config get` and the
//! one-line confirmations.

use schemars::JsonSchema;
use serde::Serialize;

use super::job::Attribution;
use crate::download::DownloadState;
use crate::insight::{
    CleanupReport as DomainCleanupReport, HistoryRow, Period, SourceStats as DomainSourceStats,
    Stats as DomainStats, ThemeCount as DomainThemeCount, Totals as DomainTotals,
};
use crate::protocol::Setting as DomainSetting;
use crate::timestamp::Timestamp;

/// `stats`: totals over the last `days`, per source and per period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Stats {
    pub days: u32,
    pub by: Period,
    pub totals: Totals,
    pub per_source: Vec<SourceStats>,
    /// Oldest first.
    pub periods: Vec<PeriodTotals>,
}

/// Counts and rates over a set of finished downloads.
#[derive(Debug, Clone, Serialize, JsonSchema)]
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
    /// Seconds of video in finished files.
    pub video_seconds: f64,
    /// Bytes per second over finished downloads.
    pub avg_speed: Option<f64>,
    pub median_speed: Option<f64>,
}

/// One source's line in `stats`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SourceStats {
    pub source: String,
    pub downloads: u64,
    pub done: u64,
    pub bytes: u64,
}

/// One period's totals in `stats`, labelled like "2026-12-03" (day), "2026-W49", "2026-12".
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PeriodTotals {
    pub period: String,
    pub totals: Totals,
}

impl From<&DomainTotals> for Totals {
    fn from(t: &DomainTotals) -> Self {
        Totals {
            downloads: t.downloads,
            done: t.done,
            failed: t.failed,
            duplicates: t.duplicates,
            invalid: t.invalid,
            success_rate: t.success_rate,
            bytes: t.bytes,
            video_seconds: t.video_seconds,
            avg_speed: t.avg_speed,
            median_speed: t.median_speed,
        }
    }
}

impl From<&DomainSourceStats> for SourceStats {
    fn from(s: &DomainSourceStats) -> Self {
        SourceStats {
            source: s.source.clone(),
            downloads: s.downloads,
            done: s.done,
            bytes: s.bytes,
        }
    }
}

impl From<&DomainStats> for Stats {
    fn from(s: &DomainStats) -> Self {
        Stats {
            days: s.days,
            by: s.by,
            totals: Totals::from(&s.totals),
            per_source: s.per_source.iter().map(SourceStats::from).collect(),
            periods: s
                .periods
                .iter()
                .map(|(period, totals)| PeriodTotals {
                    period: period.clone(),
                    totals: Totals::from(totals),
                })
                .collect(),
        }
    }
}

/// One finished download in `history`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HistoryEntry {
    pub download: i64,
    pub job: i64,
    pub theme: String,
    /// The video's source, its id there, and its credit.
    pub attribution: Attribution,
    pub state: DownloadState,
    pub bytes: u64,
    pub speed: Option<f64>,
    pub path: Option<String>,
    /// What went wrong, in the daemon's words.
    pub error: Option<String>,
    pub finished_at: Timestamp,
}

impl From<&HistoryRow> for HistoryEntry {
    fn from(r: &HistoryRow) -> Self {
        HistoryEntry {
            download: r.download,
            job: r.job,
            theme: r.theme.clone(),
            attribution: Attribution::from(&r.attribution),
            state: r.state,
            bytes: r.bytes,
            speed: r.speed,
            path: r.path.clone(),
            error: r.error.clone(),
            finished_at: r.finished_at,
        }
    }
}

/// A searched theme with how often and how lately (`themes`, `suggest`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ThemeCount {
    pub theme: String,
    pub searches: u64,
    pub last_used: Timestamp,
}

impl From<&DomainThemeCount> for ThemeCount {
    fn from(t: &DomainThemeCount) -> Self {
        ThemeCount {
            theme: t.theme.clone(),
            searches: t.searches,
            last_used: t.last_used,
        }
    }
}

/// `cleanup`: what went (or, in a dry run, would go).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CleanupReport {
    pub dry_run: bool,
    /// Ids of the jobs removed.
    pub jobs: Vec<i64>,
    pub downloads: u64,
    pub searches: u64,
    /// Staging `.part` files removed.
    pub staging_files: Vec<String>,
    /// Library files removed (only with --delete-files).
    pub library_files: Vec<String>,
}

impl From<&DomainCleanupReport> for CleanupReport {
    fn from(r: &DomainCleanupReport) -> Self {
        CleanupReport {
            dry_run: r.dry_run,
            jobs: r.jobs.clone(),
            downloads: r.downloads,
            searches: r.searches,
            staging_files: r.staging_files.clone(),
            library_files: r.library_files.clone(),
        }
    }
}

/// One configuration key (API keys shown as `***`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Setting {
    pub key: String,
    /// The value as config text.
    pub value: String,
    /// Whether `config set` put this value in force (it then outlives restarts).
    pub runtime: bool,
}

impl From<&DomainSetting> for Setting {
    fn from(s: &DomainSetting) -> Self {
        Setting {
            key: s.key.clone(),
            value: s.value.clone(),
            runtime: s.runtime,
        }
    }
}

/// A short confirmation (e.g. after `shutdown`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Message {
    pub message: String,
}
