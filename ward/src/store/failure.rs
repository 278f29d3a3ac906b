//! A storage failure: once a flush failed, the store is marked failed for
//! good, because sled 0.34 cannot roll back the in-memory writes whose flush
//! failed. From then on the store answers every read and write with
//! [`StoreError::Failed`](super::StoreError::Failed), so nothing that may not
//! be on disk is acknowledged, shown or audited; the running hub reports the
//! failure (`/healthz`, the admin commands, the dashboard) and restarts once
//! the disk takes writes again ([`probe`]), reopening the durable prefix.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use super::{FLUSH_LIMIT, Store, StoreError};
use coso_domain::Lang;

/// Why the store stopped, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageFailure {
    /// The disk (or the quota) was full: the officer can fix this.
    pub disk_full: bool,
    /// The engine's own words, for the log and `/healthz`.
    pub detail: String,
    pub since: DateTime<Utc>,
}

impl StorageFailure {
    fn new(detail: String, disk_full: bool) -> StorageFailure {
        StorageFailure {
            disk_full,
            detail,
            since: coso_domain::clock::now(),
        }
    }

    /// The failure of a sled operation.
    pub(super) fn of_sled(e: &sled::Error) -> StorageFailure {
        match e {
            sled::Error::Io(io) => StorageFailure::new(io.to_string(), is_disk_full(io)),
            e => StorageFailure::new(e.to_string(), false),
        }
    }

    /// A flush that did not finish in time.
    pub(super) fn stalled(limit: std::time::Duration) -> StorageFailure {
        StorageFailure::new(
            format!("a flush did not finish within {} s", limit.as_secs()),
            false,
        )
    }

    /// A stable machine word for `/healthz` and JSON.
    pub fn code(&self) -> &'static str {
        if self.disk_full {
            "disk_full"
        } else {
            "storage_failed"
        }
    }

    /// What the officer reads: what happened, that nothing unsaved is shown,
    /// and what to do.
    pub fn message(&self, lang: Lang) -> String {
        match (lang, self.disk_full) {
            (Lang::En, true) => "The hub's disk is full: it stopped taking and showing data so that nothing unsaved is acknowledged. Free some disk space; the hub restarts by itself once it can write again.".into(),
            (Lang::En, false) => format!(
                "The hub cannot write to its disk ({}): it stopped taking and showing data so that nothing unsaved is acknowledged. Check the disk; the hub restarts by itself once it can write again.",
                self.detail
            ),
            (_, true) => "Ổ đĩa của máy chủ phường đã đầy: máy chủ tạm ngừng nhận và hiển thị dữ liệu để không xác nhận điều chưa lưu được. Hãy giải phóng dung lượng ổ đĩa; máy chủ sẽ tự khởi động lại khi ghi được.".into(),
            (_, false) => format!(
                "Máy chủ phường không ghi được vào ổ đĩa ({}): máy chủ tạm ngừng nhận và hiển thị dữ liệu để không xác nhận điều chưa lưu được. Hãy kiểm tra ổ đĩa; máy chủ sẽ tự khởi động lại khi ghi được.",
                self.detail
            ),
        }
    }
}

impl std::fmt::Display for StorageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

/// ENOSPC or EDQUOT: no room left for this user on this filesystem.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || matches!(e.raw_os_error(), Some(28) | Some(122))
}

/// The failure mark of one open store: set once, never cleared (a restart
/// opens the durable prefix anew).
#[derive(Default)]
pub(super) struct Mark(OnceLock<StorageFailure>);

impl Mark {
    pub(super) fn get(&self) -> Option<&StorageFailure> {
        self.0.get()
    }

    /// Marks the store failed (the first failure stays) and returns it.
    pub(super) fn set(&self, f: StorageFailure) -> StorageFailure {
        if self.0.set(f.clone()).is_ok() {
            tracing::error!(reason = %f.detail, "storage failed: the hub stops taking and showing data");
        }
        self.0.get().cloned().unwrap_or(f)
    }
}

