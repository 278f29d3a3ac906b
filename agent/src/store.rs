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

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use coso_domain::calendar::Calendar;
use coso_domain::catalog::Catalog;
use coso_domain::{Change, Entry, Review, Unit, UnitState};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The unit this agent records for, and the hub it is enrolled with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Identity {
    pub unit: Unit,
    pub hub: Option<HubLink>,
    pub ward: Option<String>,
}

/// How to reach the hub: address, pinned certificate and the unit's credential.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HubLink {
    pub addr: String,
    pub fingerprint: [u8; 32],
    pub credential: String,
    pub enrolled_at: DateTime<Utc>,
}

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

/// What [`Store::rebase`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebased {
    /// Entries this store and the hub hold alike, from seq 1.
    pub common: u64,
    /// The hub's cursor: its log is now this store's up to here.
    pub hub_head: u64,
    /// This store's own entries placed after the hub's log, to be sent.
    pub rebased: u64,
    /// Activities given a new id because the hub's log used theirs (old, new).
    pub renamed: Vec<(String, String)>,
}

/// Why a backup or restore of the store failed.
#[derive(Debug, Error)]
pub enum BackupError {
    #[error(transparent)]
    Format(#[from] coso_proto::backup::BackupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the data directory {0} is not empty; restore only into an empty one")]
    NotEmpty(PathBuf),
}

/// Who holds the store, as written by the holder into the lock file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub command: String,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Error)]
pub enum StoreError {
    /// Another process has the store open.
    #[error(
        "the data store is in use by another process (pid {}, command {:?}, since {})",
        pid.map(|p| p.to_string()).unwrap_or_else(|| "unknown".into()),
        command,
        since.map(|s| s.to_rfc3339()).unwrap_or_else(|| "unknown".into())
    )]
    Locked {
        pid: Option<u32>,
        command: String,
        since: Option<DateTime<Utc>>,
    },
    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The database itself failed (sled's error, as text so sled stays private).
    #[error("database error: {reason}")]
    Db { reason: String },
    /// A stored record cannot be read back.
    #[error("stored record {key} is damaged: {reason}")]
    Corrupt { key: String, reason: String },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Db {
            reason: e.to_string(),
        }
    }
}

/// When the last sync found nothing to do ([`Store::note_synced`]).
const SYNCED_FILE: &str = "last-sync";

