//! The small fixed-width files beside the database: the mark each opening
//! writes (`opened`, [`OpenMark`]) and the time of the last sync that found
//! nothing to do (`last-sync`). Both are overwritten in place, never
//! truncated or renamed over.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

/// When the last sync found nothing to do ([`Store::note_synced`]).
pub(super) const SYNCED_FILE: &str = "last-sync";

pub(super) fn read_synced(dir: &Path) -> Option<DateTime<Utc>> {
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
pub(super) fn overwrite(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
pub(super) const OPENED_FILE: &str = "opened";

/// Which opening of the store was the last one: a random value each
/// [`Store::open`] writes beside the database while it holds the lock.
/// Every write goes through an open store, so a long-running sync that
/// read the store under mark M knows nothing was written since as long as
/// the file still holds M, and can tell without opening the store, which
/// itself writes to sled's files (even a read-only open moves the log's
/// time, so the files' sizes and times cannot say it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenMark(pub(super) [u8; 16]);

impl OpenMark {
    pub(super) fn fresh() -> OpenMark {
        let mut b = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
        OpenMark(b)
    }

    /// In place and without a sync: a reader that catches it half written
    /// sees no mark or another one, and reads the store again; a crash
    /// loses only marks that the processes holding them lost too.
    pub(super) fn write(&self, path: &Path) -> std::io::Result<()> {
        overwrite(path, &self.0)
    }
}
