//! The download engine through the real daemon: files in the library, byte-identical after
//! kills, pauses, ignored ranges and changed files; duplicates, corrupt files and oversized
//! bodies replaced.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::fake_provider::{
    fixtures, sha256_hex, video_from_fixture, FakeProvider, Fault, FaultRule, Source, Video,
};
use crate::support::{add_big, range_starts, wait_until, Daemon};
use serde_json::Value;

fn add_fixture(
    provider: &FakeProvider,
    source: Source,
    id: &str,
    title: &str,
    index: usize,
) -> Video {
    let video = video_from_fixture(source, id, title, &fixtures()[index]);
    provider.add(video.clone());
    video
}

fn wait_for_state(daemon: &Daemon, id: i64, states: &[&str], limit: Duration) -> Value {
    let mut shown = Value::Null;
    wait_until(limit, &format!("job {id} to be {states:?}"), || {
        shown = daemon.show(id);
        states.contains(&shown["job"]["state"].as_str().unwrap_or(""))
    });
    shown
}

fn done_downloads(shown: &Value) -> Vec<Value> {
    shown["downloads"]
        .as_array()
        .map(|d| d.iter().filter(|d| d["state"] == "done").cloned().collect())
        .unwrap_or_default()
}

/// Waits until a running download has durably stored at least `bytes`.
fn wait_for_offset(daemon: &Daemon, job: i64, bytes: u64) {
    wait_until(Duration::from_secs(30), "progress", || {
        let db = rusqlite::Connection::open(daemon.state_dir().join("vfetch.db")).expect("open db");
        let offset: i64 = db
            .query_row(
                "SELECT COALESCE(MAX(offset), 0) FROM downloads WHERE job_id = ?1",
                [job],
                |r| r.get(0),
            )
            .unwrap_or(0);
        offset as u64 >= bytes
    });
}

fn file_sha(path: &Path) -> String {
    sha256_hex(&std::fs::read(path).expect("read placed file"))
}

#[test]
fn add_wait_fills_the_library_with_validated_byte_identical_files() {
    let provider = FakeProvider::start();
    let mut served = Vec::new();
    for i in 0..3 {
        served.push(add_fixture(
            &provider,
            Source::Wikimedia,
            &format!("Sunset timelapse {i}.mp4"),
            &format!("sunset timelapse {i}"),
            i,
        ));
    }
    for i in 3..5 {
        served.push(add_fixture(
            &provider,
            Source::Archive,
            &format!("sunset-timelapse-{i}"),
            &format!("sunset timelapse {i}"),
            i,
        ));
    }
    let daemon = Daemon::for_provider(&provider, &["wikimedia", "archive"], "");
    let out = daemon.ctl(&["add", "sunset timelapse", "5", "--wait"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        daemon.log()
    );

    let list = daemon.ctl_json(&["list"]);
    let id = list[0]["id"].as_i64().unwrap();
    let shown = daemon.show(id);
    assert_eq!(shown["job"]["state"], "done");
    let done = done_downloads(&shown);
    assert_eq!(done.len(), 5, "{shown:#}");
    let library = daemon.dir.path().join("library");
    let mut expected: Vec<String> = served.iter().map(|v| sha256_hex(&v.data)).collect();
    let mut got = Vec::new();
    for d in &done {
        let path = PathBuf::from(d["path"].as_str().unwrap());
        assert!(
            path.starts_with(library.join("sunset-timelapse")),
            "{path:?}"
        );
        assert_eq!(file_sha(&path), d["sha256"].as_str().unwrap());
        assert_eq!(d["validation"]["state"], "valid", "{d}");
        assert_eq!(
            d["probe"]["codec"].as_str().map(|c| !c.is_empty()),
            Some(true),
            "{d}"
        );
        got.push(d["sha256"].as_str().unwrap().to_string());
    }
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(
        std::fs::read_dir(daemon.state_dir().join("staging"))
            .unwrap()
            .count(),
        0,
        "staging left over"
    );
}

#[test]
fn resumes_from_the_stored_offset_after_kill_9_and_ends_byte_identical() {
    let provider = FakeProvider::start();
    let video = add_big(&provider, "Aurora big.mp4", "aurora borealis");
    let size = video.data.len() as u64;
    // About 4 s for the whole file, so each kill lands mid-transfer.
    provider.fault(FaultRule::always("/files/", Fault::Throttle(size / 4)));
    let mut daemon = Daemon::for_provider(&provider, &["wikimedia"], "");
    let id = daemon.add(&["aurora borealis", "1"]);

    let mut last = 0;
    for round in 1..=2u64 {
        wait_for_offset(&daemon, id, last + size / 6);
        daemon.kill9();
        daemon.spawn();
        last += size / 6;
        assert!(round <= 2);
    }
    let shown = wait_for_state(&daemon, id, &["done", "failed"], Duration::from_secs(60));
    assert_eq!(shown["job"]["state"], "done", "{shown:#}\n{}", daemon.log());
    let done = done_downloads(&shown);
    assert_eq!(
        file_sha(Path::new(done[0]["path"].as_str().unwrap())),
        sha256_hex(&video.data)
    );
    let starts = range_starts(&provider, "/files/");
    assert!(
        starts.len() >= 2,
        "expected resumed Range requests, got {starts:?}"
    );
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]) && starts[0] > 0,
        "offsets must grow: {starts:?}"
    );
}

