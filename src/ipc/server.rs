//! The daemon's side of the socket: binding safely and accepting connections.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use interprocess::local_socket::tokio::prelude::*;
use interprocess::local_socket::tokio::{Listener, Stream};
use interprocess::local_socket::{GenericFilePath, ListenerOptions};
use interprocess::os::unix::local_socket::ListenerOptionsExt;
use thiserror::Error;

/// Why the daemon could not take its socket.
#[derive(Debug, Error)]
pub enum BindError {
    #[error("another vfetchd is already answering on {0}; stop it first or use another --socket")]
    AlreadyRunning(PathBuf),
    #[error("{path} exists and is not a socket; refusing to replace it")]
    NotASocket { path: PathBuf },
    #[error("cannot prepare socket directory {path}: {source}")]
    Directory { path: PathBuf, source: io::Error },
    #[error("cannot bind {path}: {source}")]
    Bind { path: PathBuf, source: io::Error },
}

/// Who is on the other end of a connection, from the kernel (SO_PEERCRED).
#[derive(Debug, Clone, Copy, Default)]
pub struct Peer {
    pub uid: Option<u32>,
    pub pid: Option<i32>,
}

impl Peer {
    /// Reads the peer's credentials; unknown fields stay `None` rather than failing the connection.
    pub fn of(stream: &Stream) -> Peer {
        match stream.peer_creds() {
            Ok(creds) => Peer {
                uid: creds.euid(),
                pid: creds.pid(),
            },
            Err(_) => Peer::default(),
        }
    }
}

/// Binds the listening socket at `path` with file mode `mode`.
///
/// A socket file left by a dead daemon is replaced, but only after checking that nothing answers
/// on it; a live daemon makes this fail with [`BindError::AlreadyRunning`].
pub async fn bind(path: &Path, mode: u32) -> Result<Listener, BindError> {
    prepare_directory(path)?;
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if super::client::answers(path).await {
                return Err(BindError::AlreadyRunning(path.to_path_buf()));
            }
            tracing::info!(socket = %path.display(), "replacing stale socket left by a daemon that is gone");
            fs::remove_file(path).map_err(|source| BindError::Bind {
                path: path.to_path_buf(),
                source,
            })?;
        }
        Ok(_) => {
            return Err(BindError::NotASocket {
                path: path.to_path_buf(),
            })
        }
        Err(_) => {}
    }
    let bind_error = |source| BindError::Bind {
        path: path.to_path_buf(),
        source,
    };
    let name = path.to_fs_name::<GenericFilePath>().map_err(bind_error)?;
    let listener = ListenerOptions::new()
        .name(name)
        .mode(mode as libc::mode_t)
        .create_tokio()
        .map_err(|source| {
            if source.kind() == io::ErrorKind::AddrInUse {
                // Another daemon won the race between our check and our bind.
                BindError::AlreadyRunning(path.to_path_buf())
            } else {
                BindError::Bind {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
    // The mode given at bind time is filtered by the umask (systemd's 0027 included); the
    // group must be able to connect in system mode, so set it explicitly.
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|source| {
        BindError::Bind {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Ok(listener)
}

/// Creates the socket's directory owner-only if it does not exist yet; an existing directory
/// (such as `$XDG_RUNTIME_DIR` or systemd's `RuntimeDirectory`) keeps the mode it was given.
fn prepare_directory(path: &Path) -> Result<(), BindError> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .and_then(|_| fs::set_permissions(dir, fs::Permissions::from_mode(0o700)))
        .map_err(|source| BindError::Directory {
            path: dir.to_path_buf(),
            source,
        })
}
