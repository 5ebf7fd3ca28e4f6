//! Is an existing database file vfetch's? Checked before anything opens it for writing.
//!
//! A user may point `database` at a file some other program made (the Flask app vfetch
//! replaces kept its data in SQLite too). Migrating it would add vfetch's tables to someone
//! else's data, so such a file is refused, and nothing — not even a -wal, -shm or journal file
//! — is written beside it.
//!
//! vfetch marks its databases with [`APPLICATION_ID`] (migration 005). Databases from releases
//! before that mark carry application_id 0; they are recognised by a schema version of 1 or
//! more together with vfetch's first tables.

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::integrity::companion;
use super::StoreError;
use crate::text;

/// `PRAGMA application_id` of every vfetch database: "vfet" in ASCII.
pub const APPLICATION_ID: u32 = 0x7666_6574;

/// Tables migration 001 creates: a database at user_version ≥ 1 without them is not vfetch's.
const FIRST_TABLES: &[&str] = &["jobs", "candidates", "downloads", "searches", "settings"];

/// How many of a foreign database's table names a message quotes.
const MAX_NAMED_TABLES: usize = 6;
/// Longest table name quoted, in characters.
const MAX_NAME_CHARS: usize = 40;

/// Bytes of the SQLite header that hold what this check reads.
const HEADER_LEN: usize = 100;
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What the first 100 bytes of a database file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    user_version: u32,
    application_id: u32,
    /// The file is in WAL mode (read/write format version 2).
    wal: bool,
}

/// A database made by another program: its path and (some of) its table names, already
/// made safe to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    pub path: PathBuf,
    pub tables: Vec<String>,
    /// Tables beyond those named.
    pub more: usize,
}

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names = if self.tables.is_empty() {
            "none".to_string()
        } else {
            self.tables.join(", ")
        };
        if self.more > 0 {
            names.push_str(", …");
        }
        write!(
            f,
            "{} is a SQLite database made by another program (tables: {names}); vfetchd will \
             not change it. Point `database` at a new file or remove that setting.",
            self.path.display()
        )
    }
}

/// Refuses the existing, non-empty file at `path` with [`StoreError::Foreign`] when it is a
/// SQLite database that vfetch did not make. Writes nothing. A file that is not readable as
/// SQLite passes: the integrity check that follows names the damage.
pub(super) fn check(path: &Path) -> Result<(), StoreError> {
    let Some(header) = read_header(path) else {
        return Ok(());
    };
    if header.application_id == APPLICATION_ID {
        return Ok(());
    }
    // The file's own header lags behind a WAL that was not folded in (after a kill -9, a new
    // vfetch database may have its tables and version only there), so the verdict rests on
    // what SQLite reads through the WAL.
    let (header, tables) = match read_schema(path, header) {
        Ok(read) => read,
        // Unreadable schema: only the header can decide, and only a foreign mark is certain.
        Err(_) if header.application_id != 0 => (header, Vec::new()),
        Err(_) => return Ok(()),
    };
    if header.application_id == APPLICATION_ID {
        return Ok(());
    }
    let ours = header.application_id == 0
        && if header.user_version == 0 {
            tables.is_empty()
        } else {
            FIRST_TABLES
                .iter()
                .all(|wanted| tables.iter().any(|t| t == wanted))
        };
    if ours {
        return Ok(());
    }
    let more = tables.len().saturating_sub(MAX_NAMED_TABLES);
    let tables = tables
        .iter()
        .take(MAX_NAMED_TABLES)
        .map(|name| {
            let cut: String = name.chars().take(MAX_NAME_CHARS).collect();
            text::escaped(&cut).into_owned()
        })
        .collect();
    Err(StoreError::Foreign(Box::new(Foreign {
        path: path.to_path_buf(),
        tables,
        more,
    })))
}

/// The header fields, or `None` when the file is too short or not SQLite.
fn read_header(path: &Path) -> Option<Header> {
    let mut bytes = [0u8; HEADER_LEN];
    std::fs::File::open(path)
        .ok()?
        .read_exact(&mut bytes)
        .ok()?;
    if &bytes[..16] != MAGIC {
        return None;
    }
    let word =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Some(Header {
        user_version: word(60),
        application_id: word(68),
        wal: bytes[18] == 2,
    })
}

/// The database's version, mark and own tables (not SQLite's internal ones, in name order),
/// read without writing anything: read-only, and for a WAL database without a -wal file as
/// immutable, since a read-only connection would otherwise create -wal and -shm files and
/// leave them behind.
fn read_schema(path: &Path, header: Header) -> rusqlite::Result<(Header, Vec<String>)> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let immutable_uri = (header.wal && !companion(path, "-wal").exists())
        .then(|| path.to_str().map(immutable_uri))
        .flatten();
    let connection = match immutable_uri {
        Some(uri) => Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?,
        None => Connection::open_with_flags(path, flags)?,
    };
    let mut statement = connection.prepare(
        "SELECT name FROM sqlite_schema
         WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
         ORDER BY name",
    )?;
    // Names in another program's file need not be UTF-8.
    let names = statement.query_map([], |row| {
        Ok(String::from_utf8_lossy(row.get_ref(0)?.as_bytes()?).into_owned())
    })?;
    let tables = names.collect::<rusqlite::Result<Vec<String>>>()?;
    let pragma = |name: &str| -> rusqlite::Result<u32> {
        // Both are 32-bit header fields; SQLite reports application_id signed.
        let value: i64 = connection.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))?;
        Ok(value as u32)
    };
    let current = Header {
        user_version: pragma("user_version")?,
        application_id: pragma("application_id")?,
        wal: header.wal,
    };
    Ok((current, tables))
}

