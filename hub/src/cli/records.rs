//! `coso-hub backup`, `restore` and `audit`: the commands over the hub's
//! records themselves. `backup` and `audit` are admin calls to the running
//! hub; `restore` writes a data dir locally (no hub may run on it yet).

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use coso_domain::Lang;
use coso_domain::calendar::vietnam;
use coso_proto::pb;
use serde_json::json;

use crate::cli::CliError;
use crate::client::Admin;
use coso_ward::backup::HubBackupError;
use coso_ward::input;

/// Streams a consistent snapshot from the running hub into `out`, a new
/// file (an existing one is never replaced). A failed backup leaves no file.
pub async fn backup(
    mut admin: Admin,
    out: &mut dyn Write,
    file_path: &Path,
    lang: Lang,
    json: bool,
) -> Result<(), CliError> {
    let path = file_path;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The backup holds the admin token and the TLS key.
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|source| CliError::OutFile {
        path: path.to_path_buf(),
        source,
    })?;
    let result = async {
        let mut stream = admin.backup(pb::BackupRequest {}).await?.into_inner();
        let mut bytes = 0u64;
        while let Some(chunk) = stream.message().await? {
            file.write_all(&chunk.data).map_err(CliError::io(path))?;
            bytes += chunk.data.len() as u64;
        }
        file.sync_all().map_err(CliError::io(path))?;
        // A stream cut short would be a torn file: check it whole.
        let f = std::fs::File::open(path).map_err(CliError::io(path))?;
        coso_proto::backup::read(std::io::BufReader::new(f), "hub")
            .map_err(|e| CliError::Backup(e.into()))?;
        Ok::<u64, CliError>(bytes)
    }
    .await;
    let bytes = match result {
        Ok(b) => b,
        Err(e) => {
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
    };
    if json {
        w!(out, "{}", json!({"file": path, "bytes": bytes}));
    } else {
        match lang {
            Lang::Vi => w!(
                out,
                "Đã sao lưu máy chủ phường vào {} ({bytes} byte). Khôi phục: coso-hub --data-dir THƯ_MỤC_TRỐNG restore {}",
                path.display(),
                path.display()
            ),
            Lang::En => w!(
                out,
                "Backed up the ward hub to {} ({bytes} bytes). To restore: coso-hub --data-dir EMPTY_DIR restore {}",
                path.display(),
                path.display()
            ),
        }
    }
    Ok(())
}

/// Restores a backup file into `data_dir` (missing or empty).
pub fn restore(
    out: &mut dyn Write,
    data_dir: &Path,
    file: &Path,
    lang: Lang,
    json: bool,
) -> Result<(), CliError> {
    let records = coso_ward::backup::restore(file, data_dir).map_err(CliError::Backup)?;
    if json {
        w!(out, "{}", json!({"data_dir": data_dir, "records": records}));
    } else {
        match lang {
            Lang::Vi => w!(
                out,
                "Đã khôi phục máy chủ phường vào {}. Chạy coso-hub serve; các đơn vị gửi lại những gì máy chủ còn thiếu ở lần đồng bộ tới.",
                data_dir.display()
            ),
            Lang::En => w!(
                out,
                "Restored the ward hub into {}. Run coso-hub serve; units resend what it lacks at their next sync.",
                data_dir.display()
            ),
        }
    }
    Ok(())
}

/// `coso-hub audit [--unit CODE] [--since DATE] [--json]` and `--verify`.
pub async fn audit(
    mut admin: Admin,
    out: &mut dyn Write,
    unit: Option<&str>,
    since: Option<&str>,
    verify: bool,
    lang: Lang,
    json: bool,
) -> Result<(), CliError> {
    if verify {
        let v = admin
            .verify_audit(pb::VerifyAuditRequest {})
            .await?
            .into_inner();
        if json {
            w!(
                out,
                "{}",
                json!({"ok": v.ok, "checked": v.checked,
                       "broken_at": (!v.ok).then_some(v.broken_at),
                       "reason": (!v.ok).then_some(v.reason.clone())})
            );
        } else if v.ok {
            match lang {
                Lang::Vi => w!(
                    out,
                    "Nhật ký kiểm toán nguyên vẹn: {} bản ghi, mọi mắt xích khớp.",
                    v.checked
                ),
                Lang::En => w!(
                    out,
                    "The audit trail is intact: {} records, every link holds.",
                    v.checked
                ),
            }
        } else {
            match lang {
                Lang::Vi => w!(
                    out,
                    "Nhật ký kiểm toán bị đứt tại bản ghi số {}: {}",
                    v.broken_at,
                    v.reason
                ),
                Lang::En => w!(
                    out,
                    "The audit trail is broken at record {}: {}",
                    v.broken_at,
                    v.reason
                ),
            }
        }
        if !v.ok {
            return Err(CliError::AuditBroken(v.broken_at));
        }
        return Ok(());
    }
    let unit = match unit {
        Some(u) => input::unit_code(u)?.to_string(),
        None => String::new(),
    };
    let since = match since {
        Some(d) => {
            let day: NaiveDate = input::date("since", d)?;
            day.and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(vietnam()).single())
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        }
        None => String::new(),
    };
    let r = admin
        .audit(pb::AuditRequest { unit, since })
        .await?
        .into_inner();
    if json {
        let records: Vec<_> = r
            .records
            .iter()
            .map(|a| {
                json!({"position": a.position, "at": a.at, "actor": a.actor, "action": a.action,
                       "unit": (!a.unit.is_empty()).then_some(&a.unit), "detail": a.detail,
                       "prev_hash": a.prev_hash, "hash": a.hash})
            })
            .collect();
        w!(out, "{}", json!({ "records": records }));
        return Ok(());
    }
    if r.records.is_empty() {
        w!(out, "{}", lang.pick("Chưa có bản ghi nào.", "No records."));
    }
    for a in &r.records {
        let at = chrono::DateTime::parse_from_rfc3339(&a.at)
            .map(|t| {
                t.with_timezone(&vietnam())
                    .format("%H:%M:%S %d/%m/%Y")
                    .to_string()
            })
            .unwrap_or_else(|_| a.at.clone());
        w!(
            out,
            "{:>6}  {at}  {:<14} {:<14} {:<10} {}",
            a.position,
            a.actor,
            a.action,
            a.unit,
            a.detail
        );
    }
    Ok(())
}

impl From<HubBackupError> for CliError {
    fn from(e: HubBackupError) -> Self {
        CliError::Backup(e)
    }
}
