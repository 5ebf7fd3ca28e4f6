//! Resilience under injected faults, through the real daemon: resets, truncation, stalls,
//! Retry-After, circuit breakers, persisted rate limits and a full disk.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::fake_provider::{
    fixtures, sha256_hex, video_from_fixture, FakeProvider, Fault, FaultRule, Source,
};
use crate::support::{add_big, range_starts, sources_config, wait_until, Daemon};
use serde_json::{json, Value};

/// Fast retries so fault tests finish quickly.
const QUICK: &str = "retry_base_ms = 50\n";

fn wait_done(daemon: &Daemon, id: i64, limit: Duration) -> Value {
    let mut shown = Value::Null;
    wait_until(limit, "the job to end", || {
        shown = daemon.show(id);
        matches!(
            shown["job"]["state"].as_str(),
            Some("done" | "failed" | "cancelled")
        )
    });
    assert_eq!(shown["job"]["state"], "done", "{shown:#}\n{}", daemon.log());
    shown
}

fn placed_sha(shown: &Value) -> String {
    let done = shown["downloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["state"] == "done")
        .expect("a done download");
    sha256_hex(&std::fs::read(Path::new(done["path"].as_str().unwrap())).unwrap())
}

#[test]
fn three_resets_in_a_row_resume_with_range_and_end_byte_identical() {
    let provider = FakeProvider::start();
    let video = add_big(&provider, "Reset.mp4", "reset river");
    let step = video.data.len() as u64 / 5;
    provider.fault(FaultRule::times("/files/", Fault::ResetAfter(step), 3));
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], QUICK);
    let id = daemon.add(&["reset river", "1"]);
    let shown = wait_done(&daemon, id, Duration::from_secs(60));
    assert_eq!(placed_sha(&shown), sha256_hex(&video.data));
    let starts = range_starts(&provider, "/files/");
    assert_eq!(starts.len(), 3, "one resumed request per reset: {starts:?}");
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]),
        "offsets must grow: {starts:?}"
    );
    assert!(
        starts[0] >= step / 2,
        "first resume at {} (reset after {step})",
        starts[0]
    );
}

#[test]
fn a_truncated_body_is_detected_and_resumed() {
    let provider = FakeProvider::start();
    let video = add_big(&provider, "Short.mp4", "short river");
    let cut = video.data.len() as u64 / 3;
    provider.fault(FaultRule::times("/files/", Fault::TruncateAfter(cut), 1));
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], QUICK);
    let id = daemon.add(&["short river", "1"]);
    let shown = wait_done(&daemon, id, Duration::from_secs(60));
    assert_eq!(placed_sha(&shown), sha256_hex(&video.data));
    assert_eq!(range_starts(&provider, "/files/"), vec![cut]);
}

#[test]
fn a_stalled_transfer_times_out_and_is_retried() {
    let provider = FakeProvider::start();
    let video = add_big(&provider, "Stall.mp4", "still lake");
    provider.fault(FaultRule::times("/files/", Fault::StallAfter(100_000), 1));
    let daemon = Daemon::for_provider(
        &provider,
        &["wikimedia"],
        &format!("{QUICK}stall_timeout_secs = 1\n"),
    );
    let started = Instant::now();
    let id = daemon.add(&["still lake", "1"]);
    let shown = wait_done(&daemon, id, Duration::from_secs(60));
    assert_eq!(placed_sha(&shown), sha256_hex(&video.data));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the stall must have been waited out"
    );
    assert_eq!(provider.requests_to("/files/").len(), 2);
    assert!(daemon.log().contains("no data for"), "the stall is logged");
}

#[test]
fn retry_after_holds_the_next_request_back() {
    let provider = FakeProvider::start();
    provider.add_fixtures(Source::Wikimedia, "polar night", 2);
    provider.fault(FaultRule::times(
        "/w/api.php",
        Fault::Status {
            code: 429,
            retry_after: Some("2".into()),
        },
        1,
    ));
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], QUICK);
    let id = daemon.add(&["polar night", "1"]);
    wait_done(&daemon, id, Duration::from_secs(30));
    let searches = provider.requests_to("/w/api.php");
    assert!(searches.len() >= 2, "{}", searches.len());
    assert_eq!(searches[0].status, 429);
    let gap = searches[1].at - searches[0].at;
    assert!(
        gap >= Duration::from_millis(1950),
        "retried after {gap:?}, before Retry-After"
    );
}

