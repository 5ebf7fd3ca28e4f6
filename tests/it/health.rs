//! `GET /health` through the real daemon: 200 "healthy" while the database reads, and 503
//! "unhealthy" (same JSON shape, still nothing secret, still no token) once it cannot.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::support::web::{send, Reply, WEB_ON};
use crate::support::{wait_until, Daemon};

/// The keys every `/health` answer has, healthy or not.
const KEYS: [&str; 6] = [
    "status",
    "timestamp",
    "database",
    "jobs_count",
    "active_downloads",
    "version",
];

/// Overwrites every byte of `path` with `byte`, keeping its length.
fn scribble(path: &Path, byte: u8) {
    let len = std::fs::metadata(path).map_or(0, |m| m.len()).max(4096);
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    file.write_all(&vec![byte; len as usize])
        .and_then(|()| file.sync_all())
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Asserts the answer is the health document with nothing secret in it; returns it.
fn health_document(reply: &Reply, token: &str, state_dir: &Path) -> Value {
    assert!(
        reply.header("content-type").starts_with("application/json"),
        "{:?}",
        reply.headers
    );
    let doc = reply.json();
    let keys: Vec<&str> = doc
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for key in KEYS {
        assert!(keys.contains(&key), "{key} missing: {}", reply.body);
    }
    assert_eq!(keys.len(), KEYS.len(), "{}", reply.body);
    let state = state_dir.display().to_string();
    for secret in [token, state.as_str(), "socket", "vfetch.db", "malformed"] {
        assert!(!reply.body.contains(secret), "{secret} in {}", reply.body);
    }
    doc
}

#[test]
fn health_turns_unhealthy_when_the_database_can_no_longer_be_read() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    let state = daemon.state_dir();
    daemon.add(&["quiet lake", "1"]);

    let healthy = send(web.bare(Method::GET, "/health"));
    assert_eq!(healthy.status, 200, "{}", healthy.body);
    let doc = health_document(&healthy, &web.token, &state);
    assert_eq!(doc["status"], "healthy");
    assert_eq!(doc["database"], "connected");
    assert_eq!(doc["jobs_count"], 1);

    // Destroy the database under the running daemon. Garbage in the main file alone is not
    // enough: in WAL mode SQLite keeps its page cache while the wal-index (the mmapped -shm)
    // says nothing changed, so an answer from cache would still look healthy. Zeroing the
    // -shm makes the next read transaction rebuild the index from the (now empty) WAL and
    // re-read page 1, which is garbage: "file is not a database".
    let db = state.join("vfetch.db");
    scribble(&db, 0xde);
    let wal = state.join("vfetch.db-wal");
    if wal.exists() {
        OpenOptions::new()
            .write(true)
            .open(&wal)
            .and_then(|f| f.set_len(0))
            .expect("truncate the WAL");
    }
    let shm = state.join("vfetch.db-shm");
    if shm.exists() {
        scribble(&shm, 0);
    }

    let mut sick = None;
    wait_until(Duration::from_secs(10), "/health says unhealthy", || {
        let reply = send(web.bare(Method::GET, "/health"));
        let done = reply.status == 503;
        sick = Some(reply);
        done
    });
    let sick = sick.expect("an answer");
    let doc = health_document(&sick, &web.token, &state);
    assert_eq!(doc["status"], "unhealthy", "{}", sick.body);
    assert_eq!(doc["database"], "unavailable", "{}", sick.body);
    assert_eq!(doc["jobs_count"], Value::Null, "{}", sick.body);
    assert_eq!(doc["version"], healthy.json()["version"]);
}
