//! The roll-up as files: JSON, CSV, Markdown and XLSX, written through the
//! ward report's writers (`json::pretty`, `csv::Table`, the Markdown tables
//! of `md`, the cells of `xlsx`) so both say a value and lay out a table
//! the same way. What stays the roll-up's own is its columns and words,
//! and three differences its files have always had (kept so their bytes do
//! not change): its Markdown escapes only pipes and line breaks
//! (`md::escape_pipes`), its numbers for people always show up to two
//! decimals without a "%" ([`people`]), and its XLSX cells use the default
//! style with bold heads and no document properties.

use std::collections::BTreeMap;

use chrono::Utc;
use coso_domain::{Lang, PeriodCode, Section, Timeliness, Value, words};
use rust_xlsxwriter::XlsxError;
use serde::{Deserialize, Serialize};

use super::status::vn_time;
use super::{CityError, RolledIndicator, RolledNarrative, Rollup, SCOPE, WardRow, WardTotals};
use crate::md::Align::{Left, Right};
use crate::report_json::required;
use crate::{Format, NO_VALUE, csv, json, md, rfc3339_vn, xlsx, yes_no};

/// `report --wards --format json`, written and read (by the DHIS2 export)
/// with this one type. `by_unit` repeats `by_ward` (at this level the
/// reporting units are the wards), for readers of ward reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RollupJson {
    /// Always "wards".
    pub scope: String,
    pub period: PeriodCode,
    pub title: String,
    pub subject: String,
    pub due: String,
    pub report_date: String,
    pub catalog_version: u64,
    pub wards_reporting: u64,
    pub units_expected: u64,
    pub units_reported: u64,
    pub summary: String,
    pub summary_en: String,
    pub completeness: WardTotals,
    pub wards: Vec<WardRow>,
    pub indicators: Vec<RollupIndicatorJson>,
    pub narratives: Vec<RolledNarrative>,
}

/// One indicator of the roll-up document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RollupIndicatorJson {
    pub code: String,
    pub group: String,
    pub name: String,
    pub unit: String,
    #[serde(rename = "type")]
    pub value_type: String,
    pub aggregate: String,
    #[serde(deserialize_with = "required")]
    pub total: Option<Value>,
    pub wards_reporting: u64,
    pub units_reporting: u64,
    pub by_ward: BTreeMap<String, Option<Value>>,
    pub by_unit: BTreeMap<String, Option<Value>>,
}

impl RollupJson {
    /// Reads a roll-up document; the error names a missing or wrong field.
    pub fn parse(bytes: &[u8]) -> Result<RollupJson, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

impl Rollup {
    pub fn to_json_doc(&self) -> RollupJson {
        RollupJson {
            scope: SCOPE.to_string(),
            period: self.period.code.clone(),
            title: self.period.title.clone(),
            subject: self.subject.clone(),
            due: rfc3339_vn(self.period.due.with_timezone(&Utc)),
            report_date: self.report_date.format("%Y-%m-%d").to_string(),
            catalog_version: self.catalog_version,
            wards_reporting: self.totals.wards,
            units_expected: self.totals.units_expected,
            units_reported: self.totals.units_reported,
            summary: self.totals.sentence(Lang::Vi),
            summary_en: self.totals.sentence(Lang::En),
            completeness: self.totals.clone(),
            wards: self.wards.clone(),
            indicators: self
                .indicators
                .iter()
                .map(|i: &RolledIndicator| RollupIndicatorJson {
                    code: i.code.clone(),
                    group: i.group.clone(),
                    name: i.name.clone(),
                    unit: i.unit.clone(),
                    value_type: i.value_type.to_string(),
                    aggregate: i.aggregate.to_string(),
                    total: i.total.clone(),
                    wards_reporting: i.wards_reporting,
                    units_reporting: i.units_reporting,
                    by_ward: i.by_ward.clone(),
                    by_unit: i.by_ward.clone(),
                })
                .collect(),
            narratives: self.narratives.clone(),
        }
    }

    pub fn to_json(&self) -> Result<Vec<u8>, CityError> {
        json::pretty(&self.to_json_doc(), 128).map_err(|e| CityError::Write(e.to_string()))
    }

