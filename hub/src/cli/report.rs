//! `coso-hub report --period P --format F --out FILE`: the consolidated
//! report, compiled by the hub and written here.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use coso_proto::{Lang, pb};
use serde_json::json;

use super::{CliError, Ctx};
use crate::input;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(long)]
    pub period: String,
    /// docx, xlsx, json, csv or md
    #[arg(long)]
    pub format: String,
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Combine the reports received from ward hubs (a city-level hub; not
    /// docx); automatic on a hub without units of its own.
    #[arg(long)]
    pub wards: bool,
}

pub(super) async fn run(ctx: &Ctx, out: &mut dyn Write, a: ReportArgs) -> Result<(), CliError> {
    let code = input::period_code(&a.period)?;
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
    crate::fsutil::replace(file, &r.content).map_err(CliError::io(file))?;
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
