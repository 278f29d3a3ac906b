//! `coso-hub report --period P --format F --out FILE`: the consolidated
//! report, compiled by the hub and written here. `--format dhis2 --mapping
//! FILE` asks the hub for the JSON report and converts it here
//! (`compile::dhis2`), so the mapping file never leaves this machine.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use coso_proto::{Lang, PeriodCode, pb};
use serde_json::json;

use super::{CliError, Ctx};
use crate::city::RollupJson;
use crate::compile::dhis2::{self as dhis2_export, Dhis2Error, Mapping};
use crate::compile::report_json::ReportJson;
use crate::config::Config;
use crate::input;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(long)]
    pub period: String,
    /// docx, xlsx, json, csv, md, or dhis2 (with --mapping)
    #[arg(long)]
    pub format: String,
    /// The DHIS2 mapping file (TOML: data_set, [org_units], [data_elements],
    /// [periods]) for --format dhis2.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Combine the reports received from ward hubs (a city-level hub; not
    /// docx); automatic on a hub without units of its own.
    #[arg(long)]
    pub wards: bool,
    /// Replace FILE if it exists (never a link or a device).
    #[arg(long)]
    pub force: bool,
}

pub(super) async fn run(ctx: &Ctx, out: &mut dyn Write, a: ReportArgs) -> Result<(), CliError> {
    let code = input::period_code(&a.period)?;
    if a.format.trim().eq_ignore_ascii_case("dhis2") {
        return dhis2(ctx, out, a, code).await;
    }
    if a.mapping.is_some() {
        return Err(Dhis2Error::MappingWithoutDhis2.into());
    }
    let format = input::format(&a.format)?;
    let r = ctx
        .admin()?
        .compile_report(pb::CompileReportRequest {
            period: code.to_string(),
            format: format.as_str().into(),
            wards: a.wards,
        })
        .await?
        .into_inner();
    let file = &a.out;
    crate::fsutil::write_output(file, &r.content, a.force)?;
    let format = format.as_str();
    if ctx.json {
        w!(
            out,
            "{}",
            json!({"period": code.to_string(), "format": format, "out": file, "bytes": r.content.len(), "media_type": r.media_type})
        );
    } else {
        match ctx.lang {
            Lang::Vi => w!(
                out,
                "Đã ghi báo cáo tổng hợp kỳ {code} ({format}) vào {}",
                file.display()
            ),
            Lang::En => w!(
                out,
                "Wrote the consolidated {code} report ({format}) to {}",
                file.display()
            ),
        }
    }
    Ok(())
}

/// `--format dhis2`: the mapping is read and checked (and the period mapped)
/// before the hub is asked, so a refused mapping writes nothing.
async fn dhis2(
    ctx: &Ctx,
    out: &mut dyn Write,
    a: ReportArgs,
    code: PeriodCode,
) -> Result<(), CliError> {
    let path = a.mapping.as_ref().ok_or(Dhis2Error::NoMapping)?;
    let text = std::fs::read_to_string(path).map_err(CliError::io(path))?;
    let mapping = Mapping::parse(&text)?;
    mapping.period(&code)?;
    let r = ctx
        .admin()?
        .compile_report(pb::CompileReportRequest {
            period: code.to_string(),
            format: "json".into(),
            wards: a.wards,
        })
        .await?
        .into_inner();
    let bad = |e: serde_json::Error| Dhis2Error::BadReport(e.to_string());
    let doc: serde_json::Value = serde_json::from_slice(&r.content).map_err(bad)?;
    let export = if doc.get("scope").and_then(|s| s.as_str()) == Some(crate::city::SCOPE) {
        RollupJson::parse(&r.content)
            .map_err(bad)?
            .to_dhis2(&mapping)?
    } else {
        // The ward's name is in hub.toml when this runs beside the hub;
        // otherwise the mapping's one [org_units] entry is the ward.
        let ward = ctx
            .data_dir
            .as_deref()
            .and_then(|d| Config::load(d).ok())
            .map(|c| c.file.ward);
        let report =
            ReportJson::parse(&r.content).map_err(|e| Dhis2Error::BadReport(e.to_string()))?;
        dhis2_export::ward(&report, ward.as_deref(), &mapping)?
    };
    if !export.unmapped.is_empty() {
        let list = export.unmapped.join(", ");
        match ctx.lang {
            Lang::Vi => {
                eprintln!("Không xuất (chưa có trong [data_elements] của tệp ánh xạ): {list}")
            }
            Lang::En => eprintln!("Left out (not in the mapping's [data_elements]): {list}"),
        }
    }
    let bytes = export.to_bytes();
    let file = &a.out;
    crate::fsutil::write_output(file, &bytes, a.force)?;
    if ctx.json {
        w!(
            out,
            "{}",
            json!({"period": code.to_string(), "format": "dhis2", "out": file, "bytes": bytes.len(),
                   "data_values": export.set.data_values.len(), "unmapped": export.unmapped})
        );
    } else {
        let n = export.set.data_values.len();
        match ctx.lang {
            Lang::Vi => w!(
                out,
                "Đã ghi {n} giá trị DHIS2 (dataValueSets) kỳ {code} vào {}",
                file.display()
            ),
            Lang::En => w!(
                out,
                "Wrote {n} DHIS2 data values (dataValueSets) for {code} to {}",
                file.display()
            ),
        }
    }
    Ok(())
}
