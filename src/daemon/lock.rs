//! One daemon per state directory: an advisory lock held for the daemon's whole life.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why the state directory could not be claimed.
#[derive(Debug, Error)]
pub enum LockError {
    #[error("another vfetchd is already using state directory {0}")]
    Busy(PathBuf),
    #[error("cannot lock {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Held while the daemon runs; the kernel releases it when the process dies, even on kill -9.
pub struct StateLock {
    _file: File,
}

impl StateLock {
    /// Takes the lock on `<state_dir>/vfetchd.lock` or reports who holds it.
    pub fn acquire(state_dir: &Path) -> Result<StateLock, LockError> {
        let path = state_dir.join("vfetchd.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| LockError::Io {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(StateLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Busy(state_dir.to_path_buf())),
            Err(std::fs::TryLockError::Error(source)) => Err(LockError::Io { path, source }),
        }
    }
}
