//! `coso-hub report --period P --format F --out FILE`: the consolidated
//! report, compiled by the hub and written here. `--format dhis2 --mapping
//! FILE` asks the hub for the JSON report and converts it here
//! (`compile::dhis2`), so the mapping file never leaves this machine;
//! `--format adx` writes the same export as ADX XML (`compile::adx`). The
//! hub streams the report in chunks, written straight into the output's
//! exclusive temporary file.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use coso_domain::{Lang, PeriodCode};
use coso_proto::pb;
use serde_json::json;

use super::{CliError, Ctx};
use coso_report::city::RollupJson;
use coso_report::dhis2::{self as dhis2_export, Dhis2Error, Mapping};
use coso_report::report_json::ReportJson;
use coso_ward::config::Config;
use coso_ward::fsutil::OutputFile;
use coso_ward::input;

/// A report as the hub streams it (`CompileReport`): the media type and
/// size from the first message, then the chunks, counted against the size.
struct Incoming {
    media_type: String,
    size: u64,
    got: u64,
    /// Content the first message carried (none, from this hub's own code).
    first: Option<Vec<u8>>,
    stream: tonic::Streaming<pb::CompileReportResponse>,
}

impl Incoming {
    async fn open(ctx: &Ctx, req: pb::CompileReportRequest) -> Result<Incoming, CliError> {
        let mut stream = ctx.admin()?.compile_report(req).await?.into_inner();
        let head = stream
            .message()
            .await?
            .ok_or(CliError::ReportLength { got: 0, size: 0 })?;
        Ok(Incoming {
            media_type: head.media_type,
            size: head.size,
            got: 0,
            first: Some(head.content).filter(|c| !c.is_empty()),
            stream,
        })
    }

    /// The next chunk; `None` once the report is complete. A stream that
    /// ends early or runs long is an error, so no partial file is kept.
    async fn next(&mut self) -> Result<Option<Vec<u8>>, CliError> {
        let next = match self.first.take() {
            Some(c) => Some(c),
            None => self.stream.message().await?.map(|m| m.content),
        };
        match next {
            Some(chunk) => {
                self.got += chunk.len() as u64;
                if self.got > self.size {
                    return Err(self.length_error());
                }
                Ok(Some(chunk))
            }
            None if self.got == self.size => Ok(None),
            None => Err(self.length_error()),
        }
    }

    fn length_error(&self) -> CliError {
        CliError::ReportLength {
            got: self.got,
            size: self.size,
        }
    }

    /// The whole report in memory (the DHIS2 export parses it).
    async fn collect(mut self) -> Result<Vec<u8>, CliError> {
        let mut all = Vec::with_capacity(usize::try_from(self.size).unwrap_or(0).min(1 << 30));
        while let Some(chunk) = self.next().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all)
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(long)]
    pub period: String,
    /// docx, xlsx, json, csv, md, or dhis2 / adx (with --mapping)
    #[arg(long)]
    pub format: String,
    /// The DHIS2 mapping file (TOML: data_set, [org_units], [data_elements],
    /// [periods]) for --format dhis2 or adx.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Combine the reports received from ward hubs (a city-level hub);
    /// automatic on a hub without units of its own.
    #[arg(long)]
    pub wards: bool,
    /// Replace FILE if it exists (never a link or a device).
    #[arg(long)]
    pub force: bool,
}

