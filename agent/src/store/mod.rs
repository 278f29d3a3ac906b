//! The agent's local store: identity, catalog and calendar, the change log, the
//! folded unit state and the sync cursors, in one sled database behind this facade.
//!
//! Layout: a single sled tree with key prefixes, so that every change (log entry,
//! next seq, activity counter, folded state) is written with one atomic
//! `apply_batch`. Values are JSON, so a store can be inspected and dumped.
//!
//! sled allows one process per database. On top of sled's own lock the store
//! takes an exclusive lock on `agent.lock` (std's `File::try_lock`: `flock` on
//! Unix, `LockFileEx` on Windows) and writes the holder (pid, command, time)
//! into it, so a second process can say who holds the store instead of
//! failing with sled's bare I/O error.

mod backup;
mod cursors;
mod error;
mod format;
mod holder;
mod identity;
mod log;
mod marks;
mod reading;
mod rebase;

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use cursors::{SubmissionReceipt, SyncState};
pub use error::{BackupError, StoreError, is_disk_full};
pub use format::{FORMAT, backup_name};
pub use holder::{Holder, read_holder};
pub use identity::{CREDENTIAL_FILE, HubLink, Identity};
pub use marks::OpenMark;
pub use rebase::Rebased;

use error::{DbResult, db};
use holder::{locked_error, write_holder};
use marks::OPENED_FILE;

const K_IDENTITY: &[u8] = b"meta/identity";
/// The backup file's name for records that are files beside the database.
const SECRETS_TREE: &[u8] = b"coso:secrets";
const K_CATALOG: &[u8] = b"meta/catalog";
const K_CALENDAR: &[u8] = b"meta/calendar";
const K_SYNC: &[u8] = b"meta/sync";
const K_HEAD: &[u8] = b"meta/head";
const K_COUNTER: &[u8] = b"meta/activity_counter";
const K_STATE: &[u8] = b"meta/state";
const P_LOG: &[u8] = b"log/";
const P_REVIEW: &[u8] = b"review/";
/// The hub's receipts for submissions, by seq (`cursors`).
const P_RECEIPT: &[u8] = b"receipt/";
/// The log chain at each seq (`coso_proto::chain`), 32 raw bytes.
const P_CHAIN: &[u8] = b"chain/";

fn seq_key(prefix: &[u8], seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 8);
    k.extend_from_slice(prefix);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn key_name(key: &[u8]) -> String {
    for prefix in [P_LOG, P_REVIEW, P_CHAIN] {
        if let Some(rest) = key.strip_prefix(prefix)
            && let Ok(b) = <[u8; 8]>::try_from(rest)
        {
            return format!(
                "{}{}",
                String::from_utf8_lossy(prefix),
                u64::from_be_bytes(b)
            );
        }
    }
    String::from_utf8_lossy(key).into_owned()
}

#[derive(Serialize, Deserialize)]
struct Versioned<T> {
    version: u64,
    data: T,
}

