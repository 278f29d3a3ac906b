//! `coso-hub backup` and `restore`: a backup is the database, read in one
//! consistent view while the hub serves ([`Store::snapshot`]), plus the data
//! dir's files (hub.toml, the catalog and calendar, the admin token and the
//! TLS identity agents pin), in the shared format of `coso_proto::backup`.
//! Restoring writes them into an empty data dir; the database gets a new
//! outbound epoch, so agents read their review decisions again.

use std::path::{Path, PathBuf};

use coso_proto::backup::{self, BackupError, Header, Record};
use coso_proto::private::private_dir;
use thiserror::Error;

use crate::DB_DIR;
use crate::store::{Store, StoreError};

/// The pseudo-tree that carries data-dir files (sled tree names never
/// start with a NUL byte).
const FILES: &[u8] = b"\0file";
/// Files that belong to one running process, not to the hub's data.
const SKIPPED: &[&str] = &["hub.addr", "hub.pid"];

#[derive(Debug, Error)]
pub enum HubBackupError {
    #[error(transparent)]
    Format(#[from] BackupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the data directory {0} is not empty; restore only into an empty one")]
    NotEmpty(PathBuf),
    #[error("the backup names a file outside the data directory: {0}")]
    BadPath(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> HubBackupError + '_ {
    move |source| HubBackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The whole backup file, in memory (a ward's database is tens of MB).
/// `skip` is the scheduled backups' directory: inside the data dir it would
/// otherwise put every earlier backup into the next one.
pub fn build(
    store: &Store,
    data_dir: &Path,
    skip: Option<&Path>,
) -> Result<Vec<u8>, HubBackupError> {
    let header = Header {
        kind: "hub".into(),
        version: 1,
        created_at: coso_domain::clock::now().to_rfc3339(),
    };
    let records = store.snapshot()?;
    let mut w = backup::Writer::new(Vec::new(), &header)?;
    for r in &records {
        w.record(&r.tree, &r.key, &r.value)?;
    }
    let mut files = Vec::new();
    collect_files(data_dir, data_dir, skip, &mut files)?;
    // The upstream token is kept beside the database, not in it (0600): a
    // restored hub must still be able to deliver.
    let token = data_dir
        .join(DB_DIR)
        .join(crate::upstream::settings::TOKEN_FILE);
    if token.is_file() {
        let rel = format!("{DB_DIR}/{}", crate::upstream::settings::TOKEN_FILE);
        files.push((rel, std::fs::read(&token).map_err(io(&token))?));
    }
    // So is the receipt key: a restored hub still verifies the receipts it
    // gave after this backup (`crate::receipt`).
    let key = data_dir.join(DB_DIR).join(crate::receipt::KEY_FILE);
    if key.is_file() {
        let rel = format!("{DB_DIR}/{}", crate::receipt::KEY_FILE);
        files.push((rel, std::fs::read(&key).map_err(io(&key))?));
    }
    for (rel, bytes) in files {
        w.record(FILES, rel.as_bytes(), &bytes)?;
    }
    Ok(w.finish()?)
}

fn collect_files(
    root: &Path,
    dir: &Path,
    skip: Option<&Path>,
    out: &mut Vec<(String, Vec<u8>)>,
) -> Result<(), HubBackupError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let ty = e.file_type().map_err(io(&path))?;
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if rel == DB_DIR
            || SKIPPED.contains(&rel.as_str())
            || ty.is_symlink()
            || skip.is_some_and(|s| same_dir(s, &path))
            // A backup never carries another (the pre-upgrade ones sit in
            // the data dir): each would double the next.
            || (ty.is_file() && rel.ends_with(".coso-backup"))
        {
            continue;
        }
        if ty.is_dir() {
            collect_files(root, &path, skip, out)?;
        } else if ty.is_file() {
            out.push((rel, std::fs::read(&path).map_err(io(&path))?));
        }
    }
    Ok(())
}

/// Whether `a` and `b` name one directory (through `..` or links alike).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Restores `file` into `data_dir`, which must be missing or empty. Checks
/// the whole file before writing anything; on a failure midway removes
/// what it wrote.
pub fn restore(file: &Path, data_dir: &Path) -> Result<usize, HubBackupError> {
    if data_dir.exists()
        && std::fs::read_dir(data_dir)
            .map_err(io(data_dir))?
            .next()
            .is_some()
    {
        return Err(HubBackupError::NotEmpty(data_dir.to_path_buf()));
    }
    let f = std::fs::File::open(file).map_err(io(file))?;
    let (_, records) = backup::read(std::io::BufReader::new(f), "hub")?;
    let (files, db): (Vec<Record>, Vec<Record>) =
        records.into_iter().partition(|r| r.tree == FILES);
    for f in &files {
        let rel = String::from_utf8_lossy(&f.key);
        let safe = !rel.is_empty()
            && Path::new(rel.as_ref())
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !safe {
            return Err(HubBackupError::BadPath(rel.into_owned()));
        }
    }
    let created = !data_dir.exists();
    let result = write_all(data_dir, &files, &db);
    if result.is_err() {
        // Leave the directory as it was found: empty (or absent).
        if let Ok(rd) = std::fs::read_dir(data_dir) {
            for e in rd.flatten() {
                let p = e.path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
        if created {
            let _ = std::fs::remove_dir(data_dir);
        }
    }
    result.map(|()| db.len())
}

fn write_all(data_dir: &Path, files: &[Record], db: &[Record]) -> Result<(), HubBackupError> {
    // Owner-only (0700) even when it was there already, empty, before any
    // file goes in: the database holds password hashes and all unit data.
    private_dir(data_dir).map_err(io(data_dir))?;
    // Files inside the database directory go in after the database, which
    // is created into an empty directory.
    let in_db = |f: &&Record| f.key.starts_with(format!("{DB_DIR}/").as_bytes());
    let write = |f: &Record| -> Result<(), HubBackupError> {
        let path = data_dir.join(String::from_utf8_lossy(&f.key).as_ref());
        if let Some(parent) = path.parent() {
            private_dir(parent).map_err(io(parent))?;
        }
        // Every file of a data dir may hold a secret (token, TLS key).
        crate::fsutil::write_new(&path, &f.value, true).map_err(io(&path))
    };
    for f in files.iter().filter(|f| !in_db(f)) {
        write(f)?;
    }
    Store::restore(&data_dir.join(DB_DIR), db)?;
    for f in files.iter().filter(in_db) {
        write(f)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing as testutil;
    use crate::upstream::{TargetInput, settings::TOKEN_FILE};

    #[tokio::test]
    async fn the_upstream_token_travels_with_the_backup() {
        let dir = tempfile::tempdir().unwrap();
        let hub = testutil::hub(dir.path(), |_| {}).await;
        let target = TargetInput {
            url: "https://sonoivu.example.vn/api/v1/reports".into(),
            token: "s3cret-token".into(),
            ca_pem: String::new(),
        };
        crate::upstream::set_target(&hub, target).await.unwrap();
        let bytes = build(&hub.store, dir.path(), None).unwrap();

        let other = tempfile::tempdir().unwrap();
        let file = other.path().join("hub.coso-backup");
        std::fs::write(&file, &bytes).unwrap();
        let restored = other.path().join("restored");
        restore(&file, &restored).unwrap();
        let token = coso_proto::private::read_secret(&restored.join(DB_DIR).join(TOKEN_FILE));
        assert_eq!(token.unwrap().as_deref(), Some("s3cret-token"));
    }
}