/// A `file:` URI that opens `path` read-only and immutable (no locks, no -shm).
fn immutable_uri(path: &str) -> String {
    let mut uri = String::from("file:");
    for c in path.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?mode=ro&immutable=1");
    uri
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn foreign_db(path: &Path, wal: bool) {
        let c = Connection::open(path).unwrap();
        if wal {
            c.pragma_update(None, "journal_mode", "WAL").unwrap();
        }
        c.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE videos (id INTEGER PRIMARY KEY, url TEXT);
             INSERT INTO users (name) VALUES ('ada');",
        )
        .unwrap();
        c.close().unwrap();
    }

    fn refused(path: &Path) -> Foreign {
        match Store::open(path) {
            Err(StoreError::Foreign(foreign)) => *foreign,
            Err(e) => panic!("refused for another reason: {e}"),
            Ok(_) => panic!("a foreign database was accepted"),
        }
    }

    #[test]
    fn another_programs_tables_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        foreign_db(&path, false);
        let foreign = refused(&path);
        assert_eq!(foreign.tables, ["users", "videos"]);
        assert!(foreign
            .to_string()
            .contains("(tables: users, videos); vfetchd will not change it"));
    }

    #[test]
    fn a_foreign_wal_database_gets_no_wal_or_shm_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        foreign_db(&path, true);
        assert!(!companion(&path, "-wal").exists());
        let before = std::fs::read(&path).unwrap();
        refused(&path);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(!companion(&path, "-wal").exists());
        assert!(!companion(&path, "-shm").exists());
    }

    #[test]
    fn another_application_id_is_refused_even_without_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "application_id", 0x0f0f_0f0f)
            .unwrap();
        c.close().unwrap();
        assert!(refused(&path).tables.is_empty());
    }

    #[test]
    fn a_schema_version_without_vfetchs_tables_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("versioned.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE jobs (id INTEGER); PRAGMA user_version = 3;")
            .unwrap();
        c.close().unwrap();
        assert_eq!(refused(&path).tables, ["jobs"]);
    }

    #[test]
    fn many_tables_are_named_up_to_a_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.db");
        let c = Connection::open(&path).unwrap();
        for i in 0..9 {
            c.execute_batch(&format!("CREATE TABLE t{i} (x);")).unwrap();
        }
        c.close().unwrap();
        let foreign = refused(&path);
        assert_eq!(foreign.tables.len(), MAX_NAMED_TABLES);
        assert_eq!(foreign.more, 3);
        assert!(foreign.to_string().contains("t5, …)"), "{foreign}");
    }

    #[test]
    fn an_empty_sqlite_file_and_an_unmarked_vfetch_database_are_accepted_and_marked() {
        let dir = tempfile::tempdir().unwrap();
        // An empty database another tool created (header only, no tables): vfetch may fill it.
        let empty = dir.path().join("empty.db");
        let c = Connection::open(&empty).unwrap();
        c.execute_batch("VACUUM;").unwrap();
        c.close().unwrap();
        assert!(read_header(&empty).is_some());
        drop(Store::open(&empty).unwrap());
        assert_eq!(read_header(&empty).unwrap().application_id, APPLICATION_ID);

        // A database from before migration 005: vfetch's tables, application_id 0.
        let old = dir.path().join("old.db");
        let mut c = Connection::open(&old).unwrap();
        super::super::migrations::apply_up_to(&mut c, &old, 4).unwrap();
        c.close().unwrap();
        assert_eq!(read_header(&old).unwrap().application_id, 0);
        drop(Store::open(&old).unwrap());
        let c = Connection::open(&old).unwrap();
        let id: u32 = c
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, APPLICATION_ID);
    }

    #[test]
    fn a_vfetch_database_whose_schema_is_still_only_in_the_wal_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let mut c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;")
            .unwrap();
        super::super::migrations::apply(&mut c, &path).unwrap();
        // As after kill -9: the connection never closes, so nothing is folded into the file.
        std::mem::forget(c);
        let header = read_header(&path).unwrap();
        assert_eq!((header.user_version, header.application_id), (0, 0));
        assert!(companion(&path, "-wal").exists());
        check(&path).unwrap();
    }

    #[test]
    fn the_immutable_uri_escapes_what_uris_reserve() {
        assert_eq!(
            immutable_uri("/a b/50%?#.db"),
            "file:/a b/50%25%3f%23.db?mode=ro&immutable=1"
        );
    }
}
