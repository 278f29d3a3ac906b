//! Units whose log the ward keeps (a unit without a computer): registering
//! one, switching a unit that never enrolled, handing the log over to an
//! agent, and writing entries typed in the dashboard into the unit's log.
//!
//! An entry typed at the ward goes into the unit's log exactly as an agent's
//! push would: the same change kinds, admitted by the same `admission` check,
//! appended by the same store step (fold, chain, receive times, one audit
//! record in the batch), with who entered it kept beside each entry. So a
//! hand-over is nothing more than an enrolment: the agent takes the log over
//! with the `Log` RPC, as a replacement laptop does.

use std::collections::BTreeMap;

use coso_domain::change::{ActivityRemove, NoteSet, ValuesSet};
use coso_domain::entry::{ActivityFields, check_inputs, note_text};
use coso_domain::validate::check_report;
use coso_domain::{ActivityId, Change, Entry, PeriodCode, Problem, Section, UnitCode, UnitState};

use super::{Actor, Ward, WardError};
use crate::admission;
use crate::store::{Enrolment, Incoming, PushError, UnitRecord};
use crate::units::{EnrolmentInvite, NewUnit, UnitSummary};

/// Who entered one entry of a unit kept at the ward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnteredBy {
    pub seq: u64,
    pub kind: &'static str,
    pub entity: String,
    pub user: String,
}

/// A period's entry form as typed: values by indicator code and the
/// narratives by section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeriodInput {
    pub values: Vec<(String, String)>,
    pub notes: BTreeMap<Section, String>,
}

/// The form field of a narrative section (`note-results`, ...).
pub trait SectionField {
    fn field(&self) -> &'static str;
}

impl SectionField for Section {
    fn field(&self) -> &'static str {
        match self {
            Section::Results => "note-results",
            Section::Difficulties => "note-difficulties",
            Section::Proposals => "note-proposals",
            Section::NextTasks => "note-next-tasks",
        }
    }
}

/// What an entry at the ward wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entered {
    /// The seqs of the new entries.
    pub seqs: Vec<u64>,
    pub acked_seq: u64,
}

impl Ward {
    /// Registers a unit whose log the ward keeps: no enrolment link.
    pub async fn add_kept_unit(
        &self,
        actor: &Actor,
        unit: NewUnit,
    ) -> Result<UnitSummary, WardError> {
        let now = coso_domain::clock::now();
        let (_, pending) = self.new_code();
        let mut rec = UnitRecord::new(unit.unit, pending, now);
        rec.code = None;
        rec.contact = unit.contact;
        rec.kept_at_ward = true;
        self.hub.store.register(std::slice::from_ref(&rec)).await?;
        self.audit(
            actor,
            "unit-add",
            Some(&rec.unit.code),
            format!("{} (kept at the ward)", rec.unit.name),
        )
        .await?;
        Ok(UnitSummary::from(&rec))
    }

    /// Switches a unit that never enrolled to be kept at the ward: its
    /// outstanding link stops working. Audited.
    pub async fn keep_at_ward(
        &self,
        actor: &Actor,
        code: &UnitCode,
    ) -> Result<UnitSummary, WardError> {
        self.record(code)?;
        let store = &self.hub.store;
        let g = store.lock_unit(code).await;
        let mut rec = self.record(code)?;
        if rec.kept_at_ward {
            return Ok(UnitSummary::from(&rec));
        }
        // Only a unit with no agent: an enrolled one has a log of its own
        // that the ward must not write beside.
        if rec.enrolled_at.is_some() || rec.acked_seq > 0 || rec.enrolment != Enrolment::Pending {
            return Err(WardError::HasAgent(code.clone()));
        }
        rec.kept_at_ward = true;
        rec.code = None;
        store.put_unit(&g, &rec).await?;
        drop(g);
        tracing::info!(unit = %code, by = actor.name(), "unit kept at the ward");
        self.audit(actor, "unit-keep-at-ward", Some(code), String::new())
            .await?;
        Ok(UnitSummary::from(&rec))
    }

    /// Hands a unit's log over to an agent: a one-time enrolment link; the
    /// ward writes no more entries for it. The agent enrolling with the link
    /// takes the whole log over (`Log`), as a replacement laptop does.
    pub async fn handover(
        &self,
        actor: &Actor,
        code: &UnitCode,
    ) -> Result<EnrolmentInvite, WardError> {
        self.record(code)?;
        let store = &self.hub.store;
        let g = store.lock_unit(code).await;
        let mut rec = self.record(code)?;
        if !rec.kept_at_ward {
            return Err(WardError::NotKept(code.clone()));
        }
        let (otc, pending) = self.new_code();
        rec.kept_at_ward = false;
        rec.code = Some(pending.clone());
        store.put_unit(&g, &rec).await?;
        drop(g);
        tracing::info!(unit = %code, by = actor.name(), "unit handed over");
        self.audit(actor, "unit-handover", Some(code), String::new())
            .await?;
        Ok(self.invite(&rec.unit, otc, &pending))
    }