fn read_synced(dir: &Path) -> Option<DateTime<Utc>> {
    let text = std::fs::read_to_string(dir.join(SYNCED_FILE)).ok()?;
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Writes `bytes` over the start of a small owner-only file that always
/// holds the same number of bytes, without truncating it first. On ext4 a
/// truncate-and-rewrite (or a write to a new file renamed over the old)
/// starts writing the data back when the file is closed: about half a
/// millisecond on a quiet disk, and a wait behind every other writer on a
/// busy one. Overwriting the bytes in place is a page-cache write.
fn overwrite(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(bytes)
}

/// Rewritten with a fresh random mark by every [`Store::open`], under the
/// lock (see [`Store::open_mark`]).
const OPENED_FILE: &str = "opened";

/// Which opening of the store was the last one: a random value each
/// [`Store::open`] writes beside the database while it holds the lock.
/// Every write goes through an open store, so a long-running sync that
/// read the store under mark M knows nothing was written since as long as
/// the file still holds M, and can tell without opening the store, which
/// itself writes to sled's files (even a read-only open moves the log's
/// time, so the files' sizes and times cannot say it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenMark([u8; 16]);

impl OpenMark {
    fn fresh() -> OpenMark {
        let mut b = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
        OpenMark(b)
    }

    /// In place and without a sync: a reader that catches it half written
    /// sees no mark or another one, and reads the store again; a crash
    /// loses only marks that the processes holding them lost too.
    fn write(&self, path: &Path) -> std::io::Result<()> {
        overwrite(path, &self.0)
    }
}

const K_IDENTITY: &[u8] = b"meta/identity";
/// The unit's sync credential, in a file of its own (0600) in the data dir.
pub const CREDENTIAL_FILE: &str = "credential";
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
        // Owner-only before anything is created inside (issue 13, defect 6).
        coso_proto::private::private_dir(dir).map_err(io(dir))?;
        let lock_path = dir.join("agent.lock");
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        let start = Instant::now();
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(err)) => return Err(io(&lock_path)(err)),
            }
            if start.elapsed() >= wait {
                return Err(locked_error(&lock_path));
            }
            std::thread::sleep(Duration::from_millis(25).min(wait));
        }
        write_holder(&mut lock).map_err(io(&lock_path))?;
        // Before sled opens, so no write of this opening precedes the mark.
        let mark = OpenMark::fresh();
        let mark_path = dir.join(OPENED_FILE);
        mark.write(&mark_path).map_err(io(&mark_path))?;
        // sled's own lock may outlive a handle dropped a moment ago in this
        // process (its threads finish after the drop), so retry within the
        // same budget.
        let db_path = dir.join("db");
        coso_proto::private::private_dir(&db_path).map_err(io(&db_path))?;
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
                Err(e) => return Err(e.into()),
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
        };
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
        self.db.flush_async().await?;
        Ok(())
    }

    /// [`Store::flush`] for code without an async runtime.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    fn get_json<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.db.get(key)? {
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
        match self.db.get(key)? {
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
        self.db.insert(key, to_json(value))?;
        Ok(())
    }

    /// The identity, with the unit credential read from its own file.
    pub fn identity(&self) -> Result<Option<Identity>, StoreError> {
        let Some(mut id) = self.get_json::<Identity>(K_IDENTITY)? else {
            return Ok(None);
        };
        if let Some(hub) = &mut id.hub {
            if hub.credential.is_empty() {
                let path = self.dir.join(CREDENTIAL_FILE);
                hub.credential = coso_proto::private::read_secret(&path)
                    .map_err(|source| StoreError::Io { path, source })?
                    .unwrap_or_default();
            } else {
                // Written by an older agent: move the secret to its file.
                self.set_identity(&id)?;
                self.flush_blocking()?;
            }
        }
        Ok(Some(id))
    }

    /// Stores the identity; the unit credential goes to its own owner-only
    /// file ([`CREDENTIAL_FILE`]), never into the database.
    pub fn set_identity(&self, id: &Identity) -> Result<(), StoreError> {
        let mut stored = id.clone();
        if let Some(hub) = &mut stored.hub
            && !hub.credential.is_empty()
        {
            let path = self.dir.join(CREDENTIAL_FILE);
            coso_proto::private::write_secret(&path, &hub.credential)
                .map_err(|source| StoreError::Io { path, source })?;
            hub.credential.clear();
        }
        self.put_json(K_IDENTITY, &stored)
    }

    /// The catalog in force: the hub's latest, or the built-in one (version 0).
    pub fn catalog(&self) -> Result<(u64, Catalog), StoreError> {
        Ok(match self.get_json::<Versioned<Catalog>>(K_CATALOG)? {
            Some(v) => (v.version, v.data),
            None => (0, Catalog::builtin()),
        })
    }

    pub fn set_catalog(&self, version: u64, c: &Catalog) -> Result<(), StoreError> {
        self.put_json(
            K_CATALOG,
            &Versioned {
                version,
                data: c.clone(),
            },
        )
    }

    /// The calendar in force: the hub's latest, or the built-in one (version 0).
    pub fn calendar(&self) -> Result<(u64, Calendar), StoreError> {
        Ok(match self.get_json::<Versioned<Calendar>>(K_CALENDAR)? {
            Some(v) => (v.version, v.data),
            None => (0, Calendar::builtin()),
        })
    }

    pub fn set_calendar(&self, version: u64, c: &Calendar) -> Result<(), StoreError> {
        self.put_json(
            K_CALENDAR,
            &Versioned {
                version,
                data: c.clone(),
            },
        )
    }

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
        self.db.apply_batch(batch)?;
        Ok(entries)
    }

    /// The log chain over entries 1..=`seq` (`seq` at or below the head).
    /// Kept with each entry; a log written before chains were kept is walked
    /// once and the chain stored beside it.
    pub fn chain_at(&self, seq: u64) -> Result<[u8; 32], StoreError> {
        if seq == 0 {
            return Ok(coso_proto::chain::GENESIS);
        }
        if let Some(v) = self.db.get(seq_key(P_CHAIN, seq))?
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
        self.db.apply_batch(batch)?;
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
            let (k, v) = kv?;
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

    /// The catalog's and the calendar's versions, without reading the
    /// documents themselves.
    pub fn versions(&self) -> Result<(u64, u64), StoreError> {
        #[derive(Deserialize)]
        struct Version {
            version: u64,
        }
        let catalog = self
            .get_json::<Version>(K_CATALOG)?
            .map_or(0, |v| v.version);
        let calendar = self
            .get_json::<Version>(K_CALENDAR)?
            .map_or(0, |v| v.version);
        Ok((catalog, calendar))
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
        self.db.apply_batch(batch)?;
        Ok(())
    }

    /// The reviews received, by outbound seq.
    pub fn reviews(&self) -> Result<Vec<(u64, Review)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.db.scan_prefix(P_REVIEW) {
            let (k, v) = kv?;
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

    /// Rebuilds the log on the hub's: `hub` is the unit's whole log as the
    /// hub holds it (seq 1..). The longest common prefix is kept; this
    /// store's entries after it (changes the hub never received, or that
    /// another copy's entries displaced) follow the hub's log with new seqs,
    /// so nothing is dropped. Activities this copy created after the prefix
    /// whose id the hub's log also uses get fresh ids. The state is folded
    /// again (review decisions by their time) and the hub's cursor recorded,
    /// in one atomic write. Only stages: flush before reporting success.
    pub fn rebase(&self, hub: &[Entry]) -> Result<Rebased, StoreError> {
        let _guard = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let local = self.entries_after(0, usize::MAX, usize::MAX)?;
        let same = |a: &Entry, b: &Entry| {
            a.seq == b.seq && a.hash == b.hash && a.kind == b.kind && a.entity == b.entity
        };
        let common = hub
            .iter()
            .zip(&local)
            .take_while(|(h, l)| same(h, l))
            .count();
        let decode = |e: &Entry| {
            e.decode().map_err(|err| StoreError::Corrupt {
                key: key_name(&seq_key(P_LOG, e.seq)),
                reason: err.to_string(),
            })
        };
        let activity_of = |c: &Change| match c {
            Change::ActivityUpsert(a) => Some(a.id.clone()),
            Change::ActivityRemove(r) => Some(r.id.clone()),
            _ => None,
        };
        let mut prefix_ids = std::collections::BTreeSet::new();
        for e in &local[..common] {
            prefix_ids.extend(activity_of(&decode(e)?));
        }
        let mut hub_ids = std::collections::BTreeSet::new();
        let mut hub_changes = Vec::with_capacity(hub.len());
        for e in hub {
            let c = decode(e)?;
            hub_ids.extend(activity_of(&c));
            hub_changes.push(c);
        }
        let number = |id: &coso_domain::ActivityId| {
            id.as_str()
                .strip_prefix("HD-")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let mut counter = self
            .activity_counter()?
            .max(hub_ids.iter().map(number).max().unwrap_or(0));
        let mut remap = std::collections::BTreeMap::new();
        let base = hub.len() as u64;
        let mut ours = Vec::new();
        for (i, e) in local[common..].iter().enumerate() {
            let mut change = decode(e)?;
            if let Some(id) = activity_of(&change)
                && !prefix_ids.contains(&id)
                && hub_ids.contains(&id)
            {
                let new = remap
                    .entry(id.clone())
                    .or_insert_with(|| {
                        counter += 1;
                        coso_domain::ActivityId::from_counter(counter)
                    })
                    .clone();
                match &mut change {
                    Change::ActivityUpsert(a) => a.id = new,
                    Change::ActivityRemove(r) => r.id = new,
                    _ => {}
                }
            }
            let entry = Entry::new(base + 1 + i as u64, &change, e.recorded_at);
            ours.push((entry, change));
        }

        // The state: the new log in order, each review decision applied
        // where it falls in time.
        let reviews = self.reviews()?;
        let mut pending = reviews.iter().peekable();
        let mut state = UnitState::default();
        let all = hub
            .iter()
            .zip(&hub_changes)
            .chain(ours.iter().map(|(e, c)| (e, c)));
        let mut batch = sled::Batch::default();
        let old_head = self.head_seq()?;
        for seq in (common as u64 + 1)..=old_head {
            batch.remove(seq_key(P_LOG, seq));
            batch.remove(seq_key(P_CHAIN, seq));
        }
        let mut chain = coso_proto::chain::GENESIS;
        let mut head = 0;
        for (e, c) in all {
            while let Some((_, r)) = pending.next_if(|(_, r)| r.decided_at <= e.recorded_at) {
                state.apply_review(r.clone());
            }
            state.apply(c);
            chain = coso_proto::chain::next(&chain, e);
            if e.seq as usize > common {
                batch.insert(seq_key(P_LOG, e.seq), to_json(e));
                batch.insert(seq_key(P_CHAIN, e.seq), &chain[..]);
            }
            head = e.seq;
        }
        for (_, r) in pending {
            state.apply_review(r.clone());
        }
        let mut sync = self.sync_state()?;
        sync.acked_seq = base;
        sync.last_error = None;
        batch.insert(K_HEAD, &head.to_be_bytes());
        batch.insert(K_COUNTER, &counter.to_be_bytes());
        batch.insert(K_STATE, to_json(&state));
        batch.insert(K_SYNC, to_json(&sync));
        self.db.apply_batch(batch)?;
        Ok(Rebased {
            common: common as u64,
            hub_head: base,
            rebased: ours.len() as u64,
            renamed: remap
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        })
    }

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
            let tree = self.db.open_tree(&name).map_err(StoreError::from)?;
            for kv in tree.iter() {
                let (k, v) = kv.map_err(StoreError::from)?;
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
                .map_err(StoreError::from)?
                .insert(r.key.as_slice(), r.value.as_slice())
                .map_err(StoreError::from)?;
        }
        store.flush_blocking()?;
        Ok(records.len() as u64)
    }

    /// Every record in the store as (readable key, value text), in key order.
    /// Two dumps are equal exactly when the stored data is.
    pub fn dump(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.db.iter() {
            let (k, v) = kv?;
            let value = match std::str::from_utf8(&v) {
                Ok(t) => t.to_string(),
                Err(_) => hex::encode(&v),
            };
            out.push((key_name(&k), value));
        }
        Ok(out)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // The lock goes with the handle; emptying the file first keeps a
        // stale holder from being named after this process has gone.
        let _ = self.lock.set_len(0);
    }
}

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("stored types serialise to JSON")
}