impl Store {
    /// Flushes everything written so far to disk: returns once a flush that
    /// started after this call has finished. Concurrent callers share one
    /// flush ([`flusher`]: group commit on a thread of its own, with sled's
    /// blocking `flush`, never `flush_async`, whose concurrent calls deadlock
    /// in sled 0.34.7, spacejam/sled#1308).
    ///
    /// A failed (or stalled) flush marks the store failed: sled keeps the
    /// unflushed writes in memory and cannot roll them back, so from then on
    /// nothing is read or acknowledged (see this module).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.alive()?;
        let result = match tokio::time::timeout(FLUSH_LIMIT, self.flusher.flush()).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => StorageFailure::of_sled(&e),
            Err(_) => StorageFailure::stalled(FLUSH_LIMIT),
        };
        Err(StoreError::Failed(self.failure.set(result)))
    }

    /// Flushes synchronously, for shutdown paths outside async code.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.alive()?;
        if let Err(e) = self.db.flush() {
            return Err(StoreError::Failed(
                self.failure.set(StorageFailure::of_sled(&e)),
            ));
        }
        Ok(())
    }

    /// A sled write's result: an I/O failure (sled's own background flush
    /// hit a full disk first, and it now fails every write) marks the store
    /// failed as a failed flush does.
    pub(super) fn written<T>(&self, r: Result<T, sled::Error>) -> Result<T, StoreError> {
        match r {
            Ok(v) => Ok(v),
            Err(e @ sled::Error::Io(_)) => Err(StoreError::Failed(
                self.failure.set(StorageFailure::of_sled(&e)),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The storage failure, once a flush failed.
    pub fn failure(&self) -> Option<&StorageFailure> {
        self.failure.get()
    }

    /// Refuses once the store failed: what it holds in memory may not be on
    /// disk, so it is neither read nor written.
    pub(super) fn alive(&self) -> Result<(), StoreError> {
        match self.failure.get() {
            Some(f) => Err(StoreError::Failed(f.clone())),
            None => Ok(()),
        }
    }

    /// Makes every flush from now on fail as a full disk does (ENOSPC):
    /// the fault injected below the store by the tests of what a full disk
    /// leaves behind.
    #[cfg(test)]
    pub fn inject_disk_full(&self) {
        self.flusher.inject_disk_full();
    }
}

/// Removes `snap.*.generating` files from the database dir: a snapshot is
/// complete only once sled renamed it, so these are writes cut short (by a
/// full disk or a crash). Whether it removed any. Called only after sled
/// opened the database (so held its lock) and refused it as corrupt.
pub(super) fn remove_unfinished_snapshots(db: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(db) else {
        return false;
    };
    let mut removed = false;
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            removed |= std::fs::remove_file(e.path()).is_ok();
        }
    }
    removed
}

/// How much a probe writes: one sled segment, the least the database needs
/// to go on.
const PROBE_BYTES: usize = 512 * 1024;

/// Whether the filesystem of `dir` takes a write and its flush again: writes
/// a probe file of one segment, syncs it and removes it.
pub fn probe(dir: &Path) -> bool {
    let path = dir.join(".storage-probe");
    let ok = std::fs::File::create(&path)
        .and_then(|mut f| {
            f.write_all(&vec![0u8; PROBE_BYTES])?;
            f.sync_all()
        })
        .is_ok();
    let _ = std::fs::remove_file(&path);
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_full_errors_are_named() {
        assert!(is_disk_full(&std::io::Error::from_raw_os_error(28)));
        assert!(is_disk_full(&std::io::Error::from_raw_os_error(122)));
        assert!(!is_disk_full(&std::io::Error::from_raw_os_error(5)));
        let f = StorageFailure::of_sled(&sled::Error::Io(std::io::Error::from_raw_os_error(28)));
        assert!(f.disk_full);
        assert!(f.message(Lang::Vi).contains("Ổ đĩa"));
        assert!(!f.message(Lang::Vi).contains("Os {"));
    }
}
