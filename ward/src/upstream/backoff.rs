//! When to try a delivery again: which responses are worth retrying, the
//! exponential backoff with jitter between attempts, and the upstream's
//! `Retry-After`. Pure functions; the worker supplies the randomness.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The longest `Retry-After` honoured; a longer one is taken as this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// What an attempt's result means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Delivered,
    /// A passing failure: no response (connection refused or dropped, a
    /// timeout), 408, 429 or a 5xx.
    Retry,
    /// The upstream refused it (any other status): retrying would not help.
    Failed,
}

/// Classifies an attempt by its HTTP status (None: no response at all).
pub fn classify(status: Option<u16>) -> Class {
    match status {
        None => Class::Retry,
        Some(200..=299) => Class::Delivered,
        Some(408 | 429) => Class::Retry,
        Some(500..=599) => Class::Retry,
        Some(_) => Class::Failed,
    }
}

/// The exponential backoff with equal jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The wait after the `attempts`-th failed attempt (1 for the first):
    /// `base * 2^(attempts-1)`, capped at `max`, of which the upper half is
    /// scaled by `jitter` (in [0, 1]) so that hubs retrying after the same
    /// outage spread out.
    pub fn delay(&self, attempts: u32, jitter: f64) -> Duration {
        let exp = attempts.saturating_sub(1).min(32);
        let full = self
            .base
            .checked_mul(1u32 << exp.min(31))
            .unwrap_or(self.max)
            .min(self.max);
        let half = full / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// Parses `Retry-After`: delay-seconds, or an HTTP date (then relative to
/// `now`; a date in the past means now).
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    let d = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
        (at - now).to_std().unwrap_or(Duration::ZERO)
    };
    Some(d.min(MAX_RETRY_AFTER))
}

/// How long to wait before the next attempt: what the upstream asked for,
/// else the backoff.
pub fn next_delay(b: &Backoff, attempts: u32, jitter: f64, asked: Option<Duration>) -> Duration {
    asked.unwrap_or_else(|| b.delay(attempts, jitter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passing_failures_are_retried() {
        assert_eq!(classify(None), Class::Retry);
        for s in [200, 201, 204] {
            assert_eq!(classify(Some(s)), Class::Delivered);
        }
        for s in [408, 429, 500, 502, 503, 504] {
            assert_eq!(classify(Some(s)), Class::Retry, "{s}");
        }
        for s in [301, 400, 401, 403, 404, 409, 413, 422] {
            assert_eq!(classify(Some(s)), Class::Failed, "{s}");
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let b = Backoff {
            base: Duration::from_millis(1000),
            max: Duration::from_secs(60),
        };
        assert_eq!(b.delay(1, 0.0), Duration::from_millis(500));
        assert_eq!(b.delay(1, 1.0), Duration::from_millis(1000));
        assert_eq!(b.delay(2, 1.0), Duration::from_millis(2000));
        assert_eq!(b.delay(3, 0.5), Duration::from_millis(3000));
        // Every delay lies in [full/2, full], full doubling up to the cap.
        for n in 1..40 {
            let full = Duration::from_millis(1000 * (1u64 << (n - 1).min(20)))
                .min(Duration::from_secs(60));
            for j in [0.0, 0.3, 0.99, 1.0] {
                let d = b.delay(n, j);
                assert!(d >= full / 2 && d <= full, "attempt {n} jitter {j}: {d:?}");
            }
        }
        assert_eq!(b.delay(1000, 1.0), Duration::from_secs(60));
        assert_eq!(b.delay(u32::MAX, 1.0), Duration::from_secs(60));
    }

    #[test]
    fn retry_after_is_honoured() {
        let now = DateTime::parse_from_rfc3339("2026-06-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            retry_after("Mon, 01 Jun 2026 08:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_after("Mon, 01 Jun 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("99999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after("soon", now), None);
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(
            next_delay(&b, 9, 0.0, Some(Duration::from_secs(5))),
            Duration::from_secs(5)
        );
        assert_eq!(next_delay(&b, 1, 1.0, None), Duration::from_millis(100));
    }
}
