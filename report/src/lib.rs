//! coso-report: the consolidated report as a pure, storage-free model of one
//! period's unit reports, the `status` view of who has reported, every
//! report file built from that model (the Decree 30/2020 DOCX, XLSX, JSON,
//! CSV, Markdown, DHIS2 and ADX), and the city roll-up of ward reports
//! ([`city`]), written with the same writers.
//!
//! This crate depends on the domain model and the document libraries only:
//! no storage, network or async runtime (an architecture test holds that).
//!
//! The caller (the ward core) gathers a [`UnitEntry`] for every
//! expected unit and calls [`status`] or [`compile`]; nothing here touches
//! storage, the clock or the network, so the same input always gives the same
//! model (and byte-identical JSON and CSV).
//!
//! Decisions the outputs rely on:
//! - **What counts.** Only a unit whose current report is `submitted` or
//!   `accepted` counts toward totals, narratives and "đã báo cáo". A
//!   `returned` report was sent back by the ward to be corrected, so it does
//!   not count until it is resubmitted: its unit is among "chưa báo cáo"
//!   (the completeness sentence says how many of those were returned), its
//!   timeliness is `missing`, and its `submitted_at` still shows when the
//!   report first arrived. A corrected resubmission keeps that first arrival
//!   time (the hub records it), so a unit that reported on time does not
//!   become late because the ward returned its report after the deadline.
//! - **Timeliness** compares the hub's receive time (`UnitEntry::submitted_at`,
//!   falling back to the agent's time in the frozen report) with the
//!   period's deadline, an instant in Vietnam time.
//! - **Missing is never zero.** A unit that did not report, or left an
//!   indicator empty, has no value; a total over no values is `null`.
//! - **Yes/no values**: `true`/`false` in JSON `by_unit`; `1`/`0` in CSV; in
//!   XLSX the numbers 1/0 shown as "Có"/"Không" by a number format. Their
//!   total is the number of units that answered yes.
//! - Units are listed by kind (centre, department, school, residential group,
//!   other) and then by code in natural order (TDP2 before TDP10).
//!
//! Where things are: the model (`model`: what the caller gives, each unit's
//! standing, the totals) and `status` are computed once; `letterhead` holds
//! the document's words from the config; `formatting` says times, dates,
//! numbers and values. Each format's module (`docx`, `xlsx`, `json` with
//! `report_json`, `csv`, `md`) writes the ward's report and also holds that
//! format's writer, which the city roll-up (`city`) writes through, so the
//! two levels lay out a table and say a value alike. The words for a
//! report's state and timeliness and the completeness sentence are the
//! domain's (`coso_domain::words`), shared with the hub's CLI and dashboard.
//! This file keeps the formats and the one entry point, [`compile`].

pub mod adx;
pub mod city;
mod csv;
pub mod dhis2;
pub mod docx;
mod formatting;
mod json;
mod letterhead;
mod md;
mod model;
pub mod report_json;
mod status;
pub mod synthesis;
mod xlsx;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use coso_domain::{PeriodCode, UnitCode};

// The writers reach the model and the helpers as `crate::…` (and `super::…`
// from the format modules); the public names are the ones the hub uses.
pub(crate) use formatting::{
    NO_VALUE, clean_text, due_phrase, format_value, local_time, natural_cmp, place_date_line,
    rfc3339_vn, short_date, text_table, yes_no,
};
pub use formatting::{format_number, machine_number, spreadsheet_text};
pub use letterhead::Letterhead;
pub use model::{CompileInput, NO_WARD_NOTES, UnitEntry};
pub(crate) use model::{IndicatorRow, KindCell, Model, Narrative, UnitRow, columns, period_phrase};
pub use status::{Completeness, Status, StatusRow, UnitStatus, status};

/// A report file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Docx,
    Xlsx,
    Json,
    Csv,
    Md,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Docx,
        Format::Xlsx,
        Format::Json,
        Format::Csv,
        Format::Md,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Md => "md",
        }
    }
    /// The usual file extension (without the dot).
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Md => "text/markdown; charset=utf-8",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of docx, xlsx, json, csv, md.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format {0:?}: use docx, xlsx, json, csv or md")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "docx" => Ok(Format::Docx),
            "xlsx" => Ok(Format::Xlsx),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "md" | "markdown" => Ok(Format::Md),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The same unit appears twice among the expected units.
    #[error("unit {0} is listed twice")]
    DuplicateUnit(UnitCode),
    /// A unit's frozen report belongs to another period.
    #[error("the report of unit {unit} is for period {found}, not {expected}")]
    WrongPeriod {
        unit: UnitCode,
        expected: PeriodCode,
        found: PeriodCode,
    },
    #[error("could not write the DOCX file: {0}")]
    Docx(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("could not write the XLSX file: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("could not write the JSON file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("could not write the CSV file: {0}")]
    Csv(#[from] ::csv::Error),
}

/// Builds the consolidated report of the period in `format`.
pub fn compile(input: &CompileInput, format: Format) -> Result<Vec<u8>, CompileError> {
    check(input)?;
    let model = Model::build(input);
    match format {
        Format::Docx => docx::render(&model),
        Format::Xlsx => xlsx::render(&model),
        Format::Json => json::render(&model),
        Format::Csv => csv::render(&model),
        Format::Md => Ok(md::render(&model).into_bytes()),
    }
}

fn check(input: &CompileInput) -> Result<(), CompileError> {
    let mut seen = BTreeSet::new();
    for e in input.units {
        if !seen.insert(&e.unit.code) {
            return Err(CompileError::DuplicateUnit(e.unit.code.clone()));
        }
        if let Some(r) = &e.report
            && r.period != input.period.code
        {
            return Err(CompileError::WrongPeriod {
                unit: e.unit.code.clone(),
                expected: input.period.code.clone(),
                found: r.period.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
