//! The wire vocabulary shared by `vfetchd` and `vfetchctl`. No I/O lives here.
//!
//! A connection opens with [`Hello`] / [`HelloReply`], whose shapes never change so that any two
//! versions can tell each other apart; after that every [`Request`] gets exactly one
//! [`Response`], except [`Request::Subscribe`], after which the daemon streams
//! [`Response::Event`]s until the client goes away.

mod codec;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use codec::{decode, encode, CodecError};

use crate::breaker::BreakerState;
use crate::candidate::StoredCandidate;
use crate::download::Download;
use crate::insight::{
    CleanupQuery, CleanupReport, ExportRecord, HistoryQuery, HistoryRow, Period, Stats, ThemeCount,
};
use crate::job::{Job, JobId, JobState, NewJob};
use crate::source_kind::SourceKind;

/// Bumped whenever `Request`, `Response` or `Event` change shape.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest frame either side accepts; a bigger length prefix closes the connection.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// The first frame a client sends. Its layout is frozen across versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol_version: u32,
    pub client_version: String,
}

/// The daemon's answer to [`Hello`]. Its layout is frozen across versions: existing variants
/// never change and new ones only ever go at the end, so every client from this version on can
/// read every refusal, and an older one fails to decode a newer variant instead of misreading it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HelloReply {
    Welcome {
        protocol_version: u32,
        daemon_version: String,
    },
    VersionMismatch {
        daemon_protocol_version: u32,
        daemon_version: String,
        message: String,
    },
    /// Every connection the daemon allows is busy with a request or a subscription; `message`
    /// is one sentence for the user. The daemon closes the connection after sending it.
    Busy { message: String },
}

/// What a client may ask of the daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Create a job; answered with [`Response::Job`].
    Add(NewJob),
    /// Jobs in queue order; answered with [`Response::Jobs`].
    List(ListQuery),
    /// One job with its downloads; answered with [`Response::Detail`].
    Show(JobId),
    /// Stop work at clean offsets; answered with [`Response::Jobs`] (those that changed).
    Pause(Target),
    /// Queue paused work again; answered with [`Response::Jobs`] (those that changed).
    Resume(Target),
    /// Stop a job for good; answered with [`Response::Job`].
    Cancel(JobId),
    /// Change a job's priority (larger runs first); answered with [`Response::Job`].
    SetPriority { id: JobId, priority: i32 },
    /// Daemon health and queue summary; answered with [`Response::Status`].
    Status,
    /// Stop the daemon gracefully, as on SIGTERM; answered with [`Response::ShuttingDown`].
    Shutdown,
    /// Settings in force (one key or all); answered with [`Response::Config`].
    ConfigGet { key: Option<String> },
    /// Change one setting at runtime, persisted; answered with [`Response::Config`].
    ConfigSet { key: String, value: String },
    /// Drop a runtime setting so the file's value applies again; answered with [`Response::Config`].
    ConfigUnset { key: String },
    /// Totals, per source and per period; answered with [`Response::Stats`].
    Stats { days: u32, by: Period },
    /// Recent finished downloads; answered with [`Response::History`].
    History(HistoryQuery),
    /// Searched themes starting with `prefix` (all when empty), most used first; answered with
    /// [`Response::Themes`].
    Themes { prefix: String, limit: u32 },
    /// Finished downloads with attribution, streamed as [`Response::ExportBatch`]es closed by
    /// one [`Response::ExportEnd`].
    Export { job: Option<JobId> },
    /// Remove old records; answered with [`Response::Cleanup`].
    Cleanup(CleanupQuery),
    /// Figures in the Prometheus text format; answered with [`Response::Metrics`].
    Metrics,
    /// Stream events (optionally for one job); answered with [`Response::Subscribed`] and then
    /// [`Response::Event`]s.
    Subscribe { job: Option<JobId> },
}

impl Request {
    /// The request for logs: API keys in `config set` are masked.
    pub fn for_log(&self) -> String {
        match self {
            Request::ConfigSet { key, .. } if key.ends_with("api_key") => {
                format!("ConfigSet {{ key: {key:?}, value: \"***\" }}")
            }
            other => format!("{other:?}"),
        }
    }

