//! Progress ticks for `watch`: every running download's bytes and speed, about four times a
//! second, only while someone is listening.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::Shared;
use crate::protocol::{Event, Progress};

/// How often progress is published.
pub const TICK: Duration = Duration::from_millis(250);

/// Publishes [`Event::Progress`] for running downloads until aborted.
pub fn start(shared: Arc<Shared>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            if shared.events.receiver_count() == 0 {
                continue;
            }
            for live in shared.scheduler.progress() {
                shared.publish(Event::from(Progress {
                    download: live.download,
                    job: live.job,
                    bytes: live.bytes,
                    total: live.total,
                    speed: live.speed,
                }));
            }
        }
    })
}
