//! What every connection and the daemon's own background tasks share: the host's resources
//! and its handle on the scheduler. Scheduler state (running downloads, gates, sources) is not
//! here; it is reached only through [`Scheduler`]'s methods.

use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::http::access::WebAccess;
use crate::config::{self, Config, Overrides};
use crate::events::EventBus;
use crate::protocol::Event;
use crate::scheduler::Scheduler;
use crate::store::Store;
use crate::thumbnail::Thumbnailer;

/// What every connection and background task shares.
pub struct Shared {
    /// The live configuration; replaced whole on reload or `config set`.
    pub config: config::Live,
    /// Command-line flags, re-applied over the file on reload.
    pub overrides: Overrides,
    /// The database, the single source of truth.
    pub store: Store,
    /// Where state changes are announced to subscribers.
    pub events: EventBus,
    /// When the daemon started, for `status`' uptime.
    pub started: Instant,
    /// Cancelled on SIGTERM, SIGINT or a `shutdown` request.
    pub shutdown: CancellationToken,
    /// What runs: searches and downloads, woken and asked through this handle.
    pub scheduler: Scheduler,
    /// The HTTP API's token, login codes and sessions (empty while HTTP is off).
    pub web: WebAccess,
    /// Makes thumbnails (the backfill here, finished downloads in the scheduler), sharing one
    /// bound on how many run at once.
    pub thumbnailer: Thumbnailer,
}

impl Shared {
    /// The configuration in force now.
    pub fn config(&self) -> Arc<Config> {
        self.config.get()
    }

    /// Announces an event that has already been written to the store.
    pub fn publish(&self, event: Event) {
        self.events.publish(event);
    }
}
