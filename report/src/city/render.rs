//! The roll-up as files: JSON, CSV, Markdown and XLSX.

use std::collections::BTreeMap;

use chrono::Utc;
use coso_domain::{Lang, PeriodCode, Section, Value};
use serde::{Deserialize, Serialize};

use super::status::vn_time;
use super::{CityError, RolledIndicator, RolledNarrative, Rollup, SCOPE, WardRow, WardTotals};
use crate::report_json::required;
use crate::{Format, machine_number, rfc3339_vn};

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
        let mut out = serde_json::to_vec_pretty(&self.to_json_doc())
            .map_err(|e| CityError::Write(e.to_string()))?;
        out.push(b'\n');
        Ok(out)
    }

    /// One row per indicator: code, group, name, unit, type, aggregate,
    /// total, wards_reporting, units_reporting, then a column per ward (by
    /// name). An empty cell is a missing value, never zero.
    pub fn to_csv(&self) -> Result<Vec<u8>, CityError> {
        let err = |e: ::csv::Error| CityError::Write(e.to_string());
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
            "wards_reporting",
            "units_reporting",
        ]
        .map(String::from)
        .to_vec();
        header.extend(self.wards.iter().map(|w| w.ward.clone()));
        w.write_record(&header).map_err(err)?;
        for i in &self.indicators {
            let mut rec = vec![
                i.code.clone(),
                i.group.clone(),
                i.name.clone(),
                i.unit.clone(),
                i.value_type.to_string(),
                i.aggregate.to_string(),
                cell(i.total.as_ref()),
                i.wards_reporting.to_string(),
                i.units_reporting.to_string(),
            ];
            rec.extend(
                self.wards
                    .iter()
                    .map(|w| cell(i.by_ward.get(&w.ward).and_then(Option::as_ref))),
            );
            w.write_record(&rec).map_err(err)?;
        }
        w.into_inner()
            .map_err(|e| CityError::Write(e.into_error().to_string()))
    }

    /// The roll-up for people, in Vietnamese.
    pub fn to_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|").replace(['\n', '\r'], " ");
        let mut o = format!(
            "# Tổng hợp báo cáo các phường/xã: {}\n\nKỳ {} — {} — ngày lập {}\n\n{}\n\n",
            esc(&self.subject),
            self.period.code,
            esc(&self.period.title),
            self.report_date.format("%d/%m/%Y"),
            self.totals.sentence(Lang::Vi)
        );
        o.push_str("## Tình hình gửi báo cáo\n\n| Phường/xã | Lần gửi | Nhận lúc | Đã báo cáo | Đúng hạn | Muộn | Chưa báo cáo |\n|---|---:|---|---:|---:|---:|---:|\n");
        for w in &self.wards {
            let c = &w.completeness;
            o.push_str(&format!(
                "| {} | {} | {} | {}/{} | {} | {} | {} |\n",
                esc(&w.ward),
                w.revision,
                vn_time(&w.received_at),
                c.reported,
                c.expected,
                c.on_time,
                c.late,
                c.missing
            ));
        }
        o.push_str("\n## Chỉ tiêu\n\n| Mã | Chỉ tiêu | Đơn vị tính | Tổng |");
        for w in &self.wards {
            o.push_str(&format!(" {} |", esc(&w.ward)));
        }
        o.push_str("\n|---|---|---|---:|");
        o.push_str(&"---:|".repeat(self.wards.len()));
        o.push('\n');
        for i in &self.indicators {
            o.push_str(&format!(
                "| {} | {} | {} | {} |",
                i.code,
                esc(&i.name),
                esc(&i.unit),
                people(i.total.as_ref())
            ));
            for w in &self.wards {
                o.push_str(&format!(
                    " {} |",
                    people(i.by_ward.get(&w.ward).and_then(Option::as_ref))
                ));
            }
            o.push('\n');
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
        use rust_xlsxwriter::{Format as Fmt, Workbook};
        let err = |e: rust_xlsxwriter::XlsxError| CityError::Write(e.to_string());
        let bold = Fmt::new().set_bold();
        let mut wb = Workbook::new();
        let s = wb.add_worksheet();
        s.set_name("Tổng hợp").map_err(err)?;
        s.write_string_with_format(0, 0, &self.subject, &bold)
            .map_err(err)?;
        s.write_string(1, 0, self.totals.sentence(Lang::Vi))
            .map_err(err)?;
        let mut head = vec!["Mã", "Chỉ tiêu", "Đơn vị tính", "Tổng"];
        head.extend(self.wards.iter().map(|w| w.ward.as_str()));
        for (c, h) in head.iter().enumerate() {
            s.write_string_with_format(3, c as u16, *h, &bold)
                .map_err(err)?;
        }
        for (r, i) in self.indicators.iter().enumerate() {
            let row = 4 + r as u32;
            s.write_string(row, 0, &i.code).map_err(err)?;
            s.write_string(row, 1, &i.name).map_err(err)?;
            s.write_string(row, 2, &i.unit).map_err(err)?;
            let values = std::iter::once(i.total.as_ref()).chain(
                self.wards
                    .iter()
                    .map(|w| i.by_ward.get(&w.ward).and_then(Option::as_ref)),
            );
            for (c, v) in values.enumerate() {
                let col = 3 + c as u16;
                match v {
                    Some(Value::Number(n)) => {
                        s.write_number(row, col, *n).map_err(err)?;
                    }
                    Some(Value::Bool(b)) => {
                        s.write_number(row, col, if *b { 1.0 } else { 0.0 })
                            .map_err(err)?;
                    }
                    Some(Value::Text(t)) => {
                        s.write_string(row, col, t).map_err(err)?;
                    }
                    None => {}
                }
            }
        }
        let s = wb.add_worksheet();
        s.set_name("Tình hình báo cáo").map_err(err)?;
        let head = [
            "Phường/xã",
            "Lần gửi",
            "Nhận lúc",
            "Dự kiến",
            "Đã báo cáo",
            "Đúng hạn",
            "Muộn",
            "Chưa báo cáo",
        ];
        for (c, h) in head.iter().enumerate() {
            s.write_string_with_format(0, c as u16, *h, &bold)
                .map_err(err)?;
        }
        for (r, w) in self.wards.iter().enumerate() {
            let row = 1 + r as u32;
            let c = &w.completeness;
            s.write_string(row, 0, &w.ward).map_err(err)?;
            s.write_number(row, 1, w.revision as f64).map_err(err)?;
            s.write_string(row, 2, vn_time(&w.received_at))
                .map_err(err)?;
            for (k, n) in [c.expected, c.reported, c.on_time, c.late, c.missing]
                .into_iter()
                .enumerate()
            {
                s.write_number(row, 3 + k as u16, n as f64).map_err(err)?;
            }
        }
        wb.save_to_buffer().map_err(err)
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

fn cell(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => machine_number(*n),
        Some(Value::Bool(b)) => if *b { "1" } else { "0" }.to_string(),
        Some(Value::Text(t)) => t.clone(),
        None => String::new(),
    }
}

fn people(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => coso_domain::value::format_vi(*n, 2),
        Some(Value::Bool(true)) => "Có".into(),
        Some(Value::Bool(false)) => "Không".into(),
        Some(Value::Text(t)) => t.clone(),
        None => "—".into(),
    }
}

impl RollupJson {
    /// The DHIS2 export of the roll-up: each ward's totals under its own
    /// organisation unit (the rules are in `compile::dhis2`).
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
