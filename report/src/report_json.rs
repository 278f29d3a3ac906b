//! The one schema of the ward report as JSON (`report --format json`, the
//! `report` part of an upstream delivery): the ward hub writes it with
//! [`ReportJson::of`] and a city-level hub reads it back with
//! [`ReportJson::parse`], so the two can never drift apart.
//!
//! Every field is required when reading, `Option` fields included (they must
//! be present, possibly `null`): a renamed or missing field is refused with
//! its name instead of silently becoming `null`. Unknown fields are ignored,
//! so a newer ward hub that adds a field still reads.

use std::collections::BTreeMap;

use coso_domain::catalog::Aggregation;
use coso_domain::{Lang, PeriodCode, SubmittedReport, Unit, Value};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Completeness, IndicatorRow, KindCell, Model, Narrative, StatusRow, UnitRow};

/// Reads an `Option` field that must be present (it may be `null`). Serde
/// lets a missing `Option` field become `None`; with this it is an error.
pub fn required<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}

/// The consolidated report of one ward for one period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportJson {
    pub period: PeriodCode,
    pub title: String,
    pub subject: String,
    /// The deadline, RFC 3339 in Vietnam time.
    pub due: String,
    /// `YYYY-MM-DD`; left out of the content hash (see `upstream::payload`).
    pub report_date: String,
    pub catalog_version: u64,
    pub units_expected: usize,
    pub units_reported: usize,
    /// The completeness sentence, in Vietnamese.
    pub summary: String,
    pub completeness: Completeness,
    /// Every expected unit and its standing, as in `status`.
    pub units: Vec<StatusRow>,
    pub indicators: Vec<IndicatorJson>,
    /// The units' own narratives, by section, then unit order.
    pub narratives: Vec<NarrativeJson>,
}

/// One indicator of the appendix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndicatorJson {
    pub code: String,
    pub group: String,
    pub name: String,
    /// The unit of measure ("buổi", "lượt người", "%", "có/không"…).
    pub unit: String,
    #[serde(rename = "type")]
    pub value_type: String,
    /// sum, count-yes, rate, mean or none.
    pub aggregate: String,
    /// `null` when no counted unit gave a value: missing, not zero.
    #[serde(deserialize_with = "required")]
    pub total: Option<Value>,
    /// How many counted units gave a value.
    pub units_reporting: usize,
    /// Per kind of unit present in the ward; `null` when none of that kind
    /// reported it. Kinds it does not apply to are left out.
    pub by_kind: BTreeMap<String, Option<Value>>,
    /// Numbers as numbers, yes/no as `true`/`false`, text as strings; a unit
    /// that gave no value is absent.
    pub by_unit: BTreeMap<String, Value>,
}

/// One unit's text for one section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NarrativeJson {
    pub unit: String,
    pub name: String,
    /// results, difficulties, proposals or next-tasks.
    pub section: String,
    pub text: String,
}

/// Why a received JSON document is not a ward report.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(#[from] serde_json::Error);

pub(crate) fn aggregation_name(a: Aggregation) -> &'static str {
    match a {
        Aggregation::Sum => "sum",
        Aggregation::CountYes => "count-yes",
        Aggregation::Rate => "rate",
        Aggregation::Mean => "mean",
        Aggregation::None => "none",
    }
}

impl ReportJson {
    /// The document of a compiled model, as an owned value (the writer,
    /// [`write`], serialises the model without this copy).
    #[cfg(test)]
    pub(crate) fn of(m: &Model) -> ReportJson {
        let period = m.period();
        ReportJson {
            period: period.code.clone(),
            title: period.title.clone(),
            subject: m.subject(),
            due: super::rfc3339_vn(period.due.with_timezone(&chrono::Utc)),
            report_date: m.input.report_date.format("%Y-%m-%d").to_string(),
            catalog_version: m.input.catalog.version,
            units_expected: m.completeness.expected,
            units_reported: m.completeness.reported,
            summary: m.completeness.sentence(Lang::Vi),
            completeness: m.completeness.clone(),
            units: m.rows.iter().map(|r| r.status_row()).collect(),
            indicators: m
                .indicators
                .iter()
                .map(|r| IndicatorJson {
                    code: r.ind.code.clone(),
                    group: r.ind.group.clone(),
                    name: r.ind.name.clone(),
                    unit: r.ind.measure.clone(),
                    value_type: r.ind.value_type.as_str().to_string(),
                    aggregate: aggregation_name(r.ind.aggregate).to_string(),
                    total: r.total.map(Value::Number),
                    units_reporting: r.units_reporting,
                    by_kind: r
                        .by_kind
                        .iter()
                        .filter_map(|(k, cell)| match cell {
                            KindCell::NotApplicable => None,
                            KindCell::Missing => Some((k.as_str().to_string(), None)),
                            KindCell::Value(v) => {
                                Some((k.as_str().to_string(), Some(Value::Number(*v))))
                            }
                        })
                        .collect(),
                    by_unit: r
                        .by_unit
                        .iter()
                        .map(|(u, v)| (u.code.to_string(), (*v).clone()))
                        .collect(),
                })
                .collect(),
            narratives: m
                .narratives
                .iter()
                .map(|n| NarrativeJson {
                    unit: n.unit.code.to_string(),
                    name: n.unit.name.clone(),
                    section: n.section.as_str().to_string(),
                    text: n.text.to_string(),
                })
                .collect(),
        }
    }