    /// One row per indicator: code, group, name, unit, type, aggregate,
    /// total, wards_reporting, units_reporting, then a column per ward (by
    /// name). An empty cell is a missing value, never zero.
    pub fn to_csv(&self) -> Result<Vec<u8>, CityError> {
        let err = |e: ::csv::Error| CityError::Write(e.to_string());
        let mut header: Vec<String> = csv::INDICATOR_COLUMNS.map(String::from).to_vec();
        header.extend(["wards_reporting".into(), "units_reporting".into()]);
        header.extend(self.wards.iter().map(|w| w.ward.clone()));
        let mut w = csv::Table::new(&header).map_err(err)?;
        for i in &self.indicators {
            let mut rec = vec![
                i.code.clone(),
                i.group.clone(),
                i.name.clone(),
                i.unit.clone(),
                i.value_type.to_string(),
                i.aggregate.to_string(),
                csv::value_cell(i.total.as_ref()),
                i.wards_reporting.to_string(),
                i.units_reporting.to_string(),
            ];
            rec.extend(
                self.wards
                    .iter()
                    .map(|w| csv::value_cell(i.by_ward.get(&w.ward).and_then(Option::as_ref))),
            );
            w.row(&rec).map_err(err)?;
        }
        w.finish().map_err(err)
    }

    /// The roll-up for people, in Vietnamese.
    pub fn to_markdown(&self) -> String {
        let esc = md::escape_pipes;
        let mut o = format!(
            "# Tổng hợp báo cáo các phường/xã: {}\n\nKỳ {} — {} — ngày lập {}\n\n{}\n\n",
            esc(&self.subject),
            self.period.code,
            esc(&self.period.title),
            self.report_date.format("%d/%m/%Y"),
            self.totals.sentence(Lang::Vi)
        );
        o.push_str("## Tình hình gửi báo cáo\n\n");
        let timely = [Timeliness::OnTime, Timeliness::Late, Timeliness::Missing]
            .map(|t| words::timeliness_label(t, Lang::Vi));
        md::table_head(
            &mut o,
            ["Phường/xã", "Lần gửi", "Nhận lúc", "Đã báo cáo"]
                .into_iter()
                .chain(timely),
            [Left, Right, Left, Right, Right, Right, Right],
        );
        for w in &self.wards {
            let c = &w.completeness;
            md::table_row(
                &mut o,
                [
                    esc(&w.ward),
                    w.revision.to_string(),
                    vn_time(&w.received_at),
                    format!("{}/{}", c.reported, c.expected),
                    c.on_time.to_string(),
                    c.late.to_string(),
                    c.missing.to_string(),
                ],
            );
        }
        o.push_str("\n## Chỉ tiêu\n\n");
        let mut head = ["Mã", "Chỉ tiêu", "Đơn vị tính", "Tổng"]
            .map(String::from)
            .to_vec();
        head.extend(self.wards.iter().map(|w| esc(&w.ward)));
        let aligns = [Left, Left, Left]
            .into_iter()
            .chain(std::iter::repeat_n(Right, self.wards.len() + 1));
        md::table_head(&mut o, head, aligns);
        for i in &self.indicators {
            let mut cells = vec![
                i.code.clone(),
                esc(&i.name),
                esc(&i.unit),
                people(i.total.as_ref()),
            ];
            cells.extend(
                self.wards
                    .iter()
                    .map(|w| people(i.by_ward.get(&w.ward).and_then(Option::as_ref))),
            );
            md::table_row(&mut o, cells);
        }
        for section in Section::ALL {
            let of: Vec<_> = self
                .narratives
                .iter()
                .filter(|n| n.section == section.as_str())
                .collect();
            if of.is_empty() {
                continue;
            }
            o.push_str(&format!("\n## {}\n\n", section.heading_vi()));
            for n in of {
                o.push_str(&format!(
                    "- **{} — {}**: {}\n",
                    esc(&n.ward),
                    esc(&n.name),
                    esc(&n.text)
                ));
            }
        }
        o
    }

