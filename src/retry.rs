//! Retry timing: exponential backoff with full jitter, a cap, and the server's `Retry-After`.

use std::time::Duration;

/// How often and how patiently to retry one operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Total tries, the first included.
    pub max_tries: u32,
    /// Upper bound of the first backoff.
    pub base: Duration,
    /// No single wait exceeds this (a server's Retry-After included).
    pub cap: Duration,
}

impl RetryPolicy {
    /// Defaults for search requests: three tries, waits up to 0.5 s, 1 s (capped at 30 s).
    pub const SEARCH: RetryPolicy = RetryPolicy {
        max_tries: 3,
        base: Duration::from_millis(500),
        cap: Duration::from_secs(30),
    };

    /// Backoff for downloads (and for validations that did not finish); the number of tries
    /// comes from the config, and an attempt that moved the offset forward gives its try back.
    pub const DOWNLOAD: RetryPolicy = RetryPolicy {
        max_tries: 5,
        base: Duration::from_millis(500),
        cap: Duration::from_secs(60),
    };

    /// Whether another try is allowed after `tries` have been made.
    pub fn may_retry(&self, tries: u32) -> bool {
        tries < self.max_tries
    }

    /// The wait before try number `tries + 1`: a uniform draw in [0, base·2^(tries-1)] ("full
    /// jitter", so many clients do not retry in lockstep), capped; `retry_after` replaces it.
    pub fn delay(&self, tries: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.cap);
        }
        let exponent = tries.saturating_sub(1).min(20);
        let ceiling = self.base.saturating_mul(1 << exponent).min(self.cap);
        ceiling.mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_the_growing_ceiling_and_the_cap() {
        let policy = RetryPolicy {
            max_tries: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        for _ in 0..200 {
            assert!(policy.delay(1, None) <= Duration::from_millis(100));
            assert!(policy.delay(3, None) <= Duration::from_millis(400));
            assert!(policy.delay(9, None) <= Duration::from_secs(1));
        }
        // Full jitter: the draws are spread out, not all at the ceiling.
        let draws: Vec<_> = (0..50).map(|_| policy.delay(4, None)).collect();
        assert!(draws.iter().any(|d| *d < Duration::from_millis(400)));
    }

    #[test]
    fn retry_after_overrides_but_is_capped() {
        let policy = RetryPolicy::SEARCH;
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(policy.delay(1, Some(Duration::from_secs(3600))), policy.cap);
        assert!(policy.may_retry(2));
        assert!(!policy.may_retry(3));
    }
}