#[test]
fn pause_stops_at_a_clean_offset_and_resume_continues_with_range() {
    let provider = FakeProvider::start();
    let video = add_big(&provider, "Pause big.mp4", "paused river");
    let size = video.data.len() as u64;
    provider.fault(FaultRule::always("/files/", Fault::Throttle(size / 4)));
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], "");
    let id = daemon.add(&["paused river", "1"]);
    wait_for_offset(&daemon, id, size / 5);
    assert_eq!(
        daemon.ctl_json(&["pause", &id.to_string()])[0]["state"],
        "paused"
    );
    let shown = daemon.show(id);
    assert_eq!(shown["downloads"][0]["state"], "paused", "{shown:#}");
    std::thread::sleep(Duration::from_millis(300));
    let requests_while_paused = provider.requests_to("/files/").len();
    daemon.ctl_json(&["resume", &id.to_string()]);
    let shown = wait_for_state(&daemon, id, &["done", "failed"], Duration::from_secs(60));
    assert_eq!(shown["job"]["state"], "done", "{shown:#}");
    assert_eq!(
        provider.requests_to("/files/").len(),
        requests_while_paused + 1
    );
    let starts = range_starts(&provider, "/files/");
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert!(
        starts[0] >= size / 5 - (1 << 20),
        "resumed from {} of {size}",
        starts[0]
    );
    let done = done_downloads(&shown);
    assert_eq!(
        file_sha(Path::new(done[0]["path"].as_str().unwrap())),
        sha256_hex(&video.data)
    );
}

#[test]
fn an_ignored_range_or_a_changed_file_restarts_from_zero_and_stays_correct() {
    for case in ["ignore range", "changed etag"] {
        let provider = FakeProvider::start();
        let video = add_big(&provider, &format!("{case}.mp4"), case);
        let size = video.data.len() as u64;
        provider.fault(FaultRule::always("/files/", Fault::Throttle(size / 3)));
        let daemon = Daemon::for_provider(&provider, &["wikimedia"], "");
        let id = daemon.add(&[case, "1"]);
        wait_for_offset(&daemon, id, size / 5);
        daemon.ctl_json(&["pause", &id.to_string()]);
        provider.clear_faults();
        match case {
            "ignore range" => provider.fault(FaultRule::times("/files/", Fault::IgnoreRange, 1)),
            _ => provider.change_etag(Source::Wikimedia, &video.id),
        }
        daemon.ctl_json(&["resume", &id.to_string()]);
        let shown = wait_for_state(&daemon, id, &["done", "failed"], Duration::from_secs(60));
        assert_eq!(shown["job"]["state"], "done", "{case}: {shown:#}");
        let files = provider.requests_to("/files/");
        let resumed = files.last().unwrap();
        assert!(
            resumed.header("range").is_some(),
            "{case}: resume asked for a range"
        );
        assert_eq!(
            resumed.status, 200,
            "{case}: the server answered with the whole file"
        );
        let done = done_downloads(&shown);
        assert_eq!(
            file_sha(Path::new(done[0]["path"].as_str().unwrap())),
            sha256_hex(&video.data),
            "{case}"
        );
    }
}

