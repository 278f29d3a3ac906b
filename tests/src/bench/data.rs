//! The change-log entries the simulated agents send: `ValuesSet` entries of a
//! chosen width for the ingest runs, and a unit's realistic year (activities,
//! values, narratives, then a submission frozen with `UnitState::freeze`) for
//! the compile and growth runs. Built once, before any clock starts.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use coso_domain::catalog::ValueType;
use coso_domain::change::{NoteSet, ValuesSet};
use coso_domain::validate;
use coso_domain::{
    Activity, ActivityId, Calendar, Catalog, Change, Entry, Period, PeriodCode, UnitKind,
    UnitState, Value,
};
use coso_proto::pb;

use crate::ward::UnitPlan;

/// The period every benchmark reports on: the annual report.
pub const PERIOD: &str = "2026-Y";

pub fn period() -> Period {
    let code: PeriodCode = PERIOD.parse().expect("valid period code");
    Calendar::builtin()
        .period(&code)
        .expect("the built-in calendar has the annual period")
}

/// The last day activities are dated, before the annual report is due.
pub fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 31).expect("valid date")
}

/// Codes of the entered numeric indicators that apply to `kind` and take
/// any count below 1,000 ([`values_entry`]'s numbers; a rate is capped at
/// 100): what its `value set` may write (the hub refuses the others).
pub fn numeric_codes(catalog: &Catalog, kind: UnitKind) -> Vec<String> {
    catalog
        .indicators
        .iter()
        .filter(|i| {
            i.is_entered()
                && i.applies_to(kind)
                && i.max.is_none_or(|m| m >= 999.0)
                && matches!(i.value_type, ValueType::Count | ValueType::Number)
        })
        .map(|i| i.code.clone())
        .collect()
}

/// A `ValuesSet` entry carrying `k` values (at most `codes.len()`): the
/// indicators rotate with `seq`, the numbers vary with `salt`.
pub fn values_entry(
    seq: u64,
    codes: &[String],
    k: usize,
    period: &PeriodCode,
    salt: u64,
    at: DateTime<Utc>,
) -> Entry {
    let k = k.min(codes.len());
    let values = (0..k)
        .map(|j| {
            let code = codes[(seq as usize + j) % codes.len()].clone();
            let n = (salt.wrapping_mul(31) + seq * 7 + j as u64) % 1000;
            (code, Some(Value::Number(n as f64)))
        })
        .collect();
    let change = Change::ValuesSet(ValuesSet {
        period: period.clone(),
        values,
    });
    Entry::new(seq, &change, at)
}

/// How many indicator values an entry carries (set values and submitted ones).
pub fn values_in(entry: &Entry) -> usize {
    match entry.decode() {
        Ok(Change::ValuesSet(v)) => v.values.len(),
        Ok(Change::Submit(s)) => s.values.len(),
        _ => 0,
    }
}

/// A unit's year as its agent records it: every planned activity, one
/// `value set` with every entered value, the narratives, and finally the
/// submission, frozen from the state those changes give (so it carries every
/// applicable indicator, derived ones included). Seqs start at `first_seq`.
pub fn year_log(
    plan: &UnitPlan,
    catalog: &Catalog,
    period: &Period,
    first_seq: u64,
    at: DateTime<Utc>,
) -> Vec<Entry> {
    let mut changes = Vec::new();
    for (i, a) in plan.activities.iter().enumerate() {
        changes.push(Change::ActivityUpsert(Activity {
            id: ActivityId::from_counter(i as u64 + 1),
            date: a.date,
            form: a.form,
            title: a.title.clone(),
            participants: Some(a.participants),
            note: String::new(),
        }));
    }
    let mut values: BTreeMap<String, Option<Value>> = BTreeMap::new();
    for (code, raw) in &plan.values {
        // The agent's own parser, so values are typed as an officer's would be.
        if let Ok((c, v)) = validate::parse_input(catalog, plan.kind, period, code, raw) {
            values.insert(c, Some(v));
        }
    }
    changes.push(Change::ValuesSet(ValuesSet {
        period: period.code.clone(),
        values,
    }));
    for (section, text) in &plan.notes {
        changes.push(Change::NoteSet(NoteSet {
            period: period.code.clone(),
            section: *section,
            text: text.clone(),
        }));
    }
    let mut state = UnitState::default();
    for c in &changes {
        state.apply(c);
    }
    let report = state.freeze(catalog, plan.kind, period, at);
    changes.push(Change::Submit(Box::new(report)));
    changes
        .iter()
        .enumerate()
        .map(|(i, c)| Entry::new(first_seq + i as u64, c, at))
        .collect()
}

/// The wire form of a batch.
pub fn push_request(entries: &[Entry]) -> pb::PushRequest {
    pb::PushRequest {
        entries: entries.iter().map(pb::ChangeEntry::from).collect(),
        receipts: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_ends_in_a_full_submission() {
        let catalog = Catalog::builtin();
        let period = period();
        let plans = crate::ward::generate(7, 3, last_day());
        let log = year_log(&plans[0], &catalog, &period, 1, Utc::now());
        let last = log.last().unwrap();
        assert_eq!(last.kind, coso_domain::ChangeKind::Submit);
        assert_eq!(last.seq, log.len() as u64);
        let applicable = catalog
            .indicators
            .iter()
            .filter(|i| i.applies_to(plans[0].kind))
            .count();
        // Every applicable indicator has a value, entered or derived (a rate
        // over a zero denominator is the only gap the domain allows).
        assert!(values_in(last) + 2 >= applicable, "{}", values_in(last));
        for e in &log {
            e.decode().unwrap();
        }
        let codes = numeric_codes(&catalog, plans[0].kind);
        let e = values_entry(3, &codes, 10, &period.code, 1, Utc::now());
        assert_eq!(values_in(&e), 10.min(codes.len()));
    }
}
