//! What the daemon streams to subscribers: [`Event`], written after the change it reports was
//! stored.

use serde::{Deserialize, Serialize};

use crate::breaker::BreakerState;
use crate::download::{Download, DownloadId};
use crate::job::{Job, JobId};
use crate::source_kind::SourceKind;

/// Something that happened in the daemon, after it was written to the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// A job changed state or progress.
    Job(Job),
    /// A download changed state.
    Download(Download),
    /// A running download's progress, about every 250 ms (dropped first when a client lags).
    Progress(Progress),
    /// The subscriber fell behind and this many events were dropped for it.
    Lagged { dropped: u64 },
    /// A source's circuit breaker changed state.
    Breaker(BreakerChange),
    /// Requests to a source wait for its rate-limit window.
    RateLimited(RateLimited),
    /// A request failed and will be tried again.
    Retry(Retry),
}

/// [`Event::Progress`]: how far one running download is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub download: DownloadId,
    pub job: JobId,
    /// Bytes stored so far.
    pub bytes: u64,
    /// The full size, when known.
    pub total: Option<u64>,
    /// Bytes per second, recently.
    pub speed: f64,
}

/// [`Event::Breaker`]: a source's circuit breaker moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakerChange {
    pub source: SourceKind,
    pub state: BreakerState,
    /// Seconds until the next trial call, while open.
    pub next_trial_secs: Option<u64>,
}

/// [`Event::RateLimited`]: requests to a source wait for its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimited {
    pub source: SourceKind,
    /// How long the next request waits, in milliseconds.
    pub wait_ms: u64,
}

/// [`Event::Retry`]: a request failed and will be tried again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    pub source: SourceKind,
    pub job: Option<JobId>,
    pub download: Option<DownloadId>,
    /// The try that failed, counting from 1.
    pub attempt: u32,
    /// How long until the next try, in milliseconds.
    pub wait_ms: u64,
    /// Why the try failed, as the daemon phrased it (provider text inside is not escaped).
    pub error: String,
}

impl From<Retry> for Event {
    fn from(message: Retry) -> Self {
        Event::Retry(message)
    }
}

impl From<Progress> for Event {
    fn from(message: Progress) -> Self {
        Event::Progress(message)
    }
}

impl From<BreakerChange> for Event {
    fn from(message: BreakerChange) -> Self {
        Event::Breaker(message)
    }
}

impl From<RateLimited> for Event {
    fn from(message: RateLimited) -> Self {
        Event::RateLimited(message)
    }
}

impl Event {
    /// Whether a follower of `job` (or of everything, `None`) wants this event: a job's own
    /// changes, its downloads and their progress and retries, and what concerns every job
    /// (breakers, rate limits, retries of searches).
    pub fn concerns(&self, job: Option<JobId>) -> bool {
        match (self, job) {
            (_, None) => true,
            (Event::Job(j), Some(id)) => j.id == id,
            (Event::Download(d), Some(id)) => d.job_id == id,
            (Event::Progress(p), Some(id)) => p.job == id,
            (Event::Retry(r), Some(id)) if r.job.is_some() => r.job == Some(id),
            (
                Event::Lagged { .. } | Event::Breaker(_) | Event::RateLimited(_) | Event::Retry(_),
                _,
            ) => true,
        }
    }
}
