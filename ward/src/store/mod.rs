//! The hub's durable state in sled, behind a small typed API: unit
//! registrations and credentials, each unit's change log, cursor and folded
//! state and log chain, the per-unit outbound log (reviews) and its epoch,
//! submission receive times, the audit chain ([`audit`]), hub metadata (admin
//! token hash, documents), and consistent snapshots for `coso-hub backup`.
//!
//! Everything lives in one tree (see [`keys`]) so that every multi-record
//! change is one atomic `apply_batch`. Changes to one unit are serialised by
//! a per-unit lock ([`UnitGuard`]) held from the checks through the flush, so
//! a reader holding the guard never sees an unflushed cursor. Every write
//! method flushes ([`Store::flush`]: group commit on one thread, see there why not
//! `flush_async`) before it returns: when it returns Ok, the change is on disk.
//! Every write to sled also holds the read side of a write gate, so a backup
//! that holds its write side reads all trees in one consistent view while the
//! hub keeps serving.

pub mod audit;
pub mod failure;
mod flusher;
mod format;
pub mod inbox;
mod keys;
mod log;
pub mod outbox;
pub mod paper;
pub mod users;

pub use audit::{AuditCheck, AuditEvent, AuditRecord};
pub use failure::StorageFailure;
pub use format::FORMAT;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex as StdMutex, RwLock, RwLockReadGuard};

use chrono::{DateTime, Utc};
use coso_domain::calendar::AdHocPeriod;
use coso_domain::{Change, Entry, PeriodCode, Review, Section, Unit, UnitCode, UnitState};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the database failed: {0}")]
    Db(#[source] DbError),
    #[error("{}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the database holds an unreadable record {key}: {reason}")]
    Decode { key: String, reason: String },
    #[error("the database {0} is in use by another coso-hub process")]
    Locked(String),
    #[error("the database is missing entry {seq} of unit {unit} below its cursor")]
    MissingEntry { unit: UnitCode, seq: u64 },
    #[error("the data directory {0} is not empty; restore only into an empty one")]
    NotEmpty(String),
    /// Written by a newer hub: nothing was changed.
    #[error("the database has format {found}, newer than this hub's {known}")]
    TooNew { found: u64, known: u64 },
    /// A flush failed earlier: nothing is read or written until a restart.
    #[error("{0}")]
    Failed(StorageFailure),
}

impl StoreError {
    /// The storage failure this error is, if it is one.
    pub fn failure(&self) -> Option<&StorageFailure> {
        match self {
            StoreError::Failed(f) => Some(f),
            _ => None,
        }
    }

    /// Whether the disk (or the quota) was full, whatever the step.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Failed(f) => f.disk_full,
            StoreError::Db(DbError(sled::Error::Io(e))) | StoreError::Io { source: e, .. } => {
                failure::is_disk_full(e)
            }
            _ => false,
        }
    }
}

/// A failure of the database engine, kept whole as the error's source
/// (the engine's type stays out of public signatures).
#[derive(Debug, Error)]
#[error(transparent)]
pub struct DbError(sled::Error);

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Db(DbError(e))
    }
}

impl From<sled::transaction::TransactionError<()>> for StoreError {
    fn from(e: sled::transaction::TransactionError<()>) -> Self {
        match e {
            sled::transaction::TransactionError::Storage(e) => e.into(),
            // No transaction here aborts; if one did, nothing was written.
            sled::transaction::TransactionError::Abort(()) => {
                sled::Error::Unsupported("transaction aborted".into()).into()
            }
        }
    }
}

/// Why a push was refused. Nothing was written.
#[derive(Debug, Error)]
pub enum PushError {
    #[error("unknown unit {0}")]
    UnknownUnit(UnitCode),
    #[error("the batch starts at seq {first}, but the hub expects seq {expected} next")]
    Gap { first: u64, expected: u64 },
    #[error("the batch is not consecutive at seq {at}")]
    NotConsecutive { at: u64 },
    #[error(
        "entry {seq} differs from the entry the hub already holds under that seq: two copies of the agent diverged, or its log is corrupt"
    )]
    Corrupt { seq: u64 },
    #[error("unit {unit}'s log has diverged from the hub's ({})", kind.as_str())]
    Diverged { unit: UnitCode, kind: DivergeKind },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why units could not be registered. Nothing was written.
