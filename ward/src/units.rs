//! The unit registry: registering units (one or a whole list), their
//! enrolment links, revocation, and what the hub holds for one unit.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use coso_domain::{Period, PeriodCode, ReportState, Unit, UnitCode, UnitState, Value};
use coso_proto::link::EnrolmentLink;

use super::{Actor, Ward, WardError};
use crate::auth;
use crate::store::{Contact, Enrolment, PendingCode, ReviewRecord, UnitRecord};

/// A unit to register, with whom to call about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUnit {
    pub unit: Unit,
    pub contact: Contact,
}

/// A unit as the registry lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitSummary {
    pub unit: Unit,
    pub contact: Contact,
    pub enrolment: Enrolment,
    /// The highest change-log seq the hub holds durably.
    pub acked_seq: u64,
    pub last_sync: Option<DateTime<Utc>>,
    /// Set when the unit's log diverged from the hub's: its syncs are
    /// refused until it enrols again (`reissue`, then `coso-agent recover`).
    pub diverged: Option<crate::store::Divergence>,
    /// The release the unit's agent named in its last Hello (none until an
    /// agent of 0.3.0 or later has said).
    pub agent_version: Option<coso_domain::Version>,
    /// The ward keeps the unit's log (entered in the dashboard).
    pub kept_at_ward: bool,
}

impl From<&UnitRecord> for UnitSummary {
    fn from(r: &UnitRecord) -> Self {
        UnitSummary {
            unit: r.unit.clone(),
            contact: r.contact.clone(),
            enrolment: r.enrolment,
            acked_seq: r.acked_seq,
            last_sync: r.last_sync,
            diverged: r.diverged.clone(),
            agent_version: r.agent_version,
            kept_at_ward: r.kept_at_ward,
        }
    }
}

/// A fresh enrolment link for a unit, and until when it works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentInvite {
    pub unit: Unit,
    /// `coso://HOST:PORT/enroll?unit=..&code=..&fp=sha256:..`
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

/// What the hub holds for one unit in one period.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitPeriod {
    pub period: Period,
    pub state: ReportState,
    /// Computed from what the hub received, as the agent's `report` computes
    /// them; a submitted period shows what was submitted.
    pub values: BTreeMap<String, Value>,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// `unit show`: the registry entry and every period the unit has data for.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitDetail {
    pub summary: UnitSummary,
    /// Activities received from the unit.
    pub activities: u64,
    pub periods: Vec<UnitPeriod>,
    /// The entries typed in at the ward, with who entered each.
    pub entered_by: Vec<crate::kept::EnteredBy>,
}

impl Ward {
    pub(crate) fn new_code(&self) -> (String, PendingCode) {
        let (code, hash) = auth::new_enrolment_code();
        let ttl = Duration::hours(i64::from(self.hub.config.limits().enrolment_code_ttl_hours));
        (
            code,
            PendingCode {
                hash,
                expires_at: coso_domain::clock::now() + ttl,
            },
        )
    }

    pub(crate) fn invite(
        &self,
        unit: &Unit,
        code: String,
        pending: &PendingCode,
    ) -> EnrolmentInvite {
        let link = EnrolmentLink {
            addr: self.hub.link_addr(),
            unit: unit.code.clone(),
            code,
            fingerprint: self.hub.fingerprint,
        };
        EnrolmentInvite {
            unit: unit.clone(),
            link: link.to_string(),
            expires_at: pending.expires_at,
        }
    }

    pub(super) fn record(&self, code: &UnitCode) -> Result<UnitRecord, WardError> {
        self.hub
            .store
            .unit(code)?
            .ok_or_else(|| WardError::NoSuchUnit(code.clone()))
    }

    /// Every registered unit, by code.
    pub fn units(&self) -> Result<Vec<UnitSummary>, WardError> {
        Ok(self
            .hub
            .store
            .units()?
            .iter()
            .map(UnitSummary::from)
            .collect())
    }

    /// One registered unit.
    pub fn unit(&self, code: &UnitCode) -> Result<UnitSummary, WardError> {
        Ok(UnitSummary::from(&self.record(code)?))
    }

