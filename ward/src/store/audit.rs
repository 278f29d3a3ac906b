//! The audit trail: an append-only chain of records, one per push (not per
//! entry) and one per admin action, each naming who acted and carrying the
//! SHA-256 of the record before it, so that a removed, altered or reordered
//! record breaks the chain at a position [`Store::verify_audit`] names.
//!
//! A record's hash covers its canonical JSON (fields in declaration order,
//! `hash` left out), so it is computed the same way when written and when
//! verified. Records are appended inside the same `apply_batch` as the
//! change they describe, so the trail never claims a push that did not land
//! nor misses one that did.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Hash32, Store, StoreError, dec, enc, keys};

/// One link of the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// 1, 2, 3, ... in the order written.
    pub position: u64,
    pub at: DateTime<Utc>,
    /// "unit:CODE" for a push; "admin" or a user name for an admin action.
    pub actor: String,
    /// "push", "review", "unit-add", "unit-reissue", ...
    pub action: String,
    /// The unit concerned, if any.
    pub unit: Option<String>,
    pub detail: String,
    /// The previous record's hash; zeros for the first.
    pub prev: Hash32,
    /// SHA-256 of this record's canonical bytes without `hash`.
    pub hash: Hash32,
}

/// An admin action to record.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub unit: Option<&'a str>,
    pub detail: String,
}

/// What a walk of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheck {
    pub checked: u64,
    /// The first broken position and why, if any.
    pub broken: Option<(u64, String)>,
}

/// The fields a record's hash covers, in a fixed order.
#[derive(Serialize)]
struct Canonical<'a> {
    position: u64,
    at: &'a DateTime<Utc>,
    actor: &'a str,
    action: &'a str,
    unit: &'a Option<String>,
    detail: &'a str,
    prev: &'a Hash32,
}

fn hash_of(r: &AuditRecord) -> Hash32 {
    let c = Canonical {
        position: r.position,
        at: &r.at,
        actor: &r.actor,
        action: &r.action,
        unit: &r.unit,
        detail: &r.detail,
        prev: &r.prev,
    };
    Hash32(Sha256::digest(enc(&c)).into())
}

/// The end of the chain: the last position and its hash.
#[derive(Debug, Clone, Copy)]
pub(super) struct AuditHead {
    pub position: u64,
    pub hash: Hash32,
}

impl AuditHead {
    /// Reads the last record of the chain (zeros for an empty one).
    pub(super) fn load(tree: &sled::Tree) -> Result<AuditHead, StoreError> {
        let prefix = keys::audit_prefix();
        match tree.scan_prefix(&prefix).next_back() {
            Some(kv) => {
                let (k, v) = kv?;
                let r: AuditRecord = dec(&k, &v)?;
                Ok(AuditHead {
                    position: r.position,
                    hash: r.hash,
                })
            }
            None => Ok(AuditHead {
                position: 0,
                hash: Hash32([0; 32]),
            }),
        }
    }

    /// The next record after this head; the caller inserts it with
    /// [`keys::audit`] in its batch and, once the batch is applied, moves
    /// the head to it.
    pub(super) fn next(&self, event: &AuditEvent<'_>, at: DateTime<Utc>) -> AuditRecord {
        let mut r = AuditRecord {
            position: self.position + 1,
            at,
            actor: event.actor.to_string(),
            action: event.action.to_string(),
            unit: event.unit.map(str::to_string),
            detail: event.detail.clone(),
            prev: self.hash,
            hash: Hash32([0; 32]),
        };
        r.hash = hash_of(&r);
        r
    }
}

impl Store {
    /// The one way a record joins the audit chain: `event` is chained after
    /// the head and written in `batch`, which is applied atomically with it,
    /// so a change and its audit record land together or not at all. Not
    /// flushed: the caller flushes before it answers.
    pub(super) fn apply_audited(
        &self,
        mut batch: sled::Batch,
        event: &AuditEvent<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<AuditRecord, StoreError> {
        let _w = self.write_gate();
        let mut head = self.audit_head.lock().unwrap_or_else(|p| p.into_inner());
        let record = head.next(event, now);
        batch.insert(keys::audit(record.position), enc(&record));
        self.written(self.tree.apply_batch(batch))?;
        *head = AuditHead {
            position: record.position,
            hash: record.hash,
        };
        Ok(record)
    }

    /// Appends one admin action to the audit trail, durably. The use cases
    /// call it after their change landed.
    pub async fn audit_admin(&self, event: AuditEvent<'_>) -> Result<AuditRecord, StoreError> {
        let rec = self.apply_audited(sled::Batch::default(), &event, coso_domain::clock::now())?;
        self.flush().await?;
        Ok(rec)
    }

    /// Audit records in the order written, after position `after`, at most
    /// `limit`.
    pub fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
        self.alive()?;
        self.tree
            .range(keys::audit(after.saturating_add(1))..)
            .take_while(|kv| {
                kv.as_ref()
                    .map(|(k, _)| k.starts_with(&keys::audit_prefix()))
                    .unwrap_or(true)
            })
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                dec(&k, &v)
            })
            .collect()
    }

    /// Walks the whole chain: positions consecutive from 1, each record's
    /// hash matches its content, each `prev` matches the record before.
    pub fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        self.alive()?;
        let mut prev = Hash32([0; 32]);
        let mut checked = 0;
        for kv in self.tree.scan_prefix(keys::audit_prefix()) {
            let (k, v) = kv?;
            let position = keys::trailing_u64(&k).unwrap_or_default();
            let broken = |why: String| AuditCheck {
                checked,
                broken: Some((position, why)),
            };
            let r: AuditRecord = match dec(&k, &v) {
                Ok(r) => r,
                Err(e) => return Ok(broken(format!("unreadable record: {e}"))),
            };
            if position != checked + 1 || r.position != position {
                return Ok(broken(format!(
                    "expected position {}, found {}",
                    checked + 1,
                    r.position
                )));
            }
            if r.prev != prev {
                return Ok(broken(
                    "its previous-record hash does not match the record before it".into(),
                ));
            }
            if hash_of(&r) != r.hash {
                return Ok(broken("its content does not match its hash".into()));
            }
            prev = r.hash;
            checked += 1;
        }
        Ok(AuditCheck {
            checked,
            broken: None,
        })
    }
}
