//! Why the store failed: [`StoreError`] for every store operation and
//! [`BackupError`] for a backup or a restore. sled's own error is kept as
//! text, so sled never appears in a public signature.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use thiserror::Error;

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
    /// Written by a newer agent: nothing was changed.
    #[error(
        "the data store has format {found}, newer than format {known}, the newest this \
         coso-agent ({}) reads: a newer release wrote it. Run that release, or restore its \
         pre-upgrade backup with coso-agent restore (README, \"Rolling back\"). Nothing was changed.",
        env!("CARGO_PKG_VERSION")
    )]
    TooNew { found: u64, known: u64 },
    /// The disk (or the quota) is full: nothing was written.
    #[error("the disk is full: the database cannot be written")]
    DiskFull,
}

/// sled's error as a [`StoreError`]. A private conversion rather than a
/// `From` impl, which would put sled in the store's public API.
pub(super) fn db(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) if is_disk_full(&io) => StoreError::DiskFull,
        e => StoreError::Db {
            reason: e.to_string(),
        },
    }
}

/// `.db()?` on sled's results inside the store.
pub(super) trait DbResult<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> DbResult<T> for Result<T, sled::Error> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(db)
    }
}

impl StoreError {
    /// Whether this is the disk (or the quota) being full, whatever the step.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::DiskFull => true,
            StoreError::Io { source, .. } => is_disk_full(source),
            _ => false,
        }
    }
}

/// ENOSPC or EDQUOT: no room left for this user on this filesystem.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || matches!(e.raw_os_error(), Some(28) | Some(122))
}
