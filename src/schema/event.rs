//! What `watch --json` prints: one [`Event`] per line, tagged by `"type"`; the HTTP API's event
//! stream (`GET /api/events`) sends the same events, plus a [`Snapshot`] to start from.

use schemars::JsonSchema;
use serde::Serialize;

use super::download::Download;
use super::job::Job;
use super::status::Status;
use super::SCHEMA_VERSION;
use crate::breaker::BreakerState;
use crate::protocol::Event as DomainEvent;
use crate::source_kind::SourceKind;

/// One line of `watch --json`. Consumers must ignore `type`s they do not know.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The first line: which schema the stream speaks and which daemon sends it.
    Hello(Hello),
    /// A job changed state or progress.
    Job(Job),
    /// A download changed state.
    Download(Download),
    /// A running download's progress, about every 250 ms.
    Progress(Progress),
    /// A source's circuit breaker changed state.
    Breaker(Breaker),
    /// Requests to a source wait for its rate-limit window.
    RateLimited(RateLimited),
    /// A request failed and will be tried again.
    Retry(Retry),
    /// The watcher fell behind and this many events were dropped for it.
    Lagged(Lagged),
    /// Only on `GET /api/events`: the current state, for a new follower or one too far behind
    /// to be given what it missed.
    Snapshot(Snapshot),
}

/// `{"type":"hello"}`: the stream's first line.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Hello {
    /// The version of this schema (see schema/vfetch.schema.json).
    pub schema_version: u32,
    /// The daemon's version, from the connection's handshake.
    pub daemon_version: String,
}

impl Hello {
    /// The hello for a stream from a daemon of `daemon_version`.
    pub fn new(daemon_version: &str) -> Hello {
        Hello {
            schema_version: SCHEMA_VERSION,
            daemon_version: daemon_version.to_string(),
        }
    }
}

/// `{"type":"progress"}`: how far one running download is.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Progress {
    pub download: i64,
    pub job: i64,
    /// Bytes stored so far.
    pub bytes: u64,
    /// The full size, when known.
    pub total: Option<u64>,
    /// Bytes per second, recently.
    pub speed: f64,
}

/// `{"type":"breaker"}`: a source's circuit breaker moved.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Breaker {
    pub source: SourceKind,
    pub state: BreakerState,
    /// Seconds until the next trial call, while open.
    pub next_trial_secs: Option<u64>,
}

/// `{"type":"rate_limited"}`: requests to a source wait for its window.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RateLimited {
    pub source: SourceKind,
    /// How long the next request waits, in milliseconds.
    pub wait_ms: u64,
}

/// `{"type":"retry"}`: a request failed and will be tried again.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Retry {
    pub source: SourceKind,
    pub job: Option<i64>,
    pub download: Option<i64>,
    /// The try that failed, counting from 1.
    pub attempt: u32,
    /// How long until the next try, in milliseconds.
    pub wait_ms: u64,
    /// Why the try failed, in the daemon's words (provider text inside is not escaped).
    pub error: String,
}

/// `{"type":"lagged"}`: events dropped for a slow watcher.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Lagged {
    pub dropped: u64,
}

/// `{"type":"snapshot"}`: where things stand, for a follower to start from; the events after it
/// are changes to this.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Snapshot {
    /// The daemon's status, as `status --json` prints it.
    pub status: Status,
    /// A stream of one job: that job. Otherwise the jobs not yet over (queued, searching,
    /// downloading, paused) in queue order, at most the first 1000.
    pub jobs: Vec<Job>,
    /// A stream of one job: its downloads. Otherwise empty.
    pub downloads: Vec<Download>,
}

impl From<&DomainEvent> for Event {
    fn from(event: &DomainEvent) -> Self {
        match event {
            DomainEvent::Job(job) => Event::Job(Job::from(job)),
            DomainEvent::Download(d) => Event::Download(Download::from(d)),
            DomainEvent::Progress(p) => Event::Progress(Progress {
                download: p.download.0,
                job: p.job.0,
                bytes: p.bytes,
                total: p.total,
                speed: p.speed,
            }),
            DomainEvent::Lagged { dropped } => Event::Lagged(Lagged { dropped: *dropped }),
            DomainEvent::Breaker(b) => Event::Breaker(Breaker {
                source: b.source,
                state: b.state,
                next_trial_secs: b.next_trial_secs,
            }),
            DomainEvent::RateLimited(r) => Event::RateLimited(RateLimited {
                source: r.source,
                wait_ms: r.wait_ms,
            }),
            DomainEvent::Retry(r) => Event::Retry(Retry {
                source: r.source,
                job: r.job.map(|j| j.0),
                download: r.download.map(|d| d.0),
                attempt: r.attempt,
                wait_ms: r.wait_ms,
                error: r.error.clone(),
            }),
        }
    }
}
