//! `report --format csv`: the indicator matrix for machines, one row per
//! indicator: code, group, name, unit of measure, type, aggregation, total,
//! how many units gave a value, a column per kind of unit present (named by
//! kind: `centre`, `school`…) and a column per expected unit (named by its
//! code, in the model's unit order). Numbers are plain (`1234.5`); yes/no
//! values are `1`/`0`; an empty cell is a missing value, never zero. Units
//! that did not report keep their (empty) column so the header always lists
//! every expected unit. Narratives are in the JSON, DOCX and Markdown.
//!
//! The CSV writer both reports go through is here too: [`Table`] (CRLF line
//! ends, quoting as the `csv` crate does), [`INDICATOR_COLUMNS`] that every
//! indicator matrix starts with, and [`value_cell`], a value for machines;
//! the city roll-up (`city::render`) writes its matrix with them.

use std::collections::BTreeMap;

use coso_domain::Value;

use super::{CompileError, KindCell, Model, machine_number};
use crate::formatting::spreadsheet_text;
use crate::report_json::aggregation_name;

/// The columns every indicator matrix starts with, the ward's and the
/// city's alike; the count of who gave a value and the columns per part
/// (kind of unit, unit, ward) follow.
pub(crate) const INDICATOR_COLUMNS: [&str; 7] = [
    "code",
    "group",
    "name",
    "unit",
    "type",
    "aggregate",
    "total",
];

/// A CSV document being written: the header, then one record per call.
pub(crate) struct Table(::csv::Writer<Vec<u8>>);

impl Table {
    /// Starts the document with its header row. Lines end in CRLF (RFC 4180,
    /// and what a spreadsheet on Windows expects).
    pub(crate) fn new<T: AsRef<[u8]>>(
        header: impl IntoIterator<Item = T>,
    ) -> Result<Table, ::csv::Error> {
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(Vec::new());
        w.write_record(header.into_iter().map(safe))?;
        Ok(Table(w))
    }

    /// One record; every cell goes through [`spreadsheet_text`].
    pub(crate) fn row<T: AsRef<[u8]>>(
        &mut self,
        cells: impl IntoIterator<Item = T>,
    ) -> Result<(), ::csv::Error> {
        self.0.write_record(cells.into_iter().map(safe))
    }

    pub(crate) fn finish(self) -> Result<Vec<u8>, ::csv::Error> {
        self.0.into_inner().map_err(|e| e.into_error().into())
    }
}

/// A cell as a spreadsheet will not take it for a formula.
fn safe<T: AsRef<[u8]>>(cell: T) -> Vec<u8> {
    match std::str::from_utf8(cell.as_ref()) {
        Ok(text) => spreadsheet_text(text).into_owned().into_bytes(),
        Err(_) => cell.as_ref().to_vec(),
    }
}

/// A value for machines: numbers plain (`1234.5`), yes/no `1`/`0`, text as
/// it is; a missing value is an empty cell, never zero.
pub(crate) fn value_cell(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => machine_number(*n),
        Some(Value::Bool(b)) => if *b { "1" } else { "0" }.to_string(),
        Some(Value::Text(t)) => t.clone(),
        None => String::new(),
    }
}

pub(crate) fn render(m: &Model) -> Result<Vec<u8>, CompileError> {
    let mut header: Vec<String> = INDICATOR_COLUMNS.map(String::from).to_vec();
    header.push("units_reporting".into());
    header.extend(m.kinds.iter().map(|k| k.as_str().to_string()));
    header.extend(m.rows.iter().map(|r| r.unit().code.to_string()));
    let mut w = Table::new(&header)?;
    for r in &m.indicators {
        let mut rec: Vec<String> = vec![
            r.ind.code.clone(),
            r.ind.group.clone(),
            r.ind.name.clone(),
            r.ind.measure.clone(),
            r.ind.value_type.as_str().to_string(),
            aggregation_name(r.ind.aggregate).to_string(),
            r.total.map(machine_number).unwrap_or_default(),
            r.units_reporting.to_string(),
        ];
        rec.extend(r.by_kind.iter().map(|(_, c)| match c {
            KindCell::Value(v) => machine_number(*v),
            KindCell::Missing | KindCell::NotApplicable => String::new(),
        }));
        let by_unit: BTreeMap<&str, &Value> = r
            .by_unit
            .iter()
            .map(|(u, v)| (u.code.as_str(), *v))
            .collect();
        rec.extend(
            m.rows
                .iter()
                .map(|row| value_cell(by_unit.get(row.unit().code.as_str()).copied())),
        );
        w.row(&rec)?;
    }
    Ok(w.finish()?)
}