pub(super) async fn run(ctx: &Ctx, out: &mut dyn Write, a: ReportArgs) -> Result<(), CliError> {
    let code = input::period_code(&a.period)?;
    let f = a.format.trim();
    if f.eq_ignore_ascii_case("dhis2") || f.eq_ignore_ascii_case("adx") {
        let adx = f.eq_ignore_ascii_case("adx");
        return dhis2(ctx, out, a, code, adx).await;
    }
    if a.mapping.is_some() {
        return Err(Dhis2Error::MappingWithoutDhis2.into());
    }
    let format = input::format(&a.format)?;
    let mut r = Incoming::open(
        ctx,
        pb::CompileReportRequest {
            period: code.to_string(),
            format: format.as_str().into(),
            wards: a.wards,
        },
    )
    .await?;
    let file = &a.out;
    // The target is checked once the hub has agreed to send (its refusals
    // come first, as before streaming), then the chunks go straight into the
    // exclusive temporary file, renamed into place only when all arrived.
    let mut f = OutputFile::create(file, a.force)?;
    while let Some(chunk) = r.next().await? {
        f.write(&chunk)?;
    }
    f.commit()?;
    let format = format.as_str();
    if ctx.json {
        w!(
            out,
            "{}",
            json!({"period": code.to_string(), "format": format, "out": file, "bytes": r.size, "media_type": r.media_type})
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

/// `--format dhis2` (and `adx`, the same export as ADX XML): the mapping is
/// read and checked (and the period mapped) before the hub is asked, so a
/// refused mapping writes nothing.
async fn dhis2(
    ctx: &Ctx,
    out: &mut dyn Write,
    a: ReportArgs,
    code: PeriodCode,
    adx: bool,
) -> Result<(), CliError> {
    let path = a.mapping.as_ref().ok_or(Dhis2Error::NoMapping)?;
    let text = std::fs::read_to_string(path).map_err(CliError::io(path))?;
    let mapping = Mapping::parse(&text)?;
    let dperiod = mapping.period(&code)?;
    if adx {
        if mapping.data_set.is_none() {
            return Err(Dhis2Error::AdxDataSet.into());
        }
        if coso_report::adx::period(&dperiod).is_none() {
            return Err(Dhis2Error::AdxPeriod(dperiod).into());
        }
    }
    let content = Incoming::open(
        ctx,
        pb::CompileReportRequest {
            period: code.to_string(),
            format: "json".into(),
            wards: a.wards,
        },
    )
    .await?
    .collect()
    .await?;
    let bad = |e: serde_json::Error| Dhis2Error::BadReport(e.to_string());
    let doc: serde_json::Value = serde_json::from_slice(&content).map_err(bad)?;
    let export = if doc.get("scope").and_then(|s| s.as_str()) == Some(coso_report::city::SCOPE) {
        RollupJson::parse(&content)
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
            ReportJson::parse(&content).map_err(|e| Dhis2Error::BadReport(e.to_string()))?;
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
    let (bytes, written, kind) = if adx {
        let doc = coso_report::adx::write(&export.set)?;
        if !doc.text.is_empty() {
            let list = doc.text.join(", ");
            match ctx.lang {
                Lang::Vi => eprintln!("Không xuất sang ADX (giá trị dạng chữ): {list}"),
                Lang::En => eprintln!("Left out of the ADX document (text values): {list}"),
            }
        }
        (doc.xml, doc.values, "adx")
    } else {
        let n = export.set.data_values.len();
        (export.to_bytes(), n, "dhis2")
    };
    let file = &a.out;
    coso_ward::fsutil::write_output(file, &bytes, a.force)?;
    if ctx.json {
        w!(
            out,
            "{}",
            json!({"period": code.to_string(), "format": kind, "out": file, "bytes": bytes.len(),
                   "data_values": written, "unmapped": export.unmapped})
        );
    } else {
        let n = written;
        match (ctx.lang, adx) {
            (Lang::Vi, false) => w!(
                out,
                "Đã ghi {n} giá trị DHIS2 (dataValueSets) kỳ {code} vào {}",
                file.display()
            ),
            (Lang::En, false) => w!(
                out,
                "Wrote {n} DHIS2 data values (dataValueSets) for {code} to {}",
                file.display()
            ),
            (Lang::Vi, true) => w!(
                out,
                "Đã ghi {n} giá trị ADX kỳ {code} vào {}",
                file.display()
            ),
            (Lang::En, true) => w!(
                out,
                "Wrote {n} ADX data values for {code} to {}",
                file.display()
            ),
        }
    }
    Ok(())
}
