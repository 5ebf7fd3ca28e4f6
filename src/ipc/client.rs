//! The client's side of the socket: connect, handshake, request, and follow events.

use std::io;
use std::path::Path;
use std::time::Duration;

use interprocess::local_socket::tokio::prelude::*;
use interprocess::local_socket::tokio::Stream;
use interprocess::local_socket::GenericFilePath;
use thiserror::Error;

use super::{Connection, IpcError};
use crate::protocol::{
    Answer, Event, Hello, HelloReply, Request, Response, RpcError, PROTOCOL_VERSION,
};

/// How long a client waits for any single answer before calling the daemon stuck.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting and the Hello exchange may take together. A daemon that cannot even
/// greet within this is out of descriptors or stuck, and waiting longer helps nobody.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a client could not get an answer.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot reach vfetchd at {path}: {source}")]
    Unreachable { path: String, source: io::Error },
    #[error("vfetchd speaks protocol {daemon} (vfetchd {daemon_version}) but this vfetchctl speaks protocol {client} (vfetchctl {client_version}); upgrade the older one")]
    VersionMismatch {
        daemon: u32,
        daemon_version: String,
        client: u32,
        client_version: String,
    },
    #[error("vfetchd at {path} did not answer within {after:?}; it may be overloaded or stuck (its log says more)")]
    NoAnswer { path: String, after: Duration },
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Refused(#[from] RpcError),
    #[error("connection to vfetchd failed: {0}")]
    Ipc(#[from] IpcError),
    #[error("vfetchd sent an unexpected answer: {0}")]
    Unexpected(String),
}

/// A connection that has completed the handshake.
pub struct Client {
    connection: Connection,
    /// The daemon's own version, from its welcome.
    pub daemon_version: String,
}

/// Whether some process accepts connections on `path` (a live daemon, not a stale file).
pub async fn answers(path: &Path) -> bool {
    match path.to_fs_name::<GenericFilePath>() {
        Ok(name) => tokio::time::timeout(Duration::from_secs(2), Stream::connect(name))
            .await
            .is_ok_and(|r| r.is_ok()),
        Err(_) => false,
    }
}

impl Client {
    /// Connects to the daemon at `path` and performs the version handshake, all within
    /// [`HANDSHAKE_TIMEOUT`].
    pub async fn connect(path: &Path) -> Result<Client, ClientError> {
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, Client::handshake(path)).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::NoAnswer {
                path: path.display().to_string(),
                after: HANDSHAKE_TIMEOUT,
            }),
        }
    }

    async fn handshake(path: &Path) -> Result<Client, ClientError> {
        let unreachable = |source| ClientError::Unreachable {
            path: path.display().to_string(),
            source,
        };
        let name = path.to_fs_name::<GenericFilePath>().map_err(unreachable)?;
        let stream = Stream::connect(name).await.map_err(unreachable)?;
        let mut connection = Connection::new(stream);
        connection
            .send(&Hello {
                protocol_version: PROTOCOL_VERSION,
                client_version: env!("CARGO_PKG_VERSION").to_string(),
            })
            .await?;
        let reply = match connection.recv::<HelloReply>().await {
            Ok(reply) => reply,
            // The handshake's shape is frozen, so an answer we cannot read comes from a newer
            // daemon with a reply this client does not know.
            Err(IpcError::Codec(e)) => {
                return Err(ClientError::Unexpected(format!(
                    "a handshake answer this vfetchctl cannot read ({e}); is vfetchd newer than vfetchctl {}?",
                    env!("CARGO_PKG_VERSION")
                )))
            }
            Err(e) => return Err(e.into()),
        };
        match reply {
            Some(HelloReply::Welcome { daemon_version, .. }) => Ok(Client {
                connection,
                daemon_version,
            }),
            Some(HelloReply::VersionMismatch {
                daemon_protocol_version,
                daemon_version,
                ..
            }) => Err(ClientError::VersionMismatch {
                daemon: daemon_protocol_version,
                daemon_version,
                client: PROTOCOL_VERSION,
                client_version: env!("CARGO_PKG_VERSION").to_string(),
            }),
            // The daemon's words, but only as one line of plain text.
            Some(HelloReply::Busy { message }) => Err(ClientError::Busy(
                crate::text::escaped(&message).into_owned(),
            )),
            None => Err(IpcError::Closed.into()),
        }
    }

    /// Sends one request and returns its answer; a refusal becomes [`ClientError::Refused`].
    pub async fn request(&mut self, request: &Request) -> Result<Response, ClientError> {
        self.connection.send(request).await?;
        match self.connection.recv_within(REPLY_TIMEOUT).await? {
            Some(Response::Error(e)) => Err(ClientError::Refused(e)),
            Some(response) => Ok(response),
            None => Err(IpcError::Closed.into()),
        }
    }

    /// Sends one request and returns the answer of the kind `T` it expects; an answer of any
    /// other kind is [`ClientError::Unexpected`].
    pub async fn call<T: Answer>(&mut self, request: &Request) -> Result<T, ClientError> {
        T::from_response(self.request(request).await?)
            .map_err(|other| ClientError::Unexpected(format!("{other:?}")))
    }

    /// The next frame of a streamed answer (after [`Client::request`] returned its first).
    pub async fn next_response(&mut self) -> Result<Response, ClientError> {
        match self.connection.recv_within(REPLY_TIMEOUT).await? {
            Some(Response::Error(e)) => Err(ClientError::Refused(e)),
            Some(response) => Ok(response),
            None => Err(IpcError::Closed.into()),
        }
    }

    /// After a subscribe, waits for the next event; `None` when the daemon closed the stream.
    pub async fn next_event(&mut self) -> Result<Option<Event>, ClientError> {
        match self.connection.recv::<Response>().await? {
            Some(Response::Event(event)) => Ok(Some(event)),
            Some(Response::Error(e)) => Err(ClientError::Refused(e)),
            Some(other) => Err(ClientError::Unexpected(format!("{other:?}"))),
            None => Ok(None),
        }
    }
}
