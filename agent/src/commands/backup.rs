//! `coso-agent backup --out FILE` and `coso-agent restore FILE`: the unit's
//! laptop holds the only full copy of its change log, so it can be copied
//! whole to a file and brought back into an empty data dir. A restored copy
//! older than what the ward holds is caught at the next sync and recovered
//! with `coso-agent recover` (it gets the lost changes back from the hub).

use std::path::{Path, PathBuf};

use coso_domain::Lang;

use super::Ctx;
use crate::error::AgentError;
use crate::output::Render;
use crate::store::Store;

/// What `backup` wrote.
#[derive(Debug, Clone)]
pub struct BackedUp {
    pub file: PathBuf,
    /// Records in the file (the scripts' count).
    pub records: u64,
    /// Changes in the log (the officer's count).
    pub changes: u64,
}

impl Render for BackedUp {
    fn text(&self, lang: Lang) -> String {
        let (head, file) = (self.changes, self.file.display());
        match lang {
            Lang::Vi => format!("Đã sao lưu dữ liệu của máy này ({head} thay đổi) vào {file}."),
            Lang::En => format!("Backed up this agent's data ({head} changes) to {file}."),
        }
    }

    /// One line, unlike the other commands' documents.
    fn json(&self, _lang: Lang) -> Option<String> {
        Some(
            serde_json::json!({"file": self.file.display().to_string(), "records": self.records})
                .to_string(),
        )
    }
}

/// What `restore` brought back.
#[derive(Debug, Clone)]
pub struct Restored {
    pub data_dir: PathBuf,
    pub records: u64,
}

impl Render for Restored {
    fn text(&self, lang: Lang) -> String {
        let dir = self.data_dir.display();
        match lang {
            Lang::Vi => format!(
                "Đã khôi phục dữ liệu vào {dir}. Chạy `coso-agent sync`: nếu bản sao lưu cũ hơn dữ liệu phường đã nhận, lệnh sẽ hướng dẫn khôi phục phần còn thiếu."
            ),
            Lang::En => format!(
                "Restored the data into {dir}. Run `coso-agent sync`: if the backup is older than what the ward holds, it says how to get the rest back."
            ),
        }
    }

    /// One line, unlike the other commands' documents.
    fn json(&self, _lang: Lang) -> Option<String> {
        Some(
            serde_json::json!({"data_dir": self.data_dir.display().to_string(), "records": self.records})
                .to_string(),
        )
    }
}

pub(crate) fn backup(ctx: &Ctx<'_>, file: &Path) -> Result<BackedUp, AgentError> {
    let fail = |source| AgentError::BackupFile {
        path: file.to_path_buf(),
        source,
    };
    // Never replace or follow an existing file: the name must be new.
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The backup holds the unit's credential.
        opts.mode(0o600);
    }
    let f = opts.open(file).map_err(fail)?;
    let written = ctx.store.backup(std::io::BufWriter::new(&f)).and_then(|n| {
        f.sync_all()
            .map_err(|source| crate::store::StoreError::Io {
                path: file.to_path_buf(),
                source,
            })?;
        Ok(n)
    });
    let n = match written {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(file);
            return Err(e.into());
        }
    };
    Ok(BackedUp {
        file: file.to_path_buf(),
        records: n,
        changes: ctx.store.head_seq()?,
    })
}

pub(crate) fn restore(data_dir: &Path, file: &Path) -> Result<Restored, AgentError> {
    let f = std::fs::File::open(file).map_err(|source| AgentError::BackupFile {
        path: file.to_path_buf(),
        source,
    })?;
    let records = Store::restore(data_dir, std::io::BufReader::new(f))?;
    Ok(Restored {
        data_dir: data_dir.to_path_buf(),
        records,
    })
}
