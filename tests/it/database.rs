//! The database in a hostile world: private file modes, refusing a damaged or emptied database
//! with a sentence that says what to do, `vfetchd --recover`, and automatic online backups.

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::Connection;

use crate::support::{wait_until, Daemon};

/// Generous bound for a daemon to start, or to refuse to.
const START_LIMIT: Duration = Duration::from_secs(20);

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn companion(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

fn database(daemon: &Daemon) -> PathBuf {
    daemon.state_dir().join("vfetch.db")
}

/// Kills the process when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `daemon`'s vfetchd with umask 022 (the usual default, under which files are
/// world-readable unless created otherwise) and waits until it answers.
fn spawn_with_umask_022(daemon: &Daemon) -> Running {
    let mut command = daemon.command();
    // SAFETY: umask(2) is async-signal-safe and touches nothing but the child's own mask.
    unsafe {
        command.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    let mut running = Running(command.spawn().expect("spawn vfetchd"));
    wait_until(START_LIMIT, "vfetchd to answer", || {
        if let Ok(Some(status)) = running.0.try_wait() {
            panic!(
                "vfetchd exited during start-up ({status}):\n{}",
                daemon.log()
            );
        }
        UnixStream::connect(&daemon.socket).is_ok()
    });
    running
}

/// Starts vfetchd and expects it to refuse: it must exit within [`START_LIMIT`] and never
/// answer on its socket. Returns its exit status.
fn start_expecting_refusal(daemon: &Daemon) -> ExitStatus {
    let mut running = Running(daemon.command().spawn().expect("spawn vfetchd"));
    let deadline = Instant::now() + START_LIMIT;
    loop {
        if UnixStream::connect(&daemon.socket).is_ok() {
            panic!(
                "vfetchd started and answers on its socket instead of refusing:\n{}",
                daemon.log()
            );
        }
        if let Some(status) = running.0.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "vfetchd neither answered nor exited within {START_LIMIT:?}:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Folds the WAL into the database file, so what the daemon wrote is in the file itself.
fn checkpoint(db: &Path) {
    let c = Connection::open(db).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    c.close().unwrap();
    let _ = fs::remove_file(companion(db, "-wal"));
    let _ = fs::remove_file(companion(db, "-shm"));
}

fn quick_check(db: &Path) -> String {
    let c = Connection::open(db).unwrap();
    c.query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0))
        .unwrap_or_else(|e| e.to_string())
}

/// Jobs in a copy of the database at `db` (a copy, so no -wal or -shm appears beside it).
fn jobs_in(db: &Path) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    fs::copy(db, &copy).unwrap();
    let c = Connection::open(&copy).unwrap();
    c.query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
        .unwrap()
}

fn list_count(daemon: &Daemon) -> usize {
    daemon
        .ctl_json(&["list", "-n", "200"])
        .as_array()
        .expect("list --json prints an array")
        .len()
}

#[test]
fn a_new_state_directory_and_database_are_private() {
    let daemon = Daemon::configure("");
    let _running = spawn_with_umask_022(&daemon);
    let db = database(&daemon);
    wait_until(START_LIMIT, "the -wal and -shm files", || {
        companion(&db, "-wal").exists() && companion(&db, "-shm").exists()
    });
    let found = [
        ("state dir", mode(&daemon.state_dir())),
        ("database", mode(&db)),
        ("-wal", mode(&companion(&db, "-wal"))),
        ("-shm", mode(&companion(&db, "-shm"))),
    ];
    assert_eq!(
        found,
        [
            ("state dir", 0o700),
            ("database", 0o600),
            ("-wal", 0o600),
            ("-shm", 0o600)
        ],
        "modes as octal: {:?}",
        found.map(|(n, m)| format!("{n} {m:o}"))
    );
}

#[test]
fn an_existing_state_directory_and_database_are_tightened() {
    let mut daemon = Daemon::start();
    daemon.add(&["secret keeper", "1"]);
    daemon.terminate();
    let db = database(&daemon);
    set_mode(&daemon.state_dir(), 0o755);
    set_mode(&db, 0o644);
    for suffix in ["-wal", "-shm"] {
        let path = companion(&db, suffix);
        if path.exists() {
            set_mode(&path, 0o644);
        }
    }
    daemon.spawn();
    assert_eq!(mode(&daemon.state_dir()), 0o700, "state dir");
    assert_eq!(mode(&db), 0o600, "database");
    for suffix in ["-wal", "-shm"] {
        let path = companion(&db, suffix);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{suffix}");
        }
    }
    assert!(
        daemon.log().contains("tightened permissions"),
        "the change is logged:\n{}",
        daemon.log()
    );
}

