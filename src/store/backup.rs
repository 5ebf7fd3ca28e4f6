//! Online backups of the database: `<database>.backup-1` (the newest) and `.backup-2`.
//!
//! Made with SQLite's backup API from a second, read-only connection, so the daemon keeps
//! working meanwhile (in WAL mode a reader never blocks the writer). A backup is written under
//! a temporary name, checked, synced and only then renamed into place; the older generation is
//! rotated out only after a new backup is complete, so a failed or damaged copy never replaces
//! a good one.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::{integrity, StoreError};
use crate::permissions;

/// Backups kept: `.backup-1` … `.backup-GENERATIONS`.
pub const GENERATIONS: usize = 2;
/// How often a busy source is retried before the backup gives up (it is tried again later).
const BUSY_TRIES: u32 = 50;
/// Pause between those tries.
const BUSY_PAUSE: Duration = Duration::from_millis(100);

/// The path of backup `generation` (1 is the newest) of the database at `database`.
pub fn path(database: &Path, generation: usize) -> PathBuf {
    suffixed(database, &format!(".backup-{generation}"))
}

/// The newest backup, if one exists.
pub fn newest(database: &Path) -> Option<PathBuf> {
    let path = path(database, 1);
    path.is_file().then_some(path)
}

/// How old the newest backup is; `None` when there is none. A backup dated in the future
/// (a clock set back) counts as new.
pub fn newest_age(database: &Path) -> Option<Duration> {
    let modified = std::fs::metadata(path(database, 1)).ok()?.modified().ok()?;
    Some(
        SystemTime::now()
            .duration_since(modified)
            .unwrap_or(Duration::ZERO),
    )
}

/// Copies the database at `database` into a new `.backup-1` with `file_mode`, moving the
/// previous one to `.backup-2`. Blocking: call it from a blocking task.
pub fn make(database: &Path, file_mode: u32) -> Result<PathBuf, StoreError> {
    let temporary = suffixed(database, ".backup-new");
    let file_error = |action, path: &Path, source| StoreError::File {
        action,
        path: path.to_path_buf(),
        source,
    };
    // A leftover from a backup interrupted by a crash.
    for stale in [
        temporary.clone(),
        integrity::companion(&temporary, "-journal"),
    ] {
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(file_error("remove", &stale, e)),
        }
    }
    permissions::create_new_file(&temporary, file_mode)
        .map_err(|e| file_error("create", &temporary, e))?;
    let copied = copy(database, &temporary);
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    File::open(&temporary)
        .and_then(|f| f.sync_all())
        .map_err(|e| file_error("sync", &temporary, e))?;
    for generation in (1..GENERATIONS).rev() {
        let older = path(database, generation);
        if older.exists() {
            let newer_slot = path(database, generation + 1);
            std::fs::rename(&older, &newer_slot).map_err(|e| file_error("rename", &older, e))?;
        }
    }
    let newest = path(database, 1);
    std::fs::rename(&temporary, &newest).map_err(|e| file_error("rename", &temporary, e))?;
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The renames are durable only once the directory is synced.
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| file_error("sync", dir, e))?;
    }
    Ok(newest)
}

/// Copies every page of `database` into the (empty) file `target` in one step, so the copy is
/// one consistent snapshot, then checks the copy.
fn copy(database: &Path, target: &Path) -> Result<(), StoreError> {
    let source = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(Duration::from_secs(5))?;
    let mut destination = Connection::open(target)?;
    {
        let backup = Backup::new(&source, &mut destination)?;
        let mut tries = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked => {
                    tries += 1;
                    if tries >= BUSY_TRIES {
                        return Err(StoreError::from(rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                            Some("the database stayed busy".to_string()),
                        )));
                    }
                    std::thread::sleep(BUSY_PAUSE);
                }
                // StepResult is non-exhaustive; anything new is worth another step.
                _ => {}
            }
        }
    }
    integrity::quick_check(&destination, target)?;
    destination.close().map_err(|(_, e)| StoreError::from(e))?;
    Ok(())
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    integrity::companion(path, suffix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use std::os::unix::fs::PermissionsExt;

    fn count_settings(path: &Path) -> i64 {
        let c = Connection::open(path).unwrap();
        c.query_row("SELECT count(*) FROM settings", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn backups_rotate_only_after_a_new_one_is_complete() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("v.db");
        let store = Store::open(&db).unwrap();
        assert_eq!(newest(&db), None);
        let add = |key: &str| {
            store
                .run_blocking(|c| {
                    c.execute("INSERT INTO settings (key, value) VALUES (?1, 'v')", [key])?;
                    Ok(())
                })
                .unwrap()
        };
        add("a");
        assert_eq!(make(&db, 0o640).unwrap(), path(&db, 1));
        add("b");
        make(&db, 0o640).unwrap();
        assert_eq!(count_settings(&path(&db, 1)), 2);
        assert_eq!(count_settings(&path(&db, 2)), 1);
        let mode = std::fs::metadata(path(&db, 1))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777 & !0o640, 0, "backup mode {mode:o}");
        assert!(newest_age(&db).unwrap() < Duration::from_secs(60));

        // A failed backup (the source vanished) leaves both generations as they were.
        let gone = dir.path().join("gone.db");
        assert!(make(&gone, 0o600).is_err());
        assert!(!suffixed(&gone, ".backup-new").exists());
        assert_eq!(count_settings(&path(&db, 1)), 2);
    }
}
