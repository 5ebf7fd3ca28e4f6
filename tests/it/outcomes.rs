//! Every download reaches an outcome in a hostile world: a hung ffprobe, a library that refuses
//! files, a provider whose checksum disagrees with its bytes. Jobs never stay stuck, finished
//! bytes are never thrown away, and the user is told in `status` what is waited for.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::fake_provider::{sha256_hex, FakeProvider, Source, Video};
use crate::support::{add_big, wait_until, Daemon};
use serde_json::Value;

/// Fast retries and a short ffprobe timeout, so the settling takes seconds.
const QUICK: &str = "retry_base_ms = 50\n";

/// A stand-in ffprobe that answers `-version` and hangs on every probe. It appends its own pid
/// and its child's to `pids`, so a test can see that the daemon killed both.
struct HungProbe {
    dir: tempfile::TempDir,
}

impl HungProbe {
    fn new() -> HungProbe {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let script = format!(
            "#!/bin/sh\n\
             if [ \"$1\" = \"-version\" ]; then echo 'ffprobe version 0-hung'; exit 0; fi\n\
             echo $$ >> {pids:?}\n\
             sleep 1000 &\n\
             echo $! >> {pids:?}\n\
             wait\n"
        );
        let path = dir.path().join("ffprobe");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        HungProbe { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("ffprobe")
    }

    /// Pids of every probe started so far and of the `sleep` each one started.
    fn pids(&self) -> Vec<i32> {
        std::fs::read_to_string(self.dir.path().join("pids"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// Pids that are still alive (a zombie waiting for its reaper has been killed).
    fn alive(&self) -> Vec<i32> {
        self.pids().into_iter().filter(|p| alive(*p)).collect()
    }
}

impl Drop for HungProbe {
    fn drop(&mut self) {
        // Whatever a test left behind (a kill -9'd daemon cannot clean up) goes now.
        for pid in self.alive() {
            // SAFETY: kill(2) with a pid this test's script recorded and a valid signal.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

fn alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) S ...": the state follows the last ')'.
    let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
    !matches!(state.and_then(|s| s.chars().next()), Some('Z' | 'X'))
}

/// A daemon searching only Wikimedia at `provider`, retrying quickly, with `extra` config.
fn daemon_with(provider: &FakeProvider, extra: &str) -> Daemon {
    Daemon::for_provider(provider, &["wikimedia"], &format!("{QUICK}{extra}"))
}

fn hung_config(probe: &HungProbe, mode: &str, timeout_secs: u32) -> String {
    format!(
        "validate = \"{mode}\"\nffprobe = {:?}\nffprobe_timeout_secs = {timeout_secs}\ndownload_tries = 3\n",
        probe.path()
    )
}

/// Waits for the job to end and returns `show`; panics if it is still running after `limit`.
fn wait_end(daemon: &Daemon, id: i64, limit: Duration) -> Value {
    let mut shown = Value::Null;
    wait_until(limit, "the job to end", || {
        shown = daemon.show(id);
        matches!(
            shown["job"]["state"].as_str(),
            Some("done" | "failed" | "cancelled")
        )
    });
    shown
}

fn downloads(shown: &Value) -> Vec<Value> {
    shown["downloads"].as_array().cloned().unwrap_or_default()
}

fn problems(daemon: &Daemon) -> Vec<String> {
    let status = daemon.ctl_json(&["status"]);
    status["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap_or_default().to_string())
        .collect()
}

/// The path of the file the provider serves for `video`, as the request log records it.
fn served_path(provider: &FakeProvider, video: &Video) -> String {
    provider
        .file_url(video)
        .trim_start_matches(&provider.base_url())
        .to_string()
}

/// Full-body GETs of a file (no Range).
fn full_downloads(provider: &FakeProvider, video: &Video) -> usize {
    provider
        .requests_to(&served_path(provider, video))
        .iter()
        .filter(|r| r.method == "GET" && r.header("range").is_none())
        .count()
}

#[test]
fn a_hung_ffprobe_under_require_makes_the_download_invalid_and_the_job_ends() {
    let provider = FakeProvider::start();
    provider.add_fixtures(Source::Wikimedia, "hung lantern", 1);
    let probe = HungProbe::new();
    let daemon = daemon_with(&provider, &hung_config(&probe, "require", 1));
    let id = daemon.add(&["hung lantern", "1"]);

    let mut seen = Vec::new();
    wait_until(
        Duration::from_secs(30),
        "a validation problem in status",
        || {
            seen = problems(&daemon);
            seen.iter().any(|p| p.contains("validation of download"))
        },
    );
    assert!(
        seen.iter()
            .any(|p| p.contains("ffprobe did not finish") && p.contains("retrying at")),
        "{seen:?}"
    );
    let shown = wait_end(&daemon, id, Duration::from_secs(60));
    // The only candidate is invalid, so the sources ran dry: the job failed, never stuck.
    assert_eq!(shown["job"]["state"], "failed", "{shown:#}");
    let d = &downloads(&shown)[0];
    assert_eq!(d["state"], "invalid", "{shown:#}");
    assert_eq!(d["validation"]["state"], "invalid", "{d}");
    let error = d["error"]["message"].as_str().unwrap_or_default();
    assert!(
        error.contains("ffprobe did not finish") && error.contains("(3 tries)"),
        "{error}"
    );
    assert!(
        problems(&daemon).is_empty(),
        "nothing is waited for any more"
    );
    assert_eq!(probe.pids().len(), 6, "three probes, each with its sleep");
    wait_until(
        Duration::from_secs(10),
        "every hung probe to be killed",
        || probe.alive().is_empty(),
    );
}

#[test]
fn a_hung_ffprobe_under_auto_keeps_the_file_marked_not_validated() {
    let provider = FakeProvider::start();
    let video = provider.add_fixtures(Source::Wikimedia, "hung harbour", 1)[0].clone();
    let probe = HungProbe::new();
    let daemon = daemon_with(&provider, &hung_config(&probe, "auto", 1));
    let id = daemon.add(&["hung harbour", "1"]);
    let shown = wait_end(&daemon, id, Duration::from_secs(60));
    assert_eq!(shown["job"]["state"], "done", "{shown:#}");
    let d = &downloads(&shown)[0];
    assert_eq!(d["validation"]["state"], "not_validated", "{d}");
    let validation = d["validation"]["reason"].as_str().unwrap_or_default();
    assert!(
        validation.starts_with("ffprobe did not finish"),
        "{validation}"
    );
    let path = Path::new(d["path"].as_str().unwrap());
    assert_eq!(
        sha256_hex(&std::fs::read(path).unwrap()),
        sha256_hex(&video.data)
    );
    wait_until(
        Duration::from_secs(10),
        "every hung probe to be killed",
        || probe.alive().is_empty(),
    );
}

#[test]
fn a_validation_hung_across_a_kill_moves_on_after_restart_without_fetching_again() {
    let provider = FakeProvider::start();
    let video = provider.add_fixtures(Source::Wikimedia, "hung beacon", 1)[0].clone();
    let probe = HungProbe::new();
    let mut daemon = daemon_with(&provider, &hung_config(&probe, "auto", 2));
    let id = daemon.add(&["hung beacon", "1"]);
    wait_until(Duration::from_secs(30), "the first probe to hang", || {
        !probe.pids().is_empty()
    });
    daemon.kill9();
    let orphans = probe.pids();
    daemon.spawn();

    let shown = wait_end(&daemon, id, Duration::from_secs(60));
    assert_eq!(shown["job"]["state"], "done", "{shown:#}");
    let d = &downloads(&shown)[0];
    assert_eq!(d["validation"]["state"], "not_validated", "{d}");
    let validation = d["validation"]["reason"].as_str().unwrap_or_default();
    assert!(
        validation.starts_with("ffprobe did not finish"),
        "{validation}"
    );
    let path = Path::new(d["path"].as_str().unwrap());
    assert_eq!(
        sha256_hex(&std::fs::read(path).unwrap()),
        sha256_hex(&video.data)
    );
    assert_eq!(
        full_downloads(&provider, &video),
        1,
        "the complete staged file is validated again, not fetched again"
    );
    // The probes of the killed daemon are beyond its reach; the new daemon's are all gone.
    let started_after: Vec<i32> = probe
        .pids()
        .into_iter()
        .filter(|p| !orphans.contains(p))
        .collect();
    assert!(!started_after.is_empty());
    // Generous: on a loaded CI machine a killed process group can take seconds to be reaped.
    wait_until(
        Duration::from_secs(30),
        "the new daemon's probes to be killed",
        || started_after.iter().all(|p| !alive(*p)),
    );
}

/// Unmounts even when an assertion fails.
struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.0).status();
    }
}

fn mount(args: &[&str], at: &Path) {
    let status = std::process::Command::new("mount")
        .args(args)
        .arg(at)
        .status()
        .unwrap();
    assert!(status.success(), "mount {args:?}");
}

#[test]
fn an_unwritable_library_pauses_the_job_keeps_the_file_and_resume_places_it() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "skipped: a read-only tmpfs needs root (root ignores permission bits; CI runs as root)"
        );
        return;
    }
    let provider = FakeProvider::start();
    let video = add_big(&provider, "Shelf.mp4", "locked shelf");
    let size = video.data.len() as u64;
    let disk = tempfile::tempdir().unwrap();
    mount(&["-t", "tmpfs", "-o", "size=64m", "tmpfs"], disk.path());
    let _unmount = Unmount(disk.path());
    let library = disk.path().join("library");
    let daemon = daemon_with(
        &provider,
        &format!("validate = \"off\"\nlibrary_dir = {library:?}\n"),
    );
    // Read-only stops root too, unlike permission bits.
    mount(&["-o", "remount,ro"], disk.path());

