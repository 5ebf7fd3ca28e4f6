//! The one place that turns protocol values into bytes and back.
//!
//! bincode 2.0.1 is frozen upstream; keeping it behind these two functions means a move to a
//! maintained format touches only this file.

use serde::{de::DeserializeOwned, Serialize};
use thiserror::Error;

use super::MAX_FRAME_BYTES;

/// A payload that could not be encoded or decoded.
#[derive(Debug, Error)]
pub enum CodecError {
    #[error("cannot encode message: {0}")]
    Encode(#[from] bincode::error::EncodeError),
    #[error("malformed message: {0}")]
    Decode(#[from] bincode::error::DecodeError),
    #[error("malformed message: {0} trailing bytes after the payload")]
    Trailing(usize),
}

fn config() -> impl bincode::config::Config {
    // The limit bounds what a hostile length field inside a payload can make us allocate.
    bincode::config::standard().with_limit::<MAX_FRAME_BYTES>()
}

/// Encodes one message as a frame payload.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    Ok(bincode::serde::encode_to_vec(value, config())?)
}

/// Decodes one frame payload; leftover bytes mean the peer speaks another shape.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (value, used) = bincode::serde::decode_from_slice::<T, _>(bytes, config())?;
    if used != bytes.len() {
        return Err(CodecError::Trailing(bytes.len() - used));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{JobId, JobOptions, NewJob, Quality};
    use crate::protocol::{Hello, Request, Target};

    #[test]
    fn requests_round_trip() {
        let requests = vec![
            Request::Add(NewJob {
                theme: "sunset ' -- ../ ünïcode".into(),
                count: 3,
                priority: -2,
                options: JobOptions {
                    quality: Some(Quality::Hd),
                    ..Default::default()
                },
            }),
            Request::Pause(Target::All),
            Request::SetPriority {
                id: JobId(7),
                priority: 9,
            },
        ];
        for request in requests {
            let bytes = encode(&request).unwrap();
            assert_eq!(decode::<Request>(&bytes).unwrap(), request);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&b""[..], b"\xff\xff\xff\xff\xff", b"\x63\x00", &[0xfe; 64]] {
            assert!(decode::<Request>(bytes).is_err());
        }
    }

    #[test]
    fn a_huge_inner_length_is_refused() {
        // A string length prefix claiming ~4 GiB must not be allocated.
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(&[0xfc, 0xff, 0xff, 0xff, 0xff]);
        assert!(decode::<Hello>(&bytes).is_err());
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = encode(&Request::Status).unwrap();
        bytes.push(0);
        assert!(matches!(
            decode::<Request>(&bytes),
            Err(CodecError::Trailing(1))
        ));
    }
}
