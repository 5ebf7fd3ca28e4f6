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
    use crate::attribution::Attribution;
    use crate::breaker::BreakerState;
    use crate::candidate::{Candidate, Checksum};
    use crate::download::DownloadId;
    use crate::insight::ExportRecord;
    use crate::insight::Period;
    use crate::job::{JobId, JobOptions, NewJob, Quality};
    use crate::protocol::{
        BreakerChange, ConfigSet, Event, Hello, Progress, RateLimited, Request, Retry, SetPriority,
        StatsQuery, Target, ThemesQuery,
    };
    use crate::source_kind::SourceKind;
    use crate::timestamp::Timestamp;
    use serde::Serialize;

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
            Request::SetPriority(SetPriority {
                id: JobId(7),
                priority: 9,
            }),
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

    /// `Request` as it was before its variants wrapped structs; only the index of each variant
    /// matters to the wire, so the others are placeholders.
    #[derive(Serialize)]
    enum LooseRequest {
        _Add,
        _List,
        _Show,
        _Pause,
        _Resume,
        _Cancel,
        SetPriority { id: JobId, priority: i32 },
        _Status,
        _Shutdown,
        _ConfigGet,
        ConfigSet { key: String, value: String },
        _ConfigUnset,
        Stats { days: u32, by: Period },
        _History,
        Themes { prefix: String, limit: u32 },
    }

    /// `Event` as it was before; JSON names variants, so these keep their names.
    #[derive(Serialize)]
    enum LooseEvent {
        _Job,
        _Download,
        Progress {
            download: DownloadId,
            job: JobId,
            bytes: u64,
            total: Option<u64>,
            speed: f64,
        },
        _Lagged,
        Breaker {
            source: SourceKind,
            state: BreakerState,
            next_trial_secs: Option<u64>,
        },
        RateLimited {
            source: SourceKind,
            wait_ms: u64,
        },
        Retry {
            source: SourceKind,
            job: Option<JobId>,
            download: Option<DownloadId>,
            attempt: u32,
            wait_ms: u64,
            error: String,
        },
    }

    #[test]
    fn wrapping_fields_in_structs_left_the_bytes_and_the_json_as_they_were() {
        // So PROTOCOL_VERSION stands, and `watch --json` prints the same lines.
        let pairs = [
            (
                encode(&Request::from(SetPriority {
                    id: JobId(7),
                    priority: -3,
                })),
                encode(&LooseRequest::SetPriority {
                    id: JobId(7),
                    priority: -3,
                }),
            ),
            (
                encode(&Request::from(ConfigSet {
                    key: "k".into(),
                    value: "v".into(),
                })),
                encode(&LooseRequest::ConfigSet {
                    key: "k".into(),
                    value: "v".into(),
                }),
            ),
            (
                encode(&Request::from(StatsQuery {
                    days: 30,
                    by: Period::Week,
                })),
                encode(&LooseRequest::Stats {
                    days: 30,
                    by: Period::Week,
                }),
            ),
            (
                encode(&Request::from(ThemesQuery {
                    prefix: "sun".into(),
                    limit: 10,
                })),
                encode(&LooseRequest::Themes {
                    prefix: "sun".into(),
                    limit: 10,
                }),
            ),
        ];
        for (new, old) in pairs {
            assert_eq!(new.unwrap(), old.unwrap());
        }

        let events = [
            (
                Event::from(Progress {
                    download: DownloadId(4),
                    job: JobId(2),
                    bytes: 10,
                    total: Some(20),
                    speed: 1.5,
                }),
                LooseEvent::Progress {
                    download: DownloadId(4),
                    job: JobId(2),
                    bytes: 10,
                    total: Some(20),
                    speed: 1.5,
                },
            ),
            (
                Event::from(BreakerChange {
                    source: SourceKind::Pexels,
                    state: BreakerState::Open,
                    next_trial_secs: Some(30),
                }),
                LooseEvent::Breaker {
                    source: SourceKind::Pexels,
                    state: BreakerState::Open,
                    next_trial_secs: Some(30),
                },
            ),
            (
                Event::from(RateLimited {
                    source: SourceKind::Archive,
                    wait_ms: 250,
                }),
                LooseEvent::RateLimited {
                    source: SourceKind::Archive,
                    wait_ms: 250,
                },
            ),
            (
                Event::from(Retry {
                    source: SourceKind::Wikimedia,
                    job: Some(JobId(3)),
                    download: None,
                    attempt: 2,
                    wait_ms: 1500,
                    error: "HTTP 503".into(),
                }),
                LooseEvent::Retry {
                    source: SourceKind::Wikimedia,
                    job: Some(JobId(3)),
                    download: None,
                    attempt: 2,
                    wait_ms: 1500,
                    error: "HTTP 503".into(),
                },
            ),
        ];
        for (new, old) in events {
            assert_eq!(encode(&new).unwrap(), encode(&old).unwrap());
            assert_eq!(
                serde_json::to_string(&new).unwrap(),
                serde_json::to_string(&old).unwrap()
            );
        }
    }

    /// `Candidate` and `ExportRecord` as they were before they held an `Attribution`.
    #[derive(Serialize)]
    struct LooseCandidate {
        source: SourceKind,
        source_id: String,
        title: String,
        page_url: Option<String>,
        author_name: Option<String>,
        author_url: Option<String>,
        license: Option<String>,
        tags: Vec<String>,
        duration: Option<f64>,
        width: Option<u32>,
        height: Option<u32>,
        fps: Option<f64>,
        size: Option<u64>,
        url: String,
        mime: Option<String>,
        checksum: Option<Checksum>,
    }

    #[derive(Serialize)]
    struct LooseExportRecord {
        job: i64,
        theme: String,
        source: String,
        source_id: String,
        title: String,
        page_url: Option<String>,
        author_name: Option<String>,
        author_url: Option<String>,
        license: Option<String>,
        tags: String,
        path: String,
        sha256: String,
        size: u64,
        duration: Option<f64>,
        width: Option<u32>,
        height: Option<u32>,
        fps: Option<f64>,
        codec: Option<String>,
        downloaded_at: Timestamp,
    }

    fn attribution() -> Attribution {
        Attribution {
            source: SourceKind::Wikimedia,
            source_id: "File:Sea.webm".into(),
            title: "Sea".into(),
            page_url: Some("https://commons.wikimedia.org/wiki/File:Sea.webm".into()),
            author_name: Some("A. Person".into()),
            author_url: None,
            license: Some("CC BY-SA 4.0".into()),
        }
    }

    #[test]
    fn records_holding_an_attribution_keep_their_flat_json_and_round_trip() {
        let candidate = Candidate {
            attribution: attribution(),
            tags: vec!["sea".into()],
            duration: Some(12.5),
            width: Some(1920),
            height: Some(1080),
            fps: None,
            size: Some(1 << 20),
            url: "https://upload.wikimedia.org/sea.webm".into(),
            mime: Some("video/webm".into()),
            checksum: Some(Checksum::Sha1("ab".repeat(20))),
        };
        let a = attribution();
        let loose = LooseCandidate {
            source: a.source,
            source_id: a.source_id.clone(),
            title: a.title.clone(),
            page_url: a.page_url.clone(),
            author_name: a.author_name.clone(),
            author_url: a.author_url.clone(),
            license: a.license.clone(),
            tags: vec!["sea".into()],
            duration: Some(12.5),
            width: Some(1920),
            height: Some(1080),
            fps: None,
            size: Some(1 << 20),
            url: "https://upload.wikimedia.org/sea.webm".into(),
            mime: Some("video/webm".into()),
            checksum: Some(Checksum::Sha1("ab".repeat(20))),
        };
        assert_eq!(
            serde_json::to_string(&candidate).unwrap(),
            serde_json::to_string(&loose).unwrap()
        );
        assert_eq!(encode(&candidate).unwrap(), encode(&loose).unwrap());
        let bytes = encode(&candidate).unwrap();
        assert_eq!(decode::<Candidate>(&bytes).unwrap(), candidate);

        let record = ExportRecord {
            job: 3,
            theme: "sea".into(),
            attribution: attribution(),
            tags: "sea, waves".into(),
            path: "/lib/sea/x.webm".into(),
            sha256: "00".repeat(32),
            size: 1 << 20,
            duration: Some(12.5),
            width: Some(1920),
            height: Some(1080),
            fps: Some(25.0),
            codec: Some("vp9".into()),
            downloaded_at: Timestamp(1_700_000_000_000),
        };
        let loose = LooseExportRecord {
            job: 3,
            theme: "sea".into(),
            source: "wikimedia".into(),
            source_id: a.source_id,
            title: a.title,
            page_url: a.page_url,
            author_name: a.author_name,
            author_url: a.author_url,
            license: a.license,
            tags: "sea, waves".into(),
            path: "/lib/sea/x.webm".into(),
            sha256: "00".repeat(32),
            size: 1 << 20,
            duration: Some(12.5),
            width: Some(1920),
            height: Some(1080),
            fps: Some(25.0),
            codec: Some("vp9".into()),
            downloaded_at: Timestamp(1_700_000_000_000),
        };
        // `export --json` prints the same line; on the wire the source is now its enum.
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            serde_json::to_string(&loose).unwrap()
        );
        let bytes = encode(&record).unwrap();
        assert_eq!(decode::<ExportRecord>(&bytes).unwrap(), record);
    }
}