    let id = daemon.add(&["locked shelf", "1"]);
    let mut seen = Vec::new();
    wait_until(
        Duration::from_secs(30),
        "a library problem in status",
        || {
            seen = problems(&daemon);
            !seen.is_empty()
        },
    );
    assert!(
        seen[0].contains("cannot move into the library") && seen[0].contains("Read-only"),
        "{seen:?}"
    );
    let shown = daemon.show(id);
    assert_eq!(shown["job"]["state"], "paused", "{shown:#}");
    let d = &downloads(&shown)[0];
    assert_eq!(d["state"], "paused", "{shown:#}");
    let part = daemon
        .state_dir()
        .join("staging")
        .join(format!("{}.part", d["id"]));
    let staged = std::fs::read(&part).expect("the finished bytes stay in staging");
    assert_eq!(staged.len() as u64, size);

    mount(&["-o", "remount,rw"], disk.path());
    daemon.ctl_json(&["resume", &id.to_string()]);
    let shown = wait_end(&daemon, id, Duration::from_secs(60));
    assert_eq!(shown["job"]["state"], "done", "{shown:#}");
    let placed = PathBuf::from(downloads(&shown)[0]["path"].as_str().unwrap());
    assert!(placed.starts_with(&library), "{placed:?}");
    assert_eq!(
        sha256_hex(&std::fs::read(&placed).unwrap()),
        sha256_hex(&video.data)
    );
    // Wikimedia ids are file names: the library name has the extension once.
    assert_eq!(
        placed.file_name().unwrap().to_str().unwrap(),
        "wikimedia-Shelf.mp4"
    );
    assert!(
        !part.exists(),
        "staging is emptied once the library has the file"
    );
    assert_eq!(full_downloads(&provider, &video), 1, "not fetched again");
    assert!(problems(&daemon).is_empty());
}