    /// Appends changes typed at the ward to a kept unit's log, as the
    /// unit's next entries: admitted as a push is, written as a push is,
    /// each marked with `actor`. All or none. `changes` builds them under
    /// the unit's lock from its record and folded state (so an activity id
    /// taken from the cursor is never taken twice).
    pub async fn enter_with(
        &self,
        actor: &Actor,
        code: &UnitCode,
        changes: impl FnOnce(&UnitRecord, &UnitState) -> Result<Vec<Change>, WardError>,
    ) -> Result<Entered, WardError> {
        self.record(code)?;
        let store = &self.hub.store;
        let g = store.lock_unit(code).await;
        let rec = self.record(code)?;
        if !rec.kept_at_ward {
            return Err(WardError::NotKept(code.clone()));
        }
        let folded = store.unit_state(code)?;
        let changes = changes(&rec, &folded)?;
        if changes.is_empty() {
            // Nothing changed (an edit that kept every field): nothing written.
            return Ok(Entered {
                seqs: Vec::new(),
                acked_seq: rec.acked_seq,
            });
        }
        let now = coso_domain::clock::now();
        let batch: Vec<Incoming> = changes
            .into_iter()
            .enumerate()
            .map(|(i, change)| Incoming {
                entry: Entry::new(rec.acked_seq + 1 + i as u64, &change, now),
                change,
            })
            .collect();
        let state = || Ok(folded.clone());
        admission::check(&self.hub, &rec, state, &batch, now).map_err(|r| match r {
            admission::Refusal::Entry { error, .. } => WardError::Domain {
                field: "entry",
                error,
            },
            admission::Refusal::Store(e) => WardError::Store(e),
        })?;
        let (out, _) = store
            .push_entered(&g, &batch, now, actor.name())
            .await
            .map_err(|e| match e {
                PushError::Store(s) => WardError::Store(s),
                // Under the lock, from the cursor: nothing else can happen
                // but a diverged mark, which a kept unit never gets.
                other => WardError::Push(other),
            })?;
        tracing::info!(unit = %code, by = actor.name(), entries = batch.len(), "entered at the ward");
        Ok(Entered {
            seqs: batch.iter().map(|i| i.entry.seq).collect(),
            acked_seq: out.acked_seq,
        })
    }

    /// Records an activity of a kept unit, typed in the dashboard and
    /// checked by the agent's own rules ([`coso_domain::entry::activity`]).
    /// Its id is `HD-` and the seq its entry takes: never reused, and an
    /// agent that takes the log over numbers after the highest it holds.
    pub async fn add_activity(
        &self,
        actor: &Actor,
        code: &UnitCode,
        fields: &ActivityFields,
    ) -> Result<ActivityId, WardError> {
        let mut id = None;
        self.enter_with(actor, code, |rec, _| {
            let a =
                coso_domain::entry::activity(ActivityId::from_counter(rec.acked_seq + 1), fields)
                    .map_err(|r| WardError::Domain {
                    field: r.field,
                    error: r.error,
                })?;
            id = Some(a.id.clone());
            Ok(vec![Change::ActivityUpsert(a)])
        })
        .await?;
        id.ok_or_else(|| WardError::NoSuchUnit(code.clone()))
    }

    /// Corrects activity `id` of a kept unit as the agent's `activity edit`
    /// does: the same id, every field retyped and checked by the agent's
    /// rules, written as an upsert. An edit that changes nothing writes
    /// nothing. As on the agent, a submitted report does not change: it was
    /// frozen over the log.
    pub async fn edit_activity(
        &self,
        actor: &Actor,
        code: &UnitCode,
        id: &ActivityId,
        fields: &ActivityFields,
    ) -> Result<Entered, WardError> {
        self.enter_with(actor, code, |_, state| {
            let old = known_activity(state, code, id)?;
            let a = coso_domain::entry::activity(id.clone(), fields).map_err(|r| {
                WardError::Domain {
                    field: r.field,
                    error: r.error,
                }
            })?;
            if &a == old {
                return Ok(Vec::new());
            }
            Ok(vec![Change::ActivityUpsert(a)])
        })
        .await
    }

    /// Removes activity `id` of a kept unit as the agent's `activity remove`
    /// does (its id is never reused).
    pub async fn remove_activity(
        &self,
        actor: &Actor,
        code: &UnitCode,
        id: &ActivityId,
    ) -> Result<Entered, WardError> {
        self.enter_with(actor, code, |_, state| {
            known_activity(state, code, id)?;
            Ok(vec![Change::ActivityRemove(ActivityRemove {
                id: id.clone(),
            })])
        })
        .await
    }

