//! Salvaging a damaged database (`vfetchd --recover`): what SQLite can still read is copied,
//! table by table and row by row in rowid order, into a new database made by the normal
//! migrations; the damaged file is kept beside it.
//!
//! The bundled SQLite has no `sqlite3_recover` extension, so the walk is done here: a read that
//! fails is retried just past the last good row, then with growing jumps (1, 2, 4, … rowids)
//! until a read succeeds, and a bisection then finds the first readable rowid after the gap.
//! Every probe is one B-tree seek, and every step moves forward, so the walk always ends.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OpenFlags, OptionalExtension};

use super::{integrity, migrations, ownership, StoreError};
use crate::permissions;

/// Jumps tried past one unreadable stretch before the rest of the table is given up.
const MAX_JUMPS: u32 = 63;
/// Rounds of removing rows whose parent row was lost (each round can orphan their children).
const MAX_ORPHAN_ROUNDS: u32 = 16;

/// What was saved of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRecovery {
    pub table: String,
    /// Rows copied into the new database (and kept).
    pub saved: u64,
    /// Unreadable stretches skipped (each may have held any number of rows).
    pub unreadable: u64,
    /// Rows read but refused by the schema (garbage that still parsed as a row).
    pub refused: u64,
    /// Rows dropped because the row they belong to (a job, a candidate) was lost.
    pub orphaned: u64,
}

/// The outcome of a recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The database now in place, made of the saved rows.
    pub database: PathBuf,
    /// Where the damaged file was moved.
    pub damaged: PathBuf,
    pub tables: Vec<TableRecovery>,
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Saved from the damaged database:")?;
        for t in &self.tables {
            write!(f, "  {}: {} rows saved", t.table, t.saved)?;
            if t.unreadable > 0 {
                write!(f, ", {} unreadable stretches skipped", t.unreadable)?;
            }
            if t.refused > 0 {
                write!(f, ", {} garbled rows refused", t.refused)?;
            }
            if t.orphaned > 0 {
                write!(
                    f,
                    ", {} rows dropped as their job or candidate was lost",
                    t.orphaned
                )?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "The damaged database was moved to {}.",
            self.damaged.display()
        )?;
        write!(
            f,
            "The recovered database is now {}. Start vfetchd again and check its jobs with \
             `vfetchctl list`; once satisfied, the damaged copy can be deleted.",
            self.database.display()
        )
    }
}

/// Saves what can be read of the database at `database` into `<database>.recovered` (mode
/// `file_mode`), then moves the damaged file to `<database>.corrupt-<time>` and the recovered
/// one into its place. The daemon must not be running.
pub fn recover(database: &Path, file_mode: u32) -> Result<Recovery, StoreError> {
    let file_error = |action, path: &Path, source| StoreError::File {
        action,
        path: path.to_path_buf(),
        source,
    };
    std::fs::metadata(database).map_err(|e| file_error("read", database, e))?;
    // Another program's database is not damage to repair: replacing it would lose its data.
    ownership::check(database)?;
    let source = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| integrity::damaged_or(StoreError::from(e), database))?;
    // Without a readable header and schema there are no tables to walk.
    let version: i64 = source
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| integrity::damaged_or(StoreError::from(e), database))?;
    if version > migrations::supported() {
        return Err(StoreError::TooNew {
            path: database.to_path_buf(),
            found: version,
            supported: migrations::supported(),
        });
    }

    let recovered_path = integrity::companion(database, ".recovered");
    for stale in [
        recovered_path.clone(),
        integrity::companion(&recovered_path, "-journal"),
        integrity::companion(&recovered_path, "-wal"),
        integrity::companion(&recovered_path, "-shm"),
    ] {
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(file_error("remove", &stale, e)),
        }
    }
    permissions::create_new_file(&recovered_path, file_mode)
        .map_err(|e| file_error("create", &recovered_path, e))?;
    let mut target = Connection::open(&recovered_path)?;
    // Rows arrive in table order, not parent-first; orphans are removed after the copy.
    target.execute_batch("PRAGMA foreign_keys = OFF; PRAGMA journal_mode = DELETE;")?;
    migrations::apply_up_to(&mut target, &recovered_path, version.max(0))?;

    let mut tables = Vec::new();
    for table in table_names(&target)? {
        let columns = column_names(&target, &table)?;
        let tx = target.transaction()?;
        let recovery = copy_table(&source, &tx, &table, &columns);
        tx.commit()?;
        tables.push(recovery);
    }
    drop_orphans(&target, &mut tables)?;
    migrations::apply(&mut target, &recovered_path)?;
    integrity::quick_check(&target, &recovered_path)?;
    target.close().map_err(|(_, e)| StoreError::from(e))?;
    drop(source);
    File::open(&recovered_path)
        .and_then(|f| f.sync_all())
        .map_err(|e| file_error("sync", &recovered_path, e))?;

    // The WAL and shared-memory files go with the damaged database: left behind, SQLite would
    // replay the old WAL into the recovered file.
    let damaged = integrity::companion(database, &format!(".corrupt-{}", stamp()));
    for suffix in ["", "-wal", "-shm"] {
        let from = integrity::companion(database, suffix);
        if std::fs::symlink_metadata(&from).is_ok() {
            let to = integrity::companion(&damaged, suffix);
            std::fs::rename(&from, &to).map_err(|e| file_error("move", &from, e))?;
        }
    }
    std::fs::rename(&recovered_path, database)
        .map_err(|e| file_error("move", &recovered_path, e))?;
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| file_error("sync", dir, e))?;
    }
    Ok(Recovery {
        database: database.to_path_buf(),
        damaged,
        tables,
    })
}

