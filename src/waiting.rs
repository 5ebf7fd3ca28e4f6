//! Why a job that has work to do is not moving: every source it still needs is held up by its
//! circuit breaker or its rate limit (issue 13: "waiting: archive circuit open, next trial in
//! 42 s"). A typed answer, never free text, so `show`, `list`, their JSON and the HTTP API all
//! say the same thing in their own form.
//!
//! Pure: the store says which sources a job still needs ([`PendingSources`]), each source's gate
//! says what holds it now ([`SourceHold`]), and [`holding_up`] decides. It lives at the top level,
//! beside `breaker` and `ratelimit`, because the wire (`protocol`) carries its answer and the
//! scheduler computes it; under either it would tie the two into an import cycle.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::breaker::Refusal;
use crate::source_kind::SourceKind;

/// The sources a job still needs, by what it needs them for: a download goes out whenever the
/// breaker (and any Retry-After) allows, a search also spends the rate limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingSources {
    /// Sources of the job's queued or running downloads.
    pub downloads: Vec<SourceKind>,
    /// Sources still to search, when the job needs more candidates than it has.
    pub searches: Vec<SourceKind>,
}

/// What holds one source's requests back right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceHold {
    /// The breaker lets no call through.
    pub breaker: Option<Refusal>,
    /// Until the provider's Retry-After lets any request go.
    pub retry_after: Option<Duration>,
    /// Until the rate limit lets the next API request (a search) go.
    pub rate_limit: Option<Duration>,
}

/// Why a job waits on one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Waiting {
    /// The source's breaker is open after repeated failures; nothing goes out until the trial.
    CircuitOpen {
        source: SourceKind,
        next_trial_in: Duration,
    },
    /// The breaker's trial calls are out; their answers decide whether requests resume.
    TrialInFlight { source: SourceKind },
    /// The rate limit (or the provider's Retry-After) holds the next request back.
    RateLimited {
        source: SourceKind,
        next_request_in: Duration,
    },
}

impl Waiting {
    /// The source this wait is on.
    pub fn source(&self) -> SourceKind {
        match *self {
            Waiting::CircuitOpen { source, .. }
            | Waiting::TrialInFlight { source }
            | Waiting::RateLimited { source, .. } => source,
        }
    }

    /// Whole seconds until the source may be tried again, rounded up so that "0 s" only shows
    /// when the wait is really over; `None` while a trial's answer decides.
    pub fn seconds(&self) -> Option<u64> {
        let left = match *self {
            Waiting::CircuitOpen { next_trial_in, .. } => next_trial_in,
            Waiting::RateLimited {
                next_request_in, ..
            } => next_request_in,
            Waiting::TrialInFlight { .. } => return None,
        };
        Some(left.as_secs() + u64::from(left.subsec_nanos() > 0))
    }
}

/// Why the job needing `pending` cannot move, one entry per source it needs, given each source's
/// `hold`; empty unless every needed source is held up (one free source means work goes on).
pub fn holding_up(
    pending: &PendingSources,
    hold: impl Fn(SourceKind) -> SourceHold,
) -> Vec<Waiting> {
    let mut needed: Vec<SourceKind> = pending
        .downloads
        .iter()
        .chain(&pending.searches)
        .copied()
        .collect();
    needed.sort_by_key(|s| s.as_str());
    needed.dedup();
    let mut waiting = Vec::with_capacity(needed.len());
    for source in needed {
        let h = hold(source);
        let reason = match (h.breaker, h.retry_after) {
            (Some(Refusal::Open { next_trial_in }), _) => Waiting::CircuitOpen {
                source,
                next_trial_in,
            },
            (Some(Refusal::TrialsOut), _) => Waiting::TrialInFlight { source },
            (None, Some(next_request_in)) => Waiting::RateLimited {
                source,
                next_request_in,
            },
            // The rate limit meters searches only: a download from this source could go now.
            (None, None) if pending.downloads.contains(&source) => return Vec::new(),
            (None, None) => match h.rate_limit {
                Some(next_request_in) => Waiting::RateLimited {
                    source,
                    next_request_in,
                },
                None => return Vec::new(),
            },
        };
        waiting.push(reason);
    }
    waiting
}

