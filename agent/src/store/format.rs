//! The store's format version (`meta/format`) and the migrations from the
//! formats of earlier releases.
//!
//! Versions, found by diffing the store code of each release:
//! - 1: release 0.1.0 (9c45abc): the unit credential inside `meta/identity`,
//!   no log chain (`chain/`).
//! - 2: release 0.2.0 (9ccbc0d): the credential in its own file, the log chain
//!   at each seq. Neither release recorded a version; they are told apart by
//!   where the credential is and whether the chain is there.
//! - 3: this release: the hub's receipts (`receipt/`), the version itself,
//!   and text cleaned of the characters the record rules refuse, which
//!   release 0.1.0 let people record (`coso_domain::clean`).
//!
//! An older store is migrated when it is opened for writing: first a backup
//! beside it (`pre-upgrade-<old>.coso-backup`, the format of `coso-agent
//! backup`, so `coso-agent restore` takes it back), written and synced; then
//! the migration's writes and the new version in one batch, then a flush. A
//! crash before the flush leaves the old version, and the next open redoes
//! it. A newer store is refused before anything is written. Releases 0.1.0 and
//! 0.2.0 read no version: they open a format-3 store without a word.

use std::io::Write;
use std::path::Path;

use super::error::DbResult;
use super::identity::Identity;
use super::{
    CREDENTIAL_FILE, K_IDENTITY, K_STATE, P_CHAIN, P_LOG, Store, StoreError, seq_key, to_json,
};

/// The format this agent writes.
pub const FORMAT: u64 = 3;
const K_FORMAT: &[u8] = b"meta/format";

/// The pre-upgrade backup's name for a store of format `from`.
pub fn backup_name(from: u64) -> String {
    format!("pre-upgrade-{from}.coso-backup")
}

impl Store {
    /// The store's format: recorded, or told from its records; this
    /// release's for an empty store.
    fn format(&self) -> Result<u64, StoreError> {
        if let Some(v) = self.db.get(K_FORMAT).db()? {
            return <[u8; 8]>::try_from(v.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Corrupt {
                    key: "meta/format".into(),
                    reason: format!("expected 8 bytes, found {}", v.len()),
                });
        }
        if self.db.is_empty() {
            return Ok(FORMAT);
        }
        let credential_inside = self
            .get_json::<Identity>(K_IDENTITY)?
            .and_then(|id| id.hub)
            .is_some_and(|h| !h.credential.is_empty());
        let head = self.head_seq()?;
        let unchained = head > 0 && self.db.get(seq_key(P_CHAIN, head)).db()?.is_none();
        Ok(if credential_inside || unchained { 1 } else { 2 })
    }

    /// Records this format in a new store, with its first identity (`init`,
    /// `enroll`): an empty store is written nothing until then, so refused
    /// input leaves a fresh data dir empty.
    pub(super) fn mark_new(&self) -> Result<(), StoreError> {
        if self.db.get(K_IDENTITY).db()?.is_none() {
            self.db.insert(K_FORMAT, &FORMAT.to_be_bytes()).db()?;
        }
        Ok(())
    }

    /// Refuses a store a newer agent wrote; called before anything is written.
    pub(super) fn refuse_newer(&self) -> Result<u64, StoreError> {
        let found = self.format()?;
        if found > FORMAT {
            return Err(StoreError::TooNew {
                found,
                known: FORMAT,
            });
        }
        Ok(found)
    }

    /// Brings a store of format `from` to [`FORMAT`]: the backup first, then
    /// one batch with the new version, then a flush.
    pub(super) fn migrate(&self, from: u64) -> Result<(), StoreError> {
        if from >= FORMAT {
            return Ok(());
        }
        self.write_pre_upgrade_backup(from)?;
        let mut batch = sled::Batch::default();
        // 1 -> 2: the credential to its file (written first; writing it
        // again after a crash is harmless), the identity without it.
        if let Some(mut id) = self.get_json::<Identity>(K_IDENTITY)?
            && let Some(hub) = &mut id.hub
            && !hub.credential.is_empty()
        {
            let path = self.dir.join(CREDENTIAL_FILE);
            coso_proto::private::write_secret(&path, &hub.credential)
                .map_err(|source| StoreError::Io { path, source })?;
            hub.credential.clear();
            batch.insert(K_IDENTITY, to_json(&id));
        }
        // 1|2 -> 3: text an earlier release recorded without character
        // rules, cleaned as the hub's migration cleans its copy
        // (`coso_domain::clean`), so both hold the same bytes at each seq;
        // the state made that of the cleaned log. A log that does not read
        // (a corrupt entry) is left as it is, for `recover`.
        let mut entries = self.entries_after(0, usize::MAX, usize::MAX)?;
        if let Ok(cleaned) = coso_domain::clean::clean_log(&entries)
            && !cleaned.is_empty()
        {
            let mut rewritten = cleaned.rewritten.iter().peekable();
            for e in &mut entries {
                if let Some(new) = rewritten.next_if(|n| n.seq == e.seq) {
                    *e = new.clone();
                    batch.insert(seq_key(P_LOG, e.seq), to_json(e));
                }
            }
            let mut state = self.unit_state()?;
            cleaned.clean_state(&mut state);
            batch.insert(K_STATE, to_json(&state));
        }
        // 1 -> 2 (and 3, over a cleaned log): the log chain at every seq.
        let mut chain = coso_proto::chain::GENESIS;
        for e in &entries {
            chain = coso_proto::chain::next(&chain, e);
            batch.insert(seq_key(P_CHAIN, e.seq), &chain[..]);
        }
        batch.insert(K_FORMAT, &FORMAT.to_be_bytes());
        self.db.apply_batch(batch).db()?;
        self.flush_blocking()
    }

    /// `pre-upgrade-<from>.coso-backup` beside the store, complete and synced
    /// before the migration writes anything. One a crash left is kept: it
    /// was written before anything changed.
    fn write_pre_upgrade_backup(&self, from: u64) -> Result<(), StoreError> {
        let path = self.dir.join(backup_name(from));
        if path.exists() {
            return Ok(());
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        let mut bytes = Vec::new();
        self.backup(&mut bytes).map_err(|e| match e {
            super::BackupError::Store(e) => e,
            e => StoreError::Db {
                reason: e.to_string(),
            },
        })?;
        let tmp = self.dir.join(format!("{}.partial", backup_name(from)));
        let _ = std::fs::remove_file(&tmp);
        let mut f = coso_proto::private::create_private(&tmp).map_err(io(&tmp))?;
        f.write_all(&bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}
