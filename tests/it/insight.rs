//! stats, history, suggest, themes, export, cleanup, metrics and watch, checked for values on a
//! daemon that downloaded real files from the fake provider.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::fake_provider::{
    fixtures, video_from_fixture, FakeProvider, Fault, FaultRule, Source,
};
use crate::support::frames::{handshake, read_response, write_frame};
use crate::support::{big_video, bin, wait_until, Daemon};
use serde_json::Value;
use vfetch::protocol::{self, Request, Response};

const HOSTILE_TITLE: &str = "=HYPERLINK(\"http://evil\"), \"quoted\"\nsecond line";

fn run_job(daemon: &Daemon, theme: &str, count: &str) -> i64 {
    let out = daemon.ctl(&["add", theme, count, "--wait", "--json"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        daemon.log()
    );
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// Two jobs: three wikimedia videos about "ocean waves", two archive videos (one with a
/// hostile title) about "ocean night".
fn library() -> (FakeProvider, Daemon, u64) {
    let provider = FakeProvider::start();
    let all = fixtures();
    for (i, fixture) in all.iter().take(3).enumerate() {
        provider.add(video_from_fixture(
            Source::Wikimedia,
            &format!("Ocean waves {i}.mp4"),
            &format!("ocean waves {i}"),
            fixture,
        ));
    }
    let mut hostile = video_from_fixture(Source::Archive, "ocean-night-0", "ocean night", &all[3]);
    hostile.title = format!("ocean night {HOSTILE_TITLE}");
    hostile.author = "@attacker".into();
    provider.add(hostile);
    provider.add(video_from_fixture(
        Source::Archive,
        "ocean-night-1",
        "ocean night 1",
        &all[4],
    ));
    let bytes: u64 = all[..5].iter().map(|f| f.data.len() as u64).sum();
    let daemon = Daemon::for_provider(&provider, &["wikimedia", "archive"], "retry_base_ms = 50\n");
    run_job(&daemon, "ocean waves", "3");
    run_job(&daemon, "ocean night", "2");
    (provider, daemon, bytes)
}

#[test]
fn stats_history_suggest_and_themes_report_what_happened() {
    let (_provider, daemon, bytes) = library();
    let stats = daemon.ctl_json(&["stats", "--days", "7"]);
    let t = &stats["totals"];
    assert_eq!(t["done"], 5, "{stats:#}");
    assert_eq!(t["downloads"], 5);
    assert_eq!(t["success_rate"], 1.0);
    assert_eq!(t["bytes"], bytes);
    assert!(t["video_seconds"].as_f64().unwrap() > 5.0);
    assert!(t["avg_speed"].as_f64().unwrap() > 0.0 && t["median_speed"].as_f64().unwrap() > 0.0);
    let per_source: Vec<(String, u64)> = stats["per_source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["source"].as_str().unwrap().to_string(),
                s["done"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_source,
        vec![("archive".to_string(), 2), ("wikimedia".to_string(), 3)]
    );
    assert_eq!(stats["periods"].as_array().unwrap().len(), 1);
    let by_month = daemon.ctl_json(&["stats", "--by", "month"]);
    assert_eq!(by_month["periods"][0]["totals"]["done"], 5);

    let history = daemon.ctl_json(&["history", "-n", "10"]);
    assert_eq!(history.as_array().unwrap().len(), 5);
    let ocean_waves = daemon.ctl_json(&["history", "--theme", "ocean waves"]);
    assert_eq!(ocean_waves.as_array().unwrap().len(), 3);
    assert!(ocean_waves
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["state"] == "done" && r["path"].is_string()));
    assert_eq!(
        daemon.ctl_json(&["history", "--state", "failed"]),
        serde_json::json!([])
    );

    // "ocean waves" again, so it ranks first by frequency.
    let again = daemon.add(&["ocean waves", "1"]);
    wait_until(Duration::from_secs(20), "the repeat search to end", || {
        matches!(
            daemon.show(again)["job"]["state"].as_str(),
            Some("done" | "failed")
        )
    });
    let suggest = daemon.ctl_json(&["suggest", "OCE"]);
    let themes: Vec<&str> = suggest
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["theme"].as_str().unwrap())
        .collect();
    assert_eq!(themes, ["ocean waves", "ocean night"]);
    assert_eq!(daemon.ctl_json(&["suggest", "zzz"]), serde_json::json!([]));
    let popular = daemon.ctl_json(&["themes"]);
    assert_eq!(popular[0]["theme"], "ocean waves");
    assert!(popular[0]["searches"].as_u64().unwrap() > popular[1]["searches"].as_u64().unwrap());
}

#[test]
fn export_is_complete_csv_round_trips_and_formulas_are_defused() {
    let (_provider, daemon, _) = library();
    let json = daemon.ctl_json(&["export"]);
    let records = json.as_array().unwrap();
    assert_eq!(records.len(), 5);
    for r in records {
        for field in [
            "theme",
            "source",
            "source_id",
            "page_url",
            "license",
            "path",
            "sha256",
            "codec",
            "downloaded_at",
        ] {
            assert!(
                r[field].as_str().is_some_and(|v| !v.is_empty()),
                "{field} missing in {r}"
            );
        }
        assert!(r["size"].as_u64().unwrap() > 0 && r["width"].as_u64().unwrap() > 0);
    }
    let one_job = daemon.ctl_json(&["export", "1"]);
    assert_eq!(one_job.as_array().unwrap().len(), 3);

    let csv_path = daemon.dir.path().join("export.csv");
    let out = daemon.ctl(&[
        "export",
        "--format",
        "csv",
        "-o",
        csv_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 5);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let hostile = rows
        .iter()
        .find(|r| r[col("title")].contains("HYPERLINK"))
        .expect("hostile row");
    assert_eq!(
        &hostile[col("title")],
        format!("ocean night {HOSTILE_TITLE}"),
        "title survives quoting"
    );
    assert_eq!(
        &hostile[col("author_name")],
        "'@attacker",
        "formula cell neutralised"
    );
    let text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(!text.contains("test-pexels-key"));
}

#[test]
fn cleanup_removes_records_but_library_files_only_when_asked() {
    let (_provider, daemon, _) = library();
    let paths: Vec<String> = daemon
        .ctl_json(&["export"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    let dry = daemon.ctl_json(&["cleanup", "--older-than", "0", "--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["jobs"].as_array().unwrap().len(), 2);
    assert_eq!(dry["downloads"], 5);
    assert_eq!(
        daemon.ctl_json(&["list"]).as_array().unwrap().len(),
        2,
        "a dry run removes nothing"
    );

    let failed_only = daemon.ctl_json(&["cleanup", "--older-than", "0", "--failed-only"]);
    assert_eq!(failed_only["jobs"], serde_json::json!([]));

    let real = daemon.ctl_json(&["cleanup", "--older-than", "0"]);
    assert_eq!(real["downloads"], 5);
    assert_eq!(daemon.ctl_json(&["list"]), serde_json::json!([]));
    assert!(
        paths.iter().all(|p| std::path::Path::new(p).exists()),
        "library files stay without --delete-files"
    );
    assert_eq!(daemon.ctl_json(&["stats"])["totals"]["downloads"], 0);
}

#[test]
fn cleanup_with_delete_files_removes_library_files() {
    let (_provider, daemon, _) = library();
    let paths: Vec<String> = daemon
        .ctl_json(&["export"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    let report = daemon.ctl_json(&["cleanup", "--older-than", "0", "--delete-files"]);
    assert_eq!(report["library_files"].as_array().unwrap().len(), 5);
    assert!(paths.iter().all(|p| !std::path::Path::new(p).exists()));
}

#[test]
fn metrics_speak_the_prometheus_text_format() {
    let (_provider, daemon, bytes) = library();
    let out = daemon.ctl(&["metrics"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("# TYPE vfetch_jobs gauge"), "{text}");
    assert!(text.contains("vfetch_jobs{state=\"done\"} 2"), "{text}");
    assert!(
        text.contains("vfetch_downloads{source=\"wikimedia\",outcome=\"done\"} 3"),
        "{text}"
    );
    let archive_bytes: u64 = text
        .lines()
        .chain(std::iter::once(""))
        .filter(|l| l.starts_with("vfetch_download_bytes{") && l.contains("outcome=\"done\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(archive_bytes, bytes);
    assert!(text.contains("vfetch_breaker_open{source=\"archive\"} 0"));
    let rss = text
        .lines()
        .find(|l| l.starts_with("vfetch_resident_memory_bytes "))
        .unwrap();
    assert!(rss.rsplit(' ').next().unwrap().parse::<u64>().unwrap() > 1 << 20);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.split(' ').count() == 2, "bad sample line {line:?}");
    }
}

#[test]
fn watch_json_streams_progress_then_states_and_a_stuck_subscriber_slows_nothing() {
    let provider = FakeProvider::start();
    let mut video = video_from_fixture(
        Source::Wikimedia,
        "Watched.mp4",
        "watched tide",
        &fixtures()[0],
    );
    video.data = big_video().to_vec();
    let size = video.data.len() as u64;
    provider.add(video);
    provider.fault(FaultRule::always("/files/", Fault::Throttle(size / 2)));
    let daemon = Daemon::for_provider(&provider, &["wikimedia", "archive"], "retry_base_ms = 50\n");

    // A subscriber that never reads.
    let mut stuck: UnixStream = handshake(&daemon.socket);
    write_frame(
        &mut stuck,
        &protocol::encode(&Request::Subscribe { job: None }).unwrap(),
    );
    assert!(matches!(
        read_response(&mut stuck),
        Some(Response::Subscribed)
    ));

    let started = Instant::now();
    let id = daemon.add(&["watched tide", "1"]);
    let mut watch = Command::new(bin("vfetchctl"))
        .args([
            "--config",
            daemon.config_path.to_str().unwrap(),
            "--no-autostart",
            "watch",
            &id.to_string(),
            "--json",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<Value> = BufReader::new(watch.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(watch.wait().unwrap().success());
    let elapsed = started.elapsed();

    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds[0], "hello",
        "the stream opens with its schema version"
    );
    let first_progress = kinds
        .iter()
        .position(|k| *k == "progress")
        .expect("progress events");
    let done_download = lines
        .iter()
        .position(|l| l["type"] == "download" && l["state"] == "done")
        .expect("download done event");
    let last = lines.last().unwrap();
    assert_eq!(
        (&last["type"], &last["state"]),
        (&serde_json::json!("job"), &serde_json::json!("done")),
        "the watch ends with the job: {last}"
    );
    assert!(
        first_progress < done_download,
        "progress comes before the end"
    );
    let progress: Vec<u64> = lines
        .iter()
        .filter(|l| l["type"] == "progress")
        .filter_map(|l| l["bytes"].as_u64())
        .collect();
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress moves forward: {progress:?}"
    );
    assert!(
        progress.len() >= 4,
        "about four ticks a second: {}",
        progress.len()
    );
    // Throttled to ~2 s; the stuck client must not add to that.
    assert!(
        elapsed < Duration::from_secs(15),
        "took {elapsed:?} with a stuck subscriber"
    );
    let mut byte = [0u8; 1];
    stuck
        .set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let _ = stuck.read(&mut byte);
    wait_until(Duration::from_secs(5), "the job to be done", || {
        daemon.show(id)["job"]["state"] == "done"
    });
}
