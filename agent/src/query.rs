//! The read side both faces share: where the unit stands now (identity, hub,
//! sync cursors, the periods open and the next one, the reports in play),
//! computed once from the store for `coso-agent status` and the web app's
//! home page, which only render it.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Utc};
use coso_domain::calendar::{Calendar, Period, vietnam};
use coso_domain::{ChangeKind, ReportState, UnitState};

use crate::store::{Identity, Store, StoreError, SyncState};

/// Where the unit stands at `now`.
#[derive(Debug, Clone)]
pub struct StatusView {
    pub identity: Option<Identity>,
    /// The highest seq in the change log.
    pub head: u64,
    pub sync: SyncState,
    pub catalog_version: u64,
    pub calendar_version: u64,
    pub calendar: Calendar,
    pub state: UnitState,
    pub now: DateTime<Utc>,
    /// The periods whose reports can be sent now, by due date.
    pub open: Vec<Period>,
    /// When no period is open (between the annual deadline and the next
    /// window), the next one, so the officer knows what comes.
    pub next: Option<Period>,
}

impl StatusView {
    /// Reads everything in one store visit.
    pub fn read(store: &Store, now: DateTime<Utc>) -> Result<StatusView, StoreError> {
        let identity = store.identity()?;
        let head = store.head_seq()?;
        let sync = store.sync_state()?;
        let (catalog_version, _) = store.catalog()?;
        let (calendar_version, calendar) = store.calendar()?;
        let state = store.unit_state()?;
        let open = calendar.open_periods(now);
        let next = if open.is_empty() {
            next_period(&calendar, now)
        } else {
            None
        };
        Ok(StatusView {
            identity,
            head,
            sync,
            catalog_version,
            calendar_version,
            calendar,
            state,
            now,
            open,
            next,
        })
    }

    /// Changes recorded and not yet acknowledged by the hub.
    pub fn pending(&self) -> u64 {
        self.head.saturating_sub(self.sync.acked_seq)
    }

    /// The periods a returned report was sent back for.
    pub fn returned(&self) -> Vec<String> {
        self.state
            .submissions
            .keys()
            .filter(|c| self.state.state(c) == ReportState::Returned)
            .map(|c| c.to_string())
            .collect()
    }

    /// The open periods and, after them, those whose report is still in play
    /// (sent or returned, not yet accepted) after their period closed, so a
    /// returned report is never missed; by due date.
    pub fn in_play(&self) -> Vec<Period> {
        let mut periods = self.open.clone();
        for code in self.state.submissions.keys() {
            if self.state.state(code) != ReportState::Accepted
                && !periods.iter().any(|p| &p.code == code)
                && let Some(p) = self.calendar.period(code)
            {
                periods.push(p);
            }
        }
        periods.sort_by_key(|p| p.due);
        periods
    }
}

/// The first period of this year or the next whose deadline is still ahead.
pub fn next_period(calendar: &Calendar, now: DateTime<Utc>) -> Option<Period> {
    let year = now.with_timezone(&vietnam()).year();
    let mut all: Vec<Period> = [year, year + 1]
        .into_iter()
        .flat_map(|y| calendar.periods_of_year(y))
        .filter(|p| p.due > now)
        .collect();
    // Stable, so of two periods due together the calendar's first wins.
    all.sort_by_key(|p| p.due);
    all.into_iter().next()
}

/// Periods with a submission the hub has not acknowledged yet ("waiting to
/// be sent" rather than "sent").
pub fn waiting_submissions(store: &Store) -> Result<BTreeSet<String>, StoreError> {
    let acked = store.sync_state()?.acked_seq;
    let mut out = BTreeSet::new();
    for e in store.entries_after(acked, usize::MAX, usize::MAX)? {
        if e.kind == ChangeKind::Submit {
            out.insert(e.entity);
        }
    }
    Ok(out)
}