/// The schema's own tables, in creation order.
fn table_names(connection: &Connection) -> Result<Vec<String>, StoreError> {
    let mut statement = connection.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         ORDER BY rowid",
    )?;
    let names = statement.query_map([], |r| r.get(0))?;
    Ok(names.collect::<Result<_, _>>()?)
}

fn column_names(connection: &Connection, table: &str) -> Result<Vec<String>, StoreError> {
    let mut statement = connection.prepare(&format!("PRAGMA table_info({})", quote(table)))?;
    let names = statement.query_map([], |r| r.get::<_, String>(1))?;
    Ok(names.collect::<Result<_, _>>()?)
}

/// Where a read of rows from some rowid on stopped.
enum Walk {
    /// No more rows.
    End,
    /// Reading failed; rows before `from` were handled.
    Failed { from: i64 },
}

/// Copies every readable row of `table`.
fn copy_table(
    source: &Connection,
    target: &Connection,
    table: &str,
    columns: &[String],
) -> TableRecovery {
    let mut result = TableRecovery {
        table: table.to_string(),
        saved: 0,
        unreadable: 0,
        refused: 0,
        orphaned: 0,
    };
    let list = columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let select = format!(
        "SELECT rowid, {list} FROM {} WHERE rowid >= ?1 ORDER BY rowid",
        quote(table)
    );
    let placeholders = (1..=columns.len() + 1)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = format!(
        "INSERT INTO {} (rowid, {list}) VALUES ({placeholders})",
        quote(table)
    );
    let mut from = i64::MIN;
    loop {
        let walk = read_rows(source, &select, columns.len(), from, |row| {
            match target.execute(&insert, params_from_iter(row)) {
                Ok(_) => result.saved += 1,
                Err(_) => result.refused += 1,
            }
        });
        match walk {
            Walk::End => return result,
            Walk::Failed { from: failed } => {
                result.unreadable += 1;
                // After some rows were read, a fresh seek may get past what stopped the scan
                // (a garbled row, a broken link between pages); if not, or if the read failed
                // at its very start, jump.
                if failed > from && readable_from(source, &select, columns.len(), failed) {
                    from = failed;
                    continue;
                }
                match skip_unreadable(source, &select, columns.len(), failed) {
                    Some(next) => from = next,
                    None => return result,
                }
            }
        }
    }
}

/// Reads rows with rowid ≥ `from` in order, handing each to `save`, until the end or an error.
fn read_rows(
    source: &Connection,
    select: &str,
    width: usize,
    from: i64,
    mut save: impl FnMut(Vec<Value>),
) -> Walk {
    let mut next = from;
    let Ok(mut statement) = source.prepare_cached(select) else {
        return Walk::Failed { from: next };
    };
    let Ok(mut rows) = statement.query([from]) else {
        return Walk::Failed { from: next };
    };
    loop {
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => return Walk::End,
            Err(_) => return Walk::Failed { from: next },
        };
        let Ok(rowid) = row.get::<_, i64>(0) else {
            return Walk::Failed { from: next };
        };
        let values: Result<Vec<Value>, _> = (0..=width).map(|i| row.get::<_, Value>(i)).collect();
        match rowid.checked_add(1) {
            Some(after) => next = after,
            None => {
                if let Ok(values) = values {
                    save(values);
                }
                return Walk::End;
            }
        }
        match values {
            Ok(values) => save(values),
            // This row's content (say, an overflow page) is unreadable: skip just this row.
            Err(_) => return Walk::Failed { from: next },
        }
    }
}