    /// Sheets "Tổng hợp" (a row per indicator, the total and a column per
    /// ward) and "Tình hình báo cáo" (a row per ward). Numbers are numbers;
    /// a missing value is an empty cell.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, CityError> {
        self.write_xlsx()
            .map_err(|e: XlsxError| CityError::Write(e.to_string()))
    }

    fn write_xlsx(&self) -> Result<Vec<u8>, XlsxError> {
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let bold = Some(&bold);
        // Default cells throughout; text as it came from the wards.
        let plain = xlsx::ValueLook::default();
        let mut wb = xlsx::workbook(None);
        let s = wb.add_worksheet();
        s.set_name("Tổng hợp")?;
        xlsx::write_text(s, 0, 0, &self.subject, bold)?;
        xlsx::write_text(s, 1, 0, &self.totals.sentence(Lang::Vi), None)?;
        let head = ["Mã", "Chỉ tiêu", "Đơn vị tính", "Tổng"]
            .into_iter()
            .chain(self.wards.iter().map(|w| w.ward.as_str()));
        xlsx::write_row(s, 3, 0, head, bold)?;
        for (r, i) in self.indicators.iter().enumerate() {
            let row = 4 + r as u32;
            xlsx::write_row(s, row, 0, [&i.code, &i.name, &i.unit], None)?;
            let values = std::iter::once(i.total.as_ref()).chain(
                self.wards
                    .iter()
                    .map(|w| i.by_ward.get(&w.ward).and_then(Option::as_ref)),
            );
            for (c, v) in values.enumerate() {
                xlsx::write_value(s, row, 3 + c as u16, v, &plain)?;
            }
        }
        let s = wb.add_worksheet();
        s.set_name("Tình hình báo cáo")?;
        let head = ["Phường/xã", "Lần gửi", "Nhận lúc", "Dự kiến", "Đã báo cáo"]
            .into_iter()
            .chain(
                [Timeliness::OnTime, Timeliness::Late, Timeliness::Missing]
                    .map(|t| words::timeliness_label(t, Lang::Vi)),
            );
        xlsx::write_row(s, 0, 0, head, bold)?;
        for (r, w) in self.wards.iter().enumerate() {
            let row = 1 + r as u32;
            let c = &w.completeness;
            xlsx::write_text(s, row, 0, &w.ward, None)?;
            xlsx::write_number(s, row, 1, w.revision as f64, None)?;
            xlsx::write_text(s, row, 2, &vn_time(&w.received_at), None)?;
            for (k, n) in [c.expected, c.reported, c.on_time, c.late, c.missing]
                .into_iter()
                .enumerate()
            {
                xlsx::write_number(s, row, 3 + k as u16, n as f64, None)?;
            }
        }
        wb.save_to_buffer()
    }

    pub fn render(&self, format: Format) -> Result<Vec<u8>, CityError> {
        match format {
            Format::Json => self.to_json(),
            Format::Csv => self.to_csv(),
            Format::Md => Ok(self.to_markdown().into_bytes()),
            Format::Xlsx => self.to_xlsx(),
            // Needs more than the roll-up (the wards, the catalog, the
            // letterhead): `CityDocx`.
            Format::Docx => Err(CityError::Format("docx")),
        }
    }
}

/// A value for people in the roll-up's Markdown: numbers the Vietnamese
/// way with up to two decimals (and no "%": the roll-up has always written
/// them so, unlike the ward's `format_number`), yes/no as "Có"/"Không", a
/// missing value as a dash.
fn people(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => coso_domain::value::format_vi(*n, 2),
        Some(Value::Bool(b)) => yes_no(*b).into(),
        Some(Value::Text(t)) => t.clone(),
        None => NO_VALUE.into(),
    }
}

impl RollupJson {
    /// The DHIS2 export of the roll-up: each ward's totals under its own
    /// organisation unit (the rules are in `crate::dhis2`).
    pub fn to_dhis2(
        &self,
        m: &crate::dhis2::Mapping,
    ) -> Result<crate::dhis2::Export, crate::dhis2::Dhis2Error> {
        crate::dhis2::wards(
            &self.period,
            &self.report_date,
            self.indicators
                .iter()
                .map(|i| (i.code.as_str(), &i.by_ward)),
            m,
        )
    }
}
