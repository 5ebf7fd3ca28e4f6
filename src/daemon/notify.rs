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

/// The STATUS= line for the current downloads, queue and finished jobs.
fn summary(shared: &Shared, counts: &std::collections::BTreeMap<String, u64>) -> String {
    let running = shared.scheduler.progress();
    let speed = running.iter().map(|r| r.speed).sum::<f64>();
    let queued =
        counts.get("queued").copied().unwrap_or(0) + counts.get("searching").copied().unwrap_or(0);
    status_line(
        running.len(),
        speed,
        queued,
        counts.get("done").copied().unwrap_or(0),
    )
}

/// "2 downloading at 3.10 MiB/s; jobs: 5 waiting, 3 done", or "idle; jobs: …" with nothing
/// running. Speeds are estimates that can come out a hair below zero (or NaN) between samples;
/// those read as 0 B/s rather than as `-0.0`.
fn status_line(active: usize, bytes_per_sec: f64, waiting: u64, done: u64) -> String {
    let jobs = format!("jobs: {waiting} waiting, {done} done");
    if active == 0 {
        return format!("idle; {jobs}");
    }
    let speed = if bytes_per_sec.is_finite() && bytes_per_sec > 0.0 {
        bytes_per_sec.round() as u64
    } else {
        0
    };
    format!(
        "{active} downloading at {}/s; {jobs}",
        indicatif::HumanBytes(speed)
    )
}

#[cfg(test)]
mod tests {
    use super::status_line;

    #[test]
    fn status_line_never_shows_a_negative_speed_and_picks_a_readable_unit() {
        assert_eq!(
            status_line(1, -0.0001, 0, 0),
            "1 downloading at 0 B/s; jobs: 0 waiting, 0 done"
        );
        assert!(!status_line(2, f64::NAN, 1, 1).contains('-'));
        assert!(!status_line(2, -5e6, 1, 1).contains('-'));
        assert_eq!(
            status_line(2, 3.1 * 1024.0 * 1024.0, 5, 3),
            "2 downloading at 3.10 MiB/s; jobs: 5 waiting, 3 done"
        );
        assert_eq!(
            status_line(1, 2048.0, 0, 0),
            "1 downloading at 2.00 KiB/s; jobs: 0 waiting, 0 done"
        );
        assert_eq!(status_line(0, 0.0, 4, 2), "idle; jobs: 4 waiting, 2 done");
    }
}
