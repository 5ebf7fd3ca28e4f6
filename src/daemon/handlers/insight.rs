//! stats, history, themes/suggest, cleanup, metrics: what happened, read from the store.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::daemon::Shared;
use crate::insight::{CleanupQuery, HistoryQuery};
use crate::protocol::{ErrorKind, Response, RpcError, StatsQuery, ThemesQuery};
use crate::source_kind::SourceKind;

/// Longest window `stats` accepts (ten years).
const MAX_DAYS: u32 = 3650;

/// Totals, per source and per period over the last `days`.
pub async fn stats(
    shared: &Arc<Shared>,
    StatsQuery { days, by }: StatsQuery,
) -> Result<Response, RpcError> {
    if days == 0 || days > MAX_DAYS {
        return Err(RpcError::new(
            ErrorKind::BadRequest,
            format!("days must be between 1 and {MAX_DAYS}"),
        ));
    }
    let stats = shared.store.stats(days, by).await?;
    Ok(Response::Stats(stats))
}

/// Recent finished downloads.
pub async fn history(shared: &Arc<Shared>, mut query: HistoryQuery) -> Result<Response, RpcError> {
    query.limit = query.limit.clamp(1, 10_000);
    let rows = shared.store.history(query).await?;
    Ok(Response::History(rows))
}

/// Searched themes by prefix, most frequent and most recent first.
pub async fn themes(
    shared: &Arc<Shared>,
    ThemesQuery { prefix, limit }: ThemesQuery,
) -> Result<Response, RpcError> {
    let limit = limit.clamp(1, 1000);
    let rows = shared.store.themes(prefix, limit).await?;
    Ok(Response::Themes(rows))
}

/// Removes old records, their staging files, and (only when asked) their library files.
pub async fn cleanup(shared: &Arc<Shared>, query: CleanupQuery) -> Result<Response, RpcError> {
    let (dry_run, delete_files) = (query.dry_run, query.delete_files);
    let (mut report, staging, library) = shared.store.clean_up(query).await?;
    let config = shared.config();
    for id in staging {
        let part = config.staging_dir().join(format!("{id}.part"));
        if part.exists() {
            if !dry_run {
                let _ = std::fs::remove_file(&part);
            }
            report.staging_files.push(part.display().to_string());
        }
    }
    // A removed video's thumbnails go with its record, files deleted or not: they would be
    // orphans, and a later download could be given the same id.
    if !dry_run {
        for (id, _) in &library {
            crate::thumbnail::remove(&config.state_dir, crate::download::DownloadId(*id));
        }
    }
    if delete_files {
        let root = config.library_dir.canonicalize().ok();
        for (_, path) in library {
            // Only files inside the library, whatever the database says.
            let inside = std::path::Path::new(&path)
                .canonicalize()
                .ok()
                .zip(root.as_ref())
                .is_some_and(|(p, r)| p.starts_with(r));
            if inside {
                if !dry_run {
                    let _ = std::fs::remove_file(&path);
                }
                report.library_files.push(path);
            }
        }
    }
    tracing::info!(
        jobs = report.jobs.len(),
        downloads = report.downloads,
        dry_run,
        "cleanup"
    );
    Ok(Response::Cleanup(report))
}

/// The Prometheus text exposition format, for node_exporter's textfile collector.
pub async fn metrics(shared: &Arc<Shared>) -> Result<Response, RpcError> {
    let (counts, outcomes) = shared.store.metrics_facts().await?;
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        name.to_string()
    };
    let mut lines = Vec::new();
    let name = family("vfetch_jobs", "gauge", "Jobs by state.");
    for (state, n) in &counts {
        lines.push(format!("{name}{{state=\"{state}\"}} {n}"));
    }
    let downloads = family(
        "vfetch_downloads",
        "gauge",
        "Downloads by source and outcome.",
    );
    let bytes = family(
        "vfetch_download_bytes",
        "gauge",
        "Bytes stored by downloads, by source and outcome.",
    );
    let retries = family(
        "vfetch_download_failed_attempts",
        "gauge",
        "Failed download attempts (each retried or given up), by source.",
    );
    for o in &outcomes {
        let labels = format!("{{source=\"{}\",outcome=\"{}\"}}", o.source, o.state);
        lines.push(format!("{downloads}{labels} {}", o.downloads));
        lines.push(format!("{bytes}{labels} {}", o.bytes));
        lines.push(format!("{retries}{labels} {}", o.failed_attempts));
    }
    let breaker = family(
        "vfetch_breaker_open",
        "gauge",
        "1 while a source's circuit breaker is open or half open.",
    );
    let waits = family(
        "vfetch_rate_limit_waits_total",
        "counter",
        "Requests that waited for a rate-limit window since start.",
    );
    for kind in SourceKind::ALL {
        if let Some(gate) = shared.scheduler.gate(kind) {
            let open = u8::from(gate.status().breaker != crate::breaker::BreakerState::Closed);
            lines.push(format!("{breaker}{{source=\"{kind}\"}} {open}"));
            lines.push(format!(
                "{waits}{{source=\"{kind}\"}} {}",
                gate.rate_waits()
            ));
        }
    }
    let active = family("vfetch_active_downloads", "gauge", "Downloads running now.");
    lines.push(format!("{active} {}", shared.scheduler.active()));
    let subscribers = family(
        "vfetch_subscribers",
        "gauge",
        "Clients following the event stream.",
    );
    lines.push(format!("{subscribers} {}", shared.events.receiver_count()));
    let database = family(
        "vfetch_database_bytes",
        "gauge",
        "Size of the database and its write-ahead log.",
    );
    let db_path = shared.store.path();
    let size = |p: std::path::PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = std::path::PathBuf::from(format!("{}-wal", db_path.display()));
    lines.push(format!(
        "{database} {}",
        size(db_path.to_path_buf()) + size(wal)
    ));
    let rss = family(
        "vfetch_resident_memory_bytes",
        "gauge",
        "The daemon's resident set size.",
    );
    lines.push(format!("{rss} {}", resident_bytes()));
    let build = family(
        "vfetch_build_info",
        "gauge",
        "Always 1; the version of the running daemon is its label.",
    );
    lines.push(format!(
        "{build}{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    ));
    // The process figures every Prometheus client library exports, under the same names.
    if let Some(process) = super::process::read() {
        let mut figure = |name: &str, kind: &str, help: &str, value: String| {
            let name = family(name, kind, help);
            lines.push(format!("{name} {value}"));
        };
        figure(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            process.resident_bytes.to_string(),
        );
        figure(
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            process.virtual_bytes.to_string(),
        );
        figure(
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            process.cpu_seconds.to_string(),
        );
        figure(
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            process.open_fds.to_string(),
        );
        if let Some(max) = process.max_fds {
            figure(
                "process_max_fds",
                "gauge",
                "Maximum number of open file descriptors.",
                max.to_string(),
            );
        }
        figure(
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            process.start_time_seconds.to_string(),
        );
    }
    // Families first, then samples, grouped as the format expects.
    let mut text = String::new();
    for block in out.split("# HELP ").filter(|b| !b.is_empty()) {
        let name = block.split_whitespace().next().unwrap_or("");
        text.push_str("# HELP ");
        text.push_str(block);
        for line in lines
            .iter()
            .filter(|l| l.split(['{', ' ']).next() == Some(name))
        {
            text.push_str(line);
            text.push('\n');
        }
    }
    Ok(Response::Metrics(text))
}

/// VmRSS from /proc/self/status, in bytes (0 where there is no /proc).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
