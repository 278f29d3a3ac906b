//! `coso-agent backup --out FILE` and `coso-agent restore FILE`: the unit's
//! laptop holds the only full copy of its change log, so it can be copied
//! whole to a file and brought back into an empty data dir. A restored copy
//! older than what the ward holds is caught at the next sync and recovered
//! with `coso-agent recover` (it gets the lost changes back from the hub).

use std::io::Write;
use std::path::Path;

use coso_domain::Lang;

use super::Ctx;
use crate::error::AgentError;
use crate::store::Store;

pub(crate) fn backup(ctx: &mut Ctx<'_>, file: &Path) -> Result<(), AgentError> {
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
    if ctx.json {
        writeln!(
            ctx.out,
            "{}",
            serde_json::json!({"file": file.display().to_string(), "records": n})
        )?;
    } else {
        let head = ctx.store.head_seq()?;
        match ctx.lang {
            Lang::Vi => writeln!(
                ctx.out,
                "Đã sao lưu dữ liệu của máy này ({head} thay đổi) vào {}.",
                file.display()
            )?,
            Lang::En => writeln!(
                ctx.out,
                "Backed up this agent's data ({head} changes) to {}.",
                file.display()
            )?,
        }
    }
    Ok(())
}

pub(crate) fn restore(
    data_dir: &Path,
    file: &Path,
    lang: Lang,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), AgentError> {
    let f = std::fs::File::open(file).map_err(|source| AgentError::BackupFile {
        path: file.to_path_buf(),
        source,
    })?;
    let n = Store::restore(data_dir, std::io::BufReader::new(f))?;
    if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({"data_dir": data_dir.display().to_string(), "records": n})
        )?;
    } else {
        match lang {
            Lang::Vi => writeln!(
                out,
                "Đã khôi phục dữ liệu vào {}. Chạy `coso-agent sync`: nếu bản sao lưu cũ hơn dữ liệu phường đã nhận, lệnh sẽ hướng dẫn khôi phục phần còn thiếu.",
                data_dir.display()
            )?,
            Lang::En => writeln!(
                out,
                "Restored the data into {}. Run `coso-agent sync`: if the backup is older than what the ward holds, it says how to get the rest back.",
                data_dir.display()
            )?,
        }
    }
    Ok(())
}
