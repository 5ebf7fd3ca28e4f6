//! Exit statuses, documented in `vfetchctl --help`, and the errors that lead to them.

use thiserror::Error;

use crate::ipc::client::ClientError;
use crate::protocol::ErrorKind;

/// vfetchctl's exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    /// A waited-for job failed or was cancelled, or something broke inside.
    Failed = 1,
    /// Bad arguments or values.
    Usage = 2,
    /// No daemon answered in time (and none could be started), or it had no room for us.
    Unreachable = 3,
    /// The daemon understood and said no.
    Refused = 4,
    /// Client and daemon speak different protocol versions.
    Incompatible = 5,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}

/// Why a command did not succeed.
#[derive(Debug, Error)]
pub enum Failure {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0}")]
    Autostart(String),
    #[error("{0}")]
    Other(String),
}

impl Failure {
    /// The exit status this failure maps to.
    pub fn exit(&self) -> Exit {
        match self {
            Failure::Usage(_) => Exit::Usage,
            Failure::Autostart(_) => Exit::Unreachable,
            Failure::Other(_) => Exit::Failed,
            Failure::Client(e) => match e {
                ClientError::Unreachable { .. }
                | ClientError::NoAnswer { .. }
                | ClientError::Busy(_) => Exit::Unreachable,
                ClientError::VersionMismatch { .. } => Exit::Incompatible,
                ClientError::Refused(rpc) => match rpc.kind {
                    ErrorKind::Internal => Exit::Failed,
                    ErrorKind::Protocol => Exit::Incompatible,
                    _ => Exit::Refused,
                },
                ClientError::Ipc(_) | ClientError::Unexpected(_) => Exit::Failed,
            },
        }
    }
}
