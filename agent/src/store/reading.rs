//! Reading on a full disk. sled writes when it opens a database (a snapshot,
//! its log's tail), so on a full disk it cannot open one even to read. The
//! commands that only read (`status`, `activity list`, `value list`,
//! `report`, `backup --out`) then read a copy of the database made in a
//! scratch directory on another filesystem (RAM where there is one), under
//! the store's lock, and throw it away afterwards. Also: an unfinished
//! snapshot file left by a write that met the full disk is removed before
//! sled opens, because sled 0.34 reads it and calls the database corrupt.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::holder::write_holder;
use super::{OpenMark, Store, StoreError, take_lock};

/// A scratch copy of the database, removed when dropped.
pub(super) struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes `snap.*.generating` files: a snapshot is complete only once sled
/// renamed it, so these are writes cut short (by a full disk or a crash).
/// Called under the store's lock, so no other process is writing one.
pub(super) fn remove_unfinished_snapshots(db: &Path) {
    let Ok(entries) = std::fs::read_dir(db) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

impl Store {
    /// Opens the store for a command that only reads: as [`Store::open`],
    /// and when the disk is full, a copy of the database made elsewhere.
    pub fn open_for_reading(dir: &Path, wait: Duration) -> Result<Store, StoreError> {
        match Store::open(dir, wait) {
            Err(e) if e.is_disk_full() => {
                remove_unfinished_snapshots(&dir.join("db"));
                Store::open_copy(dir, wait)
            }
            r => r,
        }
    }

    pub(super) fn open_copy(dir: &Path, wait: Duration) -> Result<Store, StoreError> {
        let (mut lock, _) = take_lock(dir, wait)?;
        // Best effort: on a full disk the holder may not be written.
        let _ = write_holder(&mut lock);
        let scratch = Scratch(scratch_dir()?);
        let from = dir.join("db");
        copy_dir(&from, &scratch.0.join("db")).map_err(|source| StoreError::Io {
            path: scratch.0.clone(),
            source,
        })?;
        let db = sled::Config::new()
            .path(scratch.0.join("db"))
            .flush_every_ms(None)
            .open()
            .map_err(super::error::db)?;
        let store = Store {
            db,
            dir: dir.to_path_buf(),
            lock,
            // Written nowhere: this opening writes nothing a sync could miss.
            mark: OpenMark::fresh(),
            write: Mutex::new(()),
            _scratch: Some(scratch),
        };
        // An older format is read as it is (nothing can be written here).
        store.refuse_newer()?;
        Ok(store)
    }
}

/// A new owner-only directory on a filesystem other than the full one:
/// `/dev/shm` (memory) where it exists, else the system's temporary dir.
fn scratch_dir() -> Result<PathBuf, StoreError> {
    let name = format!(
        "coso-agent-read-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    );
    let shm = Path::new("/dev/shm");
    let mut last = None;
    for base in [shm.to_path_buf(), std::env::temp_dir()] {
        if !base.is_dir() {
            continue;
        }
        let path = base.join(&name);
        match std::fs::create_dir(&path).and_then(|()| coso_proto::private::private_dir(&path)) {
            Ok(()) => return Ok(path),
            Err(e) => last = Some((path, e)),
        }
    }
    let (path, source) = last.unwrap_or_else(|| {
        (
            std::env::temp_dir(),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        )
    });
    Err(StoreError::Io { path, source })
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}