#[derive(Debug, Error)]
pub enum RegisterError {
    #[error("unit {0} already exists")]
    Exists(UnitCode),
    #[error("unit {0} appears twice")]
    Duplicate(UnitCode),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A SHA-256 hash, stored as hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Hash32(pub [u8; 32]);

impl TryFrom<String> for Hash32 {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let v = hex::decode(&s).map_err(|e| e.to_string())?;
        Ok(Hash32(
            v.try_into().map_err(|_| "not 32 bytes".to_string())?,
        ))
    }
}

impl From<Hash32> for String {
    fn from(h: Hash32) -> String {
        hex::encode(h.0)
    }
}

/// 16 random bytes, stored as hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
struct Hash16([u8; 16]);

impl TryFrom<String> for Hash16 {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let v = hex::decode(&s).map_err(|e| e.to_string())?;
        Ok(Hash16(
            v.try_into().map_err(|_| "not 16 bytes".to_string())?,
        ))
    }
}

impl From<Hash16> for String {
    fn from(h: Hash16) -> String {
        hex::encode(h.0)
    }
}

/// Where a unit is in its enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enrolment {
    /// Registered, not enrolled yet.
    Pending,
    Active,
    Revoked,
}

impl Enrolment {
    pub fn as_str(self) -> &'static str {
        match self {
            Enrolment::Pending => "pending",
            Enrolment::Active => "active",
            Enrolment::Revoked => "revoked",
        }
    }
}

/// How a unit's log and the hub's parted (see `coso_proto::meta::Diverged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivergeKind {
    /// Two copies of the agent recorded different changes under one seq.
    Forked,
    /// The agent's log ends below the hub's cursor.
    Behind,
}

impl DivergeKind {
    /// The kind's name, as the wire's `coso-diverged` metadata also says it.
    pub fn as_str(self) -> &'static str {
        match self {
            DivergeKind::Forked => "forked",
            DivergeKind::Behind => "behind",
        }
    }
}

/// Why and since when the hub refuses a unit's syncs: its log diverged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    pub kind: DivergeKind,
    /// The seq where it showed.
    pub seq: u64,
    /// The agent's head as it said.
    pub agent_head: u64,
    pub at: DateTime<Utc>,
}

/// A one-time enrolment code, hashed, with its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    pub hash: Hash32,
    pub expires_at: DateTime<Utc>,
}

/// Whom the ward calls about a unit's report. Both optional: the registry
/// is useful before anyone has typed a phone number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub person: Option<String>,
    pub phone: Option<String>,
}

/// What the hub keeps about a unit besides its log and state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    pub unit: Unit,
    /// Added after the first release: records written before it have none.
    #[serde(default)]
    pub contact: Contact,
    pub registered_at: DateTime<Utc>,
    pub enrolment: Enrolment,
    /// SHA-256 of the credential's secret; the secret itself is never stored.
    pub credential: Option<Hash32>,
    /// The outstanding one-time enrolment code, if any.
    pub code: Option<PendingCode>,
    pub enrolled_at: Option<DateTime<Utc>>,
    /// The highest change-log seq held durably: the authority for the unit.
    pub acked_seq: u64,
    /// The highest seq the agent said it holds (for display).
    pub agent_head: u64,
    pub last_sync: Option<DateTime<Utc>>,
    /// The highest outbound-log seq.
    pub outbound_head: u64,
    /// Set when the unit's log diverged from the hub's; cleared when the
    /// unit enrols again (after `unit reissue`).
    #[serde(default)]
    pub diverged: Option<Divergence>,
    /// The release the unit's agent named in its last Hello; none until an
    /// agent of 0.3.0 or later has said (earlier agents send none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<coso_domain::Version>,
    /// The ward keeps this unit's log (a unit without a computer): its
    /// entries are typed in the dashboard, and no agent syncs it until it is
    /// handed over. Added in issue 24: older records read as `false`.
    #[serde(default)]
    pub kept_at_ward: bool,
}

