//! The database's format version (`meta/schema`) and the migrations from
//! the formats of earlier releases.
//!
//! Versions, found by diffing the store code of each release:
//! - 1: release 0.1.0 (9c45abc): the audit trail is unchained lines under
//!   tag `a`, one per pushed entry and per review.
//! - 2: release 0.2.0 (9ccbc0d): the audit trail is the hash chain under
//!   tag `l`; tag `a` is no longer read (its lines were lost to `audit`).
//!   It still wrote `meta/schema = 1`, so a 1 is told apart by its `a` lines.
//! - 3: this release: the records of format 2 (units' logs cleaned of the
//!   characters the record rules refuse, which release 0.1.0 let people
//!   record: `coso_domain::clean`), the version recorded as it is, and beside the database the receipt key that signs the receipts
//!   agents now keep (`crate::receipt`). A 0.2.0 hub would serve such a data
//!   dir without a word and without its receipts; with 3 recorded, 0.1.0 and
//!   0.2.0 both refuse it ("schema version 3 is newer than this hub
//!   understands", checked with their binaries).
//!
//! A migration is one sled batch (its writes and the new version together),
//! then a flush; the caller wrote the pre-upgrade backup before it. A crash
//! before the flush leaves the old version, and the next start redoes it.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::audit::{AuditEvent, AuditHead};
use super::{Store, StoreError, dec, enc, keys};

/// The format this hub writes.
pub const FORMAT: u64 = 3;
const SCHEMA: &str = "schema";
/// Tag of the unchained audit lines of format 1.
const OLD_AUDIT: u8 = b'a';

/// What `open` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// A new database: it gets [`FORMAT`].
    Fresh,
    /// An existing database of this format or an older one.
    Format(u64),
}

/// Reads the format before anything is written; a newer one is refused.
pub(super) fn check(tree: &sled::Tree) -> Result<Found, StoreError> {
    let key = keys::meta(SCHEMA);
    let recorded = match tree.get(&key)? {
        Some(v) => dec::<u64>(&key, &v)?,
        None if tree.is_empty() => return Ok(Found::Fresh),
        // Records without a version: a database cut short at its creation.
        None => 1,
    };
    if recorded > FORMAT {
        return Err(StoreError::TooNew {
            found: recorded,
            known: FORMAT,
        });
    }
    if recorded == 1 && tree.scan_prefix([OLD_AUDIT]).next().is_none() {
        return Ok(Found::Format(2));
    }
    Ok(Found::Format(recorded))
}

/// Writes the version into a new database (in the batch of its first write).
pub(super) fn mark_fresh(tree: &sled::Tree) -> Result<(), StoreError> {
    tree.insert(keys::meta(SCHEMA), enc(&FORMAT))?;
    Ok(())
}

/// One unchained audit line of format 1.
#[derive(Deserialize)]
struct OldAuditLine {
    unit: String,
    seq: u64,
    kind: String,
    entity: String,
    received_at: DateTime<Utc>,
}

impl Store {
    /// The format the database had when it was opened.
    pub fn format_found(&self) -> u64 {
        self.format
    }

    /// Brings the database from [`Store::format_found`] to [`FORMAT`]: one
    /// batch, then a flush. The caller has written the backup first.
    /// Returns how many log entries it cleaned.
    pub async fn migrate(&mut self) -> Result<u64, StoreError> {
        if self.format >= FORMAT {
            return Ok(0);
        }
        // 1 -> 3: an upstream token kept in the database leaves it for its
        // file (in its own tree, so not in the batch; the move is idempotent:
        // the file first, then the target without it).
        self.upstream_target()?;
        let mut batch = sled::Batch::default();
        let mut head = *self.audit_head.lock().unwrap_or_else(|p| p.into_inner());
        // 1 -> 2: the old lines join the chain after whatever it holds (a
        // 0.2.0 hub may have chained records after them), in their order.
        for kv in self.tree.scan_prefix([OLD_AUDIT]) {
            let (k, v) = kv?;
            let line: OldAuditLine = dec(&k, &v)?;
            let (actor, action, detail) = if line.kind == "review" {
                (
                    "admin".to_string(),
                    "review",
                    format!("outbound seq {} ({})", line.seq, line.entity),
                )
            } else {
                (
                    format!("unit:{}", line.unit),
                    "push",
                    format!("seq {} ({} {})", line.seq, line.kind, line.entity),
                )
            };
            let event = AuditEvent {
                actor: &actor,
                action,
                unit: Some(&line.unit),
                detail: format!("{detail}; recorded by release 0.1.0"),
            };
            let record = head.next(&event, line.received_at);
            batch.insert(keys::audit(record.position), enc(&record));
            head = AuditHead {
                position: record.position,
                hash: record.hash,
            };
            batch.remove(k);
        }
        // 1|2 -> 3: text an earlier release recorded without character
        // rules, cleaned in every unit's log as the agent's migration cleans
        // its copy (`coso_domain::clean`), so both hold the same bytes at
        // each seq and their chains agree; the unit's state made that of the
        // cleaned log, the chains kept from the first cleaned seq dropped
        // (`chain_at` walks them again). A log that does not read (a corrupt
        // entry) is left as it is.
        let mut cleaned_entries = 0;
        for rec in self.units()? {
            let code = &rec.unit.code;
            let entries = self.entries(code, 0, usize::MAX)?;
            let Ok(cleaned) = coso_domain::clean::clean_log(&entries) else {
                tracing::warn!(unit = %code, "a log that does not read is left uncleaned");
                continue;
            };
            let Some(first) = cleaned.rewritten.first().map(|e| e.seq) else {
                continue;
            };
            for e in &cleaned.rewritten {
                batch.insert(keys::entry(code, e.seq), enc(e));
            }
            for k in self
                .tree
                .range(keys::chain(code, first)..=keys::chain(code, u64::MAX))
                .keys()
            {
                batch.remove(k?);
            }
            let mut state = self.unit_state(code)?;
            cleaned.clean_state(&mut state);
            batch.insert(keys::state(code), enc(&state));
            cleaned_entries += cleaned.rewritten.len() as u64;
        }
        batch.insert(keys::meta(SCHEMA), enc(&FORMAT));
        self.written(self.tree.apply_batch(batch))?;
        self.flush().await?;
        *self.audit_head.lock().unwrap_or_else(|p| p.into_inner()) = head;
        self.format = FORMAT;
        Ok(cleaned_entries)
    }
}
