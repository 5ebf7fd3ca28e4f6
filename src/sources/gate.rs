//! The door every request to a source goes through: its circuit breaker, its persisted rate
//! limit, and any `Retry-After` it asked for. Transitions are logged and announced as events.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::breaker::{Breaker, BreakerPolicy, BreakerState};
use crate::events::EventBus;
use crate::protocol::{BreakerChange, Event, RateLimited};
use crate::ratelimit::Window;
use crate::source_kind::SourceKind;
use crate::store::{Store, StoreError};
use crate::waiting::SourceHold;

/// Longest `Retry-After` honoured; a server asking for more is treated as asking for this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// What a request is for: API calls count against the rate limit, file transfers do not
/// (providers meter their APIs, not their CDNs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Api,
    File,
}

/// One source's gate.
pub struct Gate {
    source: SourceKind,
    store: Store,
    events: EventBus,
    inner: Mutex<Inner>,
    /// Times a request had to wait for the rate-limit window (for metrics).
    rate_waits: std::sync::atomic::AtomicU64,
}

struct Inner {
    breaker: Breaker,
    windows: Vec<Window>,
    blocked_until: Option<Instant>,
    rate_wait_until: Option<Instant>,
}

/// A gate's state for `status`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateStatus {
    pub breaker: BreakerState,
    /// Until the next trial call, while open.
    pub next_trial: Option<Duration>,
    /// Until the rate limit or a Retry-After lets the next request go.
    pub waiting: Option<Duration>,
}

impl Gate {
    /// A closed gate with these settings.
    pub fn new(
        source: SourceKind,
        store: Store,
        events: EventBus,
        policy: BreakerPolicy,
        windows: Vec<Window>,
    ) -> Gate {
        Gate {
            source,
            store,
            events,
            inner: Mutex::new(Inner {
                breaker: Breaker::new(policy),
                windows,
                blocked_until: None,
                rate_wait_until: None,
            }),
            rate_waits: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Held only for a few field updates, never across an await.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// New settings after a reload or `config set`; the breaker keeps its state.
    pub fn configure(&self, policy: BreakerPolicy, windows: Vec<Window>) {
        let mut inner = self.lock();
        inner.breaker.set_policy(policy);
        inner.windows = windows;
    }

    /// Waits until a request may go out, and (for API calls) books it in the rate window.
    pub async fn admit(&self, purpose: Use) -> Result<(), StoreError> {
        loop {
            let (blocked, windows) = {
                let inner = self.lock();
                let now = Instant::now();
                (
                    inner.blocked_until.filter(|t| *t > now).map(|t| t - now),
                    inner.windows.clone(),
                )
            };
            if let Some(wait) = blocked {
                tokio::time::sleep(wait).await;
                continue;
            }
            if purpose == Use::Api && !windows.is_empty() {
                let source = self.source;
                if let Some(wait) = self.store.take_request_slot(source, windows).await? {
                    self.lock().rate_wait_until = Some(Instant::now() + wait);
                    self.rate_waits
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::info!(source = %source, wait_ms = wait.as_millis() as u64, "rate limit reached; waiting for the window");
                    self.events.publish(Event::from(RateLimited {
                        source,
                        wait_ms: wait.as_millis() as u64,
                    }));
                    tokio::time::sleep(wait).await;
                    continue;
                }
                self.lock().rate_wait_until = None;
            }
            let acquired = self.lock().breaker.try_acquire(Instant::now());
            match acquired {
                Ok(change) => {
                    // The first trial after the recovery time: say the source is being retried.
                    self.announce(change);
                    return Ok(());
                }
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// How long until the breaker lets a call through, if it is open now.
    pub fn closed_for(&self) -> Option<Duration> {
        let inner = self.lock();
        let now = Instant::now();
        inner
            .breaker
            .next_trial(now)
            .map(|t| t.saturating_duration_since(now))
    }

    /// A request got a good answer.
    pub fn succeeded(&self) {
        let change = self.lock().breaker.on_success(Instant::now());
        self.announce(change);
    }

    /// A request failed; `counts` is false for failures that say nothing about the source's
    /// health (e.g. a file that is too large). `retry_after` holds every request back.
    pub fn failed(&self, retry_after: Option<Duration>, counts: bool) {
        let change = {
            let mut inner = self.lock();
            if let Some(wait) = retry_after {
                let until = Instant::now() + wait.min(MAX_RETRY_AFTER);
                inner.blocked_until = Some(inner.blocked_until.map_or(until, |t| t.max(until)));
            }
            if counts {
                inner.breaker.on_failure(Instant::now())
            } else {
                None
            }
        };
        self.announce(change);
    }

    /// How many times requests waited for the rate-limit window since start.
    pub fn rate_waits(&self) -> u64 {
        self.rate_waits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// For `status`.
    pub fn status(&self) -> GateStatus {
        let inner = self.lock();
        let now = Instant::now();
        let waiting = [inner.blocked_until, inner.rate_wait_until]
            .into_iter()
            .flatten()
            .filter(|t| *t > now)
            .max()
            .map(|t| t - now);
        GateStatus {
            breaker: inner.breaker.state(now),
            next_trial: inner
                .breaker
                .next_trial(now)
                .map(|t| t.saturating_duration_since(now)),
            waiting,
        }
    }

    /// What holds this source's requests back now, for telling why a job waits.
    pub fn hold(&self) -> SourceHold {
        let inner = self.lock();
        let now = Instant::now();
        let left = |until: Option<Instant>| until.filter(|t| *t > now).map(|t| t - now);
        SourceHold {
            breaker: inner.breaker.refusal(now),
            retry_after: left(inner.blocked_until),
            rate_limit: left(inner.rate_wait_until),
        }
    }

    fn announce(&self, change: Option<BreakerState>) {
        let Some(state) = change else { return };
        let next_trial = self.status().next_trial.map(|d| d.as_secs());
        match state {
            BreakerState::Open => {
                tracing::warn!(source = %self.source, next_trial_secs = ?next_trial, "circuit breaker opened")
            }
            _ => {
                tracing::info!(source = %self.source, state = state.as_str(), "circuit breaker changed")
            }
        }
        self.events.publish(Event::from(BreakerChange {
            source: self.source,
            state,
            next_trial_secs: next_trial,
        }));
    }
}
