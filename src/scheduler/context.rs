//! What the scheduler is given by whoever runs it (today the daemon): the configuration, the
//! store, the event bus and the shutdown signal. Defined here, on the scheduler's side, so the
//! scheduler depends on nothing of the daemon's and could be run by another host (a test, a
//! cluster node).

use tokio_util::sync::CancellationToken;

use crate::config;
use crate::events::EventBus;
use crate::store::Store;
use crate::thumbnail::Thumbnailer;

/// The scheduler's view of its host; every field is a cheap handle shared with the host.
#[derive(Clone)]
pub struct Context {
    /// The configuration in force; the host replaces it, the scheduler reads it per decision.
    pub config: config::Live,
    /// The single source of truth: every decision is written here before it is announced.
    pub store: Store,
    /// Where job, download, retry and progress events are announced.
    pub events: EventBus,
    /// Cancelled when the host stops; downloads stop at a clean, stored offset.
    pub shutdown: CancellationToken,
    /// Makes each finished video's thumbnails in the background, bounded with the host's own
    /// backfill.
    pub thumbnailer: Thumbnailer,
}
