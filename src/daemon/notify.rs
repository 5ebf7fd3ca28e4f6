//! systemd integration: READY, STATUS, WATCHDOG, RELOADING, STOPPING. Harmless without systemd
//! (`sd_notify` does nothing when `NOTIFY_SOCKET` is unset).

use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;
use tokio::task::JoinHandle;

use super::Shared;

/// How often STATUS= is refreshed.
const STATUS_EVERY: Duration = Duration::from_secs(5);

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

/// The daemon is serving (database open, recovery done, socket bound) or finished reloading.
pub fn ready() {
    send(&[NotifyState::Ready]);
}

/// A reload is starting; systemd expects READY=1 when it is done.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// Shutdown has begun.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// Sends READY, then keeps STATUS fresh and, when systemd asks for it, pings the watchdog from
/// the runtime that does the work, after a database round trip: a hung daemon stops pinging.
pub fn start(shared: Arc<Shared>) -> JoinHandle<()> {
    ready();
    let watchdog = sd_notify::watchdog_enabled().map(|every| every / 2);
    tokio::spawn(async move {
        let tick = watchdog.map_or(STATUS_EVERY, |w| w.min(STATUS_EVERY));
        let mut interval = tokio::time::interval(tick);
        let mut since_status = STATUS_EVERY;
        loop {
            interval.tick().await;
            let Ok(counts) = shared.store.job_counts().await else {
                continue;
            };
            if watchdog.is_some() {
                send(&[NotifyState::Watchdog]);
            }
            since_status += tick;
            if since_status >= STATUS_EVERY {
                since_status = Duration::ZERO;
                let line = summary(&shared, &counts);
                send(&[NotifyState::Status(&line)]);
            }
        }
    })
}

/// "2 downloading at 3.1 MiB/s, 5 jobs queued, 0 breakers open".
fn summary(shared: &Shared, counts: &std::collections::BTreeMap<String, u64>) -> String {
    let running = shared.scheduler.progress();
    let (active, speed) = (running.len(), running.iter().map(|r| r.speed).sum::<f64>());
    let queued =
        counts.get("queued").copied().unwrap_or(0) + counts.get("searching").copied().unwrap_or(0);
    format!(
        "{active} downloading at {:.1} MiB/s, {queued} jobs waiting, {} jobs done",
        speed / (1024.0 * 1024.0),
        counts.get("done").copied().unwrap_or(0)
    )
}
