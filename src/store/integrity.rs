//! Is the database file fit to use? Checked at every start, before anything reads or writes it.
//!
//! A damaged database must stop the daemon with a sentence that says what to do, not start and
//! then fail every request with "database disk image is malformed"; and a database file that
//! existed but lost its content must not silently become a new, empty queue.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode};

use super::{backup, StoreError};
use crate::permissions;

/// Longest piece of SQLite's report quoted in a message.
const MAX_DETAIL_CHARS: usize = 300;

/// What is wrong with a database file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DamageKind {
    /// The file exists but has no bytes.
    Empty,
    /// SQLite cannot read it, or its integrity check failed; SQLite's own words.
    Malformed(String),
}

/// A database vfetchd refuses to use, with what there is to fall back on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub path: PathBuf,
    pub kind: DamageKind,
    /// The newest backup, when there is one.
    pub backup: Option<PathBuf>,
}

impl Damage {
    fn new(path: &Path, kind: DamageKind) -> Damage {
        Damage {
            path: path.to_path_buf(),
            kind,
            backup: backup::newest(path),
        }
    }

    /// What a person can do about it, as sentences; `recover_command` is the exact
    /// `vfetchd --recover` command line that finds this database.
    pub fn remedy(&self, recover_command: &str) -> String {
        let db = self.path.display();
        let restore = self.backup.as_ref().map(|backup| {
            format!(
                "restore the newest backup: with vfetchd stopped, move {db} (and {db}-wal and \
                 {db}-shm, if present) aside, then copy {} to {db}",
                backup.display()
            )
        });
        match (&self.kind, restore) {
            (DamageKind::Empty, Some(restore)) => format!(
                "vfetchd will not start on it, so that the loss does not go unnoticed. Either \
                 {restore}; or, to start afresh with an empty queue, move the file away \
                 (mv {db} {db}.empty) and start vfetchd again."
            ),
            (DamageKind::Empty, None) => format!(
                "vfetchd will not start on it, so that the loss does not go unnoticed. There is \
                 no backup to restore; to start afresh with an empty queue, move the file away \
                 (mv {db} {db}.empty) and start vfetchd again."
            ),
            (DamageKind::Malformed(_), Some(restore)) => format!(
                "vfetchd will not start on it. Either {restore}; or save what SQLite can still \
                 read into a new database with `{recover_command}` (the damaged file is kept \
                 beside it)."
            ),
            (DamageKind::Malformed(_), None) => format!(
                "vfetchd will not start on it, and there is no backup of it. Save what SQLite \
                 can still read into a new database with `{recover_command}` (the damaged file \
                 is kept beside it)."
            ),
        }
    }
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DamageKind::Empty => write!(
                f,
                "database {} is empty (0 bytes), although it existed before: its content was lost",
                self.path.display()
            ),
            DamageKind::Malformed(detail) => write!(
                f,
                "database {} is damaged (SQLite: {detail})",
                self.path.display()
            ),
        }
    }
}

/// The path of one of SQLite's companion files: `<database>-wal`, `<database>-shm`.
pub fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes sure the database file exists with no more than `mode`: creates it (so SQLite, which
/// copies the database's mode to its -wal and -shm files, never makes them world-readable) or
/// tightens it and its companions. Returns whether it existed; an existing empty file is
/// refused.
pub(super) fn prepare_file(path: &Path, mode: u32) -> Result<bool, StoreError> {
    let file_error = |action, source| StoreError::File {
        action,
        path: path.to_path_buf(),
        source,
    };
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.len() == 0 => Err(StoreError::Damaged(Box::new(Damage::new(
            path,
            DamageKind::Empty,
        )))),
        Ok(_) => {
            for file in [
                path.to_path_buf(),
                companion(path, "-wal"),
                companion(path, "-shm"),
            ] {
                permissions::tighten(&file, mode).map_err(|e| StoreError::File {
                    action: "change the mode of",
                    path: file.clone(),
                    source: e,
                })?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            permissions::create_new_file(path, mode).map_err(|e| file_error("create", e))?;
            Ok(false)
        }
        Err(e) => Err(file_error("read", e)),
    }
}

/// Runs SQLite's `quick_check` (every page and record, without cross-checking indexes against
/// tables: proportional to the file's size, a second or so for a large queue).
pub(super) fn quick_check(connection: &Connection, path: &Path) -> Result<(), StoreError> {
    let report = (|| -> rusqlite::Result<Vec<String>> {
        let mut statement = connection.prepare("PRAGMA quick_check")?;
        let lines = statement.query_map([], |row| row.get::<_, String>(0))?;
        lines.collect()
    })();
    match report {
        Ok(lines) if lines.len() == 1 && lines[0] == "ok" => Ok(()),
        Ok(lines) => Err(malformed(path, &lines.join("; "))),
        Err(e) => Err(damaged_or(StoreError::from(e), path)),
    }
}

/// `error` as [`StoreError::Damaged`] when SQLite says the file is corrupt or not a database.
pub(super) fn damaged_or(error: StoreError, path: &Path) -> StoreError {
    let sql = match &error {
        StoreError::Sql(e) | StoreError::Open { source: e, .. } => &e.0,
        _ => return error,
    };
    match sql.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            malformed(path, &sql.to_string())
        }
        _ => error,
    }
}

fn malformed(path: &Path, detail: &str) -> StoreError {
    let detail: String = detail
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DETAIL_CHARS)
        .collect();
    let detail = match detail.trim() {
        "" => "no details".to_string(),
        text => text.to_string(),
    };
    StoreError::Damaged(Box::new(Damage::new(path, DamageKind::Malformed(detail))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn an_emptied_database_is_refused_and_says_how_to_start_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        drop(Store::open(&path).unwrap());
        std::fs::write(&path, b"").unwrap();
        let Err(StoreError::Damaged(damage)) = Store::open(&path) else {
            panic!("an emptied database was accepted");
        };
        assert_eq!(damage.kind, DamageKind::Empty);
        let remedy = damage.remedy("vfetchd --recover");
        assert!(
            remedy.contains(&format!("mv {}", path.display())),
            "{remedy}"
        );
    }

    #[test]
    fn garbage_in_the_header_is_damage_naming_the_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        drop(Store::open(&path).unwrap());
        backup::make(&path, 0o600).unwrap();
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let Err(StoreError::Damaged(damage)) = Store::open(&path) else {
            panic!("a damaged database was accepted");
        };
        assert!(matches!(damage.kind, DamageKind::Malformed(_)));
        assert_eq!(damage.backup, Some(backup::path(&path, 1)));
        let remedy = damage.remedy("vfetchd --recover");
        assert!(remedy.contains("vfetchd --recover"), "{remedy}");
    }
}
