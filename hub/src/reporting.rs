//! The bridge to the reporting engine ([`crate::compile`]): builds its input
//! from what the admin service gathered and turns its output into RPC
//! responses. The only module that calls `compile`.

use coso_proto::domain::calendar::vietnam;
use coso_proto::{Catalog, Lang, Period, pb};
use thiserror::Error;
use tonic::Code;

use crate::compile::{self, CompileInput, Format};

pub use crate::compile::{Letterhead, UnitEntry};

#[derive(Debug, Error)]
pub enum ReportingError {
    #[error(transparent)]
    Format(#[from] compile::UnknownFormat),
    #[error("the report could not be compiled: {0}")]
    Compile(#[from] compile::CompileError),
    #[error("the status could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

impl ReportingError {
    pub fn code(&self) -> Code {
        match self {
            ReportingError::Format(_) => Code::InvalidArgument,
            ReportingError::Compile(_) | ReportingError::Encode(_) => Code::Internal,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (ReportingError::Format(f), Lang::Vi) => format!(
                "định dạng (format) {:?} không hợp lệ: dùng docx, xlsx, json, csv hoặc md",
                f.0
            ),
            (ReportingError::Compile(e), Lang::Vi) => format!("không lập được báo cáo: {e}"),
            (ReportingError::Encode(e), Lang::Vi) => format!("không mã hóa được trạng thái: {e}"),
        }
    }
}

fn input<'a>(
    letterhead: &'a Letterhead,
    catalog: &'a Catalog,
    period: &'a Period,
    units: &'a [UnitEntry],
) -> CompileInput<'a> {
    CompileInput {
        letterhead,
        catalog,
        period,
        units,
        report_date: coso_proto::clock::now()
            .with_timezone(&vietnam())
            .date_naive(),
    }
}

fn unit_status(row: &compile::StatusRow) -> pb::UnitStatus {
    pb::UnitStatus {
        unit: Some(pb::Unit {
            code: row.unit.to_string(),
            name: row.name.clone(),
            kind: row.kind.to_string(),
        }),
        state: row.state.as_str().into(),
        submitted_at: row.submitted_at.clone().unwrap_or_default(),
        timeliness: row.timeliness.as_str().into(),
        review_reason: row.review_reason.clone().unwrap_or_default(),
        ..Default::default()
    }
}

/// Who has reported for a period, as the reporting engine counts it.
pub fn status(
    letterhead: &Letterhead,
    catalog: &Catalog,
    period: &Period,
    units: &[UnitEntry],
) -> Result<pb::StatusResponse, ReportingError> {
    let s = compile::status(&input(letterhead, catalog, period, units));
    let t = &s.totals;
    Ok(pb::StatusResponse {
        period: Some(pb::Period::from(period)),
        units: s.units.iter().map(unit_status).collect(),
        expected: t.expected as u32,
        reported: t.reported as u32,
        on_time: t.on_time as u32,
        late: t.late as u32,
        missing: t.missing as u32,
        status_json: serde_json::to_string(&s)?,
    })
}

/// One unit's status line (the Review reply).
pub fn one_status(
    letterhead: &Letterhead,
    catalog: &Catalog,
    period: &Period,
    entry: &UnitEntry,
) -> pb::UnitStatus {
    let units = std::slice::from_ref(entry);
    let s = compile::status(&input(letterhead, catalog, period, units));
    s.units.first().map(unit_status).unwrap_or_default()
}

/// The consolidated report in one format: content and media type.
pub fn compile(
    letterhead: &Letterhead,
    catalog: &Catalog,
    period: &Period,
    units: &[UnitEntry],
    format: &str,
) -> Result<(Vec<u8>, &'static str), ReportingError> {
    let format: Format = format.parse()?;
    let bytes = compile::compile(&input(letterhead, catalog, period, units), format)?;
    Ok((bytes, format.media_type()))
}
