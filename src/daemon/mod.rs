//! The daemon: wires config, store, socket, signals and handlers together and owns their life.

pub mod args;
mod handlers;
mod lock;
pub mod logging;
mod server;
mod signals;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, Mode};
use crate::ipc::server::{bind, BindError};
use crate::protocol::Event;
use crate::store::{jobs, Store, StoreError};

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
}

/// What every connection and background task shares.
pub(crate) struct Shared {
    pub config: Config,
    pub store: Store,
    pub events: broadcast::Sender<Event>,
    pub started: Instant,
    pub shutdown: CancellationToken,
}

impl Shared {
    /// Announces an event that has already been written to the store.
    pub fn publish(&self, event: Event) {
        // No subscribers is the normal case; the event is simply not needed.
        let _ = self.events.send(event);
    }
}

/// Runs the daemon until SIGTERM, SIGINT or a `shutdown` request.
pub async fn run(config: Config) -> Result<(), DaemonError> {
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

    let (events, _) = broadcast::channel(EVENT_BACKLOG);
    let shared = Arc::new(Shared {
        config,
        store,
        events,
        started: Instant::now(),
        shutdown: CancellationToken::new(),
    });
    let signals = signals::spawn(shared.shutdown.clone()).map_err(DaemonError::Signals)?;

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
