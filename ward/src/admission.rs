//! Admission of pushed entries: every new entry of a batch must pass the same
//! catalog, calendar and `validate` checks the agent runs before it records a
//! change (`coso_domain::admit`), or the whole batch is refused with
//! the entry's index, seq, field and reason, and nothing is written.

use coso_domain::DomainError;
use coso_domain::admit::admit;

use crate::state::HubState;
use crate::store::{Incoming, UnitRecord};
use crate::sync::SyncError;

/// Checks every entry above the unit's cursor. Entries at or below it are
/// replays, which the store checks by hash against what it already holds;
/// they were admitted when they first arrived.
pub fn check(hub: &HubState, rec: &UnitRecord, batch: &[Incoming]) -> Result<(), SyncError> {
    let catalog = hub.docs.catalog();
    let calendar = hub.docs.calendar();
    for (index, incoming) in batch.iter().enumerate() {
        let seq = incoming.entry.seq;
        if seq <= rec.acked_seq {
            continue;
        }
        admit(&incoming.change, &catalog, &calendar, rec.unit.kind).map_err(|problem| {
            SyncError::BadEntry {
                index,
                seq,
                error: DomainError::Inadmissible(Box::new(problem)),
            }
        })?;
    }
    Ok(())
}
