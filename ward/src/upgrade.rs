//! The first start of this release on a data dir an earlier one wrote: a
//! backup beside it (`pre-upgrade-<old format>.coso-backup`, the format of
//! `coso-hub backup`, so `coso-hub restore` takes it back), then the files
//! brought forward (the letterhead an old `init` wrote for the wrong ward,
//! the catalog the release ships), then the database migrated in one batch
//! ([`Store::migrate`], which also cleans the text an earlier release let
//! units record). Each step may be redone: a crash anywhere leaves the
//! database at its old format, and the next start runs this again.

use std::path::{Path, PathBuf};

use coso_domain::Catalog;
use coso_domain::catalog::DEFAULT_CATALOG_TOML;
use thiserror::Error;

use crate::backup::HubBackupError;
use crate::config::{CONFIG_FILE, letterhead_for};
use crate::documents::CATALOG_FILE;
use crate::store::{FORMAT, Store, StoreError};

/// The catalog release 0.1.0 shipped (and copied into a ward's data dir at
/// `init`): the base of the three-way merge. Release 0.2.0 shipped this
/// release's catalog, but copied nothing forward either: a ward that started
/// on 0.1.0 still holds this one.
const CATALOG_0_1: &str = include_str!("upgrade/catalog-0.1.toml");
/// The ward name old `init`s wrote the letterhead for, whatever `--ward` said.
const OLD_DEFAULT_WARD: &str = "Phường Gia Viên";
const OLD_DEFAULT_CITY: &str = "Thành phố Hải Phòng";

#[derive(Debug, Error)]
pub enum UpgradeError {
    #[error("cannot write the pre-upgrade backup: {0}")]
    Backup(#[from] HubBackupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What an upgrade did, for the hub's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgraded {
    pub from: u64,
    pub to: u64,
    pub backup: PathBuf,
    pub letterhead_fixed: bool,
    pub catalog_merged: bool,
    /// Units' log entries whose text was cleaned ([`Store::migrate`]).
    pub entries_cleaned: u64,
}

/// The pre-upgrade backup's name for a database of format `from`.
pub fn backup_name(from: u64) -> String {
    format!("pre-upgrade-{from}.coso-backup")
}

/// Upgrades the data dir if its database is of an older format.
pub async fn run(store: &mut Store, data_dir: &Path) -> Result<Option<Upgraded>, UpgradeError> {
    let from = store.format_found();
    if from >= FORMAT {
        return Ok(None);
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| UpgradeError::Io { path, source }
    };
    // 1. The backup, complete and synced before anything changes. A backup
    // left by an attempt a crash cut short is kept: it was taken before
    // that attempt changed the files.
    let backup = data_dir.join(backup_name(from));
    if !backup.exists() {
        let bytes = crate::backup::build(store, data_dir, None)?;
        crate::fsutil::replace(&backup, &bytes).map_err(io(&backup))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&backup, std::fs::Permissions::from_mode(0o600))
                .map_err(io(&backup))?;
        }
    }
    // 2. The files, each replaced atomically; each fix finds nothing to do
    // the second time.
    let config = data_dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&config).map_err(io(&config))?;
    let letterhead_fixed = match fix_letterhead(&text) {
        Some(fixed) => {
            crate::fsutil::replace(&config, fixed.as_bytes()).map_err(io(&config))?;
            true
        }
        None => false,
    };
    let catalog = data_dir.join(CATALOG_FILE);
    let catalog_merged = match std::fs::read_to_string(&catalog) {
        Ok(ward) => match merge_catalog(&ward) {
            Some(merged) => {
                crate::fsutil::replace(&catalog, merged.as_bytes()).map_err(io(&catalog))?;
                true
            }
            None => false,
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(&catalog)(e)),
    };
    // 3. The database, in one batch with its new format.
    let entries_cleaned = store.migrate().await?;
    Ok(Some(Upgraded {
        from,
        to: FORMAT,
        backup,
        letterhead_fixed,
        catalog_merged,
        entries_cleaned,
    }))
}

/// `hub.toml` with the letterhead fields an old `init` wrote for Gia Viên
/// (while `ward` names another ward) written for the ward instead; a field
/// the ward edited is kept. `None` when nothing needs fixing. Line by line,
/// so the ward's comments and layout stay.
fn fix_letterhead(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Names {
        ward: String,
        #[serde(default)]
        city: String,
    }
    let names: Names = toml::from_str(text).ok()?;
    if names.ward.trim() == OLD_DEFAULT_WARD {
        return None;
    }
    let old = letterhead_for(OLD_DEFAULT_WARD, OLD_DEFAULT_CITY);
    let new = letterhead_for(&names.ward, &names.city);
    let fields = [
        ("issuer", &old.issuer, &new.issuer),
        ("issuer_short", &old.issuer_short, &new.issuer_short),
        ("place", &old.place, &new.place),
    ];
    let mut in_letterhead = false;
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_letterhead = trimmed == "[letterhead]";
        }
        let replaced = in_letterhead
            .then(|| {
                let (key, value) = trimmed.split_once('=')?;
                let value: String = toml::from_str::<toml::Value>(&format!("v = {value}"))
                    .ok()?
                    .get("v")?
                    .as_str()?
                    .to_string();
                let (_, old, new) = fields.iter().find(|(k, ..)| *k == key.trim())?;
                (value == **old && old != new)
                    .then(|| format!("{} = {}\n", key.trim(), toml::Value::from(new.as_str())))
            })
            .flatten();
        match replaced {
            Some(l) => {
                out.push_str(&l);
                changed = true;
            }
            None => out.push_str(line),
        }
    }
    changed.then_some(out)
}

