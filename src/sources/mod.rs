//! Video providers behind one trait: each adapter turns one page of a provider's search into
//! candidates with attribution, already filtered by the job's options.

mod archive;
pub mod dns;
pub mod filter;
pub mod gate;
pub mod http;
mod pexels;
mod pixabay;
mod wikimedia;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use thiserror::Error;

use crate::candidate::Candidate;
use crate::config::Config;
use crate::job::JobOptions;
use crate::source_kind::SourceKind;
use gate::Gate;

/// What to search for: one page of a theme, with the job's filters.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub theme: String,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    pub options: JobOptions,
}

/// One page of results.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    /// Results that passed the job's filters, in the provider's rank order.
    pub candidates: Vec<Candidate>,
    /// How many results the provider returned on this page before filtering.
    pub returned: u32,
    /// Whether asking for the next page can give more.
    pub has_more: bool,
    /// Results skipped because they were malformed (one line each, for the job's errors).
    pub skipped: Vec<String>,
}

impl SearchPage {
    /// Files one converted result: kept if it passes the job's filters, noted if malformed.
    pub(crate) fn keep(
        &mut self,
        source: SourceKind,
        converted: Result<Option<Candidate>, Unusable>,
        options: &JobOptions,
    ) {
        match converted {
            Ok(Some(candidate)) if filter::rejection(&candidate, options).is_none() => {
                self.candidates.push(candidate)
            }
            Ok(_) => {}
            Err(reason) => self
                .skipped
                .push(format!("{source}: skipped a result: {reason}")),
        }
    }

    /// Parses one raw result as `T`, converts it and files it as [`SearchPage::keep`] does.
    pub(crate) fn take<T: serde::de::DeserializeOwned>(
        &mut self,
        source: SourceKind,
        raw: serde_json::Value,
        options: &JobOptions,
        convert: impl FnOnce(T) -> Result<Option<Candidate>, Unusable>,
    ) {
        match serde_json::from_value::<T>(raw) {
            Ok(item) => self.keep(source, convert(item), options),
            Err(e) => self
                .skipped
                .push(format!("{source}: skipped a malformed result: {e}")),
        }
    }
}

/// Why one search result cannot become a candidate (it is skipped and noted on the job).
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum Unusable {
    /// A video whose files are all on non-web addresses; `files` is the provider's word for
    /// them ("URLs", "links").
    #[error("video {id} has no HTTP(S) file {files}")]
    NoWebFile { id: u64, files: &'static str },
    /// A file page without the file's description.
    #[error("{title:?} has no imageinfo")]
    NoFileInfo { title: String },
    /// A file page whose file is not on a web address.
    #[error("{title:?} has a non-HTTP(S) file URL")]
    NotOnTheWeb { title: String },
}

/// Why a search request failed.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum SourceError {
    #[error("cannot connect to {host}: {message}")]
    Connect { host: String, message: String },
    #[error("{host} did not answer within {after:?}")]
    Timeout { host: String, after: Duration },
    #[error("HTTP {status} from {host}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    Status {
        host: String,
        status: u16,
        detail: String,
        retry_after: Option<Duration>,
    },
    #[error("malformed response from {host}: {message}")]
    Malformed { host: String, message: String },
    #[error("request to {host} failed: {message}")]
    Transport { host: String, message: String },
    /// A redirect led to an address outgoing requests may not reach: not worth a retry.
    #[error(transparent)]
    Refused(#[from] crate::egress::Refused),
}

impl SourceError {
    /// Whether the same request may succeed if tried again.
    pub fn is_retryable(&self) -> bool {
        match self {
            SourceError::Connect { .. }
            | SourceError::Timeout { .. }
            | SourceError::Transport { .. } => true,
            SourceError::Status { status, .. } => {
                matches!(status, 408 | 429) || (500..600).contains(status)
            }
            SourceError::Malformed { .. } | SourceError::Refused(_) => false,
        }
    }

    /// A server-requested delay before the next try (HTTP `Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SourceError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// One video provider.
pub trait Source: Send + Sync {
    /// Which provider this is.
    fn kind(&self) -> SourceKind;
    /// Fetches and filters one page of results for a theme.
    fn search<'a>(
        &'a self,
        query: &'a SearchQuery,
    ) -> BoxFuture<'a, Result<SearchPage, SourceError>>;
}

/// Builds an adapter for every source the config enables (and has a key for).
pub fn enabled_sources(
    config: &Config,
    client: &http::HttpClient,
    gates: &HashMap<SourceKind, Arc<Gate>>,
) -> Vec<Box<dyn Source>> {
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    for kind in SourceKind::ALL {
        let settings = config.source(kind);
        if let Some(reason) = settings.disabled_reason(kind) {
            tracing::info!(source = %kind, "{kind} {reason}");
            continue;
        }
        let base = settings.base_url.clone();
        let key = settings.api_key.clone();
        let client = client.clone();
        let Some(gate) = gates.get(&kind).cloned() else {
            continue;
        };
        let t = config.search_timeout;
        match (kind, key) {
            (SourceKind::Pexels, Some(key)) => {
                sources.push(Box::new(pexels::Pexels::new(client, gate, t, base, key)))
            }
            (SourceKind::Pixabay, Some(key)) => {
                sources.push(Box::new(pixabay::Pixabay::new(client, gate, t, base, key)))
            }
            (SourceKind::Wikimedia, _) => {
                sources.push(Box::new(wikimedia::Wikimedia::new(client, gate, t, base)))
            }
            (SourceKind::Archive, _) => {
                sources.push(Box::new(archive::Archive::new(client, gate, t, base)))
            }
            // disabled_reason already covered keyed sources without a key.
            (SourceKind::Pexels | SourceKind::Pixabay, None) => {}
        }
    }
    sources
}