    /// Saves a kept unit's values and narratives for a period (and with
    /// `submit`, freezes its report as the agent's `submit` does), checked
    /// by the agent's rules: all of it in one batch of the unit's log, or
    /// nothing. `values` are (indicator code, typed text); an empty text
    /// clears an entered value.
    pub async fn save_period(
        &self,
        actor: &Actor,
        code: &UnitCode,
        period: &PeriodCode,
        input: &PeriodInput,
        submit: bool,
    ) -> Result<Entered, WardError> {
        let period = self.period(period)?;
        let catalog = self.hub.docs.catalog();
        let now = coso_domain::clock::now();
        self.enter_with(actor, code, |rec, state| {
            let kind = rec.unit.kind;
            let current = state.state(&period.code);
            if !current.is_editable() {
                return Err(WardError::Frozen {
                    unit: code.clone(),
                    period: period.code.clone(),
                    state: current,
                });
            }
            let entered = state.values.get(&period.code).cloned().unwrap_or_default();
            let inputs: Vec<(usize, String, String)> = input
                .values
                .iter()
                .enumerate()
                .filter(|(_, (c, raw))| !raw.trim().is_empty() || entered.contains_key(c))
                .map(|(i, (c, raw))| (i, c.clone(), raw.clone()))
                .collect();
            let checked = check_inputs(&catalog, kind, &period, state, &inputs);
            if !checked.is_ok() {
                let mut problems: Vec<Problem> =
                    checked.input_problems.into_iter().map(|(_, p)| p).collect();
                problems.extend(checked.rule_problems);
                return Err(WardError::Problems(problems));
            }
            let mut changes = Vec::new();
            let values: BTreeMap<_, _> = checked
                .values
                .into_iter()
                .filter(|(c, v)| entered.get(c) != v.as_ref())
                .collect();
            if !values.is_empty() {
                changes.push(Change::ValuesSet(ValuesSet {
                    period: period.code.clone(),
                    values,
                }));
            }
            let notes = state.notes.get(&period.code).cloned().unwrap_or_default();
            for (section, raw) in &input.notes {
                let text = note_text(raw).map_err(|error| WardError::Domain {
                    field: section.field(),
                    error,
                })?;
                let stored = notes.get(section).cloned().unwrap_or_default();
                if text.trim_end() != stored.trim_end() {
                    changes.push(Change::NoteSet(NoteSet {
                        period: period.code.clone(),
                        section: *section,
                        text,
                    }));
                }
            }
            if submit {
                // The agent's submit: a window that has opened, no problem
                // left in the report, then the report frozen over the log.
                let mut after = state.clone();
                for c in &changes {
                    after.apply(c);
                }
                if !period.has_opened(now) {
                    return Err(WardError::NotOpenYet(period.code.clone()));
                }
                let entered = after.values.get(&period.code).cloned().unwrap_or_default();
                let live = after.live_values(&catalog, kind, &period);
                let problems = check_report(&catalog, kind, &period, &entered, &live);
                if !problems.is_empty() {
                    return Err(WardError::Problems(problems));
                }
                let frozen = after.freeze(&catalog, kind, &period, now);
                changes.push(Change::Submit(Box::new(frozen)));
            }
            Ok(changes)
        })
        .await
    }

    /// Who entered the unit's latest submission of `period` at the ward
    /// (`None` when its agent submitted it).
    pub(crate) fn submitted_by(
        &self,
        code: &UnitCode,
        period: &PeriodCode,
    ) -> Result<Option<String>, WardError> {
        let store = &self.hub.store;
        // A unit whose agent wrote its log has no entries typed at the ward:
        // its log is not read.
        let entered = store.entered_by(code)?;
        if entered.is_empty() {
            return Ok(None);
        }
        let latest = self.latest_submission(code, period)?;
        let Some(seq) = latest else {
            return Ok(None);
        };
        Ok(entered
            .into_iter()
            .find(|(s, _)| *s == seq)
            .map(|(_, user)| user))
    }

    /// Who entered the unit's entries at the ward, each name once, in the
    /// order they first entered (empty for a unit whose agent wrote its
    /// whole log). Reads only the marks, not the entries.
    pub fn entered_by_names(&self, code: &UnitCode) -> Result<Vec<String>, WardError> {
        self.record(code)?;
        let mut names: Vec<String> = Vec::new();
        for (_, user) in self.hub.store.entered_by(code)? {
            if !names.contains(&user) {
                names.push(user);
            }
        }
        Ok(names)
    }

    /// Who entered each entry of the unit at the ward, in log order (empty
    /// for a unit whose agent wrote its whole log).
    pub fn entered_by(&self, code: &UnitCode) -> Result<Vec<EnteredBy>, WardError> {
        self.record(code)?;
        let store = &self.hub.store;
        let mut out = Vec::new();
        for (seq, user) in store.entered_by(code)? {
            if let Some(e) = store
                .entries(code, seq.saturating_sub(1), 1)?
                .into_iter()
                .next()
            {
                out.push(EnteredBy {
                    seq,
                    kind: e.kind.as_str(),
                    entity: e.entity,
                    user,
                });
            }
        }
        Ok(out)
    }
}

fn known_activity<'a>(
    state: &'a UnitState,
    code: &UnitCode,
    id: &ActivityId,
) -> Result<&'a coso_domain::Activity, WardError> {
    state
        .activities
        .get(id)
        .ok_or_else(|| WardError::NoSuchActivity {
            unit: code.clone(),
            id: id.clone(),
        })
}