    /// Reads a ward report; the error names the field that is missing or wrong.
    pub fn parse(bytes: &[u8]) -> Result<ReportJson, ParseError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// Pretty JSON with a final newline; maps are ordered, so the same report
    /// gives the same bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        crate::json::pretty(self, 128)
    }

    pub fn indicator(&self, code: &str) -> Option<&IndicatorJson> {
        self.indicators.iter().find(|i| i.code == code)
    }

    /// The ward total of an indicator, if it has one.
    pub fn total(&self, code: &str) -> Option<&Value> {
        self.indicator(code)?.total.as_ref()
    }
}

// ---------------------------------------------------------------------------
// Writing: the same document, serialised from the model without copying it
// ---------------------------------------------------------------------------

/// The JSON report of a model: exactly the bytes of `ReportJson::of(m)
/// .to_bytes()` (a test compares them), written from borrowed parts. At city
/// scale the owned copy (every unit's code per indicator, every status row)
/// cost more memory than the report itself.
pub(crate) fn write(m: &Model) -> Result<Vec<u8>, serde_json::Error> {
    let period = m.period();
    // Each counted unit's report, by code as a `BTreeMap<String, _>` orders
    // them: the order of every `by_unit`.
    let mut by_code: Vec<(&Unit, &SubmittedReport)> = m
        .rows
        .iter()
        .filter_map(|r| Some((&r.entry.unit, r.report?)))
        .collect();
    by_code.sort_unstable_by(|a, b| a.0.code.as_str().cmp(b.0.code.as_str()));
    let asked: Vec<_> = m.indicators.iter().map(|r| r.ind).collect();
    let columns = super::columns(&asked, by_code.iter().map(|(_, r)| *r));
    let doc = Doc {
        period: &period.code,
        title: &period.title,
        subject: m.subject(),
        due: super::rfc3339_vn(period.due.with_timezone(&chrono::Utc)),
        report_date: m.input.report_date.format("%Y-%m-%d").to_string(),
        catalog_version: m.input.catalog.version,
        units_expected: m.completeness.expected,
        units_reported: m.completeness.reported,
        summary: m.completeness.sentence(Lang::Vi),
        completeness: &m.completeness,
        units: Rows(&m.rows),
        indicators: Indicators {
            rows: &m.indicators,
            by_code: &by_code,
            columns: &columns,
        },
        narratives: Narratives(&m.narratives),
    };
    // One allocation, not a doubling series of copies (at 10,000 units the
    // last copy alone held 20 MiB beside 40).
    crate::json::pretty(&doc, size_bound(m))
}

/// More than the pretty JSON of `m` can take. Over-estimating costs address
/// space, not memory: the pages of a large buffer that are never written
/// are never resident. Text is counted six times over, the most JSON
/// escaping can grow it (`\u0000`).
pub(crate) fn size_bound(m: &Model) -> usize {
    let text = |s: &str| 6 * s.len();
    let rows: usize = m
        .rows
        .iter()
        .map(|r| {
            let u = r.unit();
            512 + text(&u.name)
                + u.code.as_str().len()
                + r.entry.review_reason.as_deref().map_or(0, text)
        })
        .sum();
    let values: usize = m
        .indicators
        .iter()
        .map(|i| {
            let each: usize = i
                .by_unit
                .iter()
                .map(|(u, v)| {
                    let v = match v {
                        Value::Text(s) => 2 + text(s),
                        Value::Number(_) | Value::Bool(_) => 32,
                    };
                    32 + u.code.as_str().len() + v
                })
                .sum();
            1024 + text(&i.ind.name) + text(&i.ind.group) + each
        })
        .sum();
    let narratives: usize = m
        .narratives
        .iter()
        .map(|n| 256 + text(&n.unit.name) + text(n.text))
        .sum();
    4096 + text(&m.subject()) + rows + values + narratives
}