#[test]
fn five_failures_open_the_breaker_until_a_trial_succeeds_while_others_carry_on() {
    let provider = FakeProvider::start();
    for i in 0..2 {
        provider.add(video_from_fixture(
            Source::Wikimedia,
            &format!("Dune {i}.mp4"),
            &format!("dune sea {i}"),
            &fixtures()[i],
        ));
    }
    for i in 2..5 {
        provider.add(video_from_fixture(
            Source::Archive,
            &format!("dune-sea-{i}"),
            &format!("dune sea {i}"),
            &fixtures()[i],
        ));
    }
    provider.fault(FaultRule::times(
        "/files/wikimedia",
        Fault::Status {
            code: 500,
            retry_after: None,
        },
        5,
    ));
    // Archive files trickle, so its downloads overlap the breaker's open time.
    provider.fault(FaultRule::always("/files/archive", Fault::Throttle(20_000)));
    let extra = "breaker_failures = 5\nbreaker_recovery_secs = 2\ndownload_tries = 20\nper_source_downloads = 1\n";
    let daemon = Daemon::for_provider(
        &provider,
        &["wikimedia", "archive"],
        &format!("{QUICK}{extra}"),
    );
    let id = daemon.add(&["dune sea", "5"]);

    let mut opened_seen = false;
    wait_until(
        Duration::from_secs(30),
        "the wikimedia breaker to open",
        || {
            let status = daemon.ctl_json(&["status"]);
            let wiki = status["sources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["source"] == "wikimedia")
                .cloned()
                .unwrap();
            opened_seen =
                wiki["breaker"]["state"] == "open" && wiki["breaker"]["next_trial_secs"].is_u64();
            opened_seen
        },
    );
    let shown = wait_done(&daemon, id, Duration::from_secs(60));
    assert_eq!(shown["job"]["done"], 5);

    let wiki = provider.requests_to("/files/wikimedia");
    let failures: Vec<_> = wiki.iter().filter(|r| r.status == 500).collect();
    assert_eq!(failures.len(), 5);
    let fifth = failures[4].at;
    let next = wiki.iter().find(|r| r.at > fifth).expect("a trial request");
    assert!(
        next.at - fifth >= Duration::from_millis(1900),
        "a request reached the open source after {:?}",
        next.at - fifth
    );
    assert_eq!(next.status, 200, "the trial succeeded");
    let archive_during = provider
        .requests_to("/files/archive")
        .iter()
        .filter(|r| r.at > fifth && r.at < next.at)
        .count();
    let archive_total = provider.requests_to("/files/archive").len();
    assert!(
        archive_during > 0 || archive_total >= 3,
        "archive kept downloading while wikimedia was open"
    );
    let status = daemon.ctl_json(&["status"]);
    let wiki = status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "wikimedia")
        .cloned()
        .unwrap();
    assert_eq!(wiki["breaker"]["state"], "closed");
}

#[test]
fn the_rate_limit_holds_across_a_restart() {
    let provider = FakeProvider::start();
    let themes: Vec<String> = (0..8).map(|i| format!("meteor {i}")).collect();
    for theme in &themes {
        provider.add_fixtures(Source::Wikimedia, theme, 1);
    }
    let config = sources_config(&provider.base_url(), &["wikimedia"], "", "")
        .replace("rate_limit = \"10000/1\"", "rate_limit = \"5/10\"");
    let mut daemon = Daemon::start_with(&format!("{QUICK}validate = \"off\"\n{config}"));
    for theme in &themes {
        daemon.add(&[theme, "1"]);
    }
    wait_until(Duration::from_secs(15), "five searches", || {
        provider.requests_to("/w/api.php").len() >= 5
    });
    daemon.kill9();
    daemon.spawn();
    wait_until(Duration::from_secs(40), "all eight searches", || {
        provider.requests_to("/w/api.php").len() >= 8
    });
    let times: Vec<Instant> = provider
        .requests_to("/w/api.php")
        .iter()
        .map(|r| r.at)
        .collect();
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .filter(|t| **t - *start < Duration::from_millis(9900))
            .count();
        assert!(
            in_window <= 5,
            "{in_window} requests within 10 s starting at request {i}"
        );
    }
    let status = daemon.ctl_json(&["status"]);
    let wiki = status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "wikimedia")
        .cloned()
        .unwrap();
    let window = &wiki["rate_limit"]["windows"][0];
    assert_eq!(
        (&window["limit"], &window["per_secs"]),
        (&json!(5), &json!(10))
    );
    // The window's requests were counted in the store, so they survive the restart.
    assert!(window["used"].as_u64().unwrap_or(0) >= 1, "{wiki}");
}

#[test]
fn a_full_disk_pauses_the_job_keeps_the_offset_and_resume_finishes_it() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting a small tmpfs needs root (CI runs as root)");
        return;
    }
    let provider = FakeProvider::start();
    let video = add_big(&provider, "Full.mp4", "full moon");
    let size = video.data.len() as u64;
    let small = tempfile::tempdir().unwrap();
    let mount = |options: &str| {
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(small.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount {options}");
    };
    mount(&format!("size={}k", size / 2048));
    /// Unmounts even when an assertion fails.
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(small.path());
    let state = small.path().join("state");
    let extra = format!(
        "state_dir = {:?}\nlibrary_dir = {:?}\ndatabase = {:?}\n",
        state,
        small.path().join("library"),
        small
            .path()
            .parent()
            .unwrap()
            .join(format!("full-{}.db", std::process::id()))
    );
    let mut daemon = Daemon::configure(&format!(
        "{QUICK}{extra}\n{}",
        sources_config(&provider.base_url(), &["wikimedia"], "", "")
    ));
    daemon.spawn();

    let id = daemon.add(&["full moon", "1"]);
    let mut status = Value::Null;
    wait_until(
        Duration::from_secs(30),
        "a disk-full problem in status",
        || {
            status = daemon.ctl_json(&["status"]);
            !status["problems"].as_array().unwrap().is_empty()
        },
    );
    assert!(
        status["problems"][0]
            .as_str()
            .unwrap()
            .contains("disk full"),
        "{status}"
    );
    let shown = daemon.show(id);
    assert_eq!(shown["job"]["state"], "paused", "{shown:#}");
    let kept = shown["downloads"][0]["bytes"].as_u64().unwrap();
    assert!(kept > 0 && kept < size, "offset {kept} kept");

    let status = std::process::Command::new("mount")
        .args(["-o", &format!("remount,size={}k", size / 256)])
        .arg(small.path())
        .status()
        .unwrap();
    assert!(status.success());
    daemon.ctl_json(&["resume", &id.to_string()]);
    let shown = wait_done(&daemon, id, Duration::from_secs(60));
    assert_eq!(placed_sha(&shown), sha256_hex(&video.data));
    let starts = range_starts(&provider, "/files/");
    assert!(
        !starts.is_empty() && starts[0] > 0,
        "resumed with a range: {starts:?}"
    );
    daemon.kill9();
}
