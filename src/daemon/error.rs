//! Why the daemon could not start or had to stop, and the exit status each reason ends vfetchd
//! with. Apart from `mod.rs` so the pieces that fail (startup, `--recover`) can name it without
//! depending on the file that wires them together.

use std::path::PathBuf;

use thiserror::Error;

use super::lock;
use crate::ipc::server::BindError;
use crate::store::{Damage, StoreError};
use crate::validate::ValidateError;

/// vfetchd's exit status when its database is damaged, emptied or another program's: a person
/// must act, so systemd should not restart it (`RestartPreventExitStatus=` in the unit).
pub const EXIT_DAMAGED_DATABASE: u8 = 3;

/// Why the daemon could not start or had to stop.
#[derive(Debug, Error)]
pub enum DaemonError {
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The database is damaged or emptied; says what to do, with the exact recovery command.
    #[error("{damage}. {}", damage.remedy(recover_command))]
    Damaged {
        damage: Box<Damage>,
        recover_command: String,
    },
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error("cannot create {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    Http(reqwest::Error),
    #[error(transparent)]
    Validate(#[from] ValidateError),
    #[error(transparent)]
    Web(#[from] super::http::WebError),
}

impl DaemonError {
    /// The process exit status this error ends vfetchd with.
    pub fn exit_code(&self) -> u8 {
        match self {
            DaemonError::Damaged { .. } | DaemonError::Store(StoreError::Foreign(_)) => {
                EXIT_DAMAGED_DATABASE
            }
            _ => 1,
        }
    }
}
