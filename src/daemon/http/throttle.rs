//! A growing delay for a peer that keeps presenting bad credentials, so a token cannot be
//! guessed at speed; bounded in memory whatever the number of peers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bad attempts a peer may make before its requests are slowed down.
const FREE_FAILURES: u32 = 3;
/// The first delay; each further failure doubles it.
const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest delay.
const MAX_DELAY: Duration = Duration::from_secs(5);
/// A peer's failures are forgotten after this long without one.
const FORGET_AFTER: Duration = Duration::from_secs(10 * 60);
/// Peers remembered at once, so a flood from many addresses cannot grow memory without bound.
const MAX_PEERS: usize = 4096;

/// Failed attempts per peer address, for slowing down token guessing.
#[derive(Default)]
pub struct Throttle {
    peers: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Throttle {
    /// How long to hold `peer`'s next request before looking at it.
    pub fn delay(&self, peer: IpAddr) -> Duration {
        let peers = self.lock();
        peers
            .get(&peer)
            .filter(|f| f.last.elapsed() < FORGET_AFTER)
            .map_or(Duration::ZERO, |f| delay_after(f.count))
    }

    /// Counts one bad attempt by `peer`.
    pub fn failed(&self, peer: IpAddr) {
        let mut peers = self.lock();
        if peers.len() >= MAX_PEERS && !peers.contains_key(&peer) {
            peers.retain(|_, f| f.last.elapsed() < FORGET_AFTER);
            if peers.len() >= MAX_PEERS {
                // Still full: forget everyone rather than grow; the delays start over.
                peers.clear();
            }
        }
        let entry = peers.entry(peer).or_insert(Failures {
            count: 0,
            last: Instant::now(),
        });
        entry.count = entry.count.saturating_add(1);
        entry.last = Instant::now();
    }

    /// Forgets `peer`'s failures after a good attempt.
    pub fn succeeded(&self, peer: IpAddr) {
        let mut peers = self.lock();
        if !peers.is_empty() {
            peers.remove(&peer);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        // Held only for one map operation: a poisoned map is still consistent.
        self.peers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// No delay for the first few failures, then doubling from [`FIRST_DELAY`] up to [`MAX_DELAY`].
fn delay_after(failures: u32) -> Duration {
    match failures.checked_sub(FREE_FAILURES) {
        None => Duration::ZERO,
        Some(extra) => FIRST_DELAY
            .saturating_mul(1u32 << extra.min(8))
            .min(MAX_DELAY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_failures_are_slowed_down_more_and_more_up_to_a_cap() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(FREE_FAILURES - 1), Duration::ZERO);
        assert_eq!(delay_after(FREE_FAILURES), FIRST_DELAY);
        assert_eq!(delay_after(FREE_FAILURES + 1), FIRST_DELAY * 2);
        assert_eq!(delay_after(1000), MAX_DELAY);
        let throttle = Throttle::default();
        let peer: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..FREE_FAILURES + 2 {
            throttle.failed(peer);
        }
        assert_eq!(throttle.delay(peer), FIRST_DELAY * 4);
        assert_eq!(throttle.delay("192.0.2.2".parse().unwrap()), Duration::ZERO);
        throttle.succeeded(peer);
        assert_eq!(throttle.delay(peer), Duration::ZERO);
    }

    #[test]
    fn the_failure_table_stays_bounded() {
        let throttle = Throttle::default();
        for i in 0..(MAX_PEERS as u32 + 10) {
            throttle.failed(IpAddr::from(i.to_be_bytes()));
        }
        assert!(throttle.lock().len() <= MAX_PEERS);
    }
}