#[test]
fn a_damaged_database_is_refused_and_recover_saves_the_readable_jobs() {
    let mut daemon = Daemon::start();
    // Long themes spread the jobs table over several pages, so damage can hit some of them.
    let total = 45;
    for i in 0..total {
        let theme = format!("theme {i:03} {}", "x".repeat(180));
        daemon.add(&[&theme, "1"]);
    }
    assert_eq!(list_count(&daemon), total);
    // Paused jobs are not touched at start, so nothing but a check notices the damage (as in
    // the report: the daemon started, and then every `list` failed).
    let paused = daemon.ctl(&["pause", "--all"]);
    assert!(paused.status.success(), "{paused:?}");
    daemon.terminate();
    let db = database(&daemon);
    checkpoint(&db);

    // 8 KiB of garbage from the second leaf page of the jobs table on.
    let leaves: Vec<i64> = {
        let c = Connection::open(&db).unwrap();
        let mut s = c
            .prepare(
                "SELECT pageno FROM dbstat WHERE name = 'jobs' AND pagetype = 'leaf' ORDER BY pageno",
            )
            .unwrap();
        let pages = s.query_map([], |r| r.get(0)).unwrap();
        pages.collect::<Result<_, _>>().unwrap()
    };
    checkpoint(&db);
    assert!(leaves.len() >= 4, "jobs leaf pages: {leaves:?}");
    let page_size = 4096;
    let mut bytes = fs::read(&db).unwrap();
    let start = (leaves[1] as usize - 1) * page_size;
    let mut rng = fastrand::Rng::with_seed(11);
    for b in &mut bytes[start..start + 2 * page_size] {
        *b = rng.u8(..);
    }
    fs::write(&db, bytes).unwrap();
    assert_ne!(
        quick_check(&db),
        "ok",
        "the garbage must damage the database"
    );
    checkpoint(&db);

    // (a) The daemon refuses to start, says what to do, and nothing answers.
    let status = start_expecting_refusal(&daemon);
    let log = daemon.log();
    assert!(!status.success(), "exit status {status}");
    assert!(
        log.contains("--recover") && log.contains(&db.display().to_string()),
        "the refusal names the database and `vfetchd --recover`:\n{log}"
    );
    assert!(
        log.contains("vfetch.db.backup-1"),
        "the refusal names the backup:\n{log}"
    );

    // (b) --recover saves what it can read and puts it in place.
    let out = daemon
        .command()
        .arg("--recover")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    eprintln!("vfetchd --recover printed:\n{report}");
    assert!(
        out.status.success(),
        "--recover failed ({}): {report}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: usize = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("jobs: "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of saved jobs in:\n{report}"));
    assert!(
        saved > 0 && saved < total,
        "saved {saved} of {total} jobs:\n{report}"
    );
    let kept_aside = fs::read_dir(daemon.state_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("vfetch.db.corrupt-")
        });
    assert!(kept_aside, "the damaged file is kept:\n{report}");
    assert_eq!(mode(&db), 0o600);

    daemon.spawn();
    assert_eq!(list_count(&daemon), saved);
}

#[test]
fn an_emptied_database_is_refused() {
    let mut daemon = Daemon::start();
    daemon.add(&["lost work", "1"]);
    daemon.terminate();
    let db = database(&daemon);
    File::create(&db).unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = fs::remove_file(companion(&db, suffix));
    }
    let status = start_expecting_refusal(&daemon);
    let log = daemon.log();
    assert!(!status.success(), "exit status {status}");
    assert!(
        log.contains("is empty") && log.contains(&format!("mv {}", db.display())),
        "the refusal says how to start afresh:\n{log}"
    );
    assert_eq!(
        fs::metadata(&db).unwrap().len(),
        0,
        "the file is left alone"
    );
}

#[test]
fn backups_are_made_at_start_and_rotated_when_old() {
    let mut daemon = Daemon::start();
    let db = database(&daemon);
    let first = companion(&db, ".backup-1");
    let second = companion(&db, ".backup-2");
    wait_until(START_LIMIT, "a backup at start", || first.exists());
    assert_eq!(jobs_in(&first), 0);
    for theme in ["one", "two", "three"] {
        daemon.add(&[theme, "1"]);
    }
    daemon.terminate();

    // A young backup is not replaced at start.
    daemon.spawn();
    daemon.ctl_json(&["status"]);
    assert!(!second.exists(), "a backup younger than a day was rotated");
    daemon.terminate();

    // One older than the interval (24 h by default) is.
    let day_ago = SystemTime::now() - Duration::from_secs(25 * 3600);
    File::options()
        .write(true)
        .open(&first)
        .unwrap()
        .set_modified(day_ago)
        .unwrap();
    daemon.spawn();
    wait_until(START_LIMIT, "the backups to rotate", || second.exists());
    assert_eq!(jobs_in(&first), 3, "the new backup has the jobs");
    assert_eq!(jobs_in(&second), 0, "the old backup moved to -2");
    assert_eq!(mode(&first), 0o600);
    assert_eq!(mode(&second), 0o600);
    assert_eq!(quick_check(&first), "ok");
}
