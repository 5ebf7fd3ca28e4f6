//! A `database` setting that points at another program's SQLite file (such as the Flask app's
//! database) stops vfetchd with a sentence, and the file is left exactly as it was.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant, SystemTime};

use rusqlite::Connection;

use crate::support::Daemon;

/// Generous bound for a daemon to refuse to start.
const START_LIMIT: Duration = Duration::from_secs(20);

fn companion(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// Runs vfetchd until it exits by itself; a daemon that is still running after
/// [`START_LIMIT`] accepted the database, which fails the test.
fn run_to_exit(daemon: &Daemon) -> ExitStatus {
    let mut child = daemon.command().spawn().expect("spawn vfetchd");
    let deadline = Instant::now() + START_LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "vfetchd kept running on another program's database:\n{}",
                daemon.log()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn another_programs_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("flask-app.db");
    let c = Connection::open(&db).expect("create the other program's database");
    c.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE videos (id INTEGER PRIMARY KEY, user_id INTEGER, url TEXT);
         INSERT INTO users (name) VALUES ('ada');
         INSERT INTO videos (user_id, url) VALUES (1, 'https://example.org/a.mp4');",
    )
    .expect("fill it");
    c.close().expect("close");
    let before = fs::read(&db).expect("read");
    let modified = |path: &Path| -> SystemTime {
        fs::metadata(path)
            .and_then(|m| m.modified())
            .expect("mtime")
    };
    let mtime_before = modified(&db);

    let daemon = Daemon::configure(&format!("database = {:?}\n", db));
    let status = run_to_exit(&daemon);
    let log = daemon.log();
    assert_eq!(status.code(), Some(3), "{status}:\n{log}");
    let sentence = format!(
        "{} is a SQLite database made by another program (tables: users, videos); vfetchd will \
         not change it. Point `database` at a new file or remove that setting.",
        db.display()
    );
    assert!(log.contains(&sentence), "expected «{sentence}» in:\n{log}");
    assert!(
        !log.contains("CREATE TABLE"),
        "SQL reached the user:\n{log}"
    );

    assert_eq!(
        fs::read(&db).expect("read"),
        before,
        "the file's bytes changed"
    );
    assert_eq!(modified(&db), mtime_before, "the file was written");
    for suffix in ["-wal", "-shm", "-journal"] {
        let left = companion(&db, suffix);
        assert!(!left.exists(), "{} was left behind", left.display());
    }
    let c = Connection::open(&db).expect("reopen");
    let names: i64 = c
        .query_row("SELECT count(*) FROM users WHERE name = 'ada'", [], |r| {
            r.get(0)
        })
        .expect("the other program's rows are still there");
    assert_eq!(names, 1);
}
