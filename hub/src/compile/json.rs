//! `report --format json`: the consolidated report for machines. Maps are
//! `BTreeMap`s and lists follow the model's fixed order, so the same input
//! gives byte-identical output.

use std::collections::BTreeMap;

use coso_proto::domain::catalog::Aggregation;
use coso_proto::{Lang, Value};
use serde::Serialize;

use super::{CompileError, Completeness, KindCell, Model, StatusRow};

#[derive(Serialize)]
struct Report<'a> {
    period: String,
    title: &'a str,
    subject: String,
    due: String,
    report_date: String,
    catalog_version: u64,
    units_expected: usize,
    units_reported: usize,
    summary: String,
    completeness: &'a Completeness,
    /// Every expected unit and its standing, as in `status`.
    units: Vec<StatusRow>,
    indicators: Vec<Indicator<'a>>,
    narratives: Vec<Narrative<'a>>,
}

#[derive(Serialize)]
struct Indicator<'a> {
    code: &'a str,
    group: &'a str,
    name: &'a str,
    /// The unit of measure ("buổi", "lượt người", "%", "có/không"…).
    unit: &'a str,
    #[serde(rename = "type")]
    value_type: &'a str,
    aggregate: &'static str,
    /// `null` when no counted unit gave a value: missing, not zero.
    total: Option<Value>,
    /// How many counted units gave a value.
    units_reporting: usize,
    /// Per kind of unit present in the ward; `null` when none of that kind
    /// reported it. Kinds it does not apply to are left out.
    by_kind: BTreeMap<&'static str, Option<Value>>,
    /// Numbers as numbers, yes/no as `true`/`false`, text as strings; a unit
    /// that gave no value is absent.
    by_unit: BTreeMap<&'a str, &'a Value>,
}

#[derive(Serialize)]
struct Narrative<'a> {
    unit: &'a str,
    name: &'a str,
    section: &'static str,
    text: &'a str,
}

fn aggregation_name(a: Aggregation) -> &'static str {
    match a {
        Aggregation::Sum => "sum",
        Aggregation::CountYes => "count-yes",
        Aggregation::Rate => "rate",
        Aggregation::Mean => "mean",
        Aggregation::None => "none",
    }
}

pub(crate) fn render(m: &Model) -> Result<Vec<u8>, CompileError> {
    let period = m.period();
    let report = Report {
        period: period.code.to_string(),
        title: &period.title,
        subject: m.subject(),
        due: super::rfc3339_vn(period.due.with_timezone(&chrono::Utc)),
        report_date: m.input.report_date.format("%Y-%m-%d").to_string(),
        catalog_version: m.input.catalog.version,
        units_expected: m.completeness.expected,
        units_reported: m.completeness.reported,
        summary: m.completeness.sentence(Lang::Vi),
        completeness: &m.completeness,
        units: m.rows.iter().map(|r| r.status_row()).collect(),
        indicators: m
            .indicators
            .iter()
            .map(|r| Indicator {
                code: &r.ind.code,
                group: &r.ind.group,
                name: &r.ind.name,
                unit: &r.ind.measure,
                value_type: r.ind.value_type.as_str(),
                aggregate: aggregation_name(r.ind.aggregate),
                total: r.total.map(Value::Number),
                units_reporting: r.units_reporting,
                by_kind: r
                    .by_kind
                    .iter()
                    .filter_map(|(k, cell)| match cell {
                        KindCell::NotApplicable => None,
                        KindCell::Missing => Some((k.as_str(), None)),
                        KindCell::Value(v) => Some((k.as_str(), Some(Value::Number(*v)))),
                    })
                    .collect(),
                by_unit: r
                    .by_unit
                    .iter()
                    .map(|(u, v)| (u.code.as_str(), *v))
                    .collect(),
            })
            .collect(),
        narratives: m
            .narratives
            .iter()
            .map(|n| Narrative {
                unit: n.unit.code.as_str(),
                name: &n.unit.name,
                section: n.section.as_str(),
                text: n.text,
            })
            .collect(),
    };
    let mut out = serde_json::to_vec_pretty(&report)?;
    out.push(b'\n');
    Ok(out)
}
