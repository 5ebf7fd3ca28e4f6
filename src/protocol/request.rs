//! What a client may ask of the daemon: [`Request`] and the small messages its variants carry.

use serde::{Deserialize, Serialize};

use crate::download::DownloadId;
use crate::gallery::{LibraryQuery, ThumbKind};
use crate::insight::{CleanupQuery, HistoryQuery, Period};
use crate::job::{JobId, JobState, NewJob};

/// What a client may ask of the daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Create a job; answered with [`Response::Job`](super::Response::Job).
    Add(NewJob),
    /// Jobs in queue order; answered with [`Response::Jobs`](super::Response::Jobs).
    List(ListQuery),
    /// One job with its downloads; answered with [`Response::Detail`](super::Response::Detail).
    Show(JobId),
    /// Stop work at clean offsets; answered with [`Response::Jobs`](super::Response::Jobs)
    /// (those that changed).
    Pause(Target),
    /// Queue paused work again; answered with [`Response::Jobs`](super::Response::Jobs) (those
    /// that changed).
    Resume(Target),
    /// Stop a job for good; answered with [`Response::Job`](super::Response::Job).
    Cancel(JobId),
    /// Change a job's priority (larger runs first); answered with
    /// [`Response::Job`](super::Response::Job).
    SetPriority(SetPriority),
    /// Daemon health and queue summary; answered with [`Response::Status`](super::Response::Status).
    Status,
    /// Stop the daemon gracefully, as on SIGTERM; answered with
    /// [`Response::ShuttingDown`](super::Response::ShuttingDown).
    Shutdown,
    /// Settings in force (one key or all); answered with [`Response::Config`](super::Response::Config).
    ConfigGet { key: Option<String> },
    /// Change one setting at runtime, persisted; answered with
    /// [`Response::Config`](super::Response::Config).
    ConfigSet(ConfigSet),
    /// Drop a runtime setting so the file's value applies again; answered with
    /// [`Response::Config`](super::Response::Config).
    ConfigUnset { key: String },
    /// Totals, per source and per period; answered with [`Response::Stats`](super::Response::Stats).
    Stats(StatsQuery),
    /// Recent finished downloads; answered with [`Response::History`](super::Response::History).
    History(HistoryQuery),
    /// Searched themes, most used first; answered with [`Response::Themes`](super::Response::Themes).
    Themes(ThemesQuery),
    /// Finished downloads with attribution, streamed as
    /// [`Response::ExportBatch`](super::Response::ExportBatch)es closed by one
    /// [`Response::ExportEnd`](super::Response::ExportEnd).
    Export { job: Option<JobId> },
    /// Remove old records; answered with [`Response::Cleanup`](super::Response::Cleanup).
    Cleanup(CleanupQuery),
    /// Figures in the Prometheus text format; answered with
    /// [`Response::Metrics`](super::Response::Metrics).
    Metrics,
    /// Stream events (optionally for one job); answered with
    /// [`Response::Subscribed`](super::Response::Subscribed) and then
    /// [`Response::Event`](super::Response::Event)s.
    Subscribe { job: Option<JobId> },
    /// A one-time login link for the HTTP API's dashboard; answered with
    /// [`Response::WebLogin`](super::Response::WebLogin).
    WebLogin,
    /// One page of export records, for a transport that pages itself (HTTP); answered with
    /// [`Response::ExportPage`](super::Response::ExportPage).
    ExportPage(ExportPageQuery),
    /// Several settings changed together: all are checked before any is applied; answered
    /// with [`Response::Config`](super::Response::Config) (the changed keys).
    ConfigPatch(Vec<ConfigChange>),
    /// Where a finished download's file is, for a transport that streams it itself (HTTP's
    /// `/media/{id}`); answered with [`Response::Media`](super::Response::Media).
    Media(DownloadId),
    /// A page of the library's finished videos, newest first; answered with
    /// [`Response::Library`](super::Response::Library).
    Library(LibraryQuery),
    /// One thumbnail image of a finished download; answered with
    /// [`Response::Thumbnail`](super::Response::Thumbnail).
    Thumbnail {
        download: DownloadId,
        kind: ThumbKind,
    },
    /// Make the thumbnails that are missing (never made, failed, or deleted); answered with
    /// [`Response::ThumbnailsProgress`](super::Response::ThumbnailsProgress) every few seconds
    /// and [`Response::Thumbnails`](super::Response::Thumbnails) once all were tried.
    MakeMissingThumbnails,
}

