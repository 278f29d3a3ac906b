//! Who may try a password again, and when. Failed guesses are counted per
//! (user name, address) pair and per address, and past a few free tries each
//! further failure makes that pair or address wait longer before it may try
//! again (doubling up to a cap) instead of locking the name: a stranger's
//! failures slow the stranger down and never the user, who signs in from an
//! address of their own. A success clears the pair and the address's count;
//! `coso-hub user unlock` and a password reset clear a name's pairs.
//!
//! Kept in memory in the running hub, shared by the dashboard (which counts)
//! and the Admin service (which unlocks): a restart forgets it, which costs a
//! guesser a restart of the hub, not a bypass.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures a (name, address) pair may make before it has to wait.
pub const MAX_FAILURES: u32 = 5;
/// Failures one address may make, over every name, before it has to wait:
/// more than a pair's, since several people may share an office's address.
pub const ADDRESS_MAX_FAILURES: u32 = 20;
/// The first wait; each further failure doubles it.
pub const FIRST_WAIT: Duration = Duration::from_secs(30);
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Failures older than this (since the last one) are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Past this many entries, forgotten ones are dropped (bounded memory).
const PRUNE_AT: usize = 10_000;

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// How long after `now` this key must wait, given its free tries.
    fn wait(&self, free: u32, now: Instant) -> Option<Duration> {
        if self.count < free {
            return None;
        }
        let doublings = (self.count - free).min(16);
        let wait = FIRST_WAIT.saturating_mul(1 << doublings).min(MAX_WAIT);
        (self.last + wait)
            .checked_duration_since(now)
            .filter(|d| !d.is_zero())
    }

    fn forgotten(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last) >= FORGET_AFTER
    }
}

#[derive(Default)]
struct Counts {
    /// By (lower-cased name, address).
    pairs: HashMap<(String, String), Failures>,
    by_address: HashMap<String, Failures>,
}

/// The failure counts of the running hub.
#[derive(Default)]
pub struct Throttle {
    counts: Mutex<Counts>,
}

fn pair(name: &str, address: &str) -> (String, String) {
    (name.trim().to_lowercase(), address.to_string())
}

fn count(map_entry: &mut Failures, now: Instant) {
    if map_entry.forgotten(now) {
        map_entry.count = 0;
    }
    map_entry.count = map_entry.count.saturating_add(1);
    map_entry.last = now;
}

impl Throttle {
    fn with<T>(&self, f: impl FnOnce(&mut Counts) -> T) -> T {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut c)
    }

    /// How long `name` must wait before trying again from `address`, if at
    /// all. Only that pair's and that address's failures count.
    pub fn wait(&self, name: &str, address: &str, now: Instant) -> Option<Duration> {
        self.with(|c| {
            let p = c
                .pairs
                .get(&pair(name, address))
                .and_then(|f| f.wait(MAX_FAILURES, now));
            let a = c
                .by_address
                .get(address)
                .and_then(|f| f.wait(ADDRESS_MAX_FAILURES, now));
            p.max(a)
        })
    }

    /// Counts a wrong password for `name` from `address`.
    pub fn failed(&self, name: &str, address: &str, now: Instant) {
        self.with(|c| {
            if c.pairs.len() + c.by_address.len() > PRUNE_AT {
                c.pairs.retain(|_, f| !f.forgotten(now));
                c.by_address.retain(|_, f| !f.forgotten(now));
            }
            let fresh = Failures {
                count: 0,
                last: now,
            };
            count(c.pairs.entry(pair(name, address)).or_insert(fresh), now);
            count(
                c.by_address.entry(address.to_string()).or_insert(fresh),
                now,
            );
        })
    }

    /// The right password for `name` from `address`: the pair and the
    /// address start afresh, so others behind the same address are not
    /// held back by failures the address has since answered for.
    pub fn succeeded(&self, name: &str, address: &str) {
        self.with(|c| {
            c.pairs.remove(&pair(name, address));
            c.by_address.remove(address);
        })
    }

    /// Forgets every failure counted against `name`, from any address;
    /// answers how many addresses it had failures from.
    pub fn unlock(&self, name: &str) -> usize {
        let name = name.trim().to_lowercase();
        self.with(|c| {
            let before = c.pairs.len();
            c.pairs.retain(|(n, _), _| *n != name);
            before - c.pairs.len()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stranger_slows_only_itself_and_waits_grow() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            t.failed("An", "10.0.0.9", now);
        }
        assert!(t.wait("an", "10.0.0.9", now).is_none());
        t.failed("an", "10.0.0.9", now);
        assert_eq!(t.wait("an", "10.0.0.9", now), Some(FIRST_WAIT));
        // The user, from an address of their own, is not held back.
        assert!(t.wait("an", "10.0.0.1", now).is_none());
        // Each further failure doubles the wait, up to the cap.
        t.failed("an", "10.0.0.9", now);
        assert_eq!(t.wait("an", "10.0.0.9", now), Some(FIRST_WAIT * 2));
        for _ in 0..20 {
            t.failed("an", "10.0.0.9", now);
        }
        assert!(t.wait("an", "10.0.0.9", now).unwrap() <= MAX_WAIT);
        // The wait ends; it is a delay, not a lock.
        assert!(t.wait("an", "10.0.0.9", now + MAX_WAIT).is_none());
    }

    #[test]
    fn an_address_that_guesses_many_names_waits_and_a_success_clears_it() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..ADDRESS_MAX_FAILURES {
            t.failed(&format!("u{i}"), "10.0.0.9", now);
        }
        assert!(t.wait("binh", "10.0.0.9", now).is_some());
        t.succeeded("binh", "10.0.0.9");
        assert!(t.wait("binh", "10.0.0.9", now).is_none());
        assert!(t.wait("u0", "10.0.0.9", now).is_none());
    }

    #[test]
    fn unlock_forgets_a_name_from_every_address() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES {
            t.failed("an", "10.0.0.8", now);
            t.failed("an", "10.0.0.9", now);
            t.failed("binh", "10.0.0.9", now);
        }
        assert_eq!(t.unlock("AN"), 2);
        assert!(t.wait("an", "10.0.0.8", now).is_none());
        assert!(t.wait("binh", "10.0.0.9", now).is_some());
    }
}