    /// Whether the request changes state, so the daemon logs who asked for it.
    pub fn changes_state(&self) -> bool {
        !matches!(
            self,
            Request::List(_)
                | Request::Show(_)
                | Request::Status
                | Request::Subscribe { .. }
                | Request::ConfigGet { .. }
                | Request::Stats { .. }
                | Request::History(_)
                | Request::Themes { .. }
                | Request::Export { .. }
                | Request::Metrics
        )
    }
}

/// Which jobs a pause or resume applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    Job(JobId),
    All,
}

/// Filters and paging for [`Request::List`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    /// Only jobs in these states; empty means all.
    pub states: Vec<JobState>,
    pub limit: u32,
    pub offset: u32,
}

/// The daemon's answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    Job(Job),
    Jobs(Vec<Job>),
    Detail(JobDetail),
    Status(StatusView),
    Config(Vec<Setting>),
    Stats(Stats),
    History(Vec<HistoryRow>),
    Themes(Vec<ThemeCount>),
    ExportBatch(Vec<ExportRecord>),
    ExportEnd { records: u64 },
    Cleanup(CleanupReport),
    Metrics(String),
    ShuttingDown,
    Subscribed,
    Event(Event),
    Error(RpcError),
}

/// Something that happened in the daemon, after it was written to the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// A job changed state or progress.
    Job(Job),
    /// A download changed state.
    Download(Download),
    /// A running download's progress, about every 250 ms (dropped first when a client lags).
    Progress {
        download: crate::download::DownloadId,
        job: JobId,
        bytes: u64,
        total: Option<u64>,
        speed: f64,
    },
    /// The subscriber fell behind and this many events were dropped for it.
    Lagged { dropped: u64 },
    /// A source's circuit breaker changed state.
    Breaker {
        source: SourceKind,
        state: BreakerState,
        next_trial_secs: Option<u64>,
    },
    /// Requests to a source wait for its rate-limit window.
    RateLimited { source: SourceKind, wait_ms: u64 },
    /// A request failed and will be tried again.
    Retry {
        source: SourceKind,
        job: Option<JobId>,
        download: Option<crate::download::DownloadId>,
        attempt: u32,
        wait_ms: u64,
        error: String,
    },
}

/// Why a request was refused; `kind` decides the client's exit code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct RpcError {
    pub kind: ErrorKind,
    pub message: String,
}

impl RpcError {
    /// An error of `kind` with a one-line message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RpcError {
            kind,
            message: message.into(),
        }
    }
}

/// The classes of refusal a client can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request's values are not acceptable.
    BadRequest,
    /// The job (or other object) does not exist.
    NotFound,
    /// The object exists but is in a state that does not allow this.
    Conflict,
    /// The frame could not be understood.
    Protocol,
    /// The daemon is stopping and takes no new work.
    ShuttingDown,
    /// Something failed inside the daemon; its log has the details.
    Internal,
}

/// One job with its downloads and candidates, for `show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: Job,
    pub downloads: Vec<Download>,
    pub candidates: Vec<StoredCandidate>,
}

/// Daemon health, for `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusView {
    pub daemon_version: String,
    pub protocol_version: u32,
    pub pid: u32,
    pub uptime_secs: u64,
    pub socket: String,
    pub database: String,
    pub library_dir: String,
    /// Number of jobs in each state (every state present, zero included).
    pub jobs: BTreeMap<String, u64>,
    pub active_downloads: u32,
    pub parallel_downloads: u32,
    /// Conditions that need the user, e.g. downloads paused because the disk is full.
    pub problems: Vec<String>,
    /// How finished files are checked, e.g. "ffprobe 5.1 at /usr/bin/ffprobe" or "not validated: …".
    pub validation: String,
    pub sources: Vec<SourceStatus>,
}

/// One source's health line in `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub source: SourceKind,
    pub enabled: bool,
    /// "ok", or why the source is off, e.g. "disabled: no API key".
    pub state: String,
    pub base_url: String,
    pub breaker: BreakerState,
    /// Seconds until the next trial call, while the breaker is open.
    pub next_trial_secs: Option<u64>,
    /// Seconds until the rate limit (or a Retry-After) lets the next request go.
    pub waiting_secs: Option<u64>,
    /// The rate limit in force, e.g. "200/3600,20000/2592000".
    pub rate_limit: String,
}

/// One configuration key as `config get` shows it (API keys as `***`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    pub key: String,
    pub value: String,
    /// Whether `vfetchctl config set` put this value in force (it then outlives restarts).
    pub runtime: bool,
}
