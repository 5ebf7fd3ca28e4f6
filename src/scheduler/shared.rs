//! What the scheduler's loop, its searches and its download workers share: the handles its host
//! gave in the [`Context`], and the scheduler's own state. Only code under `scheduler/` sees it;
//! the host goes through the [`Scheduler`](super::Scheduler) handle.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::context::Context;
use super::running::RunningTable;
use super::searcher::Searcher;
use crate::config::{self, Config};
use crate::events::EventBus;
use crate::job::JobId;
use crate::protocol::Event;
use crate::source_kind::SourceKind;
use crate::sources::gate::Gate;
use crate::sources::http::HttpClient;
use crate::store::Store;
use crate::thumbnail::Thumbnailer;
use crate::validate::Validator;

/// What the scheduler loop, its searches and its download workers share.
pub(super) struct Shared {
    /// The configuration in force, from the host.
    pub config: config::Live,
    /// The single source of truth, from the host.
    pub store: Store,
    /// Where events are announced, from the host.
    pub events: EventBus,
    /// The host's stop signal; every download's cancel token is its child.
    pub shutdown: CancellationToken,
    /// Every source's breaker, rate limit and Retry-After; they live as long as the scheduler.
    pub gates: HashMap<SourceKind, Arc<Gate>>,
    /// The enabled sources; rebuilt when their settings change.
    pub searcher: RwLock<Arc<Searcher>>,
    /// The one HTTP client: pooled connections for searches and downloads alike, and the
    /// policy on which addresses they may reach.
    pub http: HttpClient,
    /// ffprobe, for checking finished files.
    pub validator: Validator,
    /// Downloads in flight, for live progress and for stopping them.
    pub running: RunningTable,
    /// Jobs with a search task under way, so a job is never searched twice at once.
    pub searching: Mutex<HashSet<JobId>>,
    /// Wakes the loop: a job was added or resumed, a search or download finished.
    pub wake: Notify,
    /// Serialises de-duplication and placement of finished files.
    pub finishing: tokio::sync::Mutex<()>,
    /// Download workers (and completion hooks), so stopping can wait for clean offsets.
    pub workers: TaskTracker,
    /// Makes thumbnails of finished videos, from the host.
    pub thumbnailer: Thumbnailer,
}

impl Shared {
    /// Fresh scheduler state over the host's `ctx`, with the gates and sources built for the
    /// configuration in force.
    pub fn new(ctx: Context, http: HttpClient, validator: Validator) -> Shared {
        let Context {
            config,
            store,
            events,
            shutdown,
            thumbnailer,
        } = ctx;
        let now = config.get();
        let gates: HashMap<SourceKind, Arc<Gate>> = SourceKind::ALL
            .into_iter()
            .map(|kind| {
                let gate = Gate::new(
                    kind,
                    store.clone(),
                    events.clone(),
                    now.breaker,
                    now.source(kind).rate_limit.clone(),
                );
                (kind, Arc::new(gate))
            })
            .collect();
        let searcher = Searcher::for_config(&now, &http, &gates);
        Shared {
            config,
            store,
            events,
            shutdown,
            gates,
            searcher: RwLock::new(Arc::new(searcher)),
            http,
            validator,
            running: RunningTable::default(),
            searching: Mutex::default(),
            wake: Notify::new(),
            finishing: tokio::sync::Mutex::new(()),
            workers: TaskTracker::new(),
            thumbnailer,
        }
    }

    /// The configuration in force now.
    pub fn config(&self) -> Arc<Config> {
        self.config.get()
    }

    /// Announces an event that has already been written to the store.
    pub fn publish(&self, event: Event) {
        self.events.publish(event);
    }

    /// One source's gate (every source has one).
    pub fn gate(&self, source: SourceKind) -> Option<Arc<Gate>> {
        self.gates.get(&source).cloned()
    }

    /// The sources in force now.
    pub fn searcher(&self) -> Arc<Searcher> {
        Arc::clone(&self.searcher.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Adapts the sources' plumbing to `new`: breakers, rate limits, the egress policy, and the
    /// adapters when their settings changed.
    pub fn reconfigure(&self, old: &Config, new: &Config) {
        for (kind, gate) in &self.gates {
            gate.configure(new.breaker, new.source(*kind).rate_limit.clone());
        }
        self.http.egress().configure_from(new);
        if new.sources != old.sources
            || new.search_tries != old.search_tries
            || new.retry_base != old.retry_base
            || new.search_timeout != old.search_timeout
        {
            let searcher = Searcher::for_config(new, &self.http, &self.gates);
            *self.searcher.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(searcher);
        }
    }
}
