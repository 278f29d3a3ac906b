//! The sync cursors: what the hub acknowledged, how far reviews were pulled
//! (and from which outbound epoch), the last sync and its error, and the
//! review decisions received.

use std::path::Path;

use chrono::{DateTime, Utc};
use coso_domain::Review;
use serde::{Deserialize, Serialize};

use super::error::DbResult;
use super::marks::{SYNCED_FILE, overwrite, read_synced};
use super::{K_STATE, K_SYNC, P_RECEIPT, P_REVIEW, Store, StoreError, key_name, seq_key, to_json};

/// The sync cursors: what the hub acknowledged and how far the agent pulled.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    pub acked_seq: u64,
    pub pull_after: u64,
    pub last_sync: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The hub's outbound-log identity `pull_after` belongs to (hex).
    #[serde(default)]
    pub pull_epoch: Option<String>,
}

impl Store {
    /// The sync cursors. `last_sync` is the later of the one recorded with
    /// them and the one [`Store::note_synced`] left beside the database.
    pub fn sync_state(&self) -> Result<SyncState, StoreError> {
        let mut s: SyncState = self.get_json(K_SYNC)?.unwrap_or_default();
        if let Some(t) = read_synced(&self.dir)
            && s.last_sync.is_none_or(|l| l < t)
        {
            s.last_sync = Some(t);
        }
        Ok(s)
    }

    /// Records the time of a sync that found nothing to send or apply,
    /// without opening the database: a small file beside it, replaced
    /// atomically and not flushed (it is a note for people, never a cursor;
    /// after a crash `status` shows an earlier time). Only call it when the
    /// stored state has no `last_error` to clear: the file says when a sync
    /// last succeeded, not how the last attempt went.
    pub fn note_synced(dir: &Path, at: DateTime<Utc>) -> std::io::Result<()> {
        // Always the same width (padded past what earlier versions wrote),
        // so each note covers the last one whole. A reader that catches it
        // half written reads no time, as if no sync had been noted.
        let text = at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        overwrite(&dir.join(SYNCED_FILE), format!("{text:<40}").as_bytes())
    }

    /// Records the hub's acknowledged cursor (it may go DOWN if the hub was
    /// restored from a backup) and the time of this successful sync.
    pub fn set_acked(&self, acked_seq: u64, at: DateTime<Utc>) -> Result<(), StoreError> {
        let _guard = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = self.sync_state()?;
        s.acked_seq = acked_seq;
        s.last_sync = Some(at);
        s.last_error = None;
        self.put_json(K_SYNC, &s)
    }

    /// Records why the last sync attempt failed (`None` clears it).
    pub fn set_sync_error(&self, error: Option<&str>) -> Result<(), StoreError> {
        let _guard = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = self.sync_state()?;
        s.last_error = error.map(str::to_string);
        self.put_json(K_SYNC, &s)
    }

    /// Applies pulled review decisions (each with its outbound seq) and
    /// advances `pull_after` to `pull_head`, in one atomic write.
    pub fn apply_reviews(
        &self,
        reviews: &[(u64, Review)],
        pull_head: u64,
    ) -> Result<(), StoreError> {
        self.apply_pulled(reviews, pull_head, None)
    }

    /// [`Store::apply_reviews`], also recording the hub's outbound epoch
    /// the cursor belongs to, in the same write.
    pub fn apply_pulled(
        &self,
        reviews: &[(u64, Review)],
        pull_head: u64,
        epoch: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let _guard = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = self.unit_state()?;
        let mut sync = self.sync_state()?;
        if let Some(e) = epoch {
            sync.pull_epoch = Some(hex::encode(e));
        }
        let mut batch = sled::Batch::default();
        for (seq, review) in reviews {
            state.apply_review(review.clone());
            batch.insert(seq_key(P_REVIEW, *seq), to_json(review));
        }
        sync.pull_after = pull_head;
        batch.insert(K_STATE, to_json(&state));
        batch.insert(K_SYNC, to_json(&sync));
        self.db.apply_batch(batch).db()?;
        Ok(())
    }

    /// The reviews received, by outbound seq.
    pub fn reviews(&self) -> Result<Vec<(u64, Review)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.db.scan_prefix(P_REVIEW) {
            let (k, v) = kv.db()?;
            let seq = <[u8; 8]>::try_from(&k[P_REVIEW.len()..])
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Corrupt {
                    key: key_name(&k),
                    reason: "bad review key".into(),
                })?;
            let r: Review = serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                key: key_name(&k),
                reason: e.to_string(),
            })?;
            out.push((seq, r));
        }
        Ok(out)
    }

    /// Keeps the hub's receipts for submissions, by seq: sent again with
    /// those entries, they let a hub restored from an older backup keep the
    /// time it first received them (the receipt is the hub's, signed).
    pub fn keep_receipts(&self, receipts: &[SubmissionReceipt]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for r in receipts {
            batch.insert(seq_key(P_RECEIPT, r.seq), to_json(r));
        }
        self.db.apply_batch(batch).db()?;
        Ok(())
    }

    /// The kept receipts for the seqs `first..=last`.
    pub fn receipts_between(
        &self,
        first: u64,
        last: u64,
    ) -> Result<Vec<SubmissionReceipt>, StoreError> {
        let mut out = Vec::new();
        for kv in self
            .db
            .range(seq_key(P_RECEIPT, first)..=seq_key(P_RECEIPT, last))
        {
            let (k, v) = kv.db()?;
            let r = serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                key: key_name(&k),
                reason: e.to_string(),
            })?;
            out.push(r);
        }
        Ok(out)
    }
}

/// The hub's signed word of when it received a submission, as it gave it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmissionReceipt {
    pub seq: u64,
    pub period: String,
    pub received_at: String,
    pub mac: Vec<u8>,
}