fn write_holder(lock: &mut File) -> std::io::Result<()> {
    let command: Vec<String> = std::env::args()
        .take(4)
        .map(|a| {
            let name = Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            if a.contains('/') {
                name.unwrap_or(a)
            } else {
                a
            }
        })
        .collect();
    let holder = Holder {
        pid: std::process::id(),
        command: command.join(" "),
        since: Utc::now(),
    };
    lock.set_len(0)?;
    lock.seek(SeekFrom::Start(0))?;
    lock.write_all(&to_json(&holder))?;
    lock.flush()
}

fn locked_error(lock_path: &Path) -> StoreError {
    let holder = read_holder(lock_path);
    StoreError::Locked {
        pid: holder.as_ref().map(|h| h.pid),
        command: holder
            .as_ref()
            .map(|h| h.command.clone())
            .unwrap_or_default(),
        since: holder.map(|h| h.since),
    }
}

/// Reads the holder written into the lock file, if it is complete.
pub fn read_holder(lock_path: &Path) -> Option<Holder> {
    let mut text = String::new();
    File::open(lock_path).ok()?.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use coso_domain::change::{ActivityRemove, ValuesSet};
    use coso_domain::{Activity, ActivityId, Decision, Form, UnitCode, UnitKind, Value};

    const WAIT: Duration = Duration::from_millis(200);

    fn act(n: u64, title: &str) -> Change {
        Change::ActivityUpsert(Activity {
            id: ActivityId::from_counter(n),
            date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            form: Form::Conference,
            title: title.into(),
            participants: Some(10),
            note: String::new(),
        })
    }

    fn identity() -> Identity {
        Identity {
            unit: Unit::new(
                "TDP05".parse::<UnitCode>().unwrap(),
                "Tổ dân phố số 5",
                UnitKind::ResidentialGroup,
            )
            .unwrap(),
            hub: None,
            ward: None,
        }
    }

    #[test]
    fn seq_grows_by_one_and_state_follows_the_log() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path(), WAIT).unwrap();
        assert_eq!(s.head_seq().unwrap(), 0);
        for n in 1..=5 {
            let e = s.append(&act(n, "Hội nghị"), Utc::now(), Some(n)).unwrap();
            assert_eq!(e.seq, n);
        }
        s.append(
            &Change::ActivityRemove(ActivityRemove {
                id: ActivityId::from_counter(2),
            }),
            Utc::now(),
            None,
        )
        .unwrap();
        assert_eq!(s.head_seq().unwrap(), 6);
        assert_eq!(s.activity_counter().unwrap(), 5);
        let all = s.entries_after(0, 100, usize::MAX).unwrap();
        let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
        // The stored state is exactly the fold of the log.
        let mut folded = UnitState::default();
        for e in &all {
            folded.apply(&e.decode().unwrap());
        }
        assert_eq!(s.unit_state().unwrap(), folded);
        assert_eq!(folded.activities.len(), 4);
    }

    #[test]
    fn a_sync_note_written_in_place_reads_back_over_an_older_longer_one() {
        let tmp = tempfile::tempdir().unwrap();
        // What earlier versions wrote: an offset instead of `Z`.
        std::fs::write(
            tmp.path().join(SYNCED_FILE),
            "2026-11-02T08:00:00.123456789+00:00",
        )
        .unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-05T09:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Store::note_synced(tmp.path(), at).unwrap();
        assert_eq!(read_synced(tmp.path()), Some(at));
        let later = at + chrono::Duration::nanoseconds(1_500);
        Store::note_synced(tmp.path(), later).unwrap();
        assert_eq!(read_synced(tmp.path()), Some(later));
        let s = Store::open(tmp.path(), WAIT).unwrap();
        assert_eq!(s.sync_state().unwrap().last_sync, Some(later));
    }

    #[test]
    fn every_opening_leaves_a_new_mark_that_outlives_the_handle() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(Store::last_open_mark(tmp.path()), None);
        let s = Store::open(tmp.path(), WAIT).unwrap();
        let first = s.open_mark();
        s.append(&act(1, "a"), Utc::now(), Some(1)).unwrap();
        s.flush_blocking().unwrap();
        drop(s);
        // sled writes its files even on a read-only open; the mark does not
        // move until the next opening.
        assert_eq!(Store::last_open_mark(tmp.path()), Some(first));
        let s = Store::open(tmp.path(), WAIT).unwrap();
        assert_ne!(s.open_mark(), first);
        assert_eq!(Store::last_open_mark(tmp.path()), Some(s.open_mark()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(tmp.path().join(OPENED_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "owner only: {mode:o}");
        }
    }

    #[test]
    fn counter_never_goes_down() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path(), WAIT).unwrap();
        s.append(&act(7, "a"), Utc::now(), Some(7)).unwrap();
        s.append(&act(3, "b"), Utc::now(), Some(3)).unwrap();
        assert_eq!(s.activity_counter().unwrap(), 7);
    }

    #[test]
    fn entries_after_respects_bounds() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path(), WAIT).unwrap();
        for n in 1..=10 {
            s.append(&act(n, &"x".repeat(100)), Utc::now(), Some(n))
                .unwrap();
        }
        let size = s.entries_after(0, 1, usize::MAX).unwrap()[0].wire_size();
        assert_eq!(s.entries_after(0, 0, usize::MAX).unwrap().len(), 0);
        assert_eq!(s.entries_after(10, 5, usize::MAX).unwrap().len(), 0);
        assert_eq!(s.entries_after(u64::MAX, 5, usize::MAX).unwrap().len(), 0);
        let b = s.entries_after(3, 4, usize::MAX).unwrap();
        assert_eq!(
            b.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![4, 5, 6, 7]
        );
        // Byte bound: three entries fit, a fourth would not.
        let b = s.entries_after(0, 100, size * 3 + size / 2).unwrap();
        assert_eq!(b.len(), 3);
        let total: usize = b.iter().map(Entry::wire_size).sum();
        assert!(total <= size * 3 + size / 2);
        // The first entry is always sent, even when larger than the bound.
        let b = s.entries_after(8, 100, 1).unwrap();
        assert_eq!(b.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![9]);
    }

    #[test]
    fn data_survives_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        {
            let s = Store::open(tmp.path(), WAIT).unwrap();
            s.set_identity(&identity()).unwrap();
            s.append(&act(1, "Tổ dân phố"), Utc::now(), Some(1))
                .unwrap();
            s.set_acked(1, Utc::now()).unwrap();
            s.flush_blocking().unwrap();
        }
        let s = Store::open(tmp.path(), Duration::from_secs(2)).unwrap();
        assert_eq!(s.identity().unwrap().unwrap().unit.name, "Tổ dân phố số 5");
        assert_eq!(s.head_seq().unwrap(), 1);
        assert_eq!(s.sync_state().unwrap().acked_seq, 1);
        assert_eq!(s.unit_state().unwrap().activities.len(), 1);
        s.append(&act(2, "b"), Utc::now(), Some(2)).unwrap();
        assert_eq!(s.head_seq().unwrap(), 2);
    }

    #[test]
    fn second_open_names_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let _held = Store::open(tmp.path(), WAIT).unwrap();
        let start = Instant::now();
        let err = Store::open(tmp.path(), Duration::from_millis(300)).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(300));
        match err {
            StoreError::Locked { pid, since, .. } => {
                assert_eq!(pid, Some(std::process::id()));
                assert!(since.is_some());
            }
            other => panic!("expected Locked, got {other:?}"),
        }
    }

    #[test]
    fn reopen_after_drop_in_the_same_process() {
        let tmp = tempfile::tempdir().unwrap();
        for n in 1..=3 {
            let s = Store::open(tmp.path(), Duration::from_secs(2)).unwrap();
            s.append(&act(n, "a"), Utc::now(), Some(n)).unwrap();
            s.flush_blocking().unwrap();
        }
        let s = Store::open(tmp.path(), Duration::from_secs(2)).unwrap();
        assert_eq!(s.head_seq().unwrap(), 3);
    }

    #[test]
    fn catalog_and_calendar_default_to_builtin() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path(), WAIT).unwrap();
        assert_eq!(s.catalog().unwrap().0, 0);
        assert_eq!(s.calendar().unwrap().0, 0);
        let mut c = Catalog::builtin();
        c.version = 4;
        s.set_catalog(4, &c).unwrap();
        assert_eq!(s.catalog().unwrap(), (4, c));
        let cal = Calendar::builtin();
        s.set_calendar(2, &cal).unwrap();
        assert_eq!(s.calendar().unwrap(), (2, cal));
    }

    #[test]
    fn reviews_fold_into_state_and_move_the_pull_cursor() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path(), WAIT).unwrap();
        let period: coso_domain::PeriodCode = "2026-H1".parse().unwrap();
        let cat = Catalog::builtin();
        let p = Calendar::builtin().period(&period).unwrap();
        let st = s.unit_state().unwrap();
        let frozen = st.freeze(&cat, UnitKind::ResidentialGroup, &p, Utc::now());
        s.append(&Change::Submit(Box::new(frozen)), Utc::now(), None)
            .unwrap();
        let review = Review {
            period: period.clone(),
            decision: Decision::Returned,
            reason: "Thiếu số liệu DB01".into(),
            decided_at: Utc::now(),
        };
        s.apply_reviews(&[(3, review.clone())], 3).unwrap();
        assert_eq!(
            s.unit_state().unwrap().state(&period),
            coso_domain::ReportState::Returned
        );
        assert_eq!(s.sync_state().unwrap().pull_after, 3);
        assert_eq!(s.reviews().unwrap(), vec![(3, review)]);
        // The acked cursor may go down (hub restored from a backup).
        s.set_acked(1, Utc::now()).unwrap();
        s.set_acked(0, Utc::now()).unwrap();
        assert_eq!(s.sync_state().unwrap().acked_seq, 0);
    }

    #[test]
    fn one_command_is_one_atomic_write() {
        // A values change with many values lands as one entry: either the
        // entry, the head and the state are all there, or none is.
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(tmp.path(), WAIT).unwrap();
        let before = s.dump().unwrap();
        let values = (0..40)
            .map(|i| (format!("X{i:02}"), Some(Value::Number(f64::from(i)))))
            .collect();
        let change = Change::ValuesSet(ValuesSet {
            period: "2026-H1".parse().unwrap(),
            values,
        });
        s.append(&change, Utc::now(), None).unwrap();
        let after = s.dump().unwrap();
        let added: Vec<&String> = after
            .iter()
            .filter(|kv| !before.contains(kv))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(added, vec!["chain/1", "log/1", "meta/head", "meta/state"]);
    }
}
