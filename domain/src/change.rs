//! The change log: every change a unit makes, as an immutable, hashed entry.
//!
//! A [`Change`] is the typed content; an [`Entry`] is what is stored and sent:
//! the canonical JSON payload, its SHA-256, and the sequence number. The hash
//! is computed once, when the entry is made, and never again from the typed
//! value, so a later change of serialisation cannot make old entries look
//! corrupt.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::activity::{Activity, ActivityId};
use crate::calendar::PeriodCode;
use crate::error::DomainError;
use crate::report::{Section, SubmittedReport};
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    ActivityUpsert,
    ActivityRemove,
    ValuesSet,
    NoteSet,
    Submit,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::ActivityUpsert => "activity-upsert",
            ChangeKind::ActivityRemove => "activity-remove",
            ChangeKind::ValuesSet => "values-set",
            ChangeKind::NoteSet => "note-set",
            ChangeKind::Submit => "submit",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityRemove {
    pub id: ActivityId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuesSet {
    pub period: PeriodCode,
    /// `None` clears a value.
    pub values: BTreeMap<String, Option<Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteSet {
    pub period: PeriodCode,
    pub section: Section,
    pub text: String,
}

/// The typed content of a change-log entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    ActivityUpsert(Activity),
    ActivityRemove(ActivityRemove),
    ValuesSet(ValuesSet),
    NoteSet(NoteSet),
    Submit(Box<SubmittedReport>),
}

impl Change {
    pub fn kind(&self) -> ChangeKind {
        match self {
            Change::ActivityUpsert(_) => ChangeKind::ActivityUpsert,
            Change::ActivityRemove(_) => ChangeKind::ActivityRemove,
            Change::ValuesSet(_) => ChangeKind::ValuesSet,
            Change::NoteSet(_) => ChangeKind::NoteSet,
            Change::Submit(_) => ChangeKind::Submit,
        }
    }

    /// The entity the change is about: an activity id or a period code.
    pub fn entity(&self) -> String {
        match self {
            Change::ActivityUpsert(a) => a.id.to_string(),
            Change::ActivityRemove(r) => r.id.to_string(),
            Change::ValuesSet(v) => v.period.to_string(),
            Change::NoteSet(n) => n.period.to_string(),
            Change::Submit(s) => s.period.to_string(),
        }
    }

    /// The canonical payload: compact JSON with fields in declaration order
    /// and maps sorted by key.
    pub fn payload(&self) -> Vec<u8> {
        let r = match self {
            Change::ActivityUpsert(a) => serde_json::to_vec(a),
            Change::ActivityRemove(r) => serde_json::to_vec(r),
            Change::ValuesSet(v) => serde_json::to_vec(v),
            Change::NoteSet(n) => serde_json::to_vec(n),
            Change::Submit(s) => serde_json::to_vec(s),
        };
        r.expect("domain types serialise")
    }

    /// Decodes a payload and checks it with the record rules: decoding
    /// reads what was recorded, by this release or an earlier one, so the
    /// record rules apply, never the entry rules.
    pub fn decode(kind: ChangeKind, payload: &[u8]) -> Result<Change, DomainError> {
        let change = Change::parse(kind, payload)?;
        change.check_record()?;
        Ok(change)
    }

    /// The payload's shape only, without the record rules: for cleaning what
    /// an earlier release recorded ([`crate::clean`]) before it is checked.
    pub fn parse(kind: ChangeKind, payload: &[u8]) -> Result<Change, DomainError> {
        fn de<T: serde::de::DeserializeOwned>(
            kind: ChangeKind,
            p: &[u8],
        ) -> Result<T, DomainError> {
            serde_json::from_slice(p).map_err(|e| DomainError::InvalidPayload {
                kind: kind.as_str(),
                reason: e.to_string(),
            })
        }
        Ok(match kind {
            ChangeKind::ActivityUpsert => Change::ActivityUpsert(de(kind, payload)?),
            ChangeKind::ActivityRemove => Change::ActivityRemove(de(kind, payload)?),
            ChangeKind::ValuesSet => Change::ValuesSet(de(kind, payload)?),
            ChangeKind::NoteSet => Change::NoteSet(de(kind, payload)?),
            ChangeKind::Submit => Change::Submit(Box::new(de(kind, payload)?)),
        })
    }

    /// The record rules for every text the change carries: activity texts,
    /// narratives, text values (of a values change and of a submission).
    fn check_record(&self) -> Result<(), DomainError> {
        use crate::text::{MAX_NOTE_BYTES, check_record};
        fn values<'a>(mut values: impl Iterator<Item = &'a Value>) -> Result<(), DomainError> {
            values.try_for_each(|v| match v {
                Value::Text(t) => crate::text::check_record("values", t),
                _ => Ok(()),
            })
        }
        match self {
            Change::ActivityUpsert(a) => a.validate_record(),
            Change::ActivityRemove(_) => Ok(()),
            Change::ValuesSet(v) => values(v.values.values().flatten()),
            Change::NoteSet(n) => {
                if n.text.len() > MAX_NOTE_BYTES {
                    return Err(DomainError::TooLong("text", MAX_NOTE_BYTES));
                }
                check_record("text", &n.text)
            }
            Change::Submit(s) => {
                values(s.values.values())?;
                s.notes.values().try_for_each(|t| check_record("notes", t))
            }
        }
    }
}

