//! Schema migrations, numbered by SQLite's `user_version`.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

/// Each entry moves the schema from version `index` to `index + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_pick_by_source.sql"),
    include_str!("migrations/003_chunk_sums.sql"),
    include_str!("migrations/004_failure_kind.sql"),
    include_str!("migrations/005_application_id.sql"),
    include_str!("migrations/006_thumbnails.sql"),
];

/// The schema version this build creates and understands.
pub(super) fn supported() -> i64 {
    MIGRATIONS.len() as i64
}

/// Applies every migration the database has not seen, each in its own transaction.
pub(super) fn apply(connection: &mut Connection, path: &Path) -> Result<(), StoreError> {
    apply_up_to(connection, path, supported())
}

/// Brings the schema to version `target` (at most [`supported`]); recovery builds a new
/// database at the damaged one's version so rows fit, then migrates it the rest of the way.
pub(super) fn apply_up_to(
    connection: &mut Connection,
    path: &Path,
    target: i64,
) -> Result<(), StoreError> {
    let current: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = supported();
    if current > supported {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: current,
            supported,
        });
    }
    let wanted = usize::try_from(target.min(supported)).unwrap_or(0);
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(wanted)
        .skip(current as usize)
    {
        let tx = connection.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "database schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op_and_newer_schemas_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut c = Connection::open(&path).unwrap();
        apply(&mut c, &path).unwrap();
        apply(&mut c, &path).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        c.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(
            apply(&mut c, &path),
            Err(StoreError::TooNew { .. })
        ));
    }
}