/// The ward's `catalog.toml` brought forward: a three-way merge of the old
/// built-in catalog (base) and this release's (theirs) over the ward's copy
/// (ours). An unedited copy becomes this release's catalog; an edited one
/// keeps every edit, takes this release's definition of each indicator it
/// left alone, and gains the indicators this release added that it lacks,
/// under a version above both. `None` when there is nothing to change.
fn merge_catalog(ward: &str) -> Option<String> {
    if ward == CATALOG_0_1 {
        return Some(DEFAULT_CATALOG_TOML.to_string());
    }
    merge_catalogs(ward, CATALOG_0_1, DEFAULT_CATALOG_TOML)
}

/// [`merge_catalog`] over any base and release, per indicator: one the
/// ward left as the base had it takes the release's definition (a release
/// that corrects a name or a rule corrects it in the ward too); one the
/// ward edited keeps the ward's; one the release added that the ward lacks
/// is appended, if its group is in the ward's copy. The ward's text is kept
/// line for line around the indicators that change, comments included.
fn merge_catalogs(ward: &str, base_text: &str, theirs_text: &str) -> Option<String> {
    let ours = Catalog::from_toml_str(ward, CATALOG_FILE).ok()?;
    let base = Catalog::from_toml_str(base_text, "base catalog").ok()?;
    let theirs = Catalog::from_toml_str(theirs_text, "release catalog").ok()?;
    let mut out = ward.to_string();
    let mut changed = false;
    for t in &theirs.indicators {
        let (Some(b), Some(o)) = (base.indicator(&t.code), ours.indicator(&t.code)) else {
            continue;
        };
        if o == b && t != b {
            let (Some(mine), Some(release)) = (
                indicator_block(&out, &t.code),
                indicator_block(theirs_text, &t.code),
            ) else {
                continue;
            };
            // As written in the ward's file (the last table of a file without
            // a final line break is not: it stays the ward's).
            if out.contains(mine.trim_start()) {
                out = out.replacen(mine.trim_start(), release.trim_start(), 1);
                changed = true;
            }
        }
    }
    let added: Vec<&str> = theirs
        .indicators
        .iter()
        .map(|i| i.code.as_str())
        .filter(|c| base.indicator(c).is_none() && ours.indicator(c).is_none())
        .filter(|c| {
            // Its group must exist in the ward's copy.
            let group = &theirs.indicator(c).map(|i| i.group.clone());
            ours.groups.iter().any(|g| Some(&g.code) == group.as_ref())
        })
        .collect();
    if added.is_empty() && !changed {
        return None;
    }
    let version = ours.version.max(theirs.version) + 1;
    let mut merged = String::with_capacity(out.len() + 1024);
    let mut versioned = false;
    for line in out.split_inclusive('\n') {
        if !versioned && line.trim_start().starts_with("version") && line.contains('=') {
            merged.push_str(&format!("version = {version}\n"));
            versioned = true;
        } else {
            merged.push_str(line);
        }
    }
    if !merged.ends_with('\n') {
        merged.push('\n');
    }
    if !added.is_empty() {
        merged
            .push_str("\n# Added by the upgrade to this release (indicators it ships that this\n");
        merged.push_str("# catalog lacked); the ward's own edits above are kept.\n");
        for code in added {
            merged.push_str(&indicator_block(theirs_text, code)?);
        }
    }
    Catalog::from_toml_str(&merged, CATALOG_FILE).ok()?;
    Some(merged)
}

/// The `[[indicators]]` table of `code` in a catalog's text, as written.
fn indicator_block(text: &str, code: &str) -> Option<String> {
    let needle = format!("code = \"{code}\"");
    let at = text.find(&needle)?;
    let start = text[..at].rfind("[[indicators]]")?;
    let rest = &text[start..];
    let end = ["\n[", "\n#"]
        .iter()
        .filter_map(|p| rest[1..].find(p))
        .min()
        .map_or(rest.len(), |e| e + 1);
    Some(format!("\n{}", rest[..end].trim_end()) + "\n")
}

#[cfg(test)]
mod tests;
