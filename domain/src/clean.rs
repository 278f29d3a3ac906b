//! Cleaning a unit's change log an earlier release recorded without
//! character rules, once, when an agent's store or a hub's database is
//! upgraded: every text made what the record rules accept
//! ([`crate::text::clean_record`]), and each submission's `activities_hash`
//! recomputed over the cleaned activities, so the cleaned log still admits.
//! The agent and the hub run this same code over the same entries, so both
//! hold the same bytes at each seq and their log chains agree.

use std::collections::BTreeMap;

use crate::activity::Activity;
use crate::change::{Change, Entry, content_hash};
use crate::error::DomainError;
use crate::report::{SubmittedReport, UnitState, activities_hash};
use crate::text::clean_record;
use crate::value::Value;

/// What cleaning a log changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cleaned {
    /// The entries whose content changed, in seq order: same seq, kind,
    /// entity and time, a new payload and hash.
    pub rewritten: Vec<Entry>,
    /// Each submission's `activities_hash` that changed: old to new.
    hashes: BTreeMap<String, String>,
}

impl Cleaned {
    /// Whether the log needs no rewrite.
    pub fn is_empty(&self) -> bool {
        self.rewritten.is_empty()
    }

    /// The state folded from the old log made the state of the cleaned one
    /// (reviews untouched): the same cleaning of each text, the same
    /// recomputed hashes, a narrative cleaned to nothing removed as the fold
    /// removes it.
    pub fn clean_state(&self, state: &mut UnitState) {
        for a in state.activities.values_mut() {
            *a = clean_activity(a);
        }
        for values in state.values.values_mut() {
            for v in values.values_mut() {
                *v = clean_value(v);
            }
        }
        for notes in state.notes.values_mut() {
            for t in notes.values_mut() {
                *t = clean_record(t);
            }
            notes.retain(|_, t| !t.trim().is_empty());
        }
        for s in state.submissions.values_mut() {
            *s = self.clean_submission(s);
        }
    }

    fn clean_submission(&self, s: &SubmittedReport) -> SubmittedReport {
        let mut s = clean_submission(s);
        if let Some(new) = self.hashes.get(&s.activities_hash) {
            s.activities_hash = new.clone();
        }
        s
    }
}

/// Cleans a unit's whole log, `entries` in seq order from seq 1. Each
/// entry's hash is checked first; an entry whose payload does not parse is
/// refused (the log is corrupt, not old).
pub fn clean_log<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Result<Cleaned, DomainError> {
    let mut out = Cleaned::default();
    // The log folded as it was and as it is cleaned: a submission's hash is
    // over the activities the unit held when it submitted.
    let (mut old, mut new) = (UnitState::default(), UnitState::default());
    for e in entries {
        if content_hash(&e.payload) != e.hash {
            return Err(DomainError::HashMismatch(e.seq));
        }
        let change = Change::parse(e.kind, &e.payload)?;
        let mut cleaned = clean_change(&change);
        if let Change::Submit(s) = &mut cleaned
            && let Some(h) = rehash(s, &old, &new)
        {
            out.hashes.insert(s.activities_hash.clone(), h.clone());
            s.activities_hash = h;
        }
        old.apply(&change);
        new.apply(&cleaned);
        if cleaned != change {
            out.rewritten
                .push(Entry::new(e.seq, &cleaned, e.recorded_at));
        }
    }
    Ok(out)
}

fn clean_change(change: &Change) -> Change {
    match change {
        Change::ActivityUpsert(a) => Change::ActivityUpsert(clean_activity(a)),
        Change::ActivityRemove(_) => change.clone(),
        Change::ValuesSet(v) => {
            let mut v = v.clone();
            for value in v.values.values_mut().flatten() {
                *value = clean_value(value);
            }
            Change::ValuesSet(v)
        }
        Change::NoteSet(n) => {
            let mut n = n.clone();
            n.text = clean_record(&n.text);
            Change::NoteSet(n)
        }
        Change::Submit(s) => Change::Submit(Box::new(clean_submission(s))),
    }
}

/// A text that held only what cleaning drops would become empty, which no
/// title or text value may be: it becomes U+FFFD, "something was here".
fn not_emptied(old: &str, cleaned: String) -> String {
    if cleaned.trim().is_empty() && !old.trim().is_empty() {
        "\u{FFFD}".into()
    } else {
        cleaned
    }
}

fn clean_activity(a: &Activity) -> Activity {
    let mut a = a.clone();
    a.title = not_emptied(&a.title, clean_record(&a.title));
    a.note = clean_record(&a.note);
    a
}

fn clean_value(v: &Value) -> Value {
    match v {
        Value::Text(t) => Value::Text(not_emptied(t, clean_record(t))),
        v => v.clone(),
    }
}

/// A submission's texts cleaned; its hash is the caller's.
fn clean_submission(s: &SubmittedReport) -> SubmittedReport {
    let mut s = s.clone();
    for v in s.values.values_mut() {
        *v = clean_value(v);
    }
    for t in s.notes.values_mut() {
        *t = clean_record(t);
    }
    s
}

