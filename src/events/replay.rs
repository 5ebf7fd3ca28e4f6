//! The numbered tail of the event stream: every event gets the next id as it is published, and
//! the latest state changes are kept, so a client that reconnects (SSE's `Last-Event-ID`) gets
//! the changes it missed instead of starting over.

use std::collections::VecDeque;

use crate::protocol::Event;

/// State changes kept for replay. Each download makes about five (queued, running, done, and
/// its job's updates), so this covers a reconnect after some 200 downloads' worth of changes,
/// minutes of a busy queue; a client further behind gets a snapshot, which by then is the
/// smaller answer anyway. At well under 1 KiB an event the ring stays under 1 MiB.
pub const REPLAY_EVENTS: usize = 1024;

/// One event with its place in the stream.
#[derive(Debug, Clone)]
pub struct Numbered {
    /// Strictly increasing over the daemon's life (and across restarts, see [`Ring::new`]).
    pub id: u64,
    pub event: Event,
}

/// Numbers events and keeps the latest state changes.
pub struct Ring {
    /// The id the next event gets.
    next: u64,
    /// The newest id whose state change is no longer kept: a client that saw only up to an
    /// older id missed something the ring cannot give back.
    floor: u64,
    kept: VecDeque<Numbered>,
    capacity: usize,
}

impl Ring {
    /// A ring numbering from `first` (at least 1), keeping `capacity` state changes.
    pub fn new(first: u64, capacity: usize) -> Ring {
        let first = first.max(1);
        Ring {
            next: first,
            floor: first - 1,
            kept: VecDeque::with_capacity(capacity.min(64)),
            capacity,
        }
    }

    /// Gives `event` the next id, keeping it if it is a state change.
    pub fn record(&mut self, event: Event) -> Numbered {
        let numbered = Numbered {
            id: self.next,
            event,
        };
        self.next += 1;
        if is_state_change(&numbered.event) {
            if self.kept.len() >= self.capacity {
                match self.kept.pop_front() {
                    Some(oldest) => self.floor = oldest.id,
                    // No room at all: nothing can be replayed past this event.
                    None => {
                        self.floor = numbered.id;
                        return numbered;
                    }
                }
            }
            self.kept.push_back(numbered.clone());
        }
        numbered
    }

    /// The id of the newest event so far (one below the first id before any event).
    pub fn last_id(&self) -> u64 {
        self.next - 1
    }

    /// The state changes after `last`, oldest first; `None` when some are no longer kept or
    /// `last` was never given out (another daemon run, or made up).
    pub fn since(&self, last: u64) -> Option<Vec<Numbered>> {
        if last < self.floor || last >= self.next {
            return None;
        }
        Some(self.kept.iter().filter(|n| n.id > last).cloned().collect())
    }
}

/// Whether an event changes what a client shows for good (kept for replay), as opposed to a
/// passing tick such as progress, which the next tick replaces anyway.
pub fn is_state_change(event: &Event) -> bool {
    matches!(
        event,
        Event::Job(_) | Event::Download(_) | Event::Breaker(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breaker::BreakerState;
    use crate::protocol::{BreakerChange, Progress};
    use crate::source_kind::SourceKind;

    fn state() -> Event {
        Event::Breaker(BreakerChange {
            source: SourceKind::Archive,
            state: BreakerState::Open,
            next_trial_secs: None,
        })
    }

    fn tick() -> Event {
        Event::Progress(Progress {
            download: crate::download::DownloadId(1),
            job: crate::job::JobId(1),
            bytes: 1,
            total: None,
            speed: 0.0,
        })
    }

    fn ids(events: Option<Vec<Numbered>>) -> Option<Vec<u64>> {
        events.map(|v| v.iter().map(|n| n.id).collect())
    }

    #[test]
    fn ids_increase_and_only_state_changes_are_replayed() {
        let mut ring = Ring::new(100, 8);
        assert_eq!(ring.last_id(), 99);
        assert_eq!(ids(ring.since(99)), Some(vec![]));
        assert_eq!(ring.record(state()).id, 100);
        assert_eq!(ring.record(tick()).id, 101);
        assert_eq!(ring.record(state()).id, 102);
        assert_eq!(ring.last_id(), 102);
        assert_eq!(ids(ring.since(99)), Some(vec![100, 102]));
        // An id of a progress tick is as good a resume point as any.
        assert_eq!(ids(ring.since(101)), Some(vec![102]));
        assert_eq!(ids(ring.since(102)), Some(vec![]));
    }

    #[test]
    fn ids_the_ring_cannot_answer_for_ask_for_a_snapshot() {
        let mut ring = Ring::new(100, 2);
        for _ in 0..3 {
            ring.record(state());
        }
        // 100 fell out: a client that saw only 99 missed it.
        assert_eq!(ids(ring.since(99)), None);
        assert_eq!(ids(ring.since(100)), Some(vec![101, 102]));
        // Ids from before this run, and ids not given out yet.
        assert_eq!(ids(ring.since(5)), None);
        assert_eq!(ids(ring.since(103)), None);
        assert_eq!(ids(ring.since(u64::MAX)), None);
    }

    #[test]
    fn a_ring_without_room_replays_nothing_it_lost() {
        let mut ring = Ring::new(1, 0);
        ring.record(state());
        assert_eq!(ids(ring.since(0)), None);
        assert_eq!(ids(ring.since(1)), Some(vec![]));
    }
}