/// SHA-256 of a payload.
pub fn content_hash(payload: &[u8]) -> [u8; 32] {
    Sha256::digest(payload).into()
}

/// One immutable entry of a unit's change log, as stored and as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    pub kind: ChangeKind,
    pub entity: String,
    #[serde(with = "serde_bytes_hex")]
    pub payload: Vec<u8>,
    #[serde(with = "hex32")]
    pub hash: [u8; 32],
    pub recorded_at: DateTime<Utc>,
}

impl Entry {
    pub fn new(seq: u64, change: &Change, recorded_at: DateTime<Utc>) -> Entry {
        let payload = change.payload();
        Entry {
            seq,
            kind: change.kind(),
            entity: change.entity(),
            hash: content_hash(&payload),
            payload,
            recorded_at,
        }
    }

    /// Checks the hash and decodes the payload, validating it.
    pub fn decode(&self) -> Result<Change, DomainError> {
        if content_hash(&self.payload) != self.hash {
            return Err(DomainError::HashMismatch(self.seq));
        }
        let change = Change::decode(self.kind, &self.payload)?;
        if change.entity() != self.entity {
            return Err(DomainError::InvalidPayload {
                kind: self.kind.as_str(),
                reason: format!("entity {:?} does not match the payload", self.entity),
            });
        }
        Ok(change)
    }

    /// The bytes this entry takes in a sync batch (payload and fixed fields).
    pub fn wire_size(&self) -> usize {
        self.payload.len() + self.entity.len() + 64
    }
}

mod serde_bytes_hex {
    use serde::{Deserialize, Deserializer, Serializer};
    // Payloads are UTF-8 JSON; storing them as a string keeps stored entries readable.
    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(b) {
            Ok(t) => s.serialize_str(t),
            Err(_) => Err(serde::ser::Error::custom("payload is not UTF-8")),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(String::deserialize(d)?.into_bytes())
    }
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let v = hex::decode(&s).map_err(serde::de::Error::custom)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom("hash must be 32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::Form;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    /// Found by `cargo fuzz run change_decode`: serde_json's fast float
    /// parsing read `5e105` one step off the number it was printed from,
    /// so a decoded payload re-encoded to other bytes (and a hash over
    /// them would differ). serde_json's `float_roundtrip` reads exactly.
    #[test]
    fn numbers_decode_to_what_they_encode() {
        let payload = br#"{"period":"2026-H1","values":{"DB0":13,"DT0h4":50e103,"DTh4@":50e104,"FT03":null}}"#;
        let change = Change::decode(ChangeKind::ValuesSet, payload).unwrap();
        let again = change.payload();
        let back = Change::decode(ChangeKind::ValuesSet, &again).unwrap();
        assert_eq!(back.payload(), again);
        for x in [5e105, 4.999999999999999e105, 0.1, 1.0 / 3.0, f64::MAX] {
            let text = serde_json::to_string(&x).unwrap();
            assert_eq!(serde_json::from_str::<f64>(&text).unwrap(), x, "{text}");
        }
    }

    fn activity(title: &str, participants: Option<u32>) -> Change {
        Change::ActivityUpsert(Activity {
            id: ActivityId::from_counter(1),
            date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            form: Form::Conference,
            title: title.into(),
            participants,
            note: String::new(),
        })
    }

    #[test]
    fn entries_decode_and_detect_tampering() {
        let e = Entry::new(1, &activity("Hội nghị quán triệt", Some(40)), Utc::now());
        assert_eq!(
            e.decode().unwrap(),
            activity("Hội nghị quán triệt", Some(40))
        );
        let mut bad = e.clone();
        bad.payload = activity("Hội nghị khác", Some(40)).payload();
        assert_eq!(bad.decode(), Err(DomainError::HashMismatch(1)));
        let mut wrong_entity = e.clone();
        wrong_entity.entity = "HD-2".into();
        assert!(wrong_entity.decode().is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let p = br#"{"id":"HD-1","extra":1}"#;
        assert!(Change::decode(ChangeKind::ActivityRemove, p).is_err());
    }

    #[test]
    fn stored_form_round_trips() {
        let e = Entry::new(7, &activity("Tổ dân phố số 5", None), Utc::now());
        let json = serde_json::to_vec(&e).unwrap();
        assert_eq!(serde_json::from_slice::<Entry>(&json).unwrap(), e);
    }

    proptest! {
        #[test]
        fn payload_is_canonical(title in "\\p{L}[\\p{L} ]{0,39}", n in proptest::option::of(0u32..100000)) {
            let a = activity(&title, n);
            let e = Entry::new(1, &a, Utc::now());
            // Decoding and re-encoding gives byte-identical payloads.
            prop_assert_eq!(e.decode().unwrap().payload(), e.payload.clone());
        }
    }
}
