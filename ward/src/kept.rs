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

use coso_domain::entry::ActivityFields;
use coso_domain::{ActivityId, Change, Entry, UnitCode, UnitState};

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
