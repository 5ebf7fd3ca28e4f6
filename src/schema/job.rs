//! Jobs and what `show` adds to one: its candidates with their attribution.

use schemars::JsonSchema;
use serde::Serialize;

use super::download::Download;
use crate::attribution::Attribution as DomainAttribution;
use crate::candidate::{CandidateState, Checksum as DomainChecksum, StoredCandidate};
use crate::job::{Job as DomainJob, JobOptions, JobState};
use crate::protocol::{JobDetail as DomainJobDetail, JobView};
use crate::source_kind::SourceKind;
use crate::timestamp::Timestamp;
use crate::waiting::Waiting as DomainWaiting;

/// A job: what was asked for, where it stands and what went wrong.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Job {
    pub id: i64,
    pub theme: String,
    /// Videos wanted.
    pub count: u32,
    /// Higher runs first.
    pub priority: i32,
    pub state: JobState,
    pub options: JobOptions,
    /// Downloads that finished valid and unique.
    pub done: u32,
    /// Why the job failed, or what went wrong per source; one line each (free text).
    pub errors: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Why nothing moves: every source the job still needs is held up, one entry per source
    /// (`list`, `show` and their HTTP routes; omitted when the job is not waiting).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<Waiting>,
}

/// Why a job waits on a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// The source's circuit breaker is open after repeated failures; `seconds` until its trial.
    CircuitOpen,
    /// The breaker's trial requests are out; their answers decide (`seconds` is null).
    TrialInFlight,
    /// The rate limit, or the provider's Retry-After, holds requests; `seconds` until the next.
    RateLimited,
}

/// One source holding a job up.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Waiting {
    pub source: SourceKind,
    pub reason: WaitReason,
    /// Whole seconds (rounded up) until the source may be tried again; null while a trial runs.
    pub seconds: Option<u64>,
}

impl From<&DomainWaiting> for Waiting {
    fn from(w: &DomainWaiting) -> Self {
        let reason = match w {
            DomainWaiting::CircuitOpen { .. } => WaitReason::CircuitOpen,
            DomainWaiting::TrialInFlight { .. } => WaitReason::TrialInFlight,
            DomainWaiting::RateLimited { .. } => WaitReason::RateLimited,
        };
        Waiting {
            source: w.source(),
            reason,
            seconds: w.seconds(),
        }
    }
}

impl From<&JobView> for Job {
    fn from(view: &JobView) -> Self {
        Job::with_waiting(&view.job, &view.waiting)
    }
}

impl Job {
    /// `job` with the sources holding it up.
    fn with_waiting(job: &DomainJob, waiting: &[DomainWaiting]) -> Job {
        Job {
            waiting: waiting.iter().map(Waiting::from).collect(),
            ..Job::from(job)
        }
    }
}

impl From<&DomainJob> for Job {
    fn from(job: &DomainJob) -> Self {
        Job {
            id: job.id.0,
            theme: job.theme.clone(),
            count: job.count,
            priority: job.priority,
            state: job.state,
            options: job.options.clone(),
            done: job.done,
            errors: job.errors.clone(),
            created_at: job.created_at,
            updated_at: job.updated_at,
            waiting: Vec::new(),
        }
    }
}

/// `show`: one job with its downloads and the candidates its searches found.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JobDetail {
    pub job: Job,
    pub downloads: Vec<Download>,
    pub candidates: Vec<Candidate>,
}

impl From<&DomainJobDetail> for JobDetail {
    fn from(detail: &DomainJobDetail) -> Self {
        JobDetail {
            job: Job::with_waiting(&detail.job, &detail.waiting),
            downloads: detail.downloads.iter().map(Download::from).collect(),
            candidates: detail.candidates.iter().map(Candidate::from).collect(),
        }
    }
}

/// Who made a video and under what terms, as its source described it (untrusted text).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Attribution {
    pub source: SourceKind,
    /// The provider's id for the video.
    pub source_id: String,
    pub title: String,
    pub page_url: Option<String>,
    pub author_name: Option<String>,
    pub author_url: Option<String>,
    pub license: Option<String>,
}

impl From<&DomainAttribution> for Attribution {
    fn from(a: &DomainAttribution) -> Self {
        Attribution {
            source: a.source,
            source_id: a.source_id.clone(),
            title: a.title.clone(),
            page_url: a.page_url.clone(),
            author_name: a.author_name.clone(),
            author_url: a.author_url.clone(),
            license: a.license.clone(),
        }
    }
}

/// The hash algorithm of a provider's published checksum.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChecksumAlgorithm {
    Sha1,
    Md5,
}

/// A checksum the provider published for its file, verified after download.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Checksum {
    pub algorithm: ChecksumAlgorithm,
    /// Lower-case hex digits.
    pub hex: String,
}

impl From<&DomainChecksum> for Checksum {
    fn from(c: &DomainChecksum) -> Self {
        let (algorithm, hex) = match c {
            DomainChecksum::Sha1(hex) => (ChecksumAlgorithm::Sha1, hex),
            DomainChecksum::Md5(hex) => (ChecksumAlgorithm::Md5, hex),
        };
        Checksum {
            algorithm,
            hex: hex.clone(),
        }
    }
}

/// One video a search found for a job, with the rendition chosen.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Candidate {
    pub id: i64,
    pub state: CandidateState,
    /// Order in which the scheduler tries candidates.
    pub rank: u32,
    pub attribution: Attribution,
    pub tags: Vec<String>,
    /// Seconds.
    pub duration: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fps: Option<f64>,
    /// Bytes, when the provider says.
    pub size: Option<u64>,
    /// The chosen rendition's URL.
    pub url: String,
    pub mime: Option<String>,
    pub checksum: Option<Checksum>,
}

impl From<&StoredCandidate> for Candidate {
    fn from(c: &StoredCandidate) -> Self {
        let v = &c.video;
        Candidate {
            id: c.id.0,
            state: c.state,
            rank: c.rank,
            attribution: Attribution::from(&v.attribution),
            tags: v.tags.clone(),
            duration: v.duration,
            width: v.width,
            height: v.height,
            fps: v.fps,
            size: v.size,
            url: v.url.clone(),
            mime: v.mime.clone(),
            checksum: v.checksum.as_ref().map(Checksum::from),
        }
    }
}
