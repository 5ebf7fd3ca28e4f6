//! What the daemon answers: [`Response`], the views it carries, and [`RpcError`] for a refusal.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Event;
use crate::breaker::BreakerState;
use crate::candidate::StoredCandidate;
use crate::download::{Download, DownloadId};
use crate::gallery::{LibraryPage, ThumbnailImage, ThumbnailReport};
use crate::insight::{CleanupReport, ExportRecord, HistoryRow, Stats, ThemeCount};
use crate::job::Job;
use crate::ratelimit::WindowUse;
use crate::source_kind::{SourceKind, SourceOff};
use crate::validate::ValidatorStatus;
use crate::waiting::Waiting;

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
    ExportEnd {
        records: u64,
    },
    Cleanup(CleanupReport),
    Metrics(String),
    ShuttingDown,
    Subscribed,
    Event(Event),
    Error(RpcError),
    WebLogin(WebLogin),
    ExportPage(ExportPage),
    /// The answer to `List`: jobs with why each waits.
    JobList(Vec<JobView>),
    Media(MediaFile),
    /// The answer to `Library`: a page of finished videos.
    Library(LibraryPage),
    /// The answer to `Thumbnail`: the image.
    Thumbnail(ThumbnailImage),
    /// The end of `MakeMissingThumbnails`: what was made.
    Thumbnails(ThumbnailReport),
    /// `MakeMissingThumbnails` under way: the counts so far (every few seconds).
    ThumbnailsProgress(ThumbnailReport),
}

/// The payload of one kind of [`Response`], so a client can name the answer it expects and get
/// it typed (see `Client::call`) instead of matching every response by hand.
pub trait Answer: Sized {
    /// The payload, or the response unchanged (boxed: it can be large) when it is another kind.
    fn from_response(response: Response) -> Result<Self, Box<Response>>;
}

/// Implements [`Answer`] for the payload of a one-field variant.
macro_rules! answer {
    ($($payload:ty => $variant:ident),* $(,)?) => {$(
        impl Answer for $payload {
            fn from_response(response: Response) -> Result<Self, Box<Response>> {
                match response {
                    Response::$variant(payload) => Ok(payload),
                    other => Err(Box::new(other)),
                }
            }
        }
    )*};
}

answer! {
    Job => Job,
    Vec<Job> => Jobs,
    Vec<JobView> => JobList,
    JobDetail => Detail,
    StatusView => Status,
    Vec<Setting> => Config,
    Stats => Stats,
    Vec<HistoryRow> => History,
    Vec<ThemeCount> => Themes,
    CleanupReport => Cleanup,
    String => Metrics,
    WebLogin => WebLogin,
    ExportPage => ExportPage,
    MediaFile => Media,
    LibraryPage => Library,
    ThumbnailImage => Thumbnail,
}

/// The answer [`Response::ShuttingDown`], as an [`Answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShuttingDown;

/// The answer [`Response::Subscribed`], as an [`Answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribed;

impl Answer for ShuttingDown {
    fn from_response(response: Response) -> Result<Self, Box<Response>> {
        match response {
            Response::ShuttingDown => Ok(ShuttingDown),
            other => Err(Box::new(other)),
        }
    }
}

impl Answer for Subscribed {
    fn from_response(response: Response) -> Result<Self, Box<Response>> {
        match response {
            Response::Subscribed => Ok(Subscribed),
            other => Err(Box::new(other)),
        }
    }
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

/// One job and, while it cannot move, the sources holding it up, for `list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub job: Job,
    /// Empty unless every source the job still needs is held up.
    pub waiting: Vec<Waiting>,
}

/// One job with its downloads and candidates, for `show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: Job,
    pub downloads: Vec<Download>,
    pub candidates: Vec<StoredCandidate>,
    /// Empty unless every source the job still needs is held up.
    pub waiting: Vec<Waiting>,
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
    /// Whether and how finished files are checked.
    pub validation: ValidatorStatus,
    pub sources: Vec<SourceStatus>,
    /// The HTTP API's address (`http://127.0.0.1:5001`), or `None` while it is off.
    pub web_url: Option<String>,
}

/// One page of export records and where the next one starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportPage {
    pub records: Vec<ExportRecord>,
    /// The `after` of the next page; `None` when this was the last.
    pub next: Option<i64>,
}

/// A finished download's file in the library, found by the download's id only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaFile {
    pub download: DownloadId,
    /// The file's path as the daemon stored it when the download finished.
    pub path: String,
}

/// The HTTP API's address and a login link for a browser, for `vfetchctl web`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebLogin {
    /// The dashboard's address.
    pub url: String,
    /// `<url>/login?code=…`: logs a browser in; works once, for a short while.
    pub login_url: String,
    /// Seconds the login link stays valid.
    pub valid_secs: u64,
}

/// One source's health line in `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub source: SourceKind,
    /// Why the source is not searched, if it is not.
    pub disabled: Option<SourceOff>,
    pub base_url: String,
    pub breaker: BreakerState,
    /// Seconds until the next trial call, while the breaker is open.
    pub next_trial_secs: Option<u64>,
    /// Seconds until the rate limit (or a Retry-After) lets the next request go.
    pub waiting_secs: Option<u64>,
    /// The rate-limit windows in force, each with the requests it holds right now.
    pub rate_limit: Vec<WindowUse>,
}

/// One configuration key as `config get` shows it (API keys as `***`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    pub key: String,
    pub value: String,
    /// Whether `vfetchctl config set` put this value in force (it then outlives restarts).
    pub runtime: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_of_another_kind_is_handed_back_unchanged() {
        assert_eq!(
            String::from_response(Response::Metrics("# HELP".into())),
            Ok("# HELP".to_string())
        );
        assert_eq!(
            Vec::<Job>::from_response(Response::ShuttingDown),
            Err(Box::new(Response::ShuttingDown))
        );
        assert_eq!(
            ShuttingDown::from_response(Response::Subscribed),
            Err(Box::new(Response::Subscribed))
        );
    }
}
