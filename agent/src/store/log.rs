//! The change log: appending entries with the folded state in one atomic
//! write, the log chain at each seq, and reading entries back in order.

use chrono::{DateTime, Utc};
use coso_domain::{Change, Entry, UnitState};

use super::error::DbResult;
use super::{
    K_COUNTER, K_HEAD, K_STATE, P_CHAIN, P_LOG, Store, StoreError, key_name, seq_key, to_json,
};

impl Store {
    /// The highest seq in the change log (0 if none).
    pub fn head_seq(&self) -> Result<u64, StoreError> {
        self.get_u64(K_HEAD)
    }

    /// The last activity number handed out (0 if none). Never goes down.
    pub fn activity_counter(&self) -> Result<u64, StoreError> {
        self.get_u64(K_COUNTER)
    }

    /// The unit's state, folded from its log and the reviews it received.
    pub fn unit_state(&self) -> Result<UnitState, StoreError> {
        Ok(self.get_json(K_STATE)?.unwrap_or_default())
    }

    /// Appends `change` to the log as the next entry and folds it into the
    /// state, in one atomic write. `activity_counter`, when given, is stored
    /// as the new counter in the same write (it must not go down). Only
    /// stages: call [`Store::flush`] before reporting success.
    pub fn append(
        &self,
        change: &Change,
        recorded_at: DateTime<Utc>,
        activity_counter: Option<u64>,
    ) -> Result<Entry, StoreError> {
        let mut entries =
            self.append_all(std::slice::from_ref(change), recorded_at, activity_counter)?;
        Ok(entries.remove(0))
    }

    /// [`Store::append`] for several changes: consecutive entries, written
    /// with the folded state in one atomic write (all of them or none).
    pub fn append_all(
        &self,
        changes: &[Change],
        recorded_at: DateTime<Utc>,
        activity_counter: Option<u64>,
    ) -> Result<Vec<Entry>, StoreError> {
        let _guard = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let head = self.head_seq()?;
        let mut chain = self.chain_at(head)?;
        let mut state = self.unit_state()?;
        let mut batch = sled::Batch::default();
        let mut entries = Vec::with_capacity(changes.len());
        for (i, change) in changes.iter().enumerate() {
            let seq = head + 1 + i as u64;
            let entry = Entry::new(seq, change, recorded_at);
            chain = coso_proto::chain::next(&chain, &entry);
            state.apply(change);
            batch.insert(seq_key(P_LOG, seq), to_json(&entry));
            batch.insert(seq_key(P_CHAIN, seq), &chain[..]);
            entries.push(entry);
        }
        batch.insert(K_HEAD, &(head + changes.len() as u64).to_be_bytes());
        batch.insert(K_STATE, to_json(&state));
        if let Some(n) = activity_counter {
            let n = n.max(self.activity_counter()?);
            batch.insert(K_COUNTER, &n.to_be_bytes());
        }
        self.db.apply_batch(batch).db()?;
        Ok(entries)
    }

    /// The log chain over entries 1..=`seq` (`seq` at or below the head).
    /// Kept with each entry; a log written before chains were kept is walked
    /// once and the chain stored beside it.
    pub fn chain_at(&self, seq: u64) -> Result<[u8; 32], StoreError> {
        if seq == 0 {
            return Ok(coso_proto::chain::GENESIS);
        }
        if let Some(v) = self.db.get(seq_key(P_CHAIN, seq)).db()?
            && let Some(c) = coso_proto::chain::from_wire(&v)
        {
            return Ok(c);
        }
        let mut c = coso_proto::chain::GENESIS;
        let mut batch = sled::Batch::default();
        let mut expected = 1;
        for e in self.entries_after(0, usize::MAX, usize::MAX)? {
            if e.seq > seq {
                break;
            }
            if e.seq != expected {
                return Err(StoreError::Corrupt {
                    key: key_name(&seq_key(P_LOG, expected)),
                    reason: "missing from the log".into(),
                });
            }
            c = coso_proto::chain::next(&c, &e);
            batch.insert(seq_key(P_CHAIN, e.seq), &c[..]);
            expected += 1;
        }
        if expected != seq + 1 {
            return Err(StoreError::Corrupt {
                key: key_name(&seq_key(P_LOG, expected)),
                reason: "missing from the log".into(),
            });
        }
        // Derived from the log, so it needs no flush of its own.
        self.db.apply_batch(batch).db()?;
        Ok(c)
    }

    /// Entries with seq > `after`, in order, at most `max_entries` and (except
    /// the first) at most `max_bytes` of [`Entry::wire_size`] in total.
    pub fn entries_after(
        &self,
        after: u64,
        max_entries: usize,
        max_bytes: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut out: Vec<Entry> = Vec::new();
        if max_entries == 0 || after == u64::MAX {
            return Ok(out);
        }
        let mut total = 0usize;
        for kv in self
            .db
            .range(seq_key(P_LOG, after + 1)..seq_key(P_LOG, u64::MAX))
        {
            let (k, v) = kv.db()?;
            let entry: Entry = serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                key: key_name(&k),
                reason: e.to_string(),
            })?;
            let size = entry.wire_size();
            if !out.is_empty() && total + size > max_bytes {
                break;
            }
            total += size;
            out.push(entry);
            if out.len() >= max_entries {
                break;
            }
        }
        Ok(out)
    }
}