impl UnitRecord {
    pub fn new(unit: Unit, code: PendingCode, now: DateTime<Utc>) -> UnitRecord {
        UnitRecord {
            unit,
            contact: Contact::default(),
            registered_at: now,
            enrolment: Enrolment::Pending,
            credential: None,
            code: Some(code),
            enrolled_at: None,
            acked_seq: 0,
            agent_head: 0,
            last_sync: None,
            outbound_head: 0,
            diverged: None,
            agent_version: None,
            kept_at_ward: false,
        }
    }
}

/// A review decision as the hub keeps it in the unit's outbound log: the
/// decision the agent receives, and who at the ward made it. Records written
/// before `by` existed read as made by the admin token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRecord {
    #[serde(flatten)]
    pub review: Review,
    #[serde(default)]
    pub by: String,
}

/// A change-log entry checked at the edge, with its decoded change.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub entry: Entry,
    pub change: Change,
}

impl Incoming {
    /// Decodes and validates an entry; the error says what is wrong with it.
    pub fn new(entry: Entry) -> Result<Incoming, coso_domain::DomainError> {
        let change = entry.decode()?;
        Ok(Incoming { entry, change })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushOutcome {
    pub acked_seq: u64,
    pub applied: u32,
}

/// A versioned document (catalog or calendar) as the hub serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDoc {
    pub version: u64,
    /// Canonical JSON of the document.
    #[serde(with = "utf8")]
    pub body: Vec<u8>,
}

mod utf8 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(std::str::from_utf8(b).map_err(serde::ser::Error::custom)?)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(String::deserialize(d)?.into_bytes())
    }
}

/// Which hub document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Catalog,
    Calendar,
}

impl DocKind {
    fn meta_name(self) -> &'static str {
        match self {
            DocKind::Catalog => "doc/catalog",
            DocKind::Calendar => "doc/calendar",
        }
    }
}

const ADMIN_TOKEN: &str = "admin_token";
const ADHOC: &str = "adhoc";
/// The ward's own narrative of a period: `ward_notes/<period>`.
const WARD_NOTES: &str = "ward_notes/";
const EPOCH: &str = "outbound_epoch";

/// Proof that the caller holds a unit's lock. Write methods for a unit take
/// it, so the checks a caller made under the lock still hold when it writes.
pub struct UnitGuard {
    code: UnitCode,
    _lock: OwnedMutexGuard<()>,
}

impl UnitGuard {
    pub fn code(&self) -> &UnitCode {
        &self.code
    }
}

pub struct Store {
    /// Where secrets kept out of the database live (the upstream token).
    secrets: std::path::PathBuf,
    db: sled::Db,
    tree: sled::Tree,
    locks: StdMutex<HashMap<UnitCode, Arc<Mutex<()>>>>,
    /// Serialises registrations and other hub-wide read-check-write changes.
    registry: Mutex<()>,
    /// Writers hold the read side around each sled write (never across an
    /// await); [`Store::snapshot`] holds the write side while it reads.
    gate: RwLock<()>,
    /// The end of the audit chain; held while a record is added.
    audit_head: StdMutex<audit::AuditHead>,
    /// The outbound log's identity (see `HelloResponse.pull_epoch`).
    epoch: [u8; 16],
    /// Group commit: the one thread that flushes for every writer.
    flusher: flusher::Flusher,
    /// Set by the first failed flush; then every read and write refuses.
    failure: failure::Mark,
    /// The format found at open ([`format`]); [`FORMAT`] once migrated.
    format: u64,
}

