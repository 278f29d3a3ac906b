//! Combining the wards' totals into the city's, per the city's catalog.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use coso_domain::catalog::{Aggregation, Indicator};
use coso_domain::report::round2;
use coso_domain::{Catalog, Period, Section, Value};
use serde::{Deserialize, Serialize};

use super::{Ward, WardRow, WardTotals};
use crate::report_json::aggregation_name;
use crate::{Letterhead, period_phrase};

/// One indicator, combined over the wards.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RolledIndicator {
    pub code: String,
    pub group: String,
    pub name: String,
    /// The unit of measure.
    pub unit: String,
    #[serde(rename = "type")]
    pub value_type: &'static str,
    pub aggregate: &'static str,
    /// `null` when no ward gave a value: missing, not zero.
    pub total: Option<Value>,
    /// Wards whose report has a total for it.
    pub wards_reporting: u64,
    /// Units behind those totals.
    pub units_reporting: u64,
    /// Every delivering ward's total; `null` when it gave none.
    pub by_ward: BTreeMap<String, Option<Value>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolledNarrative {
    pub ward: String,
    pub unit: String,
    pub name: String,
    pub section: String,
    pub text: String,
}

/// The roll-up of one period, computed once and rendered by every format.
#[derive(Clone, Debug, PartialEq)]
pub struct Rollup {
    pub period: Period,
    pub subject: String,
    pub report_date: NaiveDate,
    pub catalog_version: u64,
    pub totals: WardTotals,
    pub wards: Vec<WardRow>,
    pub indicators: Vec<RolledIndicator>,
    pub narratives: Vec<RolledNarrative>,
}

fn number(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_number)
}

/// The city total of one indicator over the wards' totals.
pub fn combine(ind: &Indicator, wards: &[Ward]) -> Option<f64> {
    match ind.aggregate {
        Aggregation::Sum | Aggregation::CountYes => {
            let v: Vec<f64> = wards
                .iter()
                .filter_map(|w| number(w.total(&ind.code)))
                .collect();
            (!v.is_empty()).then(|| v.iter().sum())
        }
        Aggregation::Mean => {
            let (mut sum, mut n) = (0.0, 0u64);
            for w in wards {
                if let Some(i) = w.indicator(&ind.code)
                    && let Some(t) = number(i.total.as_ref())
                    && i.units_reporting > 0
                {
                    sum += t * i.units_reporting as f64;
                    n += i.units_reporting as u64;
                }
            }
            (n > 0).then(|| round2(sum / n as f64))
        }
        Aggregation::Rate => {
            let rate = ind.rate.as_ref()?;
            let (mut num, mut den) = (0.0, 0.0);
            for w in wards {
                if let (Some(n), Some(d)) = (
                    number(w.total(&rate.numerator)),
                    number(w.total(&rate.denominator)),
                ) {
                    num += n;
                    den += d;
                }
            }
            (den > 0.0).then(|| round2(100.0 * num / den))
        }
        Aggregation::None => None,
    }
}

/// Combines the wards' reports for the period.
pub fn rollup(
    letterhead: &Letterhead,
    catalog: &Catalog,
    period: &Period,
    wards: &[Ward],
    report_date: NaiveDate,
) -> Rollup {
    let indicators = catalog
        .indicators
        .iter()
        .filter(|i| i.aggregate != Aggregation::None && period.asks_for(&i.code))
        .map(|ind| {
            let given: Vec<&Ward> = wards
                .iter()
                .filter(|w| w.total(&ind.code).is_some())
                .collect();
            RolledIndicator {
                code: ind.code.clone(),
                group: ind.group.clone(),
                name: ind.name.clone(),
                unit: ind.measure.clone(),
                value_type: ind.value_type.as_str(),
                aggregate: aggregation_name(ind.aggregate),
                total: combine(ind, wards).map(Value::Number),
                wards_reporting: given.len() as u64,
                units_reporting: given
                    .iter()
                    .filter_map(|w| w.indicator(&ind.code))
                    .map(|i| i.units_reporting as u64)
                    .sum(),
                by_ward: wards
                    .iter()
                    .map(|w| (w.ward.clone(), w.total(&ind.code).cloned()))
                    .collect(),
            }
        })
        .collect();
    let mut narratives = Vec::new();
    for section in Section::ALL {
        for w in wards {
            for n in &w.report.narratives {
                if n.section == section.as_str() && !n.text.trim().is_empty() {
                    narratives.push(RolledNarrative {
                        ward: w.ward.clone(),
                        unit: n.unit.clone(),
                        name: n.name.clone(),
                        section: n.section.clone(),
                        text: n.text.clone(),
                    });
                }
            }
        }
    }
    Rollup {
        period: period.clone(),
        subject: format!(
            "{} {}",
            letterhead.subject_prefix.trim(),
            period_phrase(period)
        ),
        report_date,
        catalog_version: catalog.version,
        totals: WardTotals::of(wards),
        wards: wards.iter().map(WardRow::of).collect(),
        indicators,
        narratives,
    }
}
