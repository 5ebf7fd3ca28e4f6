//! Progress bars that know the size: a throttled ~5 MiB download watched on a terminal shows
//! bytes of the real total, a percent and an ETA, and ends with its average speed; `watch
//! --json` carries the total in every progress event.

use serde_json::Value;

use crate::support::fake_provider::{FakeProvider, Fault, FaultRule};
use crate::support::on_a_terminal;
use crate::support::{add_big, Daemon};

/// A daemon downloading one ~5 MiB file in about four seconds; returns the job and the size.
fn slow_download() -> (FakeProvider, Daemon, i64, u64) {
    let provider = FakeProvider::start();
    let video = add_big(&provider, "Progress big.mp4", "progress meadow");
    let size = video.data.len() as u64;
    provider.fault(FaultRule::always("/files/", Fault::Throttle(size / 4)));
    let daemon = Daemon::for_provider(&provider, &["wikimedia"], "");
    let id = daemon.add(&["progress meadow", "1"]);
    (provider, daemon, id, size)
}

/// The size as indicatif writes it ("5.12 MiB"), computed here so the test does not borrow
/// the code under test.
fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / (1 << 20) as f64)
}

/// The progress event inside one `watch --json` line, whatever the envelope's tagging.
fn progress(line: &Value) -> Option<&Value> {
    if line["Progress"].is_object() {
        Some(&line["Progress"])
    } else if line["type"] == "progress" {
        Some(line)
    } else {
        None
    }
}

#[test]
fn bars_on_a_terminal_show_the_real_total_percent_eta_and_a_final_average() {
    let (_provider, daemon, id, size) = slow_download();
    let line = format!(
        "stty cols 200 2>/dev/null; {}",
        daemon.ctl_line(&format!("watch {id}"))
    );
    let out = on_a_terminal(&line, 90)
        .env_remove("NO_COLOR")
        .output()
        .expect("run script");
    let shown = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    eprintln!("captured terminal output:\n{shown}");
    assert!(out.status.success(), "{out:?}\n{}", daemon.log());
    assert_eq!(daemon.show(id)["job"]["state"], "done", "{}", daemon.log());

    let of_total = format!("/{}", mib(size));
    // Drawn lines are separated by newlines or cursor moves; either way a bar is one segment.
    let segments: Vec<&str> = shown.split(['\n', '\r', '\x1b']).collect();
    let running = segments
        .iter()
        .find(|s| s.contains(&of_total) && s.contains("ETA") && s.contains('%'));
    assert!(
        running.is_some(),
        "no running bar with {of_total:?}, a percent and an ETA in {shown:?}"
    );
    assert!(
        !shown.contains("/0 B "),
        "a bar read a made-up total of 0 B: {shown:?}"
    );
    let finished = segments
        .iter()
        .rev()
        .find(|s| s.contains("done, ") && s.contains("average"));
    assert!(
        finished.is_some_and(|s| s.contains(&of_total) && s.contains("100%")),
        "no full finished bar with its average speed in {shown:?}"
    );
}

#[test]
fn json_progress_events_carry_the_file_size_as_total() {
    let (_provider, daemon, id, size) = slow_download();
    let out = daemon.ctl(&["watch", &id.to_string(), "--json"]);
    assert!(out.status.success(), "{out:?}\n{}", daemon.log());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let totals: Vec<&Value> = lines
        .iter()
        .filter_map(progress)
        .map(|p| &p["total"])
        .collect();
    assert!(
        !totals.is_empty(),
        "no progress events in a ~4 s download:\n{stdout}"
    );
    assert!(
        totals.iter().all(|t| t.as_u64() == Some(size)),
        "progress totals {totals:?}, file size {size}"
    );
}
