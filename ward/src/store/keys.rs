//! The store's key encoding. Every record lives in one sled tree, so that a
//! push (entries, state, cursor, audit) is a single atomic batch. A key is a
//! one-byte tag, then its parts; unit and period codes never contain 0x00, so
//! it separates parts, and numbers are big-endian so keys sort by number.

use coso_domain::{PeriodCode, UnitCode};

const META: u8 = b'm';
const UNIT: u8 = b'u';
const STATE: u8 = b's';
const ENTRY: u8 = b'e';
/// The audit chain. (Tag `a` held the unchained per-entry audit lines of
/// earlier versions; it is no longer read or written.)
const AUDIT: u8 = b'l';
const CHAIN: u8 = b'c';
const OUTBOUND: u8 = b'o';
const RECEIVED: u8 = b'r';
/// Who at the ward entered an entry of a unit whose log the ward keeps.
const ENTERED: u8 = b'w';
/// A scanned paper report attached to a submission: its description (`p`)
/// and its bytes (`b`), apart so listing never reads the bytes.
const PAPER: u8 = b'p';
const PAPER_BYTES: u8 = b'b';

fn key(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![tag];
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p);
    }
    k
}

pub fn meta(name: &str) -> Vec<u8> {
    key(META, &[name.as_bytes()])
}

pub fn unit(code: &UnitCode) -> Vec<u8> {
    key(UNIT, &[code.as_str().as_bytes()])
}

pub fn units_prefix() -> Vec<u8> {
    vec![UNIT]
}

pub fn state(code: &UnitCode) -> Vec<u8> {
    key(STATE, &[code.as_str().as_bytes()])
}

pub fn entry(code: &UnitCode, seq: u64) -> Vec<u8> {
    key(ENTRY, &[code.as_str().as_bytes(), &seq.to_be_bytes()])
}

/// All entries of a unit share this prefix (note the trailing separator, so
/// unit `A` does not match unit `AB`).
pub fn entries_prefix(code: &UnitCode) -> Vec<u8> {
    let mut k = key(ENTRY, &[code.as_str().as_bytes()]);
    k.push(0);
    k
}

/// The log chain of a unit's entries 1..=seq (32 raw bytes), kept at the
/// end of each push.
pub fn chain(code: &UnitCode, seq: u64) -> Vec<u8> {
    key(CHAIN, &[code.as_str().as_bytes(), &seq.to_be_bytes()])
}

pub fn outbound(code: &UnitCode, seq: u64) -> Vec<u8> {
    key(OUTBOUND, &[code.as_str().as_bytes(), &seq.to_be_bytes()])
}

/// Who entered entry `seq` of a unit kept at the ward (a dashboard user).
pub fn entered(code: &UnitCode, seq: u64) -> Vec<u8> {
    key(ENTERED, &[code.as_str().as_bytes(), &seq.to_be_bytes()])
}

/// All entered-by records of a unit (trailing separator, as for entries).
pub fn entered_prefix(code: &UnitCode) -> Vec<u8> {
    let mut k = key(ENTERED, &[code.as_str().as_bytes()]);
    k.push(0);
    k
}

/// The scan attached to the submission at `seq` of a unit's log.
pub fn paper(code: &UnitCode, seq: u64) -> Vec<u8> {
    key(PAPER, &[code.as_str().as_bytes(), &seq.to_be_bytes()])
}

pub fn paper_bytes(code: &UnitCode, seq: u64) -> Vec<u8> {
    key(PAPER_BYTES, &[code.as_str().as_bytes(), &seq.to_be_bytes()])
}

pub fn papers_prefix(code: &UnitCode) -> Vec<u8> {
    let mut k = key(PAPER, &[code.as_str().as_bytes()]);
    k.push(0);
    k
}

pub fn audit(id: u64) -> Vec<u8> {
    key(AUDIT, &[&id.to_be_bytes()])
}

pub fn audit_prefix() -> Vec<u8> {
    vec![AUDIT]
}

pub fn received(code: &UnitCode, period: &PeriodCode) -> Vec<u8> {
    key(
        RECEIVED,
        &[code.as_str().as_bytes(), period.to_string().as_bytes()],
    )
}

/// The trailing big-endian number of an entry, outbound or audit key.
pub fn trailing_u64(key: &[u8]) -> Option<u64> {
    let tail = key.get(key.len().checked_sub(8)?..)?;
    Some(u64::from_be_bytes(tail.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_keys_sort_by_seq_and_do_not_mix_units() {
        let a: UnitCode = "A".parse().unwrap();
        let ab: UnitCode = "AB".parse().unwrap();
        assert!(entry(&a, 2) < entry(&a, 10));
        assert!(entry(&a, 255) < entry(&a, 256));
        assert!(!entry(&ab, 1).starts_with(&entries_prefix(&a)));
        assert!(entry(&a, 1).starts_with(&entries_prefix(&a)));
        assert_eq!(trailing_u64(&entry(&a, 77)), Some(77));
    }
}
