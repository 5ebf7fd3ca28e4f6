//! Every JSON body the HTTP API sends, one function per kind of answer. The only file that
//! decides a body's shape: the resource routes use the same shapes as `vfetchctl --json`, the
//! original's routes the shapes the Flask application documented.

use serde::Serialize;
use serde_json::{json, Value};

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
    let mut doc = value(&schema::Stats::from(stats));
    let totals = &stats.totals;
    let sources: serde_json::Map<String, Value> = stats
        .per_source
        .iter()
        .map(|s| {
            let counts = json!({"count": s.downloads, "successful": s.done, "bytes": s.bytes});
            (s.source.clone(), counts)
        })
        .collect();
    let daily: Vec<Value> = stats
        .periods
        .iter()
        .map(|(label, t)| {
            json!({
                "date": label,
                "downloads": t.downloads,
                "successful": t.done,
                "failed": t.failed,
                "bytes": t.bytes,
            })
        })
        .collect();
    if let Value::Object(map) = &mut doc {
        let original = json!({
            "total_downloads": totals.downloads,
            "successful": totals.done,
            "failed": totals.failed,
            "total_size_bytes": totals.bytes,
            "avg_speed_mbps": totals.avg_speed.map_or(0.0, |bytes_per_sec| rounded(bytes_per_sec * 8.0 / 1e6)),
            // Not rounded: a library of short clips is a few thousandths of an hour.
            "total_duration_hours": totals.video_seconds / 3600.0,
            "sources": sources,
            "daily": daily,
        });
        if let Value::Object(extra) = original {
            map.extend(extra);
        }
    }
    doc
}

/// Two decimals are all a person reads; more only looks precise.
fn rounded(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
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
    json!({"status": "ok", "settings": settings_json(settings)})
}

/// `POST /api/fetch`: the queued job as the original announced it.
pub fn fetch_accepted(job: &Job) -> Value {
    json!({
        "job_id": job.id,
        "status": job.state,
        "theme": job.theme,
        "count": job.count,
        "message": format!("job {} queued", job.id),
    })
}

/// `GET /api/status/{id}`: the original's progress view of one job.
pub fn job_status(detail: &JobDetail) -> Value {
    let job = &detail.job;
    let progress = if job.count == 0 {
        0.0
    } else {
        rounded(f64::from(job.done.min(job.count)) * 100.0 / f64::from(job.count))
    };
    let downloads: Vec<Value> = detail
        .downloads
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "source": d.source,
                "state": d.state,
                "bytes": d.bytes,
                "total": d.total,
                "path": d.path,
            })
        })
        .collect();
    json!({
        "job_id": job.id,
        "status": job.state,
        "theme": job.theme,
        "count": job.count,
        "downloaded": job.done,
        "progress": progress,
        "errors": job.errors,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "downloads": downloads,
    })
}

/// `GET /api/search/suggestions`: themes, most used first.
pub fn suggestions(rows: &[ThemeCount]) -> Value {
    let themes: Vec<&str> = rows.iter().map(|r| r.theme.as_str()).collect();
    json!({ "suggestions": themes })
}

/// `GET /api/themes/popular`: themes with how often they were searched.
pub fn popular(rows: &[ThemeCount]) -> Value {
    let themes: Vec<Value> = rows
        .iter()
        .map(|r| json!({"theme": r.theme, "count": r.searches, "last_used": r.last_used}))
        .collect();
    json!({ "themes": themes })
}

/// `GET /api/export/metadata/{id}`: one job's videos with attribution, as `export --json`.
pub fn export_metadata(job: JobId, records: &[ExportRecord]) -> Value {
    json!({
        "job_id": job,
        "count": records.len(),
        "videos": value(records),
    })
}

/// `GET /health`: whether the daemon can read its database, and nothing secret.
pub fn health(healthy: bool, jobs_count: Option<u64>, active_downloads: usize) -> Value {
    json!({
        "status": if healthy { "healthy" } else { "unhealthy" },
        "timestamp": crate::timestamp::Timestamp::now().to_string(),
        "database": if healthy { "connected" } else { "unavailable" },
        "jobs_count": jobs_count,
        "active_downloads": active_downloads,
        "version": env!("CARGO_PKG_VERSION"),
    })
}

/// A page of the library, as `vfetchctl library --json` prints it.
pub fn library(page: &crate::gallery::LibraryPage) -> Value {
    value(&schema::LibraryPage::from(page))
}
