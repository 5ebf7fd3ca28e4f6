//! Framing and sockets: length-delimited bincode frames over a local socket. Nothing else.

pub mod client;
pub mod server;

use std::io;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use interprocess::local_socket::tokio::Stream;
use serde::{de::DeserializeOwned, Serialize};
use thiserror::Error;
use tokio_util::bytes::Bytes;
use tokio_util::codec::{Framed, LengthDelimitedCodec, LengthDelimitedCodecError};

use crate::protocol::{self, CodecError, MAX_FRAME_BYTES};

/// Why a frame could not be sent or received.
#[derive(Debug, Error)]
pub enum IpcError {
    #[error("socket error: {0}")]
    Io(#[from] io::Error),
    #[error("frame larger than the maximum of {MAX_FRAME_BYTES} bytes")]
    FrameTooLarge,
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("the peer closed the connection")]
    Closed,
    #[error("the peer sent nothing for {0:?}")]
    Timeout(Duration),
}

/// One framed connection, typed at each call.
pub struct Connection {
    framed: Framed<Stream, LengthDelimitedCodec>,
}

impl Connection {
    /// Wraps a connected stream in the protocol's framing (4-byte big-endian length prefix).
    pub fn new(stream: Stream) -> Self {
        let codec = LengthDelimitedCodec::builder()
            .max_frame_length(MAX_FRAME_BYTES)
            .new_codec();
        Connection {
            framed: Framed::new(stream, codec),
        }
    }

    /// The underlying stream, e.g. to read peer credentials.
    pub fn stream(&self) -> &Stream {
        self.framed.get_ref()
    }

    /// Encodes and sends one message.
    pub async fn send<T: Serialize>(&mut self, message: &T) -> Result<(), IpcError> {
        let payload = protocol::encode(message)?;
        self.framed.send(Bytes::from(payload)).await?;
        Ok(())
    }

    /// Receives one message; `Ok(None)` when the peer closed cleanly between frames.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Result<Option<T>, IpcError> {
        match self.framed.next().await {
            None => Ok(None),
            Some(Ok(frame)) => Ok(Some(protocol::decode(&frame)?)),
            Some(Err(e)) => Err(classify(e)),
        }
    }

    /// Like [`Connection::recv`], but a peer that stays silent for `limit` is an error.
    pub async fn recv_within<T: DeserializeOwned>(
        &mut self,
        limit: Duration,
    ) -> Result<Option<T>, IpcError> {
        tokio::time::timeout(limit, self.recv())
            .await
            .map_err(|_| IpcError::Timeout(limit))?
    }
}

/// Tells an oversized length prefix and a truncated frame apart from other socket errors.
fn classify(error: io::Error) -> IpcError {
    if error
        .get_ref()
        .is_some_and(|inner| inner.is::<LengthDelimitedCodecError>())
    {
        return IpcError::FrameTooLarge;
    }
    match error.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => IpcError::Closed,
        _ => IpcError::Io(error),
    }
}
