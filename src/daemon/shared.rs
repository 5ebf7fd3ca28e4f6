//! What every connection, the scheduler and the workers share inside the daemon.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, Overrides};
use crate::download::{Download, DownloadId};
use crate::job::JobId;
use crate::protocol::Event;
use crate::scheduler::search::Searcher;
use crate::scheduler::worker::Running;
use crate::source_kind::SourceKind;
use crate::sources::gate::Gate;
use crate::sources::http::HttpClient;
use crate::store::Store;
use crate::validate::Validator;

/// What every connection and background task shares.
pub struct Shared {
    /// The live configuration; replaced whole on reload or `config set`.
    pub config: RwLock<Arc<Config>>,
    /// Command-line flags, re-applied over the file on reload.
    pub overrides: Overrides,
    pub store: Store,
    pub events: broadcast::Sender<Event>,
    pub started: Instant,
    pub shutdown: CancellationToken,
    /// Wakes the scheduler: a job was added or resumed, a search or download finished.
    pub wake: Notify,
    /// Every source's breaker, rate limit and Retry-After; they live as long as the daemon.
    pub gates: HashMap<SourceKind, Arc<Gate>>,
    /// The enabled sources; rebuilt when their settings change.
    pub searcher: RwLock<Arc<Searcher>>,
    /// The one HTTP client: pooled connections for searches and downloads alike, and the
    /// policy on which addresses they may reach.
    pub http: HttpClient,
    pub validator: Validator,
    /// Downloads in flight, for live progress and for stopping them.
    pub running: Mutex<HashMap<DownloadId, Running>>,
    /// Serialises de-duplication and placement of finished files.
    pub finishing: tokio::sync::Mutex<()>,
    /// Download workers, so shutdown can wait for clean offsets.
    pub workers: TaskTracker,
}

impl Shared {
    /// The configuration in force now.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// One source's gate (every source has one).
    pub fn gate(&self, source: SourceKind) -> Option<Arc<Gate>> {
        self.gates.get(&source).cloned()
    }

    /// The sources in force now.
    pub fn searcher(&self) -> Arc<Searcher> {
        Arc::clone(&self.searcher.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Announces an event that has already been written to the store.
    pub fn publish(&self, event: Event) {
        // No subscribers is the normal case; the event is simply not needed.
        let _ = self.events.send(event);
    }

    /// The running-downloads table; never held across an await, so poisoning cannot leave it torn.
    pub fn running(&self) -> std::sync::MutexGuard<'_, HashMap<DownloadId, Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets a download that stopped.
    pub fn running_remove(&self, id: DownloadId) {
        self.running().remove(&id);
    }

    /// When a running download's current attempt started.
    pub fn running_started(&self, id: DownloadId) -> Option<Instant> {
        self.running().get(&id).map(|r| r.started)
    }

    /// Stops a job's running downloads at their next clean offset.
    pub fn stop_job_downloads(&self, job: JobId) {
        for running in self.running().values().filter(|r| r.job == job) {
            running.cancel.cancel();
        }
    }

    /// Adds live bytes and speed to downloads that are running.
    pub fn with_live_progress(&self, downloads: &mut [Download]) {
        let running = self.running();
        for d in downloads {
            if let Some(r) = running.get(&d.id) {
                d.bytes = r.received.load(std::sync::atomic::Ordering::Relaxed);
                d.speed = Some(r.speed());
            }
        }
    }
}
