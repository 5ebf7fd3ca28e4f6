//! The daemon: wires config, store, socket, signals and handlers together and owns their life.

pub mod args;
mod handlers;
mod lock;
pub mod logging;
mod server;
mod signals;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, Mode};
use crate::download::{Download, DownloadId};
use crate::ipc::server::{bind, BindError};
use crate::job::JobId;
use crate::protocol::Event;
use crate::scheduler::worker::Running;
use crate::scheduler::{self, search::Searcher};
use crate::sources::{
    self,
    http::{self, ClientSettings},
};
use crate::store::{jobs, Store, StoreError};
use crate::validate::{ValidateError, Validator};

/// How many events a subscriber may fall behind before it is told it lagged.
const EVENT_BACKLOG: usize = 1024;
/// How long shutdown waits for connections to finish their current request.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the daemon could not start or had to stop.
#[derive(Debug, Error)]
pub enum DaemonError {
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error("cannot create {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    Http(reqwest::Error),
    #[error(transparent)]
    Validate(#[from] ValidateError),
}

/// What every connection and background task shares.
pub struct Shared {
    pub config: Config,
    pub store: Store,
    pub events: broadcast::Sender<Event>,
    pub started: Instant,
    pub shutdown: CancellationToken,
    /// Wakes the scheduler: a job was added or resumed, a search or download finished.
    pub wake: Notify,
    pub searcher: Searcher,
    /// The one HTTP client: pooled connections for searches and downloads alike.
    pub http: reqwest::Client,
    pub validator: Validator,
    /// Downloads in flight, for live progress and for stopping them.
    pub running: Mutex<HashMap<DownloadId, Running>>,
    /// Serialises de-duplication and placement of finished files.
    pub finishing: tokio::sync::Mutex<()>,
    /// Download workers, so shutdown can wait for clean offsets.
    pub workers: TaskTracker,
}

impl Shared {
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

/// Runs the daemon until SIGTERM, SIGINT or a `shutdown` request.
pub async fn run(config: Config) -> Result<(), DaemonError> {
    // Handlers go in first: a SIGTERM that arrives once the socket answers must stop us cleanly.
    let shutdown = CancellationToken::new();
    let signals = signals::spawn(shutdown.clone()).map_err(DaemonError::Signals)?;
    for dir in [
        &config.state_dir,
        &config.staging_dir(),
        &config.library_dir,
    ] {
        create_dir(dir)?;
    }
    let _lock = lock::StateLock::acquire(&config.state_dir)?;
    let store = Store::open(&config.database())?;
    let requeued = store.run(jobs::requeue_interrupted).await?;
    if requeued > 0 {
        tracing::info!(
            jobs = requeued,
            "requeued work interrupted by the last stop"
        );
    }
    let socket_mode = match config.mode {
        Mode::User => 0o600,
        Mode::System => 0o660,
    };
    let listener = bind(&config.socket, socket_mode).await?;
    tracing::info!(
        socket = %config.socket.display(),
        database = %store.path().display(),
        version = env!("CARGO_PKG_VERSION"),
        "vfetchd ready"
    );

    let client = http::build_client(ClientSettings {
        read_timeout: config.stall_timeout,
        ..ClientSettings::default()
    })
    .map_err(DaemonError::Http)?;
    let searcher = Searcher::new(sources::enabled_sources(&config, &client));
    let validator = Validator::new(config.validate, config.ffprobe.clone());
    match validator.check() {
        Ok(true) => {}
        Ok(false) => tracing::warn!("{}", validator.describe()),
        Err(e) => return Err(DaemonError::Validate(e)),
    }
    let (events, _) = broadcast::channel(EVENT_BACKLOG);
    let shared = Arc::new(Shared {
        config,
        store,
        events,
        started: Instant::now(),
        shutdown,
        wake: Notify::new(),
        searcher,
        http: client,
        validator,
        running: Mutex::new(HashMap::new()),
        finishing: tokio::sync::Mutex::new(()),
        workers: TaskTracker::new(),
    });
    let scheduler = tokio::spawn(scheduler::run(Arc::clone(&shared)));

    let tracker = TaskTracker::new();
    server::serve(listener, Arc::clone(&shared), &tracker).await;

    tracing::info!("shutting down");
    tracker.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within {DRAIN_TIMEOUT:?}; closing them");
    }
    let _ = scheduler.await;
    // Downloads see the same cancellation and stop at a clean, stored offset.
    shared.workers.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, shared.workers.wait())
        .await
        .is_err()
    {
        tracing::warn!("some downloads did not stop within {DRAIN_TIMEOUT:?}");
    }
    signals.close();
    tracing::info!("stopped");
    Ok(())
}

fn create_dir(path: &PathBuf) -> Result<(), DaemonError> {
    std::fs::create_dir_all(path).map_err(|source| DaemonError::Directory {
        path: path.clone(),
        source,
    })
}