/// The agent's store. One per process at a time; see the module docs.
pub struct Store {
    db: sled::Db,
    dir: PathBuf,
    lock: File,
    /// What this opening wrote to [`OPENED_FILE`].
    mark: OpenMark,
    /// Serialises read-modify-write of the folded state within this process.
    write: Mutex<()>,
    /// A copy of the database opened for reading on a full disk
    /// ([`Store::open_for_reading`]); removed after `db` is dropped.
    _scratch: Option<reading::Scratch>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

impl Store {
    /// Opens (creating) the store in `dir`. If another process holds it, waits
    /// up to `wait` for it to be released, then fails with
    /// [`StoreError::Locked`] naming the holder.
    pub fn open(dir: &Path, wait: Duration) -> Result<Store, StoreError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        let start = Instant::now();
        let (mut lock, lock_path) = take_lock(dir, wait)?;
        // On a full disk the holder and the mark may not be written: reads
        // and backups must still work there. The holder then goes unnamed;
        // the mark is removed, so a waiting sync reads the store again.
        let tolerate_full = |r: std::io::Result<()>, path: &Path| match r {
            Err(e) if is_disk_full(&e) => Ok(false),
            Err(e) => Err(io(path)(e)),
            Ok(()) => Ok(true),
        };
        tolerate_full(write_holder(&mut lock), &lock_path)?;
        // Before sled opens, so no write of this opening precedes the mark.
        let mark = OpenMark::fresh();
        let mark_path = dir.join(OPENED_FILE);
        if !tolerate_full(mark.write(&mark_path), &mark_path)? {
            let _ = std::fs::remove_file(&mark_path);
        }
        // sled's own lock may outlive a handle dropped a moment ago in this
        // process (its threads finish after the drop), so retry within the
        // same budget.
        let db_path = dir.join("db");
        coso_proto::private::private_dir(&db_path).map_err(io(&db_path))?;
        reading::remove_unfinished_snapshots(&db_path);
        let db = loop {
            // No background flusher: every command flushes before it says
            // it is done, and sled flushes again when the handle is dropped;
            // the flusher's start-up flush was one more fsync per command
            // (BENCHMARKS.md, the demo with a busy disk).
            match sled::Config::new()
                .path(&db_path)
                .flush_every_ms(None)
                .open()
            {
                Ok(db) => break db,
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && start.elapsed() < wait.max(Duration::from_secs(1)) =>
                {
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    return Err(locked_error(&lock_path));
                }
                Err(e) => return Err(db(e)),
            }
        };
        // sled made its files with the umask's mode; make them 0600.
        coso_proto::private::restrict_tree(dir).map_err(io(dir))?;
        let store = Store {
            db,
            dir: dir.to_path_buf(),
            lock,
            mark,
            write: Mutex::new(()),
            _scratch: None,
        };
        // A newer agent's store is refused before anything is written; an
        // older one is backed up and migrated ([`format`]).
        let found = store.refuse_newer()?;
        store.migrate(found)?;
        // A store from before the credential had its own file: move it out.
        store.identity()?;
        Ok(store)
    }

    /// The data dir this store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes everything written so far durable.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await.db()?;
        Ok(())
    }

    /// [`Store::flush`] for code without an async runtime.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush().db()?;
        Ok(())
    }

    fn get_json<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.db.get(key).db()? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    key: key_name(key),
                    reason: e.to_string(),
                }),
        }
    }

    fn get_u64(&self, key: &[u8]) -> Result<u64, StoreError> {
        match self.db.get(key).db()? {
            None => Ok(0),
            Some(v) => <[u8; 8]>::try_from(v.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Corrupt {
                    key: key_name(key),
                    reason: format!("expected 8 bytes, found {}", v.len()),
                }),
        }
    }

    fn put_json<T: Serialize>(&self, key: &[u8], value: &T) -> Result<(), StoreError> {
        self.db.insert(key, to_json(value)).db()?;
        Ok(())
    }

    /// The mark this opening wrote; see [`OpenMark`].
    pub fn open_mark(&self) -> OpenMark {
        self.mark
    }

    /// The mark of the store's last opening, read without opening it (and
    /// without its lock). `None` if there is none to read.
    pub fn last_open_mark(dir: &Path) -> Option<OpenMark> {
        let bytes = std::fs::read(dir.join(OPENED_FILE)).ok()?;
        Some(OpenMark(bytes.try_into().ok()?))
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // The lock goes with the handle; emptying the file first keeps a
        // stale holder from being named after this process has gone.
        let _ = self.lock.set_len(0);
    }
}

/// Takes the exclusive lock on `agent.lock`, waiting up to `wait` for
/// another process to release it.
fn take_lock(dir: &Path, wait: Duration) -> Result<(File, PathBuf), StoreError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io { path, source }
    };
    // Owner-only before anything is created inside (issue 13, defect 6).
    coso_proto::private::private_dir(dir).map_err(io(dir))?;
    let lock_path = dir.join("agent.lock");
    let lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    let start = Instant::now();
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok((lock, lock_path)),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(err)) => return Err(io(&lock_path)(err)),
        }
        if start.elapsed() >= wait {
            return Err(locked_error(&lock_path));
        }
        std::thread::sleep(Duration::from_millis(25).min(wait));
    }
}

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("stored types serialise to JSON")
}

#[cfg(test)]
mod tests;
