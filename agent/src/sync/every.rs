//! Timing for `sync --watch`: the `--every` duration syntax ("5m", "30s",
//! "1h30m") and the backoff between failed attempts.

use std::fmt;
use std::time::Duration;

use rand::Rng;

/// A duration `--every` did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(pub String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid duration {:?}: use e.g. 30s, 5m, 1h or 1h30m (at least 1s, at most 7 days)",
            self.0
        )
    }
}

impl std::error::Error for DurationError {}

const MAX: Duration = Duration::from_secs(7 * 24 * 3600);

/// Parses `30s`, `5m`, `1h`, `1h30m`, `2d`; a bare number means seconds.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let err = || DurationError(s.to_string());
    let text = s.trim().to_ascii_lowercase();
    if text.is_empty() {
        return Err(err());
    }
    if let Ok(secs) = text.parse::<u64>() {
        return check(Duration::from_secs(secs)).ok_or_else(err);
    }
    let mut total: u64 = 0;
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(err());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| err())?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
        let scale = match &rest[..unit_len] {
            "s" | "sec" | "secs" => 1,
            "m" | "min" | "mins" => 60,
            "h" | "hr" | "hrs" => 3600,
            "d" => 86400,
            _ => return Err(err()),
        };
        rest = &rest[unit_len..];
        total = n
            .checked_mul(scale)
            .and_then(|x| total.checked_add(x))
            .ok_or_else(err)?;
    }
    check(Duration::from_secs(total)).ok_or_else(err)
}

fn check(d: Duration) -> Option<Duration> {
    (d >= Duration::from_secs(1) && d <= MAX).then_some(d)
}

/// How long to wait after the `failures`-th failure in a row: doubling from
/// 2 s, never above `cap`, with "equal jitter" (half fixed, half random) so
/// agents that lost the hub together do not all come back at the same moment.
pub fn backoff(failures: u32, cap: Duration) -> Duration {
    let exp = Duration::from_secs(2).saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    let d = exp.min(cap);
    let half = d / 2;
    let jitter_ms = rand::rng().random_range(0..=half.as_millis().max(1) as u64);
    half + Duration::from_millis(jitter_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(" 45 "), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("2D"), Ok(Duration::from_secs(172800)));
        for bad in ["", "0s", "5x", "m", "1h-2m", "99999999999999999999h", "8d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let cap = Duration::from_secs(60);
        for failures in 1..40 {
            let d = backoff(failures, cap);
            assert!(d <= cap, "{failures}: {d:?}");
        }
        let first = backoff(1, cap);
        assert!(first >= Duration::from_secs(1) && first <= Duration::from_secs(2));
        let later = backoff(10, cap);
        assert!(later >= Duration::from_secs(30));
    }
}
