//! The download vocabulary: one candidate the scheduler decided to fetch, and its life cycle.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::candidate::CandidateId;
use crate::input::{names, InvalidInput};
use crate::job::JobId;
use crate::source_kind::SourceKind;

/// A download's identity; also names its staging file `<id>.part`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DownloadId(pub i64);

impl fmt::Display for DownloadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a download is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DownloadState {
    /// Waiting for a slot.
    Queued,
    /// Bytes are flowing.
    Running,
    /// Stopped at a clean offset by the user, a full disk or an unwritable library; resumes
    /// from there.
    Paused,
    /// In the library, validated.
    Done,
    /// Gave up after retries; the job fetches another candidate.
    Failed,
    /// Same content as a file already in the library.
    Duplicate,
    /// Not a playable video.
    Invalid,
    /// Its job was cancelled.
    Cancelled,
}

impl DownloadState {
    /// Every state.
    pub const ALL: [DownloadState; 8] = [
        DownloadState::Queued,
        DownloadState::Running,
        DownloadState::Paused,
        DownloadState::Done,
        DownloadState::Failed,
        DownloadState::Duplicate,
        DownloadState::Invalid,
        DownloadState::Cancelled,
    ];

    /// The lower-case name used in the database and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DownloadState::Queued => "queued",
            DownloadState::Running => "running",
            DownloadState::Paused => "paused",
            DownloadState::Done => "done",
            DownloadState::Failed => "failed",
            DownloadState::Duplicate => "duplicate",
            DownloadState::Invalid => "invalid",
            DownloadState::Cancelled => "cancelled",
        }
    }

    /// A finished download never changes state again.
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            DownloadState::Queued | DownloadState::Running | DownloadState::Paused
        )
    }
}

impl fmt::Display for DownloadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DownloadState {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DownloadState::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                InvalidInput(format!(
                    "unknown download state {s:?}: expected one of {}",
                    names(DownloadState::ALL.iter().map(|d| d.as_str()))
                ))
            })
    }
}

/// Why a download waits or ended without a file: stored as a code beside the human-readable
/// error, so the daemon (and `status`) decides by kind and never by the wording of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Paused: the disk under staging or the library is full; the offset is kept.
    DiskFull,
    /// Paused with the complete file kept in staging: the library refused it (read-only,
    /// permissions, …) and `resume` places it once the directory is writable.
    LibraryUnwritable,
    /// Complete in staging, but ffprobe did not finish; the validation is retried with backoff.
    ValidationUnfinished,
    /// The body's hash is not the checksum the provider published, on every try.
    ChecksumMismatch,
    /// ffprobe found no usable video in the file.
    InvalidVideo,
    /// The server answered with an HTTP error status.
    HttpStatus,
    /// The link or a redirect points where outgoing requests may not go.
    RefusedAddress,
    /// The body is larger than the job's size limit.
    TooLarge,
    /// The server sent something other than a video.
    NotAVideo,
    /// The connection failed, stalled or ended early, on every try.
    Network,
    /// A redirect that cannot be followed (a loop, or not to a web address).
    BadRedirect,
    /// The partial file could not be written or read.
    FileError,
    /// The daemon itself could not finish the work (its database or a task failed).
    Internal,
}

impl FailureKind {
    /// Every kind.
    pub const ALL: [FailureKind; 13] = [
        FailureKind::DiskFull,
        FailureKind::LibraryUnwritable,
        FailureKind::ValidationUnfinished,
        FailureKind::ChecksumMismatch,
        FailureKind::InvalidVideo,
        FailureKind::HttpStatus,
        FailureKind::RefusedAddress,
        FailureKind::TooLarge,
        FailureKind::NotAVideo,
        FailureKind::Network,
        FailureKind::BadRedirect,
        FailureKind::FileError,
        FailureKind::Internal,
    ];

    /// The code stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::DiskFull => "disk_full",
            FailureKind::LibraryUnwritable => "library_unwritable",
            FailureKind::ValidationUnfinished => "validation_unfinished",
            FailureKind::ChecksumMismatch => "checksum_mismatch",
            FailureKind::InvalidVideo => "invalid_video",
            FailureKind::HttpStatus => "http_status",
            FailureKind::RefusedAddress => "refused_address",
            FailureKind::TooLarge => "too_large",
            FailureKind::NotAVideo => "not_a_video",
            FailureKind::Network => "network",
            FailureKind::BadRedirect => "bad_redirect",
            FailureKind::FileError => "file_error",
            FailureKind::Internal => "internal",
        }
    }
}

impl FromStr for FailureKind {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FailureKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                InvalidInput(format!(
                    "unknown failure kind {s:?}: expected one of {}",
                    names(FailureKind::ALL.iter().map(|k| k.as_str()))
                ))
            })
    }
}

/// What ffprobe found in a video file (kept with a validated download).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct VideoFacts {
    /// Container, as ffprobe's `format_name` (e.g. "mov,mp4,m4a,3gp,3g2,mj2").
    pub format: String,
    /// Codec of the first video stream (e.g. "h264").
    pub codec: String,
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frames per second, when the file states a usable rate.
    pub fps: Option<f64>,
    /// Overall bit rate in bits per second, when known.
    pub bitrate: Option<u64>,
    /// Length in seconds.
    pub duration: f64,
    /// Whether any audio stream is present.
    pub has_audio: bool,
}

/// How a finished file's check ended: a state with the reason beside it, never one text to
/// take apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Validation {
    /// ffprobe found a playable video.
    Valid,
    /// Kept without a check (ffprobe missing or off, or it never finished); why.
    NotValidated(String),
    /// Rejected as not a usable video; why.
    Invalid(String),
}

impl Validation {
    /// Why the file was not checked or was rejected; `None` when valid.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Validation::Valid => None,
            Validation::NotValidated(why) | Validation::Invalid(why) => Some(why),
        }
    }
}

/// The one-line form hooks receive and the database keeps: "valid", "not validated: <why>", or
/// (for a rejected file) the reason alone.
impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Validation::Valid => f.write_str("valid"),
            Validation::NotValidated(why) => write!(f, "not validated: {why}"),
            Validation::Invalid(why) => f.write_str(why),
        }
    }
}

/// A download as stored and as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Download {
    pub id: DownloadId,
    pub job_id: JobId,
    pub candidate_id: CandidateId,
    pub source: SourceKind,
    pub source_id: String,
    pub url: String,
    pub state: DownloadState,
    /// Bytes durably written (the resume offset), or the final size once done.
    pub bytes: u64,
    pub total: Option<u64>,
    /// Bytes per second over the current attempt, while running.
    pub speed: Option<f64>,
    pub attempts: u32,
    pub sha256: Option<String>,
    pub path: Option<String>,
    pub error: Option<String>,
    /// What kind of failure `error` reports, when the daemon classified it.
    pub failure_kind: Option<FailureKind>,
    /// How the finished file's check ended, once it was checked.
    pub validation: Option<Validation>,
    /// What ffprobe found, once validated.
    pub probe: Option<VideoFacts>,
}
