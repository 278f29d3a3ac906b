//! `report --format csv`: the indicator matrix for machines, one row per
//! indicator: code, group, name, unit of measure, type, aggregation, total,
//! how many units gave a value, a column per kind of unit present (named by
//! kind: `centre`, `school`…) and a column per expected unit (named by its
//! code, in the model's unit order). Numbers are plain (`1234.5`); yes/no
//! values are `1`/`0`; an empty cell is a missing value, never zero. Units
//! that did not report keep their (empty) column so the header always lists
//! every expected unit. Narratives are in the JSON, DOCX and Markdown.

use std::collections::BTreeMap;

use coso_domain::Value;

use super::{CompileError, KindCell, Model, machine_number};

fn cell(v: &Value) -> String {
    match v {
        Value::Number(n) => machine_number(*n),
        Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        Value::Text(t) => t.clone(),
    }
}

pub(crate) fn render(m: &Model) -> Result<Vec<u8>, CompileError> {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut header: Vec<String> = [
        "code",
        "group",
        "name",
        "unit",
        "type",
        "aggregate",
        "total",
        "units_reporting",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(m.kinds.iter().map(|k| k.as_str().to_string()));
    header.extend(m.rows.iter().map(|r| r.unit().code.to_string()));
    w.write_record(&header)?;
    for r in &m.indicators {
        let mut rec: Vec<String> = vec![
            r.ind.code.clone(),
            r.ind.group.clone(),
            r.ind.name.clone(),
            r.ind.measure.clone(),
            r.ind.value_type.as_str().to_string(),
            serde_json::to_value(r.ind.aggregate)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
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
        rec.extend(m.rows.iter().map(|row| {
            by_unit
                .get(row.unit().code.as_str())
                .map(|v| cell(v))
                .unwrap_or_default()
        }));
        w.write_record(&rec)?;
    }
    w.into_inner()
        .map_err(|e| CompileError::Csv(e.into_error().into()))
}