/// The hash a submission gets when the activities it covers are cleaned,
/// if cleaning changed any activity the unit held. The activities it
/// covered are found from the log alone, without the calendar (the agent's
/// copy of the calendar may lag the hub's, and both must agree): a period's
/// activities are those dated in its window, sorted by date and id, so
/// they are a run of that many consecutive activities in that order, the
/// one whose hash is the submission's. None found (a submission that did
/// not agree with its log): the hash is left as it was.
fn rehash(s: &SubmittedReport, old: &UnitState, new: &UnitState) -> Option<String> {
    if old.activities == new.activities {
        return None;
    }
    let mut held: Vec<&Activity> = old.activities.values().collect();
    held.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    let count = s.activities as usize;
    if count == 0 || count > held.len() {
        return None;
    }
    let run = held
        .windows(count)
        .find(|run| activities_hash(run) == s.activities_hash)?;
    let cleaned: Vec<&Activity> = run.iter().map(|a| &new.activities[&a.id]).collect();
    Some(activities_hash(&cleaned))
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::activity::{ActivityId, Form};
    use crate::admit::{admit, agrees_with_log};
    use crate::change::{NoteSet, ValuesSet};
    use crate::report::Section;
    use crate::{Calendar, Catalog, UnitKind};

    fn activity(n: u64, month: u32, title: &str, note: &str) -> Change {
        Change::ActivityUpsert(Activity {
            id: ActivityId::from_counter(n),
            date: NaiveDate::from_ymd_opt(2026, month, 2).unwrap(),
            form: Form::Conference,
            title: title.into(),
            participants: Some(10),
            note: note.into(),
        })
    }

    fn fold(changes: &[Change]) -> UnitState {
        let mut s = UnitState::default();
        changes.iter().for_each(|c| s.apply(c));
        s
    }

    /// A log as release 0.1.0 let a unit write it: direction marks, an
    /// escape, a bell, a lone CR; then a submission frozen over it.
    fn old_log() -> Vec<Entry> {
        let (catalog, calendar) = (Catalog::builtin(), Calendar::builtin());
        let period = calendar.period(&"2026-Y".parse().unwrap()).unwrap();
        let mut changes = vec![
            activity(1, 3, "Hội nghị\u{200E} \u{1b}[1mLuật", "Zalo\u{200F}"),
            activity(2, 6, "Sinh hoạt tổ", ""),
            activity(3, 8, "\u{202A}\u{202C}", "chuông\u{7}"),
            Change::ValuesSet(ValuesSet {
                period: period.code.clone(),
                values: [(
                    "DG03".to_string(),
                    Some(Value::Text("Tốt\u{0B}đạt\u{200E}".into())),
                )]
                .into(),
            }),
            Change::NoteSet(NoteSet {
                period: period.code.clone(),
                section: Section::Results,
                text: "Kết quả\u{202C} tốt\rdòng sau".into(),
            }),
        ];
        let at = Utc.with_ymd_and_hms(2026, 11, 13, 1, 0, 0).unwrap();
        let frozen = fold(&changes).freeze(&catalog, UnitKind::ResidentialGroup, &period, at);
        changes.push(Change::Submit(Box::new(frozen)));
        changes
            .iter()
            .enumerate()
            .map(|(i, c)| Entry::new(i as u64 + 1, c, at))
            .collect()
    }

    #[test]
    fn a_log_an_earlier_release_wrote_is_cleaned_so_it_reads_and_admits() {
        let (catalog, calendar) = (Catalog::builtin(), Calendar::builtin());
        let log = old_log();
        assert!(
            log.iter().any(|e| e.decode().is_err()),
            "the old log is refused"
        );
        let cleaned = clean_log(&log).unwrap();
        let seqs: Vec<u64> = cleaned.rewritten.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            [1, 3, 4, 5, 6],
            "the clean activity is kept as it was"
        );
        let mut new_log = log.clone();
        for e in &cleaned.rewritten {
            new_log[e.seq as usize - 1] = e.clone();
        }
        // Every entry reads; every change admits, the submission against the
        // cleaned log before it.
        let mut state = UnitState::default();
        for e in &new_log {
            let change = e
                .decode()
                .unwrap_or_else(|err| panic!("seq {}: {err}", e.seq));
            admit(&change, &catalog, &calendar, UnitKind::ResidentialGroup).unwrap();
            if let Change::Submit(s) = &change {
                agrees_with_log(s, &state, &catalog, &calendar, UnitKind::ResidentialGroup)
                    .unwrap();
            }
            state.apply(&change);
        }
        let texts: Vec<&str> = state
            .activities
            .values()
            .map(|a| a.title.as_str())
            .collect();
        assert_eq!(
            texts,
            ["Hội nghị \u{FFFD}[1mLuật", "Sinh hoạt tổ", "\u{FFFD}"]
        );
        let p = "2026-Y".parse().unwrap();
        assert_eq!(state.notes[&p][&Section::Results], "Kết quả tốt\ndòng sau");
        assert_eq!(state.values[&p]["DG03"], Value::Text("Tốt\u{0B}đạt".into()));
        // The state folded from the old log, cleaned, is the state of the
        // cleaned log.
        let mut old_state = UnitState::default();
        for e in &log {
            old_state.apply(&Change::parse(e.kind, &e.payload).unwrap());
        }
        cleaned.clean_state(&mut old_state);
        assert_eq!(old_state, state);
        // Once is enough: a cleaned log, or a clean one, needs nothing.
        assert!(clean_log(&new_log).unwrap().is_empty());
        // A payload that does not match its hash is corrupt, not old.
        let mut bad = log.clone();
        bad[1].payload[0] = b' ';
        assert!(matches!(clean_log(&bad), Err(DomainError::HashMismatch(2))));
    }
}
