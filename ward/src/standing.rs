//! Where every expected unit stands for a period: the facts `status`, the
//! report, the review rules and the upstream schedule are all built from.

use coso_domain::{Decision, Period, ReportState, UnitState};

use super::{Ward, WardError};
use crate::reporting;
use crate::store::{Enrolment, UnitRecord};
use coso_report::city;
use coso_report::{Status, UnitEntry};

/// Who has reported for a period: the ward's own units, or, at a city-level
/// hub, the wards that delivered.
#[derive(Clone, Debug, PartialEq)]
pub enum Standing {
    Units(Status),
    Wards(city::WardsStatus),
}

impl Ward {
    /// What the hub holds for one unit in the period.
    pub(super) fn entry(&self, rec: &UnitRecord, period: &Period) -> Result<UnitEntry, WardError> {
        let st = self.hub.store.unit_state(&rec.unit.code)?;
        self.entry_of(rec, st, period)
    }

    /// [`Ward::entry`] from a state already read; the period's report is
    /// moved out of it, not copied (at 10,000 units the copies were 27 MB).
    pub(super) fn entry_of(
        &self,
        rec: &UnitRecord,
        mut st: UnitState,
        period: &Period,
    ) -> Result<UnitEntry, WardError> {
        let code = &rec.unit.code;
        let p = &period.code;
        let has_data = st.values.get(p).is_some_and(|v| !v.is_empty())
            || st.notes.get(p).is_some_and(|n| !n.is_empty())
            || !st.activities_in(period).is_empty();
        let state = if st.submissions.contains_key(p) {
            Some(st.state(p))
        } else if has_data {
            Some(ReportState::Draft)
        } else {
            None
        };
        let report = st.submissions.remove(p);
        let submitted_at = match report {
            Some(_) => self.hub.store.received_at(code, p)?,
            None => None,
        };
        let review_reason = st
            .reviews
            .get(p)
            .filter(|r| r.decision == Decision::Returned)
            .map(|r| r.reason.clone());
        Ok(UnitEntry {
            unit: rec.unit.clone(),
            state,
            has_data,
            submitted_at,
            report,
            review_reason,
            diverged: rec.diverged.is_some(),
        })
    }

    /// Every expected unit (registered, not revoked) for a period, by code.
    pub fn entries(&self, period: &Period) -> Result<Vec<UnitEntry>, WardError> {
        self.hub
            .store
            .units()?
            .iter()
            .filter(|r| r.enrolment != Enrolment::Revoked)
            .map(|r| self.entry(r, period))
            .collect()
    }

    /// The ward hubs' reports to roll up instead of this hub's own units:
    /// when asked (`wards`), or when the hub has no units of its own and
    /// holds received reports for the period. `None`: report on the units.
    pub(super) fn wards(
        &self,
        asked: bool,
        period: &Period,
        entries: &[UnitEntry],
    ) -> Result<Option<Vec<city::Ward>>, WardError> {
        if !asked && !entries.is_empty() {
            return Ok(None);
        }
        let wards = crate::city::load(&self.hub.store, &period.code)?;
        Ok((asked || !wards.is_empty()).then_some(wards))
    }

    /// The ward's own units' standing for the period.
    pub fn status(&self, period: &Period) -> Result<Status, WardError> {
        let entries = self.entries(period)?;
        Ok(reporting::status(
            &self.hub.config.file.letterhead,
            &self.hub.docs.catalog(),
            period,
            &entries,
        ))
    }

    /// `status`: the units, or the wards at a city-level hub (`wards` asks
    /// for the wards explicitly).
    pub fn standing(&self, period: &Period, wards: bool) -> Result<Standing, WardError> {
        let entries = self.entries(period)?;
        if let Some(wards) = self.wards(wards, period, &entries)? {
            return Ok(Standing::Wards(city::status(period, &wards)));
        }
        Ok(Standing::Units(reporting::status(
            &self.hub.config.file.letterhead,
            &self.hub.docs.catalog(),
            period,
            &entries,
        )))
    }
}