/// The fields of [`ReportJson`], in its order.
#[derive(Serialize)]
struct Doc<'a> {
    period: &'a PeriodCode,
    title: &'a str,
    subject: String,
    due: String,
    report_date: String,
    catalog_version: u64,
    units_expected: usize,
    units_reported: usize,
    summary: String,
    completeness: &'a Completeness,
    units: Rows<'a>,
    indicators: Indicators<'a>,
    narratives: Narratives<'a>,
}

/// `units`: one [`StatusRow`] at a time.
struct Rows<'a>(&'a [UnitRow<'a>]);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for r in self.0 {
            seq.serialize_element(&r.status_row())?;
        }
        seq.end()
    }
}

struct Indicators<'a> {
    rows: &'a [IndicatorRow<'a>],
    /// The counted units by code, as a `BTreeMap<String, _>` orders them.
    by_code: &'a [(&'a Unit, &'a SubmittedReport)],
    /// Per row, its values in `by_code` order.
    columns: &'a [Vec<(usize, &'a Value)>],
}

impl Serialize for Indicators<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        for (r, column) in self.rows.iter().zip(self.columns) {
            seq.serialize_element(&IndicatorDoc {
                code: &r.ind.code,
                group: &r.ind.group,
                name: &r.ind.name,
                unit: &r.ind.measure,
                value_type: r.ind.value_type.as_str(),
                aggregate: aggregation_name(r.ind.aggregate),
                total: r.total.map(Value::Number),
                units_reporting: r.units_reporting,
                by_kind: ByKind(r),
                by_unit: ByUnit {
                    by_code: self.by_code,
                    column,
                },
            })?;
        }
        seq.end()
    }
}

/// The fields of [`IndicatorJson`], in its order.
#[derive(Serialize)]
struct IndicatorDoc<'a> {
    code: &'a str,
    group: &'a str,
    name: &'a str,
    unit: &'a str,
    #[serde(rename = "type")]
    value_type: &'a str,
    aggregate: &'a str,
    total: Option<Value>,
    units_reporting: usize,
    by_kind: ByKind<'a>,
    by_unit: ByUnit<'a>,
}

/// `by_kind`: the kinds it applies to, by name (a `BTreeMap`'s order).
struct ByKind<'a>(&'a IndicatorRow<'a>);

impl Serialize for ByKind<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut cells: Vec<(&str, Option<Value>)> = self
            .0
            .by_kind
            .iter()
            .filter_map(|(k, cell)| match cell {
                KindCell::NotApplicable => None,
                KindCell::Missing => Some((k.as_str(), None)),
                KindCell::Value(v) => Some((k.as_str(), Some(Value::Number(*v)))),
            })
            .collect();
        cells.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut map = s.serialize_map(Some(cells.len()))?;
        for (k, v) in &cells {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// `by_unit`: every counted unit that gave a value, by code.
struct ByUnit<'a> {
    by_code: &'a [(&'a Unit, &'a SubmittedReport)],
    column: &'a [(usize, &'a Value)],
}

impl Serialize for ByUnit<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.column.len()))?;
        for &(i, v) in self.column {
            map.serialize_entry(self.by_code[i].0.code.as_str(), v)?;
        }
        map.end()
    }
}

struct Narratives<'a>(&'a [Narrative<'a>]);

/// The fields of [`NarrativeJson`], in its order.
#[derive(Serialize)]
struct NarrativeDoc<'a> {
    unit: &'a str,
    name: &'a str,
    section: &'a str,
    text: &'a str,
}

impl Serialize for Narratives<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for n in self.0 {
            seq.serialize_element(&NarrativeDoc {
                unit: n.unit.code.as_str(),
                name: &n.unit.name,
                section: n.section.as_str(),
                text: n.text,
            })?;
        }
        seq.end()
    }
}
