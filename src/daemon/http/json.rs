//! Every JSON body the HTTP API sends, one function per kind of answer. The only file that
//! decides a body's shape: the resource routes use the same shapes as `vfetchctl --json`, the
//! original's routes the shapes the Flask application documented.

use serde::Serialize;
use serde_json::{json, Value};

use crate::insight::{CleanupReport, HistoryRow, Stats, ThemeCount};
use crate::job::Job;
use crate::protocol::{JobDetail, Setting, StatusView};

/// Our own types always serialise; should one ever not, the client sees `null` and the log why.
fn value<T: Serialize + ?Sized>(item: &T) -> Value {
    serde_json::to_value(item).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot render an HTTP answer as JSON");
        Value::Null
    })
}

/// One job.
pub fn job(job: &Job) -> Value {
    value(job)
}

/// A page of jobs, or the jobs a pause or resume changed.
pub fn jobs(jobs: &[Job]) -> Value {
    value(jobs)
}

/// One job with its downloads and candidates.
pub fn detail(detail: &JobDetail) -> Value {
    value(detail)
}

/// The daemon's health and queue summary.
pub fn status(status: &StatusView) -> Value {
    value(status)
}

/// Settings in force (API keys masked by the handler).
pub fn settings(settings: &[Setting]) -> Value {
    value(settings)
}

/// Statistics as `vfetchctl stats --json` prints them.
pub fn stats(stats: &Stats) -> Value {
    value(stats)
}

/// Finished downloads, newest first.
pub fn history(rows: &[HistoryRow]) -> Value {
    value(rows)
}

/// Searched themes with their counts.
pub fn themes(rows: &[ThemeCount]) -> Value {
    value(rows)
}

/// What a cleanup removed.
pub fn cleanup(report: &CleanupReport) -> Value {
    value(report)
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
