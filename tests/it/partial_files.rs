//! Partial files are checked before they are trusted: a `.part` damaged while the daemon was
//! stopped is cut back to its last good chunk and resumed from there, so the library file is
//! byte-identical even when the provider publishes no checksum to catch the damage at the end.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::fake_provider::{
    fixtures, sha256_hex, video_from_fixture, FakeProvider, Fault, FaultRule, Source, Video,
};
use crate::support::{big_video, range_starts, wait_until, Daemon};
use serde_json::Value;

/// The size of a checksummed chunk (the daemon's `CHUNK_BYTES`).
const CHUNK: u64 = 1 << 20;

/// The big generated video as a Pexels file: Pexels publishes no checksum, so nothing at the end
/// of the download would notice damaged bytes.
fn add_big_pexels(provider: &FakeProvider, id: &str, title: &str) -> Video {
    let mut video = video_from_fixture(Source::Pexels, id, title, &fixtures()[0]);
    video.data = big_video().to_vec();
    video.width = 256;
    video.height = 144;
    video.duration = 4.0;
    provider.add(video.clone());
    video
}

fn db(daemon: &Daemon) -> rusqlite::Connection {
    rusqlite::Connection::open(daemon.state_dir().join("vfetch.db")).expect("open db")
}

/// The job's download id and its stored offset.
fn stored(daemon: &Daemon, job: i64) -> Option<(i64, u64)> {
    db(daemon)
        .query_row(
            "SELECT id, offset FROM downloads WHERE job_id = ?1 ORDER BY offset DESC LIMIT 1",
            [job],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64)),
        )
        .ok()
}

fn wait_done(daemon: &Daemon, id: i64) -> Value {
    let mut shown = Value::Null;
    wait_until(Duration::from_secs(60), "the job to end", || {
        shown = daemon.show(id);
        matches!(
            shown["job"]["state"].as_str(),
            Some("done" | "failed" | "cancelled")
        )
    });
    shown
}

fn placed(shown: &Value) -> Option<PathBuf> {
    shown["downloads"]
        .as_array()?
        .iter()
        .find(|d| d["state"] == "done")
        .and_then(|d| d["path"].as_str())
        .map(PathBuf::from)
}

/// Inverts every byte in `[from, to)`: garbage that differs from the original at each byte.
fn tamper(part: &Path, from: u64, to: u64) {
    let mut bytes = std::fs::read(part).expect("read .part");
    assert!(
        bytes.len() as u64 >= to,
        "the .part holds the stored offset"
    );
    for b in &mut bytes[from as usize..to as usize] {
        *b = !*b;
    }
    std::fs::write(part, bytes).expect("write .part");
}

#[test]
fn a_partial_file_damaged_while_stopped_is_cut_back_to_its_last_good_chunk() {
    let provider = FakeProvider::start();
    let video = add_big_pexels(&provider, "3000001", "tampered glacier");
    let size = video.data.len() as u64;
    // About 5 s for the whole file, so the kill lands mid-transfer.
    provider.fault(FaultRule::always("/files/", Fault::Throttle(size / 5)));
    let mut daemon = Daemon::for_provider(&provider, &["pexels"], "retry_base_ms = 50\n");
    let job = daemon.add(&["tampered glacier", "1"]);

    wait_until(Duration::from_secs(30), "2 MiB stored", || {
        stored(&daemon, job).is_some_and(|(_, offset)| offset > 2 * CHUNK)
    });
    daemon.kill9();
    let (download, offset) = stored(&daemon, job).expect("a download row");
    assert!(offset < size, "stopped mid-file: {offset} of {size}");
    let part = daemon
        .state_dir()
        .join("staging")
        .join(format!("{download}.part"));
    let damaged_from = offset / 2;
    tamper(&part, damaged_from, offset);
    let requests_before = range_starts(&provider, "/files/").len();

    daemon.spawn();
    let shown = wait_done(&daemon, job);
    assert_eq!(shown["job"]["state"], "done", "{shown:#}\n{}", daemon.log());
    let path = placed(&shown).expect("a placed file");
    let got = sha256_hex(&std::fs::read(&path).expect("read placed file"));
    assert_eq!(
        got,
        sha256_hex(&video.data),
        "the library file differs from the original (stored offset {offset}, damaged from \
         {damaged_from})"
    );
    let starts = range_starts(&provider, "/files/");
    let resumed = starts.get(requests_before).copied();
    // The chunk holding the first damaged byte is the first bad one: everything before it is
    // kept, nothing after it is.
    let expected = damaged_from / CHUNK * CHUNK;
    assert_eq!(
        resumed,
        Some(expected),
        "resumed at the start of the first damaged chunk ({offset} stored, damaged from \
         {damaged_from}); ranges {starts:?}"
    );
    let log = daemon.log();
    assert!(
        log.lines().any(|l| l.contains("WARN")
            && l.contains(&format!("download={download}"))
            && l.contains(&format!("offset={expected}"))),
        "a warning names the download and the offset cut back to:\n{log}"
    );
}
