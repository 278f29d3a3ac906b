//! Small file-system helpers: writing new files (optionally owner-only) durably.

use std::io::Write;
use std::path::Path;

/// Writes a file that must not exist yet, syncs it, and with `private` makes
/// it readable by the owner only (mode 0600) from the moment it is created.
pub fn write_new(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        if private {
            opts.mode(0o600);
        }
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Replaces a file's contents atomically (write a sibling, sync, rename).
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
