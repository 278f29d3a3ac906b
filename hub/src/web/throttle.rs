//! Login throttling: after a few failed logins for one user name or from one
//! address, further attempts are refused for a while, so passwords cannot
//! be guessed at speed. Kept in memory: a restart forgets it, which costs a
//! guesser a restart of the hub, not a bypass.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per key within [`WINDOW`].
pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Past this many keys, expired ones are dropped (bounded memory).
const PRUNE_AT: usize = 10_000;

struct Failures {
    count: u32,
    since: Instant,
}

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Failures>>,
}

impl Throttle {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Failures>) -> T) -> T {
        let mut m = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut m)
    }

    /// How long until `keys` may try again, if any of them is blocked now.
    pub fn blocked(&self, keys: &[String], now: Instant) -> Option<Duration> {
        self.with(|m| {
            keys.iter()
                .filter_map(|k| m.get(k))
                .filter(|f| f.count >= MAX_FAILURES)
                .filter_map(|f| (f.since + WINDOW).checked_duration_since(now))
                .filter(|d| !d.is_zero())
                .max()
        })
    }

    /// Counts a failed login against every key.
    pub fn failed(&self, keys: &[String], now: Instant) {
        self.with(|m| {
            if m.len() > PRUNE_AT {
                m.retain(|_, f| now.duration_since(f.since) < WINDOW);
            }
            for k in keys {
                let f = m.entry(k.clone()).or_insert(Failures {
                    count: 0,
                    since: now,
                });
                if now.duration_since(f.since) >= WINDOW {
                    *f = Failures {
                        count: 0,
                        since: now,
                    };
                }
                f.count += 1;
            }
        })
    }

    /// Forgets a key's failures (after a successful login).
    pub fn succeeded(&self, key: &str) {
        self.with(|m| {
            m.remove(key);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_block_until_the_window_passes() {
        let t = Throttle::default();
        let now = Instant::now();
        let keys = vec!["user:an".to_string(), "ip:10.0.0.1".to_string()];
        for _ in 0..MAX_FAILURES - 1 {
            t.failed(&keys, now);
        }
        assert!(t.blocked(&keys, now).is_none());
        t.failed(&keys, now);
        assert!(t.blocked(&keys, now).is_some());
        // Another user from another address is not blocked.
        assert!(
            t.blocked(&["user:binh".into(), "ip:10.0.0.2".into()], now)
                .is_none()
        );
        // The same address is, whatever the user name.
        assert!(
            t.blocked(&["user:binh".into(), "ip:10.0.0.1".into()], now)
                .is_some()
        );
        assert!(t.blocked(&keys, now + WINDOW).is_none());
        t.succeeded("user:an");
        assert!(t.blocked(&["user:an".into()], now).is_none());
    }
}