#[test]
fn duplicates_and_corrupt_files_are_replaced_by_other_candidates() {
    let provider = FakeProvider::start();
    // The same bytes under two sources, a corrupt "video", and two good distinct ones.
    add_fixture(
        &provider,
        Source::Wikimedia,
        "Harbor 0.mp4",
        "harbor night 0",
        0,
    );
    add_fixture(
        &provider,
        Source::Archive,
        "harbor-night-dup",
        "harbor night dup",
        0,
    );
    let mut corrupt = video_from_fixture(
        Source::Wikimedia,
        "Harbor corrupt.mp4",
        "harbor night corrupt",
        &fixtures()[1],
    );
    corrupt.data = (0..40_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    provider.add(corrupt);
    add_fixture(
        &provider,
        Source::Archive,
        "harbor-night-2",
        "harbor night 2",
        2,
    );
    add_fixture(
        &provider,
        Source::Archive,
        "harbor-night-3",
        "harbor night 3",
        3,
    );
    // Wikimedia's results (the first copy and the corrupt file) must be queued before the
    // Archive's, or the Archive's copy of the same bytes comes first and the job is done
    // before the duplicate or the corrupt file is ever picked.
    provider.fault(FaultRule::always(
        "/advancedsearch.php",
        Fault::Latency(Duration::from_millis(500)),
    ));
    let daemon = Daemon::for_provider(
        &provider,
        &["wikimedia", "archive"],
        "parallel_downloads = 1\n",
    );
    let id = daemon.add(&["harbor night", "3"]);
    let shown = wait_for_state(&daemon, id, &["done", "failed"], Duration::from_secs(60));
    assert_eq!(shown["job"]["state"], "done", "{shown:#}");
    let downloads = shown["downloads"].as_array().unwrap();
    let states: Vec<&str> = downloads
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert!(states.contains(&"duplicate"), "{states:?}");
    assert!(states.contains(&"invalid"), "{states:?}");
    let done = done_downloads(&shown);
    assert_eq!(done.len(), 3);
    let mut shas: Vec<&str> = done.iter().map(|d| d["sha256"].as_str().unwrap()).collect();
    shas.dedup();
    assert_eq!(shas.len(), 3, "distinct files");
}

#[test]
fn an_oversized_body_is_stopped_and_rejected() {
    let provider = FakeProvider::start();
    // Pexels publishes no file sizes, so only the download guard can catch this one.
    let mut huge = video_from_fixture(Source::Pexels, "4242", "glacier 1", &fixtures()[0]);
    huge.data = vec![0u8; 3 << 20];
    provider.add(huge);
    add_fixture(&provider, Source::Pexels, "4243", "glacier 2", 1);
    let daemon = Daemon::for_provider(&provider, &["pexels"], "");
    let id = daemon.add(&["glacier", "1", "--max-size", "1"]);
    let shown = wait_for_state(&daemon, id, &["done", "failed"], Duration::from_secs(60));
    assert_eq!(shown["job"]["state"], "done", "{shown:#}");
    let failed: Vec<&Value> = shown["downloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["state"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{shown:#}");
    assert!(
        failed[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than the limit"),
        "{}",
        failed[0]
    );
    assert!(failed[0]["bytes"].as_u64().unwrap() <= 1 << 20);
    assert_eq!(
        std::fs::read_dir(daemon.state_dir().join("staging"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn hostile_provider_ids_never_leave_the_library() {
    let provider = FakeProvider::start();
    // The fake provider cannot serve ids with '/'; the library's unit tests cover those.
    add_fixture(
        &provider,
        Source::Wikimedia,
        "..\\..\\..\\escape.mp4",
        "breakout 1",
        0,
    );
    add_fixture(
        &provider,
        Source::Wikimedia,
        &format!("..{}.mp4", "x".repeat(300)),
        "breakout 2",
        1,
    );
    add_fixture(&provider, Source::Archive, "..", "breakout 3", 2);
    let daemon = Daemon::for_provider(&provider, &["wikimedia", "archive"], "");
    let id = daemon.add(&["breakout", "2"]);
    let shown = wait_for_state(&daemon, id, &["done", "failed"], Duration::from_secs(60));
    let library = daemon.dir.path().join("library").canonicalize().unwrap();
    assert_eq!(done_downloads(&shown).len(), 2, "{shown:#}");
    for d in done_downloads(&shown) {
        let path = PathBuf::from(d["path"].as_str().unwrap())
            .canonicalize()
            .unwrap();
        assert!(
            path.starts_with(&library),
            "{path:?} is outside {library:?}"
        );
    }
    assert!(!daemon.dir.path().join("escape.mp4").exists());
}
