//! Admission of pushed entries: every new entry of a batch must pass the same
//! catalog, calendar and `validate` checks the agent runs before it records a
//! change (`coso_domain::admit`), and a submission must have its period's
//! window open and agree with the log it summarises (its activities and the
//! values derived from them, computed here from the unit's folded state plus
//! the batch's earlier entries), or the whole batch is refused with the
//! entry's index, seq, field and reason, and nothing is written.

use chrono::{DateTime, Utc};
use coso_domain::admit::{admit, agrees_with_log, window_open};
use coso_domain::validate::Problem;
use coso_domain::{Change, DomainError, UnitState};

use crate::state::HubState;
use crate::store::{Incoming, StoreError, UnitRecord};

/// Why a batch was not admitted.
#[derive(Debug)]
pub enum Refusal {
    /// Entry `index` (seq `seq`) may not enter the log.
    Entry {
        index: usize,
        seq: u64,
        error: DomainError,
    },
    /// The unit's state could not be read to judge a submission.
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Store(e)
    }
}

/// Checks every entry above the unit's cursor. Entries at or below it are
/// replays, which the store checks by hash against what it already holds;
/// they were admitted when they first arrived. `state` reads the unit's
/// state folded up to the cursor (under the unit's lock); it is read only
/// when the batch submits a report.
pub fn check(
    hub: &HubState,
    rec: &UnitRecord,
    state: impl FnOnce() -> Result<UnitState, StoreError>,
    batch: &[Incoming],
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let catalog = hub.docs.catalog();
    let calendar = hub.docs.calendar();
    let fresh = |i: &Incoming| i.entry.seq > rec.acked_seq;
    // The state each submission is judged against: only read when the
    // batch submits something.
    let submits = batch
        .iter()
        .any(|i| fresh(i) && matches!(i.change, Change::Submit(_)));
    let mut state = if submits { Some(state()?) } else { None };
    for (index, incoming) in batch.iter().enumerate() {
        let seq = incoming.entry.seq;
        if !fresh(incoming) {
            continue;
        }
        let refuse = |problem: Problem| Refusal::Entry {
            index,
            seq,
            error: DomainError::Inadmissible(Box::new(problem)),
        };
        admit(&incoming.change, &catalog, &calendar, rec.unit.kind).map_err(refuse)?;
        if let Some(state) = state.as_mut() {
            if let Change::Submit(s) = &incoming.change {
                window_open(s, &calendar, now).map_err(refuse)?;
                agrees_with_log(s, state, &catalog, &calendar, rec.unit.kind).map_err(refuse)?;
            }
            state.apply(&incoming.change);
        }
    }
    Ok(())
}
