//! The log chain: a running SHA-256 over a unit's change log, so that agent
//! and hub can tell in one 32-byte comparison whether their logs are equal up
//! to a seq (see LOG CHAIN in proto/coso/v1/sync.proto). Content hashes alone
//! compare one entry; the chain compares the whole prefix, which is what
//! "the hub holds a prefix of the agent's log" means.

use sha2::{Digest, Sha256};

use crate::pb;
use coso_domain::change::Entry;

/// The chain before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

const DOMAIN: &[u8] = b"coso-log-chain-v1";

/// The chain after `entry`, given the chain before it.
pub fn next(prev: &[u8; 32], entry: &Entry) -> [u8; 32] {
    let kind = pb::ChangeKind::from(entry.kind) as i32;
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(prev);
    h.update(entry.seq.to_be_bytes());
    h.update(kind.to_be_bytes());
    h.update(entry.entity.as_bytes());
    h.update([0u8]);
    h.update(entry.hash);
    h.finalize().into()
}

/// The chain over `entries` (consecutive from seq 1), or `None` if they are
/// not consecutive from 1.
pub fn over<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Option<[u8; 32]> {
    let mut c = GENESIS;
    for (i, e) in entries.into_iter().enumerate() {
        if e.seq != i as u64 + 1 {
            return None;
        }
        c = next(&c, e);
    }
    Some(c)
}

/// A chain hash from the wire: exactly 32 bytes, or `None`.
pub fn from_wire(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Utc};
    use coso_domain::activity::{Activity, ActivityId, Form};
    use coso_domain::change::Change;

    fn entry(seq: u64, title: &str) -> Entry {
        let a = Activity {
            id: ActivityId::from_counter(seq),
            date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            form: Form::Conference,
            title: title.into(),
            participants: Some(5),
            note: String::new(),
        };
        Entry::new(seq, &Change::ActivityUpsert(a), Utc::now())
    }

    #[test]
    fn equal_prefixes_have_equal_chains_and_any_difference_shows() {
        let a = vec![entry(1, "a"), entry(2, "b"), entry(3, "c")];
        let mut b = a.clone();
        b[1] = entry(2, "x");
        b[2] = a[2].clone();
        assert_eq!(over(&a[..1]), over(&b[..1]));
        // Entry 3 is identical in both, but the chains differ from seq 2 on.
        assert_ne!(over(&a[..2]), over(&b[..2]));
        assert_ne!(over(&a), over(&b));
        assert_eq!(over(&[]), Some(GENESIS));
        assert_eq!(over(&a[1..]), None, "not from seq 1");
    }
}