#[cfg(test)]
mod tests {
    use super::*;

    use SourceKind::{Archive, Pexels, Wikimedia};

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn open(n: u64) -> SourceHold {
        SourceHold {
            breaker: Some(Refusal::Open {
                next_trial_in: secs(n),
            }),
            ..SourceHold::default()
        }
    }

    fn limited(n: u64) -> SourceHold {
        SourceHold {
            rate_limit: Some(secs(n)),
            ..SourceHold::default()
        }
    }

    #[test]
    fn a_job_whose_only_source_is_open_waits_for_its_trial() {
        let pending = PendingSources {
            downloads: vec![Archive],
            searches: vec![Archive],
        };
        assert_eq!(
            holding_up(&pending, |_| open(42)),
            vec![Waiting::CircuitOpen {
                source: Archive,
                next_trial_in: secs(42)
            }]
        );
    }

    #[test]
    fn one_free_source_means_the_job_is_not_waiting() {
        let pending = PendingSources {
            downloads: vec![Archive, Wikimedia],
            searches: vec![],
        };
        let hold = |s| {
            if s == Archive {
                open(9)
            } else {
                SourceHold::default()
            }
        };
        assert_eq!(holding_up(&pending, hold), vec![]);
    }

    #[test]
    fn the_rate_limit_holds_searches_but_not_downloads() {
        let searching = PendingSources {
            downloads: vec![],
            searches: vec![Pexels],
        };
        assert_eq!(
            holding_up(&searching, |_| limited(8)),
            vec![Waiting::RateLimited {
                source: Pexels,
                next_request_in: secs(8)
            }]
        );
        let downloading = PendingSources {
            downloads: vec![Pexels],
            searches: vec![Pexels],
        };
        assert_eq!(holding_up(&downloading, |_| limited(8)), vec![]);
    }

    #[test]
    fn a_retry_after_holds_downloads_too() {
        let pending = PendingSources {
            downloads: vec![Pexels],
            searches: vec![],
        };
        let hold = |_| SourceHold {
            retry_after: Some(secs(3)),
            ..SourceHold::default()
        };
        assert_eq!(
            holding_up(&pending, hold),
            vec![Waiting::RateLimited {
                source: Pexels,
                next_request_in: secs(3)
            }]
        );
    }

    #[test]
    fn every_held_source_is_named_once_in_a_stable_order() {
        let pending = PendingSources {
            downloads: vec![Wikimedia, Archive, Wikimedia],
            searches: vec![Pexels, Archive],
        };
        let hold = |s| match s {
            Wikimedia => SourceHold {
                breaker: Some(Refusal::TrialsOut),
                ..SourceHold::default()
            },
            Pexels => limited(5),
            _ => open(30),
        };
        assert_eq!(
            holding_up(&pending, hold),
            vec![
                Waiting::CircuitOpen {
                    source: Archive,
                    next_trial_in: secs(30)
                },
                Waiting::RateLimited {
                    source: Pexels,
                    next_request_in: secs(5)
                },
                Waiting::TrialInFlight { source: Wikimedia },
            ]
        );
    }

    #[test]
    fn nothing_pending_is_not_waiting() {
        assert_eq!(holding_up(&PendingSources::default(), |_| open(5)), vec![]);
    }

    #[test]
    fn seconds_round_up_and_a_trial_has_none() {
        let w = Waiting::CircuitOpen {
            source: Archive,
            next_trial_in: Duration::from_millis(41_200),
        };
        assert_eq!(w.seconds(), Some(42));
        let w = Waiting::RateLimited {
            source: Pexels,
            next_request_in: secs(8),
        };
        assert_eq!(w.seconds(), Some(8));
        assert_eq!(Waiting::TrialInFlight { source: Archive }.seconds(), None);
    }
}