/// Whether a read starting at rowid `from` gets past its first row (or finds no row) without
/// an error.
fn readable_from(source: &Connection, select: &str, width: usize, from: i64) -> bool {
    let Ok(mut statement) = source.prepare_cached(select) else {
        return false;
    };
    let first = statement
        .query_row([from], |row| {
            (0..=width)
                .map(|i| row.get::<_, Value>(i))
                .collect::<Result<Vec<_>, _>>()
        })
        .optional();
    first.is_ok()
}

/// After a failed read from `failed`, the first rowid after it a read can start from again: jumps of
/// 1, 2, 4, … rowids find a readable place, then a bisection narrows the gap so readable rows
/// just after the damage are not lost. `None`: nothing readable follows.
fn skip_unreadable(source: &Connection, select: &str, width: usize, failed: i64) -> Option<i64> {
    let mut step: i64 = 1;
    for _ in 0..MAX_JUMPS {
        let candidate = failed.checked_add(step)?;
        if readable_from(source, select, width, candidate) {
            let (mut bad, mut good) = (failed, candidate);
            while good - bad > 1 {
                let middle = bad + (good - bad) / 2;
                if readable_from(source, select, width, middle) {
                    good = middle;
                } else {
                    bad = middle;
                }
            }
            return Some(good);
        }
        step = step.checked_mul(2)?;
    }
    None
}

/// Removes rows whose parent row was lost (foreign keys were off during the copy).
fn drop_orphans(target: &Connection, tables: &mut [TableRecovery]) -> Result<(), StoreError> {
    for _ in 0..MAX_ORPHAN_ROUNDS {
        let orphans: Vec<(String, i64)> = {
            let mut statement = target.prepare("PRAGMA foreign_key_check")?;
            let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        if orphans.is_empty() {
            return Ok(());
        }
        for (table, rowid) in orphans {
            let removed = target.execute(
                &format!("DELETE FROM {} WHERE rowid = ?1", quote(&table)),
                [rowid],
            )?;
            if let Some(t) = tables.iter_mut().find(|t| t.table == table) {
                t.orphaned += removed as u64;
                t.saved = t.saved.saturating_sub(removed as u64);
            }
        }
    }
    Ok(())
}

/// An SQL identifier, quoted (names come from our own schema, but quoting costs nothing).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The time for the damaged file's name: `20261125T101500Z`.
fn stamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// A database with `n` settings rows big enough to fill many pages.
    fn filled(path: &Path, n: usize) {
        let store = Store::open(path).unwrap();
        store
            .run_blocking(|c| {
                for i in 0..n {
                    c.execute(
                        "INSERT INTO settings (key, value) VALUES (?1, ?2)",
                        (format!("key{i:05}"), "x".repeat(300)),
                    )?;
                }
                Ok(())
            })
            .unwrap();
    }

    fn leaf_pages(path: &Path, table: &str) -> Vec<i64> {
        let c = Connection::open(path).unwrap();
        let mut s = c
            .prepare(
                "SELECT pageno FROM dbstat WHERE name = ?1 AND pagetype = 'leaf' ORDER BY pageno",
            )
            .unwrap();
        let pages = s.query_map([table], |r| r.get(0)).unwrap();
        pages.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn rows_around_a_damaged_page_are_saved() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("v.db");
        filled(&db, 200);
        let pages = leaf_pages(&db, "settings");
        assert!(pages.len() > 5, "{pages:?}");
        // Overwrite one leaf in the middle of the table with garbage.
        let mut bytes = std::fs::read(&db).unwrap();
        let start = (pages[pages.len() / 2] as usize - 1) * 4096;
        for (i, b) in bytes[start..start + 4096].iter_mut().enumerate() {
            *b = (i * 7 + 13) as u8;
        }
        std::fs::write(&db, bytes).unwrap();
        assert!(matches!(Store::open(&db), Err(StoreError::Damaged(_))));

        let recovery = recover(&db, 0o600).unwrap();
        let settings = recovery
            .tables
            .iter()
            .find(|t| t.table == "settings")
            .unwrap();
        assert!(settings.unreadable >= 1, "{recovery}");
        assert!(settings.saved > 150 && settings.saved < 200, "{recovery}");
        assert!(recovery.damaged.exists());
        let store = Store::open(&db).unwrap();
        let (count, last): (i64, String) = store
            .run_blocking(|c| {
                Ok(
                    c.query_row("SELECT count(*), max(key) FROM settings", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?,
                )
            })
            .unwrap();
        assert_eq!(count as u64, settings.saved);
        // Rows after the damaged page were found again.
        assert_eq!(last, "key00199");
    }
}
