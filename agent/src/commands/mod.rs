//! The commands, the use cases both faces share: each checks its input
//! fully, then writes at most one change (one atomic store write), flushes,
//! and returns a typed outcome ([`crate::output::Render`]) that the CLI
//! prints and the web app shows. Commands never write text themselves, and
//! nothing here knows about either face.

pub(crate) mod activity;
pub(crate) mod activity_import;
pub(crate) mod backup;
pub(crate) mod import;
pub(crate) mod init;
pub(crate) mod note;
pub(crate) mod report;
pub(crate) mod status;
pub(crate) mod values;

use std::path::Path;

use chrono::{DateTime, Utc};
use coso_domain::calendar::{Calendar, Period};
use coso_domain::catalog::Catalog;
use coso_domain::{Change, Entry, PeriodCode, ReportState, UnitState};

use crate::error::{AgentError, InputError};
use crate::store::{Identity, Store};

pub use import::{ImportRow, Rows, read_rows, rows_from_bytes};
pub use report::ReportView;

/// What a command works with: the open store, the time it runs at, and the
/// data dir (named when the agent is not set up yet).
pub(crate) struct Ctx<'a> {
    pub store: Store,
    pub now: DateTime<Utc>,
    pub data_dir: &'a Path,
}

impl Ctx<'_> {
    pub fn identity(&self) -> Result<Identity, AgentError> {
        self.store
            .identity()?
            .ok_or_else(|| AgentError::NotInitialised {
                dir: self.data_dir.to_path_buf(),
            })
    }

    pub fn catalog(&self) -> Result<Catalog, AgentError> {
        Ok(self.store.catalog()?.1)
    }

    pub fn calendar(&self) -> Result<Calendar, AgentError> {
        Ok(self.store.calendar()?.1)
    }

    pub fn state(&self) -> Result<UnitState, AgentError> {
        Ok(self.store.unit_state()?)
    }

    /// Appends one change and makes it durable.
    pub async fn record(
        &self,
        change: &Change,
        activity_counter: Option<u64>,
    ) -> Result<Entry, AgentError> {
        let entry = self.store.append(change, self.now, activity_counter)?;
        self.store.flush().await?;
        Ok(entry)
    }
}

/// Parses a period code and finds it in the calendar.
pub(crate) fn find_period(calendar: &Calendar, raw: &str) -> Result<Period, InputError> {
    let code: PeriodCode = raw.parse().map_err(|source| InputError::Invalid {
        field: "period",
        source,
    })?;
    calendar
        .period(&code)
        .ok_or(InputError::UnknownPeriod { period: code })
}

/// Refuses changes to a period whose report is submitted or accepted.
pub(crate) fn ensure_editable(state: &UnitState, period: &PeriodCode) -> Result<(), InputError> {
    let s = state.state(period);
    if s.is_editable() {
        Ok(())
    } else {
        Err(InputError::NotEditable {
            period: period.clone(),
            state: s,
        })
    }
}

/// The submitted (or accepted) periods whose frozen report an activity dated
/// `date` would have counted toward.
pub(crate) fn frozen_periods_for(
    state: &UnitState,
    calendar: &Calendar,
    date: chrono::NaiveDate,
) -> Vec<Period> {
    calendar
        .periods_for_date(date)
        .into_iter()
        .filter(|p| {
            matches!(
                state.state(&p.code),
                ReportState::Submitted | ReportState::Accepted
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