impl Request {
    /// The request for logs: API keys in `config set` are masked.
    pub fn for_log(&self) -> String {
        match self {
            Request::ConfigSet(ConfigSet { key, .. }) if key.ends_with("api_key") => {
                format!("ConfigSet(ConfigSet {{ key: {key:?}, value: \"***\" }})")
            }
            Request::ConfigPatch(changes) => {
                let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
                format!("ConfigPatch({keys:?})")
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
                | Request::Stats(_)
                | Request::History(_)
                | Request::Themes(_)
                | Request::Export { .. }
                | Request::Metrics
                | Request::ExportPage(_)
                | Request::Media(_)
                | Request::Library(_)
                | Request::Thumbnail { .. }
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

/// [`Request::SetPriority`]: move one job in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPriority {
    pub id: JobId,
    /// The new priority; larger runs first, negative allowed.
    pub priority: i32,
}

/// [`Request::ConfigSet`]: one setting to change at runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigSet {
    /// The key as in the config file, sections joined with dots.
    pub key: String,
    /// The new value, parsed and validated by the daemon.
    pub value: String,
}

/// One change in [`Request::ConfigPatch`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    /// The key as in the config file, sections joined with dots.
    pub key: String,
    /// The new value, or `None` to unset the runtime setting.
    pub value: Option<String>,
}

/// [`Request::ExportPage`]: which records, after which download id, how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportPageQuery {
    /// Only this job's records; `None` for every job.
    pub job: Option<JobId>,
    /// Records of downloads with a larger id than this (0 for the first page).
    pub after: i64,
    /// At most this many.
    pub limit: u32,
}

/// [`Request::Stats`]: the window and the granularity of the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsQuery {
    /// Look back this many days.
    pub days: u32,
    /// One row per day, week or month.
    pub by: Period,
}

/// [`Request::Themes`]: searched themes by prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemesQuery {
    /// Themes starting with this (any case); empty for all.
    pub prefix: String,
    /// At most this many.
    pub limit: u32,
}

impl From<SetPriority> for Request {
    fn from(message: SetPriority) -> Self {
        Request::SetPriority(message)
    }
}

impl From<ConfigSet> for Request {
    fn from(message: ConfigSet) -> Self {
        Request::ConfigSet(message)
    }
}

impl From<StatsQuery> for Request {
    fn from(message: StatsQuery) -> Self {
        Request::Stats(message)
    }
}

impl From<ThemesQuery> for Request {
    fn from(message: ThemesQuery) -> Self {
        Request::Themes(message)
    }
}

impl From<ListQuery> for Request {
    fn from(message: ListQuery) -> Self {
        Request::List(message)
    }
}

impl From<HistoryQuery> for Request {
    fn from(message: HistoryQuery) -> Self {
        Request::History(message)
    }
}

impl From<CleanupQuery> for Request {
    fn from(message: CleanupQuery) -> Self {
        Request::Cleanup(message)
    }
}

impl From<LibraryQuery> for Request {
    fn from(message: LibraryQuery) -> Self {
        Request::Library(message)
    }
}

impl From<NewJob> for Request {
    fn from(message: NewJob) -> Self {
        Request::Add(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_patch_is_logged_by_its_keys_only() {
        let patch = Request::ConfigPatch(vec![ConfigChange {
            key: "sources.pexels.api_key".into(),
            value: Some("hunter2".into()),
        }]);
        assert!(!patch.for_log().contains("hunter2"), "{}", patch.for_log());
        assert!(patch.for_log().contains("sources.pexels.api_key"));
    }

    #[test]
    fn api_keys_are_masked_in_logs_and_other_values_kept() {
        let secret = Request::from(ConfigSet {
            key: "sources.pexels.api_key".into(),
            value: "hunter2".into(),
        });
        assert!(
            !secret.for_log().contains("hunter2"),
            "{}",
            secret.for_log()
        );
        let plain = Request::from(ConfigSet {
            key: "parallel_downloads".into(),
            value: "4".into(),
        });
        assert!(plain.for_log().contains("\"4\""), "{}", plain.for_log());
    }
}
