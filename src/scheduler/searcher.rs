//! The enabled source adapters, as the scheduler's searches use them: one request at a time per
//! source, each retried with backoff. Rebuilt whole when the sources' settings change.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::config::Config;
use crate::retry::RetryPolicy;
use crate::source_kind::SourceKind;
use crate::sources::gate::Gate;
use crate::sources::http::HttpClient;
use crate::sources::{self, SearchPage, SearchQuery, Source, SourceError};
use crate::text::for_log;

/// The enabled adapters, each allowed one request at a time (providers ask for low concurrency).
pub struct Searcher {
    sources: HashMap<SourceKind, (Box<dyn Source>, Semaphore)>,
    policy: RetryPolicy,
}

impl Searcher {
    /// Wraps the adapters the config enabled; each request is tried up to `tries` times, the
    /// first backoff bounded by `base`.
    fn new(sources: Vec<Box<dyn Source>>, tries: u32, base: std::time::Duration) -> Searcher {
        Searcher {
            sources: sources
                .into_iter()
                .map(|s| (s.kind(), (s, Semaphore::new(1))))
                .collect(),
            policy: RetryPolicy {
                max_tries: tries,
                base,
                ..RetryPolicy::SEARCH
            },
        }
    }

    /// The adapters `config` enables, behind their gates, with its search retry settings.
    pub fn for_config(
        config: &Config,
        http: &HttpClient,
        gates: &HashMap<SourceKind, Arc<Gate>>,
    ) -> Searcher {
        Searcher::new(
            sources::enabled_sources(config, http, gates),
            config.search_tries,
            config.retry_base,
        )
    }

    /// Whether a source has an adapter (enabled and, if needed, keyed).
    pub fn has(&self, kind: SourceKind) -> bool {
        self.sources.contains_key(&kind)
    }

    /// One page with retries; errors come back after the last try.
    pub async fn page(
        &self,
        kind: SourceKind,
        query: &SearchQuery,
    ) -> Result<SearchPage, SourceError> {
        let Some((source, permit)) = self.sources.get(&kind) else {
            return Ok(SearchPage::default());
        };
        let mut tries = 0;
        loop {
            let result = {
                let _turn = permit.acquire().await;
                source.search(query).await
            };
            tries += 1;
            match result {
                Err(e) if e.is_retryable() && self.policy.may_retry(tries) => {
                    let wait = self.policy.delay(tries, e.retry_after());
                    tracing::info!(source = %kind, tries, wait_ms = wait.as_millis() as u64, error = %for_log(&e.to_string()), "search failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }
}
