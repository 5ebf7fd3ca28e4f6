//! A database written by an earlier release opens, migrates and keeps every record.

use std::os::unix::fs::PermissionsExt;

use crate::support::Daemon;

/// The 0.1.0 database checked in under tests/fixtures/db (see tests/fixtures/README.md).
fn fixture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/db/v0.1.0.db")
}

#[test]
fn a_database_from_release_0_1_0_opens_and_keeps_its_jobs() {
    let mut daemon = Daemon::configure("");
    let state = daemon.state_dir();
    std::fs::create_dir_all(&state).expect("state dir");
    let db = state.join("vfetch.db");
    std::fs::copy(fixture(), &db).expect("copy fixture");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    daemon.spawn();

    let jobs = daemon.ctl_json(&["list"]);
    let jobs = jobs.as_array().expect("list --json is an array");
    let summary: Vec<(i64, String, String, i64)> = jobs
        .iter()
        .map(|j| {
            (
                j["id"].as_i64().expect("id"),
                j["theme"].as_str().expect("theme").to_string(),
                j["state"].as_str().expect("state").to_string(),
                j["priority"].as_i64().expect("priority"),
            )
        })
        .collect();
    // Queue order: priority first, then age. Job 2 may be searching or queued again after the
    // restart; every other state is settled.
    assert_eq!(summary.len(), 4, "{summary:?}");
    assert_eq!(summary[0].0, 1);
    assert_eq!(
        (summary[0].1.as_str(), summary[0].2.as_str()),
        ("harbour dusk", "done")
    );
    assert_eq!(summary[0].3, 2);
    let by_id = |id: i64| {
        summary
            .iter()
            .find(|s| s.0 == id)
            .expect("job present")
            .clone()
    };
    assert!(
        matches!(by_id(2).2.as_str(), "queued" | "searching"),
        "{summary:?}"
    );
    assert_eq!(by_id(3).2, "paused");
    assert_eq!(by_id(3).3, -1);
    assert_eq!(by_id(4).2, "cancelled");

    let shown = daemon.show(1);
    let downloads = shown["downloads"].as_array().expect("downloads");
    assert_eq!(downloads.len(), 3, "{shown}");
    for d in downloads {
        assert!(
            d["sha256"].as_str().is_some_and(|h| h.len() == 64),
            "a finished download keeps its hash: {d}"
        );
    }

    // A window wide enough to hold the fixture's day whenever this runs.
    let stats = daemon.ctl_json(&["stats", "--days", "3650"]);
    assert_eq!(stats["totals"]["done"].as_i64(), Some(3), "{stats}");
    assert_eq!(stats["totals"]["bytes"].as_i64(), Some(55481), "{stats}");

    // The runtime setting made by the old release is still in force.
    let out = daemon.ctl(&["config", "get", "parallel_downloads"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains('3'));
}
