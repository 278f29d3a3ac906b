//! The one place where wire (prost) types and domain types meet. Conversions
//! from the wire validate on the way in, so an invalid message is refused at
//! the edge and never reaches storage.

use chrono::{DateTime, Utc};

use crate::pb;
use coso_domain::DomainError;
use coso_domain::calendar::{Calendar, Period};
use coso_domain::catalog::Catalog;
use coso_domain::change::{ChangeKind, Entry};
use coso_domain::report::{Decision, Review};
use coso_domain::unit::Unit;
use coso_domain::value::Value;

fn wire(field: &'static str, reason: impl Into<String>) -> DomainError {
    DomainError::Wire {
        field,
        reason: reason.into(),
    }
}

pub fn parse_time(field: &'static str, s: &str) -> Result<DateTime<Utc>, DomainError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| wire(field, format!("{s:?} is not an RFC 3339 time: {e}")))
}

/// An optional RFC 3339 time: empty means none.
pub fn parse_opt_time(field: &'static str, s: &str) -> Result<Option<DateTime<Utc>>, DomainError> {
    if s.is_empty() {
        Ok(None)
    } else {
        parse_time(field, s).map(Some)
    }
}

pub fn time_to_wire(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339()).unwrap_or_default()
}

impl TryFrom<pb::Unit> for Unit {
    type Error = DomainError;
    fn try_from(u: pb::Unit) -> Result<Self, Self::Error> {
        Unit::new(u.code.parse()?, &u.name, u.kind.parse()?)
    }
}

impl From<&Unit> for pb::Unit {
    fn from(u: &Unit) -> Self {
        pb::Unit {
            code: u.code.to_string(),
            name: u.name.clone(),
            kind: u.kind.to_string(),
        }
    }
}

impl From<ChangeKind> for pb::ChangeKind {
    fn from(k: ChangeKind) -> Self {
        match k {
            ChangeKind::ActivityUpsert => pb::ChangeKind::ActivityUpsert,
            ChangeKind::ActivityRemove => pb::ChangeKind::ActivityRemove,
            ChangeKind::ValuesSet => pb::ChangeKind::ValuesSet,
            ChangeKind::NoteSet => pb::ChangeKind::NoteSet,
            ChangeKind::Submit => pb::ChangeKind::Submit,
        }
    }
}

/// The change kind a wire entry's `kind` number names.
pub fn change_kind(k: i32) -> Result<ChangeKind, DomainError> {
    match pb::ChangeKind::try_from(k) {
        Ok(pb::ChangeKind::ActivityUpsert) => Ok(ChangeKind::ActivityUpsert),
        Ok(pb::ChangeKind::ActivityRemove) => Ok(ChangeKind::ActivityRemove),
        Ok(pb::ChangeKind::ValuesSet) => Ok(ChangeKind::ValuesSet),
        Ok(pb::ChangeKind::NoteSet) => Ok(ChangeKind::NoteSet),
        Ok(pb::ChangeKind::Submit) => Ok(ChangeKind::Submit),
        _ => Err(wire("kind", format!("unknown change kind {k}"))),
    }
}

impl From<&Entry> for pb::ChangeEntry {
    fn from(e: &Entry) -> Self {
        pb::ChangeEntry {
            seq: e.seq,
            kind: pb::ChangeKind::from(e.kind) as i32,
            entity: e.entity.clone(),
            payload: e.payload.clone(),
            content_hash: e.hash.to_vec(),
            recorded_at: e.recorded_at.to_rfc3339(),
        }
    }
}

/// A wire entry is accepted only if its hash is 32 bytes and matches the
/// payload, and the payload decodes and validates for its kind.
impl TryFrom<pb::ChangeEntry> for Entry {
    type Error = DomainError;
    fn try_from(e: pb::ChangeEntry) -> Result<Self, Self::Error> {
        entry_and_change(e).map(|(entry, _)| entry)
    }
}

/// Like `Entry::try_from`, also returning the decoded change, so a receiver
/// that needs it does not decode the payload a second time.
pub fn entry_and_change(
    e: pb::ChangeEntry,
) -> Result<(Entry, coso_domain::change::Change), DomainError> {
    if e.seq == 0 {
        return Err(wire("seq", "sequence numbers start at 1"));
    }
    let hash: [u8; 32] = e
        .content_hash
        .try_into()
        .map_err(|_| wire("content_hash", "must be 32 bytes (SHA-256)"))?;
    let entry = Entry {
        seq: e.seq,
        kind: change_kind(e.kind)?,
        entity: e.entity,
        payload: e.payload,
        hash,
        recorded_at: parse_time("recorded_at", &e.recorded_at)?,
    };
    let change = entry.decode()?;
    Ok((entry, change))
}

impl From<&Value> for pb::Value {
    fn from(v: &Value) -> Self {
        let kind = match v {
            Value::Number(n) => pb::value::Kind::Number(*n),
            Value::Bool(b) => pb::value::Kind::Flag(*b),
            Value::Text(t) => pb::value::Kind::Text(t.clone()),
        };
        pb::Value { kind: Some(kind) }
    }
}

