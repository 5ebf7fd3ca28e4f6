//! The single source of truth: SQLite in WAL mode. The only module that speaks SQL.
//!
//! One connection behind a mutex serves the whole daemon; calls run on tokio's blocking pool so
//! a slow disk never stalls the async workers. A database is checked before it is used
//! (`integrity`), copied while the daemon runs (`backup`) and salvaged when damaged (`recover`).
//!
//! The rest of the crate sees only [`Store`]'s async methods: one per thing a caller does
//! (`record_search_page`, `pick_next`, `finish_download`, …), each exactly one transaction,
//! named in the store's own vocabulary ([`JobFilter`], [`CheckpointRecord`], [`PageOutcome`],
//! [`Outcome`], and the crate's neutral domain types) — no SQL, connection, wire or fetch type
//! crosses it. That method set is the contract a second backend (PostgreSQL) implements; the
//! SQLite implementation lives beside each method, one file per table group, as named query
//! functions that take a connection and are private to this module.

pub mod backup;
mod candidates;
mod cleanup;
mod downloads;
mod export;
mod integrity;
mod jobs;
mod library;
mod migrations;
mod ownership;
mod pending;
mod ratelimits;
pub mod recover;
mod searches;
mod settings;
mod stats;
mod thumbnails;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use thiserror::Error;

use crate::job::{InvalidInput, JobId, JobState};

pub use candidates::Cursor;
pub use downloads::{CheckpointRecord, Outcome, Progress, Settled, Work};
pub use integrity::Damage;
pub use jobs::{JobFilter, JobParts};
pub use ownership::Foreign;
pub use searches::{PageOutcome, RecordedPage};
pub use stats::SourceOutcome;

/// The database's mode when no caller says otherwise: its owner alone may read it.
const OWNER_ONLY: u32 = 0o600;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sql(EngineError),
    #[error("cannot open database {path}: {source}")]
    Open { path: PathBuf, source: EngineError },
    #[error("database {path} has schema version {found}, newer than this vfetchd understands ({supported}); upgrade vfetchd")]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// The file is a SQLite database another program made; it was not changed.
    #[error("{0}")]
    Foreign(Box<Foreign>),
    #[error("no job with id {0}")]
    JobNotFound(JobId),
    #[error("job {id} is {from}; it cannot become {to}")]
    Transition {
        id: JobId,
        from: JobState,
        to: JobState,
    },
    /// The database file is damaged or lost its content; a person has to decide what to do.
    #[error("{0}")]
    Damaged(Box<Damage>),
    #[error("cannot {action} {path}: {source}")]
    File {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("stored row is unreadable: {0}")]
    Corrupt(String),
    #[error("database task failed: {0}")]
    Task(String),
}

/// A failure inside the database engine, opaque so that no engine type crosses the store's API.
#[derive(Debug, Error)]
#[error(transparent)]
pub struct EngineError(rusqlite::Error);

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sql(EngineError(e))
    }
}

impl From<InvalidInput> for StoreError {
    fn from(e: InvalidInput) -> Self {
        StoreError::Corrupt(e.0)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// A handle on the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    connection: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed, mode 0600) the database at `path` and brings its schema up
    /// to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with_mode(path, OWNER_ONLY)
    }

    /// Opens the database at `path`, creating it with `file_mode` (SQLite gives its -wal and
    /// -shm files the same mode) or tightening an existing one to it. An existing database
    /// is checked first: another program's database is refused with [`StoreError::Foreign`]
    /// before anything touches it, a damaged or emptied one with [`StoreError::Damaged`].
    pub fn open_with_mode(path: &Path, file_mode: u32) -> Result<Store, StoreError> {
        ownership::check(path)?;
        let existed = integrity::prepare_file(path, file_mode)?;
        let open_error = |source| StoreError::Open {
            path: path.to_path_buf(),
            source: EngineError(source),
        };
        let mut connection = Connection::open(path).map_err(open_error)?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(open_error)?;
        if existed {
            integrity::quick_check(&connection, path)?;
        }
        // WAL lets readers proceed during a write; NORMAL is durable across process crashes
        // (the kill -9 case) and only risks the last transactions on power loss.
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| integrity::damaged_or(open_error(e), path))?;
        migrations::apply(&mut connection, path).map_err(|e| integrity::damaged_or(e, path))?;
        Ok(Store {
            connection: Arc::new(Mutex::new(connection)),
            path: path.to_path_buf(),
        })
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` with the connection on the blocking pool. Private: callers use the named
    /// operations, so the store alone decides what one transaction covers.
    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave SQLite half-written (transactions roll
            // back on drop), so a poisoned lock is still safe to use.
            let mut guard = connection.lock().unwrap_or_else(|p| p.into_inner());
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `work` on the calling thread, outside the async runtime.
    fn run_blocking<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        work(&mut guard)
    }
}
