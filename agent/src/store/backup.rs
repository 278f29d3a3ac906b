//! The whole store as records: a backup file (the credential travels with
//! it), a restore into an empty data dir, and a readable dump for tests.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use super::error::{DbResult, db};
use super::{BackupError, CREDENTIAL_FILE, SECRETS_TREE, Store, StoreError, key_name};

impl Store {
    /// Writes every record of the store to `out` as a backup (see
    /// `coso_proto::backup`). The store is held by this process, so the
    /// copy is consistent.
    pub fn backup(&self, out: impl Write) -> Result<u64, BackupError> {
        let header = coso_proto::backup::Header {
            kind: "agent".into(),
            version: 1,
            created_at: Utc::now().to_rfc3339(),
        };
        let mut w = coso_proto::backup::Writer::new(out, &header)?;
        let mut n = 0;
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name).map_err(db)?;
            for kv in tree.iter() {
                let (k, v) = kv.map_err(db)?;
                w.record(&name, &k, &v)?;
                n += 1;
            }
        }
        // The credential lives in a file of its own, not in the database; a
        // restored copy needs it to sync, so it travels in the backup too.
        let path = self.dir.join(CREDENTIAL_FILE);
        if let Some(secret) = coso_proto::private::read_secret(&path)
            .map_err(|source| StoreError::Io { path, source })?
        {
            w.record(SECRETS_TREE, CREDENTIAL_FILE.as_bytes(), secret.as_bytes())?;
            n += 1;
        }
        w.finish()?;
        Ok(n)
    }

    /// Creates a store in `dir` (missing or empty) from a backup file,
    /// checked whole before anything is written.
    pub fn restore(dir: &Path, input: impl Read) -> Result<u64, BackupError> {
        if dir.exists()
            && std::fs::read_dir(dir)
                .map_err(|source| StoreError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?
                .next()
                .is_some()
        {
            return Err(BackupError::NotEmpty(dir.to_path_buf()));
        }
        let (_, records) = coso_proto::backup::read(input, "agent")?;
        let store = Store::open(dir, Duration::from_secs(1))?;
        for r in &records {
            if r.tree == SECRETS_TREE {
                if r.key == CREDENTIAL_FILE.as_bytes() {
                    let path = dir.join(CREDENTIAL_FILE);
                    let secret = String::from_utf8_lossy(&r.value);
                    coso_proto::private::write_secret(&path, &secret)
                        .map_err(|source| StoreError::Io { path, source })?;
                }
                continue;
            }
            store
                .db
                .open_tree(&r.tree)
                .map_err(db)?
                .insert(r.key.as_slice(), r.value.as_slice())
                .map_err(db)?;
        }
        store.flush_blocking()?;
        Ok(records.len() as u64)
    }

    /// Every record in the store as (readable key, value text), in key order.
    /// Two dumps are equal exactly when the stored data is.
    pub fn dump(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.db.iter() {
            let (k, v) = kv.db()?;
            let value = match std::str::from_utf8(&v) {
                Ok(t) => t.to_string(),
                Err(_) => hex::encode(&v),
            };
            out.push((key_name(&k), value));
        }
        Ok(out)
    }
}