fn enc<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("store records serialise")
}

fn dec<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Decode {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

/// sled's page cache unless `hub.toml` says otherwise. 32 MiB: at 64 a hub
/// that had synced 10,000 units held 140 MiB before compiling their report
/// and peaked over its 256 MiB budget; at 32 (with the allocator returning
/// freed pages, see `main.rs`) it holds 107 MiB and peaks at 237, and ingest
/// runs no slower (BENCHMARKS.md, issue 14, session 5).
pub const DEFAULT_CACHE_BYTES: u64 = 32 << 20;

/// How long a flush may take before the store counts as failed: a disk that
/// stalls this long is not taking the hub's writes.
pub(super) const FLUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

impl Store {
    /// Opens (creating) the database in `dir` with the default cache.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// Opens (creating) the database in `dir`, keeping at most about
    /// `cache_bytes` of pages in memory (sled's default is 1 GiB, which
    /// under sustained ingest grew the hub past 500 MiB).
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        // Owner-only before sled creates anything (issue 13, defect 6); the
        // data dir around it too, when it is the hub's.
        let private = |r: std::io::Result<()>| {
            r.map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })
        };
        if dir.file_name() == Some(std::ffi::OsStr::new("db"))
            && let Some(data_dir) = dir.parent()
        {
            private(coso_proto::private::private_dir(data_dir))?;
        }
        private(coso_proto::private::private_dir(dir))?;
        let open = || {
            sled::Config::new()
                .path(dir)
                .cache_capacity(cache_bytes)
                .open()
        };
        let db = match open() {
            Ok(db) => db,
            // A snapshot a full disk cut short (never renamed into place)
            // makes sled 0.34 call the database corrupt; it is not part of
            // the database, so it goes, and the open is tried once more.
            Err(sled::Error::Corruption { .. }) if failure::remove_unfinished_snapshots(dir) => {
                open()?
            }
            // sled reports a held lock as an `Other` error with this text.
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                return Err(StoreError::Locked(dir.display().to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        let tree = db.open_tree("hub")?;
        private(coso_proto::private::restrict_tree(dir))?;
        // Before any write: a newer format is refused untouched.
        let found = format::check(&tree)?;
        if found == format::Found::Fresh {
            format::mark_fresh(&tree)?;
        }
        let epoch = match tree.get(keys::meta(EPOCH))? {
            Some(v) => dec::<Hash16>(&keys::meta(EPOCH), &v)?.0,
            None => {
                let e: [u8; 16] = rand::random();
                tree.insert(keys::meta(EPOCH), enc(&Hash16(e)))?;
                e
            }
        };
        let audit_head = audit::AuditHead::load(&tree)?;
        let flusher = flusher::Flusher::start(db.clone()).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let store = Store {
            secrets: dir.to_path_buf(),
            db,
            tree,
            locks: StdMutex::new(HashMap::new()),
            registry: Mutex::new(()),
            gate: RwLock::new(()),
            audit_head: StdMutex::new(audit_head),
            epoch,
            flusher,
            failure: failure::Mark::default(),
            format: match found {
                format::Found::Fresh => FORMAT,
                format::Found::Format(v) => v,
            },
        };
        Ok(store)
    }

    /// The directory of secrets kept out of the database.
    pub(crate) fn secrets_dir(&self) -> &Path {
        &self.secrets
    }

    /// Opens a database another handle in this process just dropped. sled's
    /// background threads release the file lock a moment after the drop.
    #[cfg(test)]
    pub fn reopen(dir: &Path) -> Store {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match Store::open(dir) {
                Ok(s) => return s,
                Err(e) if std::time::Instant::now() > deadline => panic!("cannot reopen: {e}"),
                Err(_) => std::thread::yield_now(),
            }
        }
    }

    /// Held around every sled write; see [`Store::snapshot`].
    fn write_gate(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The outbound log's identity: random, made with the database and made
    /// anew by [`Store::restore`].
    pub fn epoch(&self) -> [u8; 16] {
        self.epoch
    }

    /// Every record of every tree, read in one consistent view: writers wait
    /// at the gate for the few milliseconds this takes, nothing stops.
    pub fn snapshot(&self) -> Result<Vec<coso_proto::backup::Record>, StoreError> {
        self.alive()?;
        let _all = self.gate.write().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name)?;
            for kv in tree.iter() {
                let (k, v) = kv?;
                out.push(coso_proto::backup::Record {
                    tree: name.to_vec(),
                    key: k.to_vec(),
                    value: v.to_vec(),
                });
            }
        }
        Ok(out)
    }

    /// Creates the database in `dir` (which must not exist or be empty) from
    /// a snapshot's records, with a new outbound epoch so agents re-read
    /// their review decisions, and flushes it.
    pub fn restore(dir: &Path, records: &[coso_proto::backup::Record]) -> Result<(), StoreError> {
        if dir.exists()
            && std::fs::read_dir(dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            return Err(StoreError::NotEmpty(dir.display().to_string()));
        }
        let private = |r: std::io::Result<()>| {
            r.map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })
        };
        // Owner-only before sled creates anything in it.
        private(coso_proto::private::private_dir(dir))?;
        let db = sled::Config::new().path(dir).open()?;
        for r in records {
            db.open_tree(&r.tree)?
                .insert(r.key.as_slice(), r.value.as_slice())?;
        }
        let e: [u8; 16] = rand::random();
        db.open_tree("hub")?
            .insert(keys::meta(EPOCH), enc(&Hash16(e)))?;
        db.flush()?;
        private(coso_proto::private::restrict_tree(dir))?;
        Ok(())
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.alive()?;
        match self.tree.get(key)? {
            Some(v) => dec(key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Takes the unit's lock. Hold it across a read-check-write of the unit.
    pub async fn lock_unit(&self, code: &UnitCode) -> UnitGuard {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(code.clone()).or_default().clone()
        };
        UnitGuard {
            code: code.clone(),
            _lock: lock.lock_owned().await,
        }
    }

    // --- hub metadata -----------------------------------------------------

    pub fn admin_token_hash(&self) -> Result<Option<Hash32>, StoreError> {
        self.get(&keys::meta(ADMIN_TOKEN))
    }

    pub async fn set_admin_token_hash(&self, h: Hash32) -> Result<(), StoreError> {
        {
            let _w = self.write_gate();
            self.written(self.tree.insert(keys::meta(ADMIN_TOKEN), enc(&h)))?;
        }
        self.flush().await
    }

    pub fn document(&self, kind: DocKind) -> Result<Option<StoredDoc>, StoreError> {
        self.get(&keys::meta(kind.meta_name()))
    }

    pub async fn set_document(&self, kind: DocKind, doc: &StoredDoc) -> Result<(), StoreError> {
        {
            let _w = self.write_gate();
            self.written(self.tree.insert(keys::meta(kind.meta_name()), enc(doc)))?;
        }
        self.flush().await
    }

    /// The ad-hoc periods created at the hub (not those in calendar.toml).
    pub fn adhoc_periods(&self) -> Result<Vec<AdHocPeriod>, StoreError> {
        Ok(self.get(&keys::meta(ADHOC))?.unwrap_or_default())
    }

    /// Stores the ad-hoc periods and the calendar document that includes them
    /// in one batch, so agents never see one without the other.
    pub async fn set_adhoc_periods(
        &self,
        adhoc: &[AdHocPeriod],
        calendar: &StoredDoc,
    ) -> Result<(), StoreError> {
        let mut b = sled::Batch::default();
        b.insert(keys::meta(ADHOC), enc(&adhoc));
        b.insert(keys::meta(DocKind::Calendar.meta_name()), enc(calendar));
        {
            let _w = self.write_gate();
            self.written(self.tree.apply_batch(b))?;
        }
        self.flush().await
    }

    /// The ward's own narrative for a period, by section.
    pub fn ward_notes(&self, period: &PeriodCode) -> Result<BTreeMap<Section, String>, StoreError> {
        Ok(self
            .get(&keys::meta(&format!("{WARD_NOTES}{period}")))?
            .unwrap_or_default())
    }

    /// Replaces the ward's narrative for a period, flushed before it returns.
    pub async fn set_ward_notes(
        &self,
        period: &PeriodCode,
        notes: &BTreeMap<Section, String>,
    ) -> Result<(), StoreError> {
        {
            let _w = self.write_gate();
            self.written(
                self.tree
                    .insert(keys::meta(&format!("{WARD_NOTES}{period}")), enc(notes)),
            )?;
        }
        self.flush().await
    }

    /// Serialises hub-wide changes such as registrations and period creation.
    pub async fn lock_registry(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.registry.lock().await
    }

    // --- units ------------------------------------------------------------

    pub fn unit(&self, code: &UnitCode) -> Result<Option<UnitRecord>, StoreError> {
        self.get(&keys::unit(code))
    }

    /// Every registered unit, by code.
    pub fn units(&self) -> Result<Vec<UnitRecord>, StoreError> {
        self.alive()?;
        self.tree
            .scan_prefix(keys::units_prefix())
            .map(|kv| {
                let (k, v) = kv?;
                dec(&k, &v)
            })
            .collect()
    }

    /// Registers new units, all or none.
    pub async fn register(&self, records: &[UnitRecord]) -> Result<(), RegisterError> {
        let _registry = self.lock_registry().await;
        let mut seen = std::collections::BTreeSet::new();
        let mut b = sled::Batch::default();
        for r in records {
            let code = &r.unit.code;
            if !seen.insert(code.clone()) {
                return Err(RegisterError::Duplicate(code.clone()));
            }
            if self
                .tree
                .contains_key(keys::unit(code))
                .map_err(StoreError::from)?
            {
                return Err(RegisterError::Exists(code.clone()));
            }
            b.insert(keys::unit(code), enc(r));
        }
        {
            let _w = self.write_gate();
            self.written(self.tree.apply_batch(b))?;
        }
        self.flush().await?;
        Ok(())
    }

    /// Replaces an existing unit's record (enrolment, revocation, sync time).
    pub async fn put_unit(&self, g: &UnitGuard, rec: &UnitRecord) -> Result<(), StoreError> {
        debug_assert_eq!(g.code(), &rec.unit.code);
        {
            let _w = self.write_gate();
            self.written(self.tree.insert(keys::unit(g.code()), enc(rec)))?;
        }
        self.flush().await
    }

    /// Records a sync's metadata without flushing: it acknowledges nothing,
    /// and sled's periodic flush persists it.
    pub fn touch_unit(&self, g: &UnitGuard, rec: &UnitRecord) -> Result<(), StoreError> {
        let _w = self.write_gate();
        self.written(self.tree.insert(keys::unit(g.code()), enc(rec)))?;
        Ok(())
    }

    /// The state folded from the unit's log and reviews.
    pub fn unit_state(&self, code: &UnitCode) -> Result<UnitState, StoreError> {
        Ok(self.get(&keys::state(code))?.unwrap_or_default())
    }

    /// Part of a unit's folded state: `T` names some of its fields and serde
    /// skips the others without building them, so a city-scale report reads
    /// the submissions and not every activity.
    pub fn unit_state_part<T: DeserializeOwned + Default>(
        &self,
        code: &UnitCode,
    ) -> Result<T, StoreError> {
        Ok(self.get(&keys::state(code))?.unwrap_or_default())
    }

    /// When the hub first received a submission from the unit for the period.
    /// Timeliness counts from it: a report that reached the ward on time and
    /// was returned for correction does not become late when it comes back.
    pub fn received_at(
        &self,
        code: &UnitCode,
        period: &PeriodCode,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.get(&keys::received(code, period))
    }
}

#[cfg(test)]
mod tests;
