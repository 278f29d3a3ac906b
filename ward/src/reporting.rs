//! The bridge to the reporting engine ([`crate::compile`]): builds its input
//! from what the ward use cases gathered (adding today's date in Vietnam
//! time) and names its errors. The only module that calls `compile`.

use std::collections::BTreeMap;

use coso_domain::calendar::vietnam;
use coso_domain::{Catalog, Lang, Period, Section};
use thiserror::Error;

use coso_report::{self as compile, CompileInput, Format, Status, StatusRow};

pub use coso_report::{Letterhead, UnitEntry};

#[derive(Debug, Error)]
pub enum ReportingError {
    #[error("the report could not be compiled: {0}")]
    Compile(#[from] compile::CompileError),
    #[error("the status could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the report task stopped: {0}")]
    Task(String),
}

impl ReportingError {
    pub fn kind(&self) -> crate::ErrorKind {
        match self {
            ReportingError::Compile(_) | ReportingError::Encode(_) | ReportingError::Task(_) => {
                crate::ErrorKind::Internal
            }
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (ReportingError::Compile(e), Lang::Vi) => format!("không lập được báo cáo: {e}"),
            (ReportingError::Encode(e), Lang::Vi) => format!("không mã hóa được trạng thái: {e}"),
            (ReportingError::Task(e), Lang::Vi) => format!("việc lập báo cáo bị dừng: {e}"),
        }
    }
}

fn input<'a>(
    letterhead: &'a Letterhead,
    catalog: &'a Catalog,
    period: &'a Period,
    units: &'a [UnitEntry],
    ward_notes: &'a BTreeMap<Section, String>,
) -> CompileInput<'a> {
    CompileInput {
        letterhead,
        catalog,
        period,
        units,
        report_date: coso_domain::clock::now()
            .with_timezone(&vietnam())
            .date_naive(),
        ward_notes,
    }
}

/// Who has reported for a period, as the reporting engine counts it.
pub fn status(
    letterhead: &Letterhead,
    catalog: &Catalog,
    period: &Period,
    units: &[UnitEntry],
) -> Status {
    compile::status(&input(
        letterhead,
        catalog,
        period,
        units,
        &compile::NO_WARD_NOTES,
    ))
}

/// One unit's status line (after a review).
pub fn one_status(
    letterhead: &Letterhead,
    catalog: &Catalog,
    period: &Period,
    entry: &UnitEntry,
) -> StatusRow {
    let units = std::slice::from_ref(entry);
    let s = compile::status(&input(
        letterhead,
        catalog,
        period,
        units,
        &compile::NO_WARD_NOTES,
    ));
    // One entry in, one row out: `status` keeps every expected unit.
    s.units
        .into_iter()
        .next()
        .expect("status has a row per unit entry")
}

/// The consolidated report in one format; the ward's own narrative, where
/// it has one, is the body of its section.
pub fn compile(
    letterhead: &Letterhead,
    catalog: &Catalog,
    period: &Period,
    units: &[UnitEntry],
    ward_notes: &BTreeMap<Section, String>,
    format: Format,
) -> Result<Vec<u8>, ReportingError> {
    Ok(compile::compile(
        &input(letterhead, catalog, period, units, ward_notes),
        format,
    )?)
}