impl TryFrom<pb::Value> for Value {
    type Error = DomainError;
    fn try_from(v: pb::Value) -> Result<Self, Self::Error> {
        match v.kind {
            Some(pb::value::Kind::Number(n)) if n.is_finite() => Ok(Value::Number(n)),
            Some(pb::value::Kind::Number(_)) => Err(wire("value", "not a finite number")),
            Some(pb::value::Kind::Flag(b)) => Ok(Value::Bool(b)),
            Some(pb::value::Kind::Text(t)) => Ok(Value::Text(t)),
            None => Err(wire("value", "empty")),
        }
    }
}

impl From<&Period> for pb::Period {
    fn from(p: &Period) -> Self {
        pb::Period {
            code: p.code.to_string(),
            title: p.title.clone(),
            window_start: p.window_start.to_string(),
            window_end: p.window_end.to_string(),
            due: p.due.to_rfc3339(),
            indicators: p.indicators.clone(),
            kind: match p.kind {
                coso_domain::calendar::PeriodKind::Standard => "standard".into(),
                coso_domain::calendar::PeriodKind::AdHoc => "ad-hoc".into(),
            },
        }
    }
}

/// A date of a period's window or deadline: the supported years, and the
/// year before the first, where the first year's windows open.
fn window_date(field: &'static str, s: &str) -> Result<chrono::NaiveDate, DomainError> {
    use chrono::Datelike;
    use coso_domain::calendar::{FIRST_YEAR, LAST_YEAR};
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| wire(field, format!("{s:?} is not a date (YYYY-MM-DD)")))?;
    if ((FIRST_YEAR - 1)..=LAST_YEAR).contains(&d.year()) {
        Ok(d)
    } else {
        Err(wire(field, format!("{d} is outside the supported years")))
    }
}

impl TryFrom<pb::Period> for Period {
    type Error = DomainError;
    fn try_from(p: pb::Period) -> Result<Self, Self::Error> {
        use coso_domain::calendar::PeriodKind;
        Ok(Period {
            code: p.code.parse()?,
            title: p.title,
            window_start: window_date("window_start", &p.window_start)?,
            window_end: window_date("window_end", &p.window_end)?,
            due: DateTime::parse_from_rfc3339(&p.due)
                .map_err(|e| wire("due", e.to_string()))
                .and_then(|t| {
                    window_date("due", &t.date_naive().to_string())?;
                    Ok(t)
                })?,
            indicators: p.indicators,
            kind: match p.kind.as_str() {
                "standard" => PeriodKind::Standard,
                "ad-hoc" => PeriodKind::AdHoc,
                other => return Err(wire("kind", format!("unknown period kind {other:?}"))),
            },
        })
    }
}

impl From<&Review> for pb::ReviewDecision {
    fn from(r: &Review) -> Self {
        pb::ReviewDecision {
            period: r.period.to_string(),
            decision: r.decision.as_str().into(),
            reason: r.reason.clone(),
            decided_at: r.decided_at.to_rfc3339(),
            submitted_at: r.submission.map(|t| t.to_rfc3339()).unwrap_or_default(),
            superseded: false,
        }
    }
}

impl TryFrom<pb::ReviewDecision> for Review {
    type Error = DomainError;
    fn try_from(r: pb::ReviewDecision) -> Result<Self, Self::Error> {
        let decision: Decision = r.decision.parse()?;
        if decision == Decision::Returned && r.reason.trim().is_empty() {
            return Err(wire("reason", "a returned report needs a reason"));
        }
        Ok(Review {
            period: r.period.parse()?,
            decision,
            reason: r.reason,
            decided_at: parse_time("decided_at", &r.decided_at)?,
            submission: parse_opt_time("submitted_at", &r.submitted_at)?,
        })
    }
}

/// Wraps a catalog or calendar as a versioned, hashed document.
pub fn document(version: u64, body: Vec<u8>) -> pb::Document {
    pb::Document {
        version,
        sha256: coso_domain::change::content_hash(&body).to_vec(),
        body,
    }
}

fn checked_body(d: &pb::Document) -> Result<&[u8], DomainError> {
    if coso_domain::change::content_hash(&d.body).as_slice() != d.sha256.as_slice() {
        return Err(wire("sha256", "document hash does not match its body"));
    }
    Ok(&d.body)
}

impl TryFrom<&pb::Document> for Catalog {
    type Error = DomainError;
    fn try_from(d: &pb::Document) -> Result<Self, Self::Error> {
        Catalog::from_json(checked_body(d)?, "catalog").map_err(|e| wire("catalog", e.to_string()))
    }
}

