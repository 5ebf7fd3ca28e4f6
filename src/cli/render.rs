//! How answers look: aligned tables for people, JSON for scripts. Nothing here talks to the daemon.
//!
//! Text that came from a provider or a user (themes, ids, paths, errors, settings) is hostile:
//! for people it is shown through [`text::escaped`], so escape sequences, line breaks and bidi
//! overrides appear as visible escapes instead of acting on the terminal. JSON keeps the data,
//! and on a terminal writes the characters a terminal would obey as JSON escapes (as `export`
//! does). Text quoted with `{:?}` is escaped by Rust's `Debug` already.

use std::io::IsTerminal;

use comfy_table::{presets, ContentArrangement, Table};
use indicatif::HumanBytes;
use serde::Serialize;

use super::sentences;
use crate::breaker::BreakerState;
use crate::insight::{CleanupReport, HistoryRow, Stats, ThemeCount};
use crate::job::Job;
use crate::protocol::{JobDetail, JobView, Setting, SourceStatus, StatusView, WebLogin};
use crate::schema;
use crate::text;
use crate::waiting::Waiting;

fn print_json<T: Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(json) => println!("{}", json_for_stdout(&json)),
        // Our own types always serialise; if one ever does not, say so rather than print nothing.
        Err(e) => eprintln!("vfetchctl: error: cannot render JSON: {e}"),
    }
}