#[test]
fn a_checksum_mismatch_is_fetched_twice_then_the_next_candidate_completes_the_job() {
    let provider = FakeProvider::start();
    let videos = provider.add_fixtures(Source::Wikimedia, "false ledger", 2);
    provider.publish_wrong_checksums(Source::Wikimedia, &videos[0].id);
    let daemon = daemon_with(&provider, "validate = \"off\"\ndownload_tries = 5\n");
    let id = daemon.add(&["false ledger", "1"]);
    let shown = wait_end(&daemon, id, Duration::from_secs(60));
    assert_eq!(shown["job"]["state"], "done", "{shown:#}");
    assert_eq!(
        full_downloads(&provider, &videos[0]),
        2,
        "one retry, then the candidate is dropped"
    );
    let all = downloads(&shown);
    let bad = all
        .iter()
        .find(|d| d["source_id"] == videos[0].id.as_str())
        .expect("the mismatching candidate was tried");
    assert_eq!(bad["state"], "failed", "{shown:#}");
    assert_eq!(bad["error"]["kind"], "checksum_mismatch", "{bad}");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("checksum"),
        "{bad}"
    );
    let good = all.iter().find(|d| d["state"] == "done").unwrap();
    assert_eq!(good["source_id"], videos[1].id.as_str());
    let placed = Path::new(good["path"].as_str().unwrap());
    assert_eq!(
        sha256_hex(&std::fs::read(placed).unwrap()),
        sha256_hex(&videos[1].data)
    );
}
