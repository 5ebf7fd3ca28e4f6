//! Every JSON body the HTTP API sends, one function per kind of answer. The only file that
//! decides a body's shape: the resource routes use the same shapes as `vfetchctl --json`, the
//! original's routes the shapes the Flask application documented.

use serde::Serialize;
use serde_json::Value;

use crate::insight::{CleanupReport, ExportRecord, HistoryRow, Stats, ThemeCount};
use crate::job::{Job, JobId};
use crate::protocol::{JobDetail, JobView, Setting, StatusView};
use crate::schema;

/// Our own types always serialise; should one ever not, the client sees `null` and the log why.
fn value<T: Serialize + ?Sized>(item: &T) -> Value {
    serde_json::to_value(item).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot render an HTTP answer as JSON");
        Value::Null
    })
}

/// One job.
pub fn job(job: &Job) -> Value {
    value(&schema::Job::from(job))
}

/// A page of jobs, each with what holds it up.
pub fn job_list(jobs: &[JobView]) -> Value {
    value(&jobs.iter().map(schema::Job::from).collect::<Vec<_>>())
}

/// The jobs a pause or resume changed.
pub fn jobs(jobs: &[Job]) -> Value {
    value(&jobs.iter().map(schema::Job::from).collect::<Vec<_>>())
}

/// One job with its downloads and candidates.
pub fn detail(detail: &JobDetail) -> Value {
    value(&schema::JobDetail::from(detail))
}

/// The daemon's health and queue summary.
pub fn status(status: &StatusView) -> Value {
    value(&schema::Status::from(status))
}

/// Settings in force (API keys masked by the handler).
pub fn settings(settings: &[Setting]) -> Value {
    settings_json(settings)
}

fn settings_json(settings: &[Setting]) -> Value {
    value(
        &settings
            .iter()
            .map(schema::Setting::from)
            .collect::<Vec<_>>(),
    )
}

/// Statistics as `vfetchctl stats --json` prints them, with the original's keys beside them
/// (`total_downloads`, `successful`, `failed`, `total_size_bytes`, `avg_speed_mbps` in megabits
/// per second, `total_duration_hours`, `sources{name:{count,successful}}`, `daily[]`), so the
/// one route serves both kinds of client.
pub fn stats(stats: &Stats) -> Value {
    value(&schema::StatsAnswer::from(stats))
}

/// Finished downloads, newest first.
pub fn history(rows: &[HistoryRow]) -> Value {
    value(
        &rows
            .iter()
            .map(schema::HistoryEntry::from)
            .collect::<Vec<_>>(),
    )
}

/// Searched themes with their counts.
pub fn themes(rows: &[ThemeCount]) -> Value {
    value(
        &rows
            .iter()
            .map(schema::ThemeCount::from)
            .collect::<Vec<_>>(),
    )
}

/// What a cleanup removed.
pub fn cleanup(report: &CleanupReport) -> Value {
    value(&schema::CleanupReport::from(report))
}

/// `POST /api/setup`: the original's acknowledgement, with the settings now in force.
pub fn setup(settings: &[Setting]) -> Value {
    value(&schema::SetupAnswer {
        status: "ok".to_string(),
        settings: settings.iter().map(schema::Setting::from).collect(),
    })
}

/// `POST /api/fetch`: the queued job as the original announced it.
pub fn fetch_accepted(job: &Job) -> Value {
    value(&schema::FetchAccepted::from(job))
}

/// `GET /api/status/{id}`: the original's progress view of one job.
pub fn job_status(detail: &JobDetail) -> Value {
    value(&schema::JobProgress::from(detail))
}

/// `GET /api/search/suggestions`: themes, most used first.
pub fn suggestions(rows: &[ThemeCount]) -> Value {
    value(&schema::Suggestions::from(rows))
}

/// `GET /api/themes/popular`: themes with how often they were searched.
pub fn popular(rows: &[ThemeCount]) -> Value {
    value(&schema::PopularThemes::from(rows))
}

/// `GET /api/export/metadata/{id}`: one job's videos with attribution, as `export --json`.
pub fn export_metadata(job: JobId, records: Vec<ExportRecord>) -> Value {
    value(&schema::ExportMetadata {
        job_id: job.0,
        count: records.len(),
        videos: records,
    })
}

/// `GET /health`: whether the daemon can read its database, and nothing secret.
pub fn health(healthy: bool, jobs_count: Option<u64>, active_downloads: usize) -> Value {
    let (status, database) = if healthy {
        (
            schema::HealthState::Healthy,
            schema::DatabaseState::Connected,
        )
    } else {
        (
            schema::HealthState::Unhealthy,
            schema::DatabaseState::Unavailable,
        )
    };
    value(&schema::Health {
        status,
        timestamp: crate::timestamp::Timestamp::now(),
        database,
        jobs_count,
        active_downloads,
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// A page of the library, as `vfetchctl library --json` prints it.
pub fn library(page: &crate::gallery::LibraryPage) -> Value {
    value(&schema::LibraryPage::from(page))
}