impl TryFrom<&pb::Document> for Calendar {
    type Error = DomainError;
    fn try_from(d: &pb::Document) -> Result<Self, Self::Error> {
        Calendar::from_json(checked_body(d)?, "calendar")
            .map_err(|e| wire("calendar", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coso_domain::activity::{Activity, ActivityId, Form};
    use coso_domain::change::Change;
    use proptest::prelude::*;

    fn entry(participants: Option<u32>) -> Entry {
        let a = Activity {
            id: ActivityId::from_counter(3),
            date: chrono::NaiveDate::from_ymd_opt(2026, 4, 30).unwrap(),
            form: Form::Training,
            title: "Tập huấn Luật Thực hiện dân chủ ở cơ sở".into(),
            participants,
            note: "Tổ dân phố số 5".into(),
        };
        Entry::new(3, &Change::ActivityUpsert(a), Utc::now())
    }

    #[test]
    fn entries_round_trip_and_bad_ones_are_refused() {
        let e = entry(Some(12));
        let wire_e = pb::ChangeEntry::from(&e);
        let back = Entry::try_from(wire_e.clone()).unwrap();
        assert_eq!(back.payload, e.payload);
        assert_eq!(back.hash, e.hash);

        let mut short_hash = wire_e.clone();
        short_hash.content_hash.pop();
        assert!(Entry::try_from(short_hash).is_err());
        let mut tampered = wire_e.clone();
        tampered.payload = entry(Some(13)).payload;
        assert!(Entry::try_from(tampered).is_err());
        let mut zero = wire_e.clone();
        zero.seq = 0;
        assert!(Entry::try_from(zero).is_err());
        let mut kind = wire_e.clone();
        kind.kind = 99;
        assert!(Entry::try_from(kind).is_err());
        let mut time = wire_e;
        time.recorded_at = "yesterday".into();
        assert!(Entry::try_from(time).is_err());
    }

    /// Defect 3 of issue 13: a pushed activity dated +262142-12-31 was
    /// accepted and later panicked the hub. Out-of-range dates are refused at
    /// the edge.
    #[test]
    fn out_of_range_activity_dates_are_refused_on_the_wire() {
        for date in [
            chrono::NaiveDate::MAX,
            chrono::NaiveDate::MIN,
            chrono::NaiveDate::from_ymd_opt(1999, 6, 1).unwrap(),
        ] {
            let a = Activity {
                id: ActivityId::from_counter(1),
                date,
                form: Form::Other,
                title: "x".into(),
                participants: None,
                note: String::new(),
            };
            let e = Entry::new(1, &Change::ActivityUpsert(a), Utc::now());
            let err = Entry::try_from(pb::ChangeEntry::from(&e)).unwrap_err();
            assert!(err.to_string().contains("date"), "{date}: {err}");
        }
    }

    #[test]
    fn units_and_periods_round_trip() {
        let u = Unit::new(
            "TDP05".parse().unwrap(),
            "Tổ dân phố số 5",
            coso_domain::UnitKind::ResidentialGroup,
        )
        .unwrap();
        assert_eq!(Unit::try_from(pb::Unit::from(&u)).unwrap(), u);
        let bad = pb::Unit {
            code: "TDP 5".into(),
            name: "x".into(),
            kind: "residential-group".into(),
        };
        assert!(Unit::try_from(bad).is_err());
        let bad_kind = pb::Unit {
            code: "X".into(),
            name: "x".into(),
            kind: "village".into(),
        };
        assert!(Unit::try_from(bad_kind).is_err());
        let p = Calendar::builtin()
            .period(&"2026-M9".parse().unwrap())
            .unwrap();
        assert_eq!(Period::try_from(pb::Period::from(&p)).unwrap(), p);
    }

    #[test]
    fn documents_are_hash_checked() {
        let cat = Catalog::builtin();
        let d = document(cat.version, cat.to_json());
        assert_eq!(Catalog::try_from(&d).unwrap(), cat);
        let mut bad = d.clone();
        bad.body.push(b' ');
        assert!(Catalog::try_from(&bad).is_err());
        let cal = Calendar::builtin();
        assert_eq!(
            Calendar::try_from(&document(1, cal.to_json())).unwrap(),
            cal
        );
    }

    #[test]
    fn reviews() {
        let r = pb::ReviewDecision {
            period: "2026-H1".into(),
            decision: "returned".into(),
            reason: String::new(),
            decided_at: Utc::now().to_rfc3339(),
            ..Default::default()
        };
        assert!(
            Review::try_from(r.clone()).is_err(),
            "a return needs a reason"
        );
        let ok = pb::ReviewDecision {
            reason: "Bổ sung số liệu".into(),
            ..r
        };
        assert_eq!(Review::try_from(ok).unwrap().decision, Decision::Returned);
    }

    proptest! {
        #[test]
        fn values_round_trip(n in proptest::num::f64::NORMAL, b: bool, t in "\\PC{0,30}") {
            for v in [Value::Number(n), Value::Bool(b), Value::Text(t.clone())] {
                prop_assert_eq!(Value::try_from(pb::Value::from(&v)).unwrap(), v);
            }
        }
    }
}
