//! The event bus: how a state change, once written to the store, reaches whoever follows it
//! (`vfetchctl watch`, the progress ticker, the HTTP API's event stream). It sits apart from the
//! daemon and the scheduler so that both, and the sources' gates, can announce without
//! depending on each other.
//!
//! Every event is numbered as it is published, and the latest state changes are kept
//! (`replay.rs`), so a follower that lost its connection can pick up where it left off.

pub mod replay;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast;

use crate::protocol::Event;
use replay::Ring;
pub use replay::{Numbered, REPLAY_EVENTS};

/// A cheap-to-clone sender of [`Event`]s to every current subscriber.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Numbered>,
    ring: Arc<Mutex<Ring>>,
}

/// A subscription that resumes after an event id: what was missed, then live events.
pub struct Resumed {
    /// The state changes after the id asked for, or `None` when they cannot all be given (the
    /// id is too old, or unknown): the follower then needs a snapshot of the current state.
    pub missed: Option<Vec<Numbered>>,
    /// The newest id when the subscription began: live events all have larger ids.
    pub as_of: u64,
    /// Every event published from then on.
    pub live: broadcast::Receiver<Numbered>,
}

impl EventBus {
    /// A bus on which a subscriber may fall `backlog` events behind before it is told it lagged.
    pub fn new(backlog: usize) -> EventBus {
        // Ids start at the start time in microseconds, so an id a client kept from an earlier
        // run is below this run's first and asks for a snapshot rather than a wrong replay
        // (no run publishes an event per microsecond), and they stay exact in a JavaScript
        // number (below 2^53) for centuries.
        let first = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_micros() as u64);
        let (sender, _) = broadcast::channel(backlog);
        EventBus {
            sender,
            ring: Arc::new(Mutex::new(Ring::new(first, REPLAY_EVENTS))),
        }
    }

    /// Announces an event that has already been written to the store.
    pub fn publish(&self, event: Event) {
        // Numbered and sent under one lock, so the channel carries ids in increasing order and
        // `resume` sees each event either in the ring or on its receiver, never neither.
        let mut ring = self.ring();
        let numbered = ring.record(event);
        // No subscribers is the normal case; the event is simply not needed.
        let _ = self.sender.send(numbered);
    }

    /// A new subscriber, receiving every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Numbered> {
        self.sender.subscribe()
    }

    /// A new subscriber that saw events up to `last` (none: a newcomer, which needs a
    /// snapshot).
    pub fn resume(&self, last: Option<u64>) -> Resumed {
        let ring = self.ring();
        Resumed {
            missed: last.and_then(|last| ring.since(last)),
            as_of: ring.last_id(),
            live: self.sender.subscribe(),
        }
    }

    /// How many subscribers follow the bus, so work nobody would see can be skipped.
    pub fn receiver_count(&self) -> usize {
        self.sender.receiver_count()
    }

    fn ring(&self) -> MutexGuard<'_, Ring> {
        // Never held across an await; a panic while holding it cannot leave it half-changed
        // in a way that matters (at worst one event is not kept).
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }
}
