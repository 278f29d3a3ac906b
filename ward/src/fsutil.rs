//! Small file-system helpers: writing new files (optionally owner-only)
//! durably, replacing files atomically, and writing a user's output file
//! (`report --out`) without following links or clobbering what is there.

use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

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

/// Replaces a file's contents atomically: a temporary file with a random
/// name made exclusively (O_EXCL) next to it, synced, then renamed over it.
/// A predictable sibling name could be a planted symlink.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_beside(path, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(path);
    Ok(())
}

/// Why an output file was not written.
#[derive(Debug, Error)]
pub enum WriteOutError {
    #[error("{0} already exists")]
    Exists(PathBuf),
    #[error("{0} is not a regular file")]
    NotRegular(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes a file the user named (`--out`): never through a symlink at the
/// target, never into a device, directory or other non-regular file, and
/// over an existing file only with `force`. The bytes go to a temporary file
/// with a random name created exclusively in the target's directory, then
/// are renamed into place, so the target is never half-written and no file
/// of the user's (say `F.tmp`) is touched.
pub fn write_output(path: &Path, bytes: &[u8], force: bool) -> Result<(), WriteOutError> {
    let mut out = OutputFile::create(path, force)?;
    out.write(bytes)?;
    out.commit()
}

/// [`write_output`] in steps, for output that arrives in pieces (a report
/// streamed from the hub): the checks and the exclusive temporary file at
/// [`OutputFile::create`], the pieces with [`OutputFile::write`], the rename
/// at [`OutputFile::commit`]. Dropped without a commit, it removes the
/// temporary file and leaves the target as it was.
pub struct OutputFile {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
    exists: bool,
}

impl OutputFile {
    pub fn create(path: &Path, force: bool) -> Result<OutputFile, WriteOutError> {
        let io = |source| WriteOutError::Io {
            path: path.to_path_buf(),
            source,
        };
        // symlink_metadata: look at the link itself, never where it points.
        let exists = match std::fs::symlink_metadata(path) {
            Ok(m) if !m.file_type().is_file() => {
                return Err(WriteOutError::NotRegular(path.to_path_buf()));
            }
            Ok(_) if !force => return Err(WriteOutError::Exists(path.to_path_buf())),
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(io(e)),
        };
        let tmp = empty_temp_beside(path).map_err(io)?;
        Ok(OutputFile {
            path: path.to_path_buf(),
            tmp,
            exists,
        })
    }

    fn io(&self, source: std::io::Error) -> WriteOutError {
        WriteOutError::Io {
            path: self.path.clone(),
            source,
        }
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), WriteOutError> {
        self.tmp.write_all(bytes).map_err(|e| self.io(e))
    }

    /// Syncs the temporary file and renames it over the target.
    pub fn commit(self) -> Result<(), WriteOutError> {
        self.tmp.as_file().sync_all().map_err(|e| self.io(e))?;
        #[cfg(unix)]
        {
            // tempfile creates 0600; an output file gets the usual 0644.
            use std::os::unix::fs::PermissionsExt;
            let perm = std::fs::Permissions::from_mode(0o644);
            self.tmp
                .as_file()
                .set_permissions(perm)
                .map_err(|e| self.io(e))?;
        }
        let OutputFile { path, tmp, exists } = self;
        let io = |source| WriteOutError::Io {
            path: path.clone(),
            source,
        };
        // rename(2) replaces a name, never follows a link at it; when the
        // target did not exist, a file that appears meanwhile is not clobbered.
        if exists {
            tmp.persist(&path).map_err(|e| io(e.error))?;
        } else {
            tmp.persist_noclobber(&path).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    WriteOutError::Exists(path.clone())
                } else {
                    io(e.error)
                }
            })?;
        }
        sync_dir(&path);
        Ok(())
    }
}

/// What the temporary files of [`replace`] and [`write_output`] are named:
/// `.coso-RANDOM.part`.
const TEMP_PREFIX: &str = ".coso-";
const TEMP_SUFFIX: &str = ".part";

/// Whether `name` is one of this module's temporary files (a crash between
/// its creation and the rename leaves one behind).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// A new temporary file with a random name, made exclusively in `path`'s
/// directory.
fn empty_temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
}

/// A synced temporary file holding `bytes` in `path`'s directory.
fn temp_beside(path: &Path, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let mut tmp = empty_temp_beside(path)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Makes a rename durable where the platform allows it (Unix: fsync the
/// directory). Best effort: the file's own data is already synced.
fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_is_written_and_an_existing_one_needs_force() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("report.docx");
        write_output(&f, b"one", false).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"one");
        assert!(matches!(
            write_output(&f, b"two", false),
            Err(WriteOutError::Exists(_))
        ));
        assert_eq!(std::fs::read(&f).unwrap(), b"one");
        write_output(&f, b"two", true).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        // Nothing else is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_users_own_tmp_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("report.docx");
        let mine = dir.path().join("report.tmp");
        std::fs::write(&mine, b"my notes").unwrap();
        let mine2 = dir.path().join("report.docx.tmp");
        std::fs::write(&mine2, b"more notes").unwrap();
        write_output(&f, b"report", false).unwrap();
        assert_eq!(std::fs::read(&mine).unwrap(), b"my notes");
        assert_eq!(std::fs::read(&mine2).unwrap(), b"more notes");
        assert_eq!(std::fs::read(&f).unwrap(), b"report");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        // A link at the target itself: refused, with or without --force.
        let f = dir.path().join("report.docx");
        std::os::unix::fs::symlink(&victim, &f).unwrap();
        for force in [false, true] {
            assert!(matches!(
                write_output(&f, b"x", force),
                Err(WriteOutError::NotRegular(_))
            ));
        }
        // Links at the old predictable sibling names are not used.
        let g = dir.path().join("other.docx");
        std::os::unix::fs::symlink(&victim, dir.path().join("other.tmp")).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("other.docx.tmp")).unwrap();
        write_output(&g, b"report", false).unwrap();
        replace(&dir.path().join("other"), b"addr").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(&g).unwrap(), b"report");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_refused() {
        for target in ["/dev/null", "/dev/full"] {
            let p = Path::new(target);
            if p.exists() {
                assert!(matches!(
                    write_output(p, b"x", true),
                    Err(WriteOutError::NotRegular(_))
                ));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            write_output(dir.path(), b"x", true),
            Err(WriteOutError::NotRegular(_))
        ));
    }
}
