//! The event bus: how a state change, once written to the store, reaches whoever follows it
//! (`vfetchctl watch`, the progress ticker, tomorrow a web page). It sits apart from the daemon
//! and the scheduler so that both, and the sources' gates, can announce without depending on
//! each other.

use tokio::sync::broadcast;

use crate::protocol::Event;

/// A cheap-to-clone sender of [`Event`]s to every current subscriber.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl EventBus {
    /// A bus on which a subscriber may fall `backlog` events behind before it is told it lagged.
    pub fn new(backlog: usize) -> EventBus {
        let (sender, _) = broadcast::channel(backlog);
        EventBus { sender }
    }

    /// Announces an event that has already been written to the store.
    pub fn publish(&self, event: Event) {
        // No subscribers is the normal case; the event is simply not needed.
        let _ = self.sender.send(event);
    }

    /// A new subscriber, receiving every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// How many subscribers follow the bus, so work nobody would see can be skipped.
    pub fn receiver_count(&self) -> usize {
        self.sender.receiver_count()
    }
}
