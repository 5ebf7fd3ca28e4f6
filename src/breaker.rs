//! A circuit breaker per source: CLOSED → OPEN after N consecutive failures → HALF_OPEN after a
//! recovery time, where a few trial calls decide CLOSED or OPEN again.
//!
//! Pure state over an injected clock, so every transition is unit-tested without sleeping.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Breaker settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the breaker.
    pub failures: u32,
    /// How long it stays open before trial calls are let through.
    pub recovery: Duration,
    /// Trial calls allowed at once while half open.
    pub trials: u32,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            failures: 5,
            recovery: Duration::from_secs(60),
            trials: 3,
        }
    }
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// The lower-case name shown in `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// Why a breaker lets no call through right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Open: the first trial call may go out after this long.
    Open { next_trial_in: Duration },
    /// Half open with every trial call out: their answers decide, no time is known.
    TrialsOut,
}

/// One source's breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    policy: BreakerPolicy,
    state: BreakerState,
    consecutive_failures: u32,
    opened_at: Option<Instant>,
    trials_in_flight: u32,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(policy: BreakerPolicy) -> Breaker {
        Breaker {
            policy,
            state: BreakerState::Closed,
            consecutive_failures: 0,
            opened_at: None,
            trials_in_flight: 0,
        }
    }

    /// Changes the settings, keeping the state.
    pub fn set_policy(&mut self, policy: BreakerPolicy) {
        self.policy = policy;
    }

    /// The state at `now` (an open breaker whose recovery time passed is half open).
    pub fn state(&self, now: Instant) -> BreakerState {
        match (self.state, self.opened_at) {
            (BreakerState::Open, Some(at)) if now >= at + self.policy.recovery => {
                BreakerState::HalfOpen
            }
            (state, _) => state,
        }
    }

    /// When the next trial call may go out, while open.
    pub fn next_trial(&self, now: Instant) -> Option<Instant> {
        match (self.state(now), self.opened_at) {
            (BreakerState::Open, Some(at)) => Some(at + self.policy.recovery),
            _ => None,
        }
    }

    /// Whether a call asked for at `now` would be refused, and why; changes nothing.
    pub fn refusal(&self, now: Instant) -> Option<Refusal> {
        match self.state(now) {
            BreakerState::Closed => None,
            BreakerState::Open => Some(Refusal::Open {
                next_trial_in: self
                    .next_trial(now)
                    .map_or(self.policy.recovery, |t| t.saturating_duration_since(now)),
            }),
            // Before the first trial the stored state is still open: no trial is out yet.
            BreakerState::HalfOpen if self.state != BreakerState::HalfOpen => None,
            BreakerState::HalfOpen => {
                (self.trials_in_flight >= self.policy.trials).then_some(Refusal::TrialsOut)
            }
        }
    }

    /// Asks to make a call at `now`; `Err(wait)` says how long until one may be tried.
    /// `Ok(Some(HalfOpen))` when this call is the first trial after the recovery time, so the
    /// caller can announce the change (nothing else notices that time has passed).
    pub fn try_acquire(&mut self, now: Instant) -> Result<Option<BreakerState>, Duration> {
        match self.state(now) {
            BreakerState::Closed => Ok(None),
            BreakerState::Open => Err(self
                .next_trial(now)
                .map_or(self.policy.recovery, |t| t.saturating_duration_since(now))),
            BreakerState::HalfOpen => {
                let entered = self.state != BreakerState::HalfOpen;
                self.state = BreakerState::HalfOpen;
                if self.trials_in_flight < self.policy.trials {
                    self.trials_in_flight += 1;
                    Ok(entered.then_some(BreakerState::HalfOpen))
                } else {
                    // Trials are out; their results decide. Check again shortly.
                    Err(Duration::from_millis(200))
                }
            }
        }
    }

    /// Records a successful call; returns the new state if it changed.
    pub fn on_success(&mut self, now: Instant) -> Option<BreakerState> {
        let before = self.state(now);
        self.consecutive_failures = 0;
        self.trials_in_flight = 0;
        self.state = BreakerState::Closed;
        self.opened_at = None;
        (before != BreakerState::Closed).then_some(BreakerState::Closed)
    }

    /// Records a failed call; returns the new state if it changed.
    pub fn on_failure(&mut self, now: Instant) -> Option<BreakerState> {
        let before = self.state(now);
        self.consecutive_failures += 1;
        let open = match before {
            BreakerState::HalfOpen => true,
            BreakerState::Closed => self.consecutive_failures >= self.policy.failures,
            // Late failures of calls started before it opened change nothing.
            BreakerState::Open => false,
        };
        if open {
            self.state = BreakerState::Open;
            self.opened_at = Some(now);
            self.trials_in_flight = 0;
            return Some(BreakerState::Open);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BreakerPolicy {
        BreakerPolicy {
            failures: 3,
            recovery: Duration::from_secs(10),
            trials: 2,
        }
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let t = Instant::now();
        let mut b = Breaker::new(policy());
        assert_eq!(b.on_failure(t), None);
        assert_eq!(b.on_failure(t), None);
        b.on_success(t);
        assert_eq!(b.on_failure(t), None);
        assert_eq!(b.on_failure(t), None);
        assert_eq!(b.on_failure(t), Some(BreakerState::Open));
        assert_eq!(
            b.refusal(t + Duration::from_secs(4)),
            Some(Refusal::Open {
                next_trial_in: Duration::from_secs(6)
            })
        );
        assert_eq!(
            b.refusal(t + Duration::from_secs(10)),
            None,
            "recovery time over: a trial may go"
        );
        assert_eq!(
            b.try_acquire(t + Duration::from_secs(4)),
            Err(Duration::from_secs(6))
        );
    }

    #[test]
    fn half_open_lets_a_few_trials_through_and_they_decide() {
        let t = Instant::now();
        let mut b = Breaker::new(policy());
        for _ in 0..3 {
            b.on_failure(t);
        }
        let later = t + Duration::from_secs(10);
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        assert_eq!(
            b.try_acquire(later),
            Ok(Some(BreakerState::HalfOpen)),
            "the first trial announces half-open"
        );
        assert_eq!(b.refusal(later), None, "one trial slot is still free");
        assert_eq!(b.try_acquire(later), Ok(None), "the second does not");
        assert_eq!(b.refusal(later), Some(Refusal::TrialsOut));
        assert!(b.try_acquire(later).is_err(), "only two trials at once");
        assert_eq!(b.on_failure(later), Some(BreakerState::Open));
        assert_eq!(b.next_trial(later), Some(later + Duration::from_secs(10)));

        let again = later + Duration::from_secs(10);
        assert_eq!(b.try_acquire(again), Ok(Some(BreakerState::HalfOpen)));
        assert_eq!(b.on_success(again), Some(BreakerState::Closed));
        assert!(b.try_acquire(again).is_ok());
    }
}
