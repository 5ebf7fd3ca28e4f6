//! Downloads, with their failure and validation as a state plus a separate reason.

use schemars::JsonSchema;
use serde::Serialize;

use crate::download::{
    Download as DomainDownload, DownloadState, FailureKind, Validation as DomainValidation,
    VideoFacts,
};
use crate::source_kind::SourceKind;

/// One file a job fetches (or fetched).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Download {
    pub id: i64,
    pub job_id: i64,
    pub candidate_id: i64,
    pub source: SourceKind,
    pub source_id: String,
    pub url: String,
    pub state: DownloadState,
    /// Bytes durably written (the resume offset), or the final size once done.
    pub bytes: u64,
    pub total: Option<u64>,
    /// Bytes per second: live while running, the average once finished.
    pub speed: Option<f64>,
    pub attempts: u32,
    pub sha256: Option<String>,
    /// Where the file is in the library, once done.
    pub path: Option<String>,
    /// What went wrong last, if anything.
    pub error: Option<DownloadError>,
    /// Whether the finished file was checked, once it was.
    pub validation: Option<Validation>,
    /// What ffprobe found, once validated.
    pub probe: Option<VideoFacts>,
}

/// Why a download failed, waits or was requeued.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DownloadError {
    /// The failure's class, when the daemon classified it (null e.g. for a duplicate or a
    /// download put back in the queue).
    pub kind: Option<FailureKind>,
    /// The daemon's words (provider text inside is not escaped).
    pub message: String,
}

/// How a finished file's check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValidationState {
    /// ffprobe found a playable video.
    Valid,
    /// Kept without a check (ffprobe missing, off, or it never finished).
    NotValidated,
    /// Rejected: not a usable video.
    Invalid,
}

/// A finished file's check: its state and, unless valid, why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Validation {
    pub state: ValidationState,
    pub reason: Option<String>,
}

impl From<&DomainValidation> for Validation {
    fn from(v: &DomainValidation) -> Self {
        let state = match v {
            DomainValidation::Valid => ValidationState::Valid,
            DomainValidation::NotValidated(_) => ValidationState::NotValidated,
            DomainValidation::Invalid(_) => ValidationState::Invalid,
        };
        Validation {
            state,
            reason: v.reason().map(str::to_string),
        }
    }
}

impl From<&DomainDownload> for Download {
    fn from(d: &DomainDownload) -> Self {
        Download {
            id: d.id.0,
            job_id: d.job_id.0,
            candidate_id: d.candidate_id.0,
            source: d.source,
            source_id: d.source_id.clone(),
            url: d.url.clone(),
            state: d.state,
            bytes: d.bytes,
            total: d.total,
            speed: d.speed,
            attempts: d.attempts,
            sha256: d.sha256.clone(),
            path: d.path.clone(),
            error: d.error.as_ref().map(|message| DownloadError {
                kind: d.failure_kind,
                message: message.clone(),
            }),
            validation: d.validation.as_ref().map(Validation::from),
            probe: d.probe.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_becomes_a_state_and_a_reason() {
        let v = Validation::from(&DomainValidation::Valid);
        assert_eq!((v.state, v.reason), (ValidationState::Valid, None));
        let v = Validation::from(&DomainValidation::NotValidated("ffprobe not found".into()));
        assert_eq!(v.state, ValidationState::NotValidated);
        assert_eq!(v.reason.as_deref(), Some("ffprobe not found"));
        let v = Validation::from(&DomainValidation::Invalid("no video stream".into()));
        assert_eq!(v.state, ValidationState::Invalid);
        assert_eq!(v.reason.as_deref(), Some("no video stream"));
    }
}