/// JSON text as serde_json wrote it (C0 controls inside strings are escaped), made safe for
/// stdout: unchanged into a pipe or file; on a terminal, DEL, C1 and bidi controls become
/// `\uXXXX` escapes, the same data. Line by line, since pretty JSON's line breaks are its own.
pub fn json_for_stdout(json: &str) -> String {
    if !std::io::stdout().is_terminal() {
        return json.to_string();
    }
    json.split('\n')
        .map(text::json_for_terminal)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Untrusted text for a person: dangerous characters as visible escapes.
fn shown(value: &str) -> String {
    text::escaped(value).into_owned()
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    table
}

/// A short confirmation, or `{"message": ...}` for scripts.
pub fn message(text: &str, json: bool) {
    if json {
        print_json(&schema::Message {
            message: text.to_string(),
        });
    } else {
        println!("{text}");
    }
}

/// After `add`: the new job's id first, so `cut` and `--json | jq .id` both work.
pub fn job_added(job: &Job, json: bool) {
    if json {
        print_json(&schema::Job::from(job));
    } else {
        println!(
            "added job {}: {:?} ×{} (priority {})",
            job.id, job.theme, job.count, job.priority
        );
    }
}

/// After `add --wait`: how the job ended and why.
pub fn job_finished(job: &Job, json: bool) {
    if json {
        print_json(&schema::Job::from(job));
        return;
    }
    println!(
        "job {} {}: {}/{} videos for {:?}",
        job.id, job.state, job.done, job.count, job.theme
    );
    for error in &job.errors {
        println!("  {}", text::escaped(error));
    }
}

/// `list`: one row per job, in queue order, then a line for each job that waits on its sources.
pub fn job_list(jobs: &[JobView], json: bool) {
    if json {
        print_json(&jobs.iter().map(schema::Job::from).collect::<Vec<_>>());
        return;
    }
    if jobs.is_empty() {
        println!("no jobs");
        return;
    }
    let mut t = table(&["ID", "PRI", "STATE", "DONE", "THEME", "CREATED"]);
    for JobView { job, .. } in jobs {
        t.add_row(vec![
            job.id.to_string(),
            job.priority.to_string(),
            job.state.to_string(),
            format!("{}/{}", job.done, job.count),
            shown(&job.theme),
            job.created_at.to_string(),
        ]);
    }
    println!("{t}");
    for view in jobs.iter().filter(|v| !v.waiting.is_empty()) {
        println!("job {} {}", view.job.id, waiting_line(&view.waiting));
    }
}

/// "waiting: wikimedia circuit open, next trial in 10 s; pexels rate limit reached, …".
fn waiting_line(waiting: &[Waiting]) -> String {
    let reasons: Vec<String> = waiting.iter().map(sentences::waiting_words).collect();
    format!("waiting: {}", reasons.join("; "))
}

/// After pause, resume, cancel, priority: what changed.
pub fn jobs_changed(jobs: &[Job], json: bool) {
    if json {
        print_json(&jobs.iter().map(schema::Job::from).collect::<Vec<_>>());
        return;
    }
    if jobs.is_empty() {
        println!("no job changed");
    }
    for job in jobs {
        println!("job {}: {} (priority {})", job.id, job.state, job.priority);
    }
}

/// `show`: the job's fields, then its downloads.
pub fn job_detail(detail: &JobDetail, json: bool) {
    if json {
        print_json(&schema::JobDetail::from(detail));
        return;
    }
    let job = &detail.job;
    let o = &job.options;
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
    let sources = if o.sources.is_empty() {
        "all enabled".to_string()
    } else {
        o.sources
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows = [
        ("id", job.id.to_string()),
        ("theme", format!("{:?}", job.theme)),
        ("state", job.state.to_string()),
        ("progress", format!("{}/{}", job.done, job.count)),
        ("priority", job.priority.to_string()),
        ("sources", sources),
        ("quality", opt(o.quality.map(|q| q.to_string()))),
        ("orientation", opt(o.orientation.map(|q| q.to_string()))),
        (
            "duration",
            format!(
                "{}..{} s",
                opt(o.min_duration.map(|v| v.to_string())),
                opt(o.max_duration.map(|v| v.to_string()))
            ),
        ),
        (
            "min size",
            format!(
                "{}x{}",
                opt(o.min_width.map(|v| v.to_string())),
                opt(o.min_height.map(|v| v.to_string()))
            ),
        ),
        (
            "max file",
            opt(o.max_file_size_mb.map(|v| format!("{v} MiB"))),
        ),
        ("created", job.created_at.to_string()),
        ("updated", job.updated_at.to_string()),
    ];
    for (key, value) in rows {
        println!("{key:>12}  {value}");
    }
    if !detail.waiting.is_empty() {
        let reasons: Vec<String> = detail
            .waiting
            .iter()
            .map(sentences::waiting_words)
            .collect();
        println!("{:>12}  {}", "waiting", reasons.join("; "));
    }
    for error in &job.errors {
        println!("{:>12}  {}", "error", text::escaped(error));
    }
    if detail.downloads.is_empty() {
        println!("\nno downloads yet");
        return;
    }
    let mut t = table(&[
        "ID",
        "SOURCE",
        "STATE",
        "BYTES",
        "SPEED",
        "SHA-256",
        "PATH / ERROR",
    ]);
    for d in &detail.downloads {
        let bytes = match d.total {
            Some(total) => format!("{}/{}", HumanBytes(d.bytes), HumanBytes(total)),
            None => HumanBytes(d.bytes).to_string(),
        };
        t.add_row(vec![
            d.id.to_string(),
            format!("{}:{}", d.source, text::escaped(&d.source_id)),
            d.state.to_string(),
            bytes,
            d.speed
                .map(|s| format!("{}/s", HumanBytes(s as u64)))
                .unwrap_or_default(),
            d.sha256
                .as_deref()
                .map(|h| h.chars().take(12).collect())
                .unwrap_or_default(),
            d.path
                .as_deref()
                .or(d.error.as_deref())
                .map(shown)
                .unwrap_or_default(),
        ]);
    }
    println!("\n{t}");
}

/// `config get/set/unset --json`: an array for all keys, else one object (the human form is TOML,
/// written by `commands/config.rs`).
pub fn settings_json(settings: &[Setting], all: bool) {
    match (all, settings.first()) {
        (false, Some(one)) => print_json(&schema::Setting::from(one)),
        _ => print_json(
            &settings
                .iter()
                .map(schema::Setting::from)
                .collect::<Vec<_>>(),
        ),
    }
}

/// `web`: the dashboard's address and the one-time login link.
pub fn web_login(link: &WebLogin, json: bool) {
    if json {
        print_json(link);
        return;
    }
    println!("dashboard   {}", shown(&link.url));
    println!(
        "login link  {}  (works once, for {} s)",
        shown(&link.login_url),
        link.valid_secs
    );
}

/// `status`: who the daemon is, where it keeps things, how busy it is, how files are checked,
/// what needs the user, and each source's health in words (everything `--json` carries).
pub fn status(status: &StatusView, json: bool) {
    if json {
        print_json(&schema::Status::from(status));
        return;
    }
    let rows = [
        (
            "version",
            format!(
                "vfetchd {} (protocol {})",
                status.daemon_version, status.protocol_version
            ),
        ),
        ("client", format!("vfetchctl {}", env!("CARGO_PKG_VERSION"))),
        ("pid", status.pid.to_string()),
        (
            "uptime",
            humantime::format_duration(std::time::Duration::from_secs(status.uptime_secs))
                .to_string(),
        ),
        ("socket", shown(&status.socket)),
        (
            "web",
            status
                .web_url
                .as_deref()
                .map_or_else(|| "off".to_string(), shown),
        ),
        ("database", shown(&status.database)),
        ("library", shown(&status.library_dir)),
        (
            "downloads",
            format!(
                "{} active of {} parallel",
                status.active_downloads, status.parallel_downloads
            ),
        ),
        ("validation", shown(&status.validation.to_string())),
    ];
    for (key, value) in rows {
        println!("{key:>10}  {value}");
    }
    let jobs: Vec<String> = status
        .jobs
        .iter()
        .map(|(state, n)| format!("{} {n}", text::escaped(state)))
        .collect();
    println!("{:>10}  {}", "jobs", jobs.join(", "));
    if status.problems.is_empty() {
        println!("{:>10}  none", "problems");
    }
    for problem in &status.problems {
        println!("{:>10}  {}", "problem", text::escaped(problem));
    }
    let mut t = table(&["SOURCE", "STATE", "BREAKER", "RATE LIMIT", "BASE URL"]);
    for source in &status.sources {
        t.add_row(vec![
            source.source.to_string(),
            source_state(source),
            sentences::breaker_words(source.breaker, source.next_trial_secs),
            sentences::rate_limit_words(&source.rate_limit, source.waiting_secs),
            shown(&source.base_url),
        ]);
    }
    println!("\n{t}");
}

/// A source's STATE cell: why it is off, or whether it can take requests right now (an open
/// breaker or a rate-limit wait is not "ok").
fn source_state(source: &SourceStatus) -> String {
    if let Some(off) = source.disabled {
        return off.to_string();
    }
    match source.breaker {
        BreakerState::Open => "failing: paused".to_string(),
        BreakerState::HalfOpen => "recovering".to_string(),
        BreakerState::Closed if source.waiting_secs.is_some() => "waiting".to_string(),
        BreakerState::Closed => "ok".to_string(),
    }
}

fn speed(v: Option<f64>) -> String {
    v.map(|s| format!("{}/s", HumanBytes(s as u64)))
        .unwrap_or_else(|| "-".to_string())
}

/// `stats`: totals, then per source, then per period.
pub fn stats(stats: &Stats, json: bool) {
    if json {
        print_json(&schema::Stats::from(stats));
        return;
    }
    let t = &stats.totals;
    println!("last {} days", stats.days);
    println!(
        "  downloads {}  done {}  failed {}  duplicates {}  invalid {}  success {:.1}%",
        t.downloads,
        t.done,
        t.failed,
        t.duplicates,
        t.invalid,
        t.success_rate * 100.0
    );
    println!(
        "  bytes {}  video {}  speed avg {}  median {}",
        HumanBytes(t.bytes),
        humantime::format_duration(std::time::Duration::from_secs(t.video_seconds as u64)),
        speed(t.avg_speed),
        speed(t.median_speed)
    );
    let mut sources = table(&["SOURCE", "DOWNLOADS", "DONE", "BYTES"]);
    for s in &stats.per_source {
        sources.add_row(vec![
            shown(&s.source),
            s.downloads.to_string(),
            s.done.to_string(),
            HumanBytes(s.bytes).to_string(),
        ]);
    }
    println!("\n{sources}");
    let mut periods = table(&[
        &stats.by.to_string().to_uppercase(),
        "DOWNLOADS",
        "DONE",
        "FAILED",
        "BYTES",
        "AVG SPEED",
    ]);
    for (label, t) in &stats.periods {
        periods.add_row(vec![
            shown(label),
            t.downloads.to_string(),
            t.done.to_string(),
            t.failed.to_string(),
            HumanBytes(t.bytes).to_string(),
            speed(t.avg_speed),
        ]);
    }
    println!("\n{periods}");
}

/// `history`: one row per finished download.
pub fn history(rows: &[HistoryRow], json: bool) {
    if json {
        print_json(
            &rows
                .iter()
                .map(schema::HistoryEntry::from)
                .collect::<Vec<_>>(),
        );
        return;
    }
    if rows.is_empty() {
        println!("no finished downloads");
        return;
    }
    let mut t = table(&[
        "FINISHED",
        "JOB",
        "THEME",
        "SOURCE",
        "STATE",
        "SIZE",
        "SPEED",
        "PATH / ERROR",
    ]);
    for r in rows {
        t.add_row(vec![
            r.finished_at.to_string(),
            r.job.to_string(),
            shown(&r.theme),
            format!(
                "{}:{}",
                r.attribution.source,
                text::escaped(&r.attribution.source_id)
            ),
            r.state.to_string(),
            HumanBytes(r.bytes).to_string(),
            speed(r.speed),
            r.path
                .as_deref()
                .or(r.error.as_deref())
                .map(shown)
                .unwrap_or_default(),
        ]);
    }
    println!("{t}");
}

/// `suggest` and `themes`.
pub fn themes(rows: &[ThemeCount], json: bool) {
    if json {
        print_json(
            &rows
                .iter()
                .map(schema::ThemeCount::from)
                .collect::<Vec<_>>(),
        );
        return;
    }
    let mut t = table(&["THEME", "SEARCHES", "LAST USED"]);
    for r in rows {
        t.add_row(vec![
            shown(&r.theme),
            r.searches.to_string(),
            r.last_used.to_string(),
        ]);
    }
    println!("{t}");
}

/// `cleanup`: what went (or would go).
pub fn cleanup(report: &CleanupReport, json: bool) {
    if json {
        print_json(&schema::CleanupReport::from(report));
        return;
    }
    let verb = if report.dry_run {
        "would remove"
    } else {
        "removed"
    };
    println!(
        "{verb} {} jobs, {} download records, {} search records",
        report.jobs.len(),
        report.downloads,
        report.searches
    );
    for path in report.staging_files.iter().chain(&report.library_files) {
        println!("  {verb} {}", text::escaped(path));
    }
}

/// `library`: one row per finished video, then how to get the next page.
pub fn library(page: &crate::gallery::LibraryPage, json: bool) {
    if json {
        print_json(&schema::LibraryPage::from(page));
        return;
    }
    if page.videos.is_empty() {
        println!("no videos in the library");
        return;
    }
    let mut t = table(&[
        "DOWNLOAD", "FINISHED", "THEME", "SOURCE", "SIZE", "LENGTH", "FRAME", "THUMBS", "FILE",
    ]);
    for v in &page.videos {
        let frame = match (v.width, v.height) {
            (Some(w), Some(h)) => format!("{w}x{h}"),
            _ => "-".to_string(),
        };
        let thumbs = match (v.thumbnail, v.sprite_frames) {
            (true, Some(_)) => "poster+sprite",
            (true, None) => "poster",
            (false, _) => "-",
        };
        t.add_row(vec![
            v.download.to_string(),
            v.finished_at.to_string(),
            shown(&v.theme),
            format!(
                "{}:{}",
                v.attribution.source,
                text::escaped(&v.attribution.source_id)
            ),
            HumanBytes(v.size).to_string(),
            v.duration.map_or("-".to_string(), |d| format!("{d:.1} s")),
            frame,
            thumbs.to_string(),
            shown(&v.file_name),
        ]);
    }
    println!("{t}");
    if let Some(cursor) = page.next_cursor {
        println!("more: --cursor {cursor}");
    }
}

/// `thumbnails --missing`: what was made.
pub fn thumbnails(report: &crate::gallery::ThumbnailReport, json: bool) {
    if json {
        print_json(&schema::ThumbnailReport::from(report));
        return;
    }
    println!(
        "checked {} videos: made thumbnails for {}, {} failed",
        report.checked, report.made, report.failed
    );
}

#[cfg(test)]
mod tests {
    use super::speed;

    #[test]
    fn speeds_read_like_the_progress_bars_and_sentences() {
        // indicatif's HumanBytes, as `watch` and the event sentences write sizes.
        assert_eq!(speed(Some(999.0)), "999 B/s");
        assert_eq!(speed(Some(1536.0)), "1.50 KiB/s");
        assert_eq!(speed(Some(5.0 * 1024.0 * 1024.0)), "5.00 MiB/s");
        // A speed that came out below zero or NaN reads as nothing moving, not as garbage.
        assert_eq!(speed(Some(-3.0)), "0 B/s");
        assert_eq!(speed(Some(f64::NAN)), "0 B/s");
        assert_eq!(speed(None), "-");
    }
}