    /// Registers units, all or none, each with a one-time enrolment link.
    pub async fn add_units(
        &self,
        actor: &Actor,
        units: Vec<NewUnit>,
    ) -> Result<Vec<EnrolmentInvite>, WardError> {
        if units.is_empty() {
            return Err(crate::input::InputError::CsvEmpty("units".into()).into());
        }
        let now = coso_domain::clock::now();
        let mut records = Vec::with_capacity(units.len());
        let mut invites = Vec::with_capacity(units.len());
        for u in units {
            let (code, pending) = self.new_code();
            invites.push(self.invite(&u.unit, code, &pending));
            let mut rec = UnitRecord::new(u.unit, pending, now);
            rec.contact = u.contact;
            records.push(rec);
        }
        self.hub.store.register(&records).await?;
        tracing::info!(by = actor.name(), units = records.len(), "units registered");
        for r in &records {
            self.audit(actor, "unit-add", Some(&r.unit.code), r.unit.name.clone())
                .await?;
        }
        Ok(invites)
    }

    /// A new enrolment link for a unit (the old one stops working). A
    /// revoked unit comes back only by enrolling again with it.
    pub async fn reissue(
        &self,
        actor: &Actor,
        code: &UnitCode,
    ) -> Result<EnrolmentInvite, WardError> {
        self.record(code)?;
        let store = &self.hub.store;
        let g = store.lock_unit(code).await;
        let mut rec = self.record(code)?;
        // A kept unit gets its link by a hand-over, which stops the ward's
        // writes first.
        if rec.kept_at_ward {
            return Err(WardError::KeptAtWard(code.clone()));
        }
        let (otc, pending) = self.new_code();
        rec.code = Some(pending.clone());
        if rec.enrolment == Enrolment::Revoked {
            rec.enrolment = Enrolment::Pending;
            rec.credential = None;
        }
        store.put_unit(&g, &rec).await?;
        tracing::info!(unit = %code, by = actor.name(), "enrolment link reissued");
        self.audit(actor, "unit-reissue", Some(code), String::new())
            .await?;
        Ok(self.invite(&rec.unit, otc, &pending))
    }

    /// Revokes a unit's credential and any outstanding link. Its data stays.
    pub async fn revoke(&self, actor: &Actor, code: &UnitCode) -> Result<UnitSummary, WardError> {
        self.record(code)?;
        let store = &self.hub.store;
        let g = store.lock_unit(code).await;
        let mut rec = self.record(code)?;
        rec.enrolment = Enrolment::Revoked;
        rec.credential = None;
        rec.code = None;
        store.put_unit(&g, &rec).await?;
        tracing::info!(unit = %code, by = actor.name(), "unit revoked");
        self.audit(actor, "unit-revoke", Some(code), String::new())
            .await?;
        Ok(UnitSummary::from(&rec))
    }

    /// What the unit recorded, folded from the log the hub received.
    pub fn unit_state(&self, code: &UnitCode) -> Result<UnitState, WardError> {
        self.record(code)?;
        Ok(self.hub.store.unit_state(code)?)
    }

    /// Every review decision sent to the unit, oldest first, with who made it.
    pub fn review_history(&self, code: &UnitCode) -> Result<Vec<ReviewRecord>, WardError> {
        self.record(code)?;
        Ok(self
            .hub
            .store
            .review_records(code, 0, usize::MAX)?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    /// What the hub holds for the unit: every period it has data for, in
    /// deadline order, with the values as the agent's report computes them.
    pub fn unit_detail(&self, code: &UnitCode) -> Result<UnitDetail, WardError> {
        let rec = self.record(code)?;
        let st = self.hub.store.unit_state(code)?;
        let cal = self.hub.docs.calendar();
        let catalog = self.hub.docs.catalog();
        let mut codes: BTreeSet<PeriodCode> = BTreeSet::new();
        codes.extend(st.values.keys().cloned());
        codes.extend(st.notes.keys().cloned());
        codes.extend(st.submissions.keys().cloned());
        for a in st.activities.values() {
            codes.extend(cal.periods_for_date(a.date).into_iter().map(|p| p.code));
        }
        let mut periods: Vec<Period> = codes.iter().filter_map(|c| cal.period(c)).collect();
        periods.sort_by(|a, b| (a.due, &a.code).cmp(&(b.due, &b.code)));
        let mut out = Vec::with_capacity(periods.len());
        for p in periods {
            let values = st.report_values(&catalog, rec.unit.kind, &p);
            let submitted_at = if st.submissions.contains_key(&p.code) {
                self.hub.store.received_at(code, &p.code)?
            } else {
                None
            };
            out.push(UnitPeriod {
                state: st.state(&p.code),
                values,
                submitted_at,
                period: p,
            });
        }
        Ok(UnitDetail {
            summary: UnitSummary::from(&rec),
            activities: st.activities.len() as u64,
            periods: out,
            entered_by: self.entered_by(code)?,
        })
    }
}
