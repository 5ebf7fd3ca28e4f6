//! The table of open client connections: who may come in under `max_connections`, and which
//! connection makes room when the table is full.
//!
//! A full table does not simply turn newcomers away: that would let a few hundred clients that
//! connect and then say nothing lock out the user's own `vfetchctl`. Instead the connection that
//! has waited longest for a request is closed, since it is the one least likely to be a person
//! waiting for an answer. Connections in the middle of a request and subscribers are never
//! chosen; only when every connection is one of those is the newcomer told the daemon is busy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// What a connection is doing, which decides whether it may be closed to make room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Waiting for the client's Hello or its next request: may be closed to make room.
    Idle,
    /// Answering a request (an export stream included).
    Working,
    /// Streaming events to a subscriber, which has its own policy for slow readers.
    Subscribed,
}

/// The answer to a newcomer.
pub enum Admission {
    /// It has a place; the ticket holds it until dropped.
    Admitted(Ticket),
    /// The longest-idle connection was told to close (or is still closing); try again once
    /// [`Connections::released`] fires.
    MakingRoom,
    /// Every connection is working or subscribed.
    Full,
}

/// The open connections; cheap to clone, all clones share one table.
#[derive(Clone, Default)]
pub struct Connections {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    table: Mutex<Table>,
    /// Fires each time a connection leaves the table.
    released: Notify,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    slots: HashMap<u64, Slot>,
}

struct Slot {
    activity: Activity,
    /// When the current activity began.
    since: Instant,
    /// Cancelled to ask the connection to close.
    evict: CancellationToken,
}

impl Connections {
    /// Takes a place for a new connection, or makes room for one, under `limit`.
    pub fn admit(&self, limit: usize) -> Admission {
        let mut table = self.table();
        if table.slots.len() < limit {
            let id = table.next_id;
            table.next_id += 1;
            let evict = CancellationToken::new();
            table.slots.insert(
                id,
                Slot {
                    activity: Activity::Idle,
                    since: Instant::now(),
                    evict: evict.clone(),
                },
            );
            return Admission::Admitted(Ticket {
                id,
                connections: self.clone(),
                evict,
            });
        }
        // One connection leaving at a time keeps the number of open descriptors near the limit
        // even when newcomers arrive faster than the chosen ones close.
        if table.slots.values().any(|s| s.evict.is_cancelled()) {
            return Admission::MakingRoom;
        }
        let oldest_idle = table
            .slots
            .values()
            .filter(|s| s.activity == Activity::Idle)
            .min_by_key(|s| s.since);
        match oldest_idle {
            Some(slot) => {
                slot.evict.cancel();
                Admission::MakingRoom
            }
            None => Admission::Full,
        }
    }

    /// Waits until some connection leaves the table. Create it before [`Connections::admit`]
    /// (and `enable` it) so a departure between the two is not missed.
    pub fn released(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.released.notified()
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // Never held across an await; a panic while holding it cannot leave it half-changed.
        self.inner.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One connection's place in the table; dropping it frees the place.
pub struct Ticket {
    id: u64,
    connections: Connections,
    evict: CancellationToken,
}

impl Ticket {
    /// Records what the connection is doing now.
    pub fn set(&self, activity: Activity) {
        if let Some(slot) = self.connections.table().slots.get_mut(&self.id) {
            slot.activity = activity;
            slot.since = Instant::now();
        }
    }

    /// Completes when the connection was chosen to make room and must close.
    pub fn evicted(&self) -> WaitForCancellationFuture<'_> {
        self.evict.cancelled()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.connections.table().slots.remove(&self.id);
        self.connections.inner.released.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(connections: &Connections) -> Ticket {
        match connections.admit(2) {
            Admission::Admitted(ticket) => ticket,
            _ => panic!("expected a place"),
        }
    }

    #[test]
    fn a_full_table_closes_the_longest_idle_connection_first() {
        let connections = Connections::default();
        let first = admitted(&connections);
        let second = admitted(&connections);
        second.set(Activity::Idle);
        assert!(matches!(connections.admit(2), Admission::MakingRoom));
        assert!(first.evict.is_cancelled() && !second.evict.is_cancelled());
        // While the chosen one is still closing, nobody else is chosen.
        assert!(matches!(connections.admit(2), Admission::MakingRoom));
        assert!(!second.evict.is_cancelled());
        drop(first);
        assert!(matches!(connections.admit(2), Admission::Admitted(_)));
    }

    #[test]
    fn working_and_subscribed_connections_are_never_chosen() {
        let connections = Connections::default();
        let working = admitted(&connections);
        working.set(Activity::Working);
        let subscribed = admitted(&connections);
        subscribed.set(Activity::Subscribed);
        assert!(matches!(connections.admit(2), Admission::Full));
        assert!(!working.evict.is_cancelled() && !subscribed.evict.is_cancelled());
        working.set(Activity::Idle);
        assert!(matches!(connections.admit(2), Admission::MakingRoom));
        assert!(working.evict.is_cancelled());
        assert_eq!(connections.table().slots.len(), 2);
    }
}
