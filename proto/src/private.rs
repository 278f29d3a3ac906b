//! Owner-only files for both binaries: data dirs 0700, files 0600 on Unix,
//! and secrets (the unit credential, the upstream token) in files of their
//! own. On Windows the per-user data directory is already private, so these
//! are no-ops there.

use std::io::Write;
use std::path::Path;

/// Creates `dir` (and parents) and makes it owner-only (0700) whatever the
/// umask. Call it before a database creates files inside, so they are never
/// reachable by other users even for a moment.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        // A new directory is owner-only from the moment it exists; one that
        // was already there (empty, say, for a restore) is made so before
        // anything goes in.
        b.mode(0o700);
        b.create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    b.create(dir)?;
    Ok(())
}

/// Makes every file and directory the process creates owner-only unless it
/// asks otherwise (umask 077). Both binaries call it first thing: sled
/// creates its files (`conf`, `db`, the blobs of large values, at any time
/// while serving) with the umask's mode and offers no way to pass one, so
/// without this they would be readable by others from creation until the
/// next [`restrict_tree`]. Files coso creates itself still pass 0600/0700
/// explicitly, so they stay private whatever the umask.
pub fn owner_only_umask() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file mode creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

/// Creates (or truncates) a file for a secret, owner-only (0600) from the
/// moment it exists, and made so if it already existed.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        let f = opts.open(path)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(f)
    }
    #[cfg(not(unix))]
    opts.open(path)
}

/// Makes every directory under `dir` 0700 and every file 0600 (sled creates
/// its files with the umask's mode). Links are left alone, never followed.
pub fn restrict_tree(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(dir)?;
        if meta.file_type().is_symlink() {
            return Ok(());
        }
        if meta.is_dir() {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            for entry in std::fs::read_dir(dir)? {
                restrict_tree(&entry?.path())?;
            }
        } else if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes a secret to its own file, readable by the owner only (0600 from
/// creation), atomically: a sibling made with O_EXCL in the (private) data
/// dir, synced, renamed over `path`.
pub fn write_secret(path: &Path, secret: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent()
        && let Ok(d) = std::fs::File::open(parent)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads a secret file written by [`write_secret`]; `None` if there is none.
pub fn read_secret(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn dirs_files_and_secrets_are_owner_only() {
        let tmp = tempfile_dir();
        let dir = tmp.join("data");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::create_dir(dir.join("db")).unwrap();
        std::fs::set_permissions(dir.join("db"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("db/conf"), b"x").unwrap();
        std::fs::set_permissions(dir.join("db/conf"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        restrict_tree(&dir).unwrap();
        assert_eq!(mode(&dir.join("db")), 0o700);
        assert_eq!(mode(&dir.join("db/conf")), 0o600);
        let secret = dir.join("credential");
        write_secret(&secret, "s3cret").unwrap();
        assert_eq!(mode(&secret), 0o600);
        assert_eq!(read_secret(&secret).unwrap().as_deref(), Some("s3cret"));
        assert_eq!(read_secret(&dir.join("none")).unwrap(), None);
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!(
            "coso-private-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&p).unwrap();
        p
    }
}
