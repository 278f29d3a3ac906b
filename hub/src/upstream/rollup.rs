//! The city-level roll-up (one level of federation): `status` and `report`
//! of a hub that receives ward hubs' reports combine the latest revision of
//! each ward's JSON report for the period. Everything here is a pure
//! function over the parsed reports and the catalog, except [`load`], the
//! one function that reads them from the store.
//!
//! How indicators combine (the city hub's catalog decides, not the ward's
//! JSON): `sum` and `count-yes` add the ward totals; `rate` is recomputed as
//! 100 × Σ numerator total / Σ denominator total over the wards that gave
//! both; `mean` is weighted by each ward's `units_reporting`; `none` (text)
//! is left out. A ward that gave no value stays `null` in `by_ward`, and a
//! total over no values is `null`: missing is never zero.
//!
//! DOCX is not produced at this level (the city office writes its own
//! letter); JSON, CSV, Markdown and XLSX are.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use coso_proto::domain::calendar::vietnam;
use coso_proto::domain::catalog::{Aggregation, Indicator};
use coso_proto::domain::report::round2;
use coso_proto::{Catalog, Lang, Period, PeriodCode, Section, Value};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::compile::{Format, Letterhead, machine_number, period_phrase, rfc3339_vn};
use crate::store::outbox::Received;
use crate::store::{Store, StoreError};

/// `scope` of a roll-up document, so readers can tell it from a ward's.
pub const SCOPE: &str = "wards";

#[derive(Debug, Error)]
pub enum RollupError {
    #[error("the report received from {ward} (revision {revision}) is not a ward report: {reason}")]
    BadReport {
        ward: String,
        revision: u64,
        reason: String,
    },
    #[error("the report received from {ward} (revision {revision}) is kept without its content")]
    NoPayload { ward: String, revision: u64 },
    #[error("no ward hub has delivered a report for {0}")]
    NothingReceived(PeriodCode),
    #[error("a roll-up of the wards is not made as {0}: use xlsx, json, csv or md")]
    Format(&'static str),
    #[error("the roll-up could not be written: {0}")]
    Write(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RollupError {
    pub fn message_vi(&self) -> String {
        match self {
            RollupError::BadReport {
                ward,
                revision,
                reason,
            } => format!(
                "báo cáo nhận từ {ward} (lần gửi {revision}) không đúng định dạng báo cáo phường: {reason}"
            ),
            RollupError::NoPayload { ward, revision } => {
                format!("báo cáo nhận từ {ward} (lần gửi {revision}) thiếu nội dung")
            }
            RollupError::NothingReceived(p) => {
                format!("chưa có phường/xã nào gửi báo cáo kỳ {p}")
            }
            RollupError::Format(f) => format!(
                "không lập báo cáo tổng hợp các phường/xã dạng {f}: dùng xlsx, json, csv hoặc md"
            ),
            RollupError::Write(e) => format!("không ghi được báo cáo tổng hợp: {e}"),
            RollupError::Store(_) => "lỗi cơ sở dữ liệu của máy chủ".into(),
        }
    }
}

// ---------------------------------------------------------------------------
// The ward report as received (the fields of `report --format json` used here)
// ---------------------------------------------------------------------------

/// A ward's completeness; every field defaults so an older ward still reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WardCompleteness {
    pub expected: u64,
    pub reported: u64,
    pub on_time: u64,
    pub late: u64,
    pub missing: u64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct WardIndicator {
    pub code: String,
    pub total: Option<Value>,
    pub units_reporting: u64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct WardNarrative {
    pub unit: String,
    pub name: String,
    pub section: String,
    pub text: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct WardReport {
    pub period: String,
    pub units_expected: u64,
    pub units_reported: u64,
    pub completeness: Option<WardCompleteness>,
    pub indicators: Vec<WardIndicator>,
    pub narratives: Vec<WardNarrative>,
}

/// One ward's latest revision for the period, parsed.
#[derive(Clone, Debug)]
pub struct Ward {
    pub ward: String,
    pub revision: u64,
    pub received_at: DateTime<Utc>,
    pub content_sha256: String,
    pub report: WardReport,
}

impl Ward {
    /// Parses a received report's JSON.
    pub fn parse(r: &Received, report_json: &[u8]) -> Result<Ward, RollupError> {
        let bad = |reason: String| RollupError::BadReport {
            ward: r.ward.clone(),
            revision: r.revision,
            reason,
        };
        let report: WardReport =
            serde_json::from_slice(report_json).map_err(|e| bad(e.to_string()))?;
        if report.period != r.period.to_string() {
            return Err(bad(format!(
                "its period is {:?}, not {}",
                report.period, r.period
            )));
        }
        Ok(Ward {
            ward: r.ward.clone(),
            revision: r.revision,
            received_at: r.received_at,
            content_sha256: r.content_sha256.clone(),
            report,
        })
    }

    pub fn completeness(&self) -> WardCompleteness {
        self.report
            .completeness
            .clone()
            .unwrap_or_else(|| WardCompleteness {
                expected: self.report.units_expected,
                reported: self.report.units_reported,
                missing: self
                    .report
                    .units_expected
                    .saturating_sub(self.report.units_reported),
                ..WardCompleteness::default()
            })
    }

    fn indicator(&self, code: &str) -> Option<&WardIndicator> {
        self.report.indicators.iter().find(|i| i.code == code)
    }

    fn total(&self, code: &str) -> Option<&Value> {
        self.indicator(code)?.total.as_ref()
    }
}

/// The latest revision of each ward's report for `period` (a later receive
/// breaks a tie), by ward name.
pub fn latest(received: &[Received], period: &PeriodCode) -> Vec<Received> {
    let mut by_ward: BTreeMap<&str, &Received> = BTreeMap::new();
    for r in received.iter().filter(|r| &r.period == period) {
        let newer = by_ward
            .get(r.ward.as_str())
            .is_none_or(|b| (r.revision, r.received_at) > (b.revision, b.received_at));
        if newer {
            by_ward.insert(&r.ward, r);
        }
    }
    by_ward.into_values().cloned().collect()
}

/// Reads the latest revision of every ward's report for `period`.
pub fn load(store: &Store, period: &PeriodCode) -> Result<Vec<Ward>, RollupError> {
    latest(&store.received_all()?, period)
        .iter()
        .map(|r| {
            let p = store.received_payload(&r.idempotency_key)?.ok_or_else(|| {
                RollupError::NoPayload {
                    ward: r.ward.clone(),
                    revision: r.revision,
                }
            })?;
            Ward::parse(r, &p.report_json)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------

/// The units of every delivering ward, added up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WardTotals {
    /// Wards that delivered a report for the period.
    pub wards: u64,
    pub units_expected: u64,
    pub units_reported: u64,
    pub on_time: u64,
    pub late: u64,
    pub missing: u64,
}

impl WardTotals {
    fn of(wards: &[Ward]) -> WardTotals {
        let mut t = WardTotals {
            wards: wards.len() as u64,
            ..WardTotals::default()
        };
        for w in wards {
            let c = w.completeness();
            t.units_expected += c.expected;
            t.units_reported += c.reported;
            t.on_time += c.on_time;
            t.late += c.late;
            t.missing += c.missing;
        }
        t
    }

    /// "2 phường/xã đã gửi báo cáo; 5/7 đơn vị đã báo cáo, 4 đúng hạn, 1 muộn, 2 chưa báo cáo".
    pub fn sentence(&self, lang: Lang) -> String {
        match lang {
            Lang::Vi => format!(
                "{} phường/xã đã gửi báo cáo; {}/{} đơn vị đã báo cáo, {} đúng hạn, {} muộn, {} chưa báo cáo",
                self.wards,
                self.units_reported,
                self.units_expected,
                self.on_time,
                self.late,
                self.missing
            ),
            Lang::En => format!(
                "{} ward(s) have delivered; {}/{} units have reported, {} on time, {} late, {} not reported",
                self.wards,
                self.units_reported,
                self.units_expected,
                self.on_time,
                self.late,
                self.missing
            ),
        }
    }
}

/// One delivering ward in `status --wards`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WardRow {
    pub ward: String,
    pub revision: u64,
    /// When this hub received the revision, RFC 3339 in Vietnam time.
    pub received_at: String,
    pub content_sha256: String,
    /// The ward's own completeness, as its report states it.
    pub completeness: WardCompleteness,
}

impl WardRow {
    fn of(w: &Ward) -> WardRow {
        WardRow {
            ward: w.ward.clone(),
            revision: w.revision,
            received_at: rfc3339_vn(w.received_at),
            content_sha256: w.content_sha256.clone(),
            completeness: w.completeness(),
        }
    }
}

/// `coso-hub status --wards --json`: totals first, then every ward that
/// delivered for the period. `units` is empty (a city hub has no units of
/// its own) and kept for readers of the ward-level document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WardsStatus {
    /// Always "wards".
    pub scope: String,
    pub period: PeriodCode,
    pub title: String,
    /// The deadline, RFC 3339 in Vietnam time.
    pub due: String,
    pub summary: String,
    pub summary_en: String,
    pub totals: WardTotals,
    pub wards: Vec<WardRow>,
    pub units: Vec<serde_json::Value>,
}

/// Who has delivered for the period, with each ward's own completeness.
pub fn status(period: &Period, wards: &[Ward]) -> WardsStatus {
    let totals = WardTotals::of(wards);
    WardsStatus {
        scope: SCOPE.into(),
        period: period.code.clone(),
        title: period.title.clone(),
        due: rfc3339_vn(period.due.with_timezone(&Utc)),
        summary: totals.sentence(Lang::Vi),
        summary_en: totals.sentence(Lang::En),
        totals,
        wards: wards.iter().map(WardRow::of).collect(),
        units: Vec::new(),
    }
}

fn vn_time(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&vietnam())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

impl WardsStatus {
    /// The status for people: the period, the sentence, one line per ward.
    pub fn to_text(&self, lang: Lang) -> String {
        let mut out = match lang {
            Lang::Vi => format!(
                "Kỳ {} — {} — tổng hợp các phường/xã (hạn {})\n",
                self.period,
                self.title,
                vn_time(&self.due)
            ),
            Lang::En => format!(
                "Period {} — {} — roll-up of the wards (due {})\n",
                self.period,
                self.title,
                vn_time(&self.due)
            ),
        };
        out.push_str(match lang {
            Lang::Vi => &self.summary,
            Lang::En => &self.summary_en,
        });
        out.push('\n');
        if self.wards.is_empty() {
            return out;
        }
        out.push('\n');
        let head: [&str; 7] = match lang {
            Lang::Vi => [
                "PHƯỜNG/XÃ",
                "LẦN GỬI",
                "NHẬN LÚC",
                "ĐÃ BÁO CÁO",
                "ĐÚNG HẠN",
                "MUỘN",
                "CHƯA BÁO CÁO",
            ],
            Lang::En => [
                "WARD", "REVISION", "RECEIVED", "REPORTED", "ON TIME", "LATE", "MISSING",
            ],
        };
        let mut rows: Vec<[String; 7]> = vec![head.map(String::from)];
        for w in &self.wards {
            let c = &w.completeness;
            rows.push([
                w.ward.clone(),
                w.revision.to_string(),
                vn_time(&w.received_at),
                format!("{}/{}", c.reported, c.expected),
                c.on_time.to_string(),
                c.late.to_string(),
                c.missing.to_string(),
            ]);
        }
        let mut widths = [0usize; 7];
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        for r in &rows {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                line.push_str(c);
                if i + 1 < r.len() {
                    line.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

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

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

fn aggregation_name(a: Aggregation) -> &'static str {
    match a {
        Aggregation::Sum => "sum",
        Aggregation::CountYes => "count-yes",
        Aggregation::Rate => "rate",
        Aggregation::Mean => "mean",
        Aggregation::None => "none",
    }
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
                    n += i.units_reporting;
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
                    .map(|i| i.units_reporting)
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

/// `report --wards --format json`. `by_unit` repeats `by_ward` (at this
/// level the reporting units are the wards), for readers of ward reports.
#[derive(Serialize)]
struct JsonReport<'a> {
    scope: &'static str,
    period: String,
    title: &'a str,
    subject: &'a str,
    due: String,
    report_date: String,
    catalog_version: u64,
    wards_reporting: u64,
    units_expected: u64,
    units_reported: u64,
    summary: String,
    summary_en: String,
    completeness: &'a WardTotals,
    wards: &'a [WardRow],
    indicators: Vec<JsonIndicator<'a>>,
    narratives: &'a [RolledNarrative],
}

#[derive(Serialize)]
struct JsonIndicator<'a> {
    #[serde(flatten)]
    ind: &'a RolledIndicator,
    by_unit: &'a BTreeMap<String, Option<Value>>,
}

impl Rollup {
    pub fn to_json(&self) -> Result<Vec<u8>, RollupError> {
        let r = JsonReport {
            scope: SCOPE,
            period: self.period.code.to_string(),
            title: &self.period.title,
            subject: &self.subject,
            due: rfc3339_vn(self.period.due.with_timezone(&Utc)),
            report_date: self.report_date.format("%Y-%m-%d").to_string(),
            catalog_version: self.catalog_version,
            wards_reporting: self.totals.wards,
            units_expected: self.totals.units_expected,
            units_reported: self.totals.units_reported,
            summary: self.totals.sentence(Lang::Vi),
            summary_en: self.totals.sentence(Lang::En),
            completeness: &self.totals,
            wards: &self.wards,
            indicators: self
                .indicators
                .iter()
                .map(|ind| JsonIndicator {
                    ind,
                    by_unit: &ind.by_ward,
                })
                .collect(),
            narratives: &self.narratives,
        };
        let mut out =
            serde_json::to_vec_pretty(&r).map_err(|e| RollupError::Write(e.to_string()))?;
        out.push(b'\n');
        Ok(out)
    }

    /// One row per indicator: code, group, name, unit, type, aggregate,
    /// total, wards_reporting, units_reporting, then a column per ward (by
    /// name). An empty cell is a missing value, never zero.
    pub fn to_csv(&self) -> Result<Vec<u8>, RollupError> {
        let err = |e: ::csv::Error| RollupError::Write(e.to_string());
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
            .map_err(|e| RollupError::Write(e.into_error().to_string()))
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
    pub fn to_xlsx(&self) -> Result<Vec<u8>, RollupError> {
        use rust_xlsxwriter::{Format as Fmt, Workbook};
        let err = |e: rust_xlsxwriter::XlsxError| RollupError::Write(e.to_string());
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

    pub fn render(&self, format: Format) -> Result<Vec<u8>, RollupError> {
        match format {
            Format::Json => self.to_json(),
            Format::Csv => self.to_csv(),
            Format::Md => Ok(self.to_markdown().into_bytes()),
            Format::Xlsx => self.to_xlsx(),
            Format::Docx => Err(RollupError::Format("docx")),
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
        Some(Value::Number(n)) => coso_proto::domain::value::format_vi(*n, 2),
        Some(Value::Bool(true)) => "Có".into(),
        Some(Value::Bool(false)) => "Không".into(),
        Some(Value::Text(t)) => t.clone(),
        None => "—".into(),
    }
}

#[cfg(test)]
mod tests {
    use coso_proto::Calendar;
    use serde_json::json;

    use super::*;

    fn h1() -> Period {
        Calendar::builtin()
            .period(&"2026-H1".parse().unwrap())
            .unwrap()
    }

    fn received(ward: &str, revision: u64, minute: u32) -> Received {
        Received {
            idempotency_key: format!("{ward}-{revision}"),
            ward: ward.into(),
            period: "2026-H1".parse().unwrap(),
            revision,
            content_sha256: format!("c{revision}"),
            received_at: format!("2026-06-01T08:{minute:02}:00Z").parse().unwrap(),
            bytes: 1,
        }
    }

    fn ind(code: &str, total: serde_json::Value, units: u64) -> serde_json::Value {
        json!({"code": code, "name": "x", "unit": "x", "type": "count", "aggregate": "sum",
               "total": total, "units_reporting": units, "by_kind": {}, "by_unit": {}})
    }

    /// Two wards with known totals: Gia Viên (3 of 4 units reported) and
    /// Lê Lợi (2 of 2, one late), which left CK01/CK02 empty.
    fn wards() -> Vec<Ward> {
        let gia_vien = json!({
            "period": "2026-H1", "units_expected": 4, "units_reported": 3,
            "completeness": {"expected": 4, "reported": 3, "on_time": 3, "late": 0, "missing": 1},
            "indicators": [
                ind("TT01", json!(10), 3),
                ind("CK01", json!(40), 2),
                ind("CK02", json!(30), 2),
                ind("CK03", json!(75), 2),
                ind("DG01", json!(8), 3),
                ind("GS01", json!(2), 3),
                ind("DG03", json!(null), 0),
            ],
            "narratives": [{"unit": "TDP1", "name": "Tổ 1", "section": "proposals", "text": "Xin kinh phí"},
                           {"unit": "TDP2", "name": "Tổ 2", "section": "results", "text": "Tốt"}],
        });
        let le_loi = json!({
            "period": "2026-H1", "units_expected": 2, "units_reported": 2,
            "completeness": {"expected": 2, "reported": 2, "on_time": 1, "late": 1, "missing": 0},
            "indicators": [
                ind("TT01", json!(5), 2),
                ind("CK01", json!(null), 0),
                ind("CK03", json!(null), 0),
                ind("DG01", json!(5), 1),
                ind("GS01", json!(1), 2),
            ],
            "narratives": [{"unit": "VP", "name": "Văn phòng", "section": "results", "text": "Đạt"}],
        });
        vec![
            Ward::parse(
                &received("Phường Gia Viên", 2, 5),
                gia_vien.to_string().as_bytes(),
            )
            .unwrap(),
            Ward::parse(
                &received("Phường Lê Lợi", 1, 7),
                le_loi.to_string().as_bytes(),
            )
            .unwrap(),
        ]
    }

    fn rolled(r: &Rollup, code: &str) -> RolledIndicator {
        r.indicators
            .iter()
            .find(|i| i.code == code)
            .unwrap()
            .clone()
    }

    #[test]
    fn totals_follow_each_aggregation_and_missing_stays_null() {
        let catalog = Catalog::builtin();
        let day = NaiveDate::from_ymd_opt(2026, 6, 4).unwrap();
        let r = rollup(&Letterhead::default(), &catalog, &h1(), &wards(), day);

        // sum: the ward totals added.
        let tt = rolled(&r, "TT01");
        assert_eq!(tt.total, Some(Value::Number(15.0)));
        assert_eq!((tt.wards_reporting, tt.units_reporting), (2, 5));
        assert_eq!(tt.by_ward["Phường Lê Lợi"], Some(Value::Number(5.0)));
        // One ward left it empty: null there, the total over the other.
        let ck = rolled(&r, "CK01");
        assert_eq!(ck.total, Some(Value::Number(40.0)));
        assert_eq!(ck.by_ward["Phường Lê Lợi"], None);
        assert_eq!(ck.wards_reporting, 1);
        // rate: recomputed from the numerator and denominator totals.
        assert_eq!(rolled(&r, "CK03").total, Some(Value::Number(75.0)));
        // mean: weighted by units reporting, (8×3 + 5×1) / 4.
        assert_eq!(rolled(&r, "DG01").total, Some(Value::Number(7.25)));
        // count-yes: the yes counts added.
        assert_eq!(rolled(&r, "GS01").total, Some(Value::Number(3.0)));
        // Nobody gave it: null, never zero; every ward listed as null.
        let none = rolled(&r, "YK04");
        assert_eq!(none.total, None);
        assert_eq!(none.wards_reporting, 0);
        assert_eq!(none.by_ward.len(), 2);
        assert!(none.by_ward.values().all(Option::is_none));
        // Text indicators (aggregate none) are left out.
        assert!(r.indicators.iter().all(|i| i.code != "DG03"));

        assert_eq!(
            r.totals,
            WardTotals {
                wards: 2,
                units_expected: 6,
                units_reported: 5,
                on_time: 4,
                late: 1,
                missing: 1
            }
        );
        // Narratives by section, then ward.
        let n: Vec<_> = r
            .narratives
            .iter()
            .map(|n| (n.section.as_str(), n.ward.as_str(), n.unit.as_str()))
            .collect();
        assert_eq!(
            n,
            vec![
                ("results", "Phường Gia Viên", "TDP2"),
                ("results", "Phường Lê Lợi", "VP"),
                ("proposals", "Phường Gia Viên", "TDP1"),
            ]
        );
    }

    #[test]
    fn a_rate_needs_both_parts_from_the_same_ward() {
        let catalog = Catalog::builtin();
        let ck03 = catalog.indicator("CK03").unwrap();
        let mut w = wards();
        // Lê Lợi now gives 10 of 10: (30 + 10) / (40 + 10).
        w[1].report.indicators = vec![
            WardIndicator {
                code: "CK01".into(),
                total: Some(Value::Number(10.0)),
                units_reporting: 1,
            },
            WardIndicator {
                code: "CK02".into(),
                total: Some(Value::Number(10.0)),
                units_reporting: 1,
            },
        ];
        assert_eq!(combine(ck03, &w), Some(80.0));
        // A numerator without its denominator does not count.
        w[1].report.indicators.remove(0);
        assert_eq!(combine(ck03, &w), Some(75.0));
        w.remove(0);
        assert_eq!(combine(ck03, &w), None);
    }

    #[test]
    fn only_the_latest_revision_of_each_ward_counts() {
        let period: PeriodCode = "2026-H1".parse().unwrap();
        let mut other = received("Phường Gia Viên", 9, 0);
        other.period = "2026-M9".parse().unwrap();
        let all = vec![
            received("Phường Lê Lợi", 1, 1),
            received("Phường Gia Viên", 2, 3),
            received("Phường Gia Viên", 1, 2),
            other,
        ];
        let got: Vec<_> = latest(&all, &period)
            .into_iter()
            .map(|r| (r.ward, r.revision))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Phường Gia Viên".to_string(), 2),
                ("Phường Lê Lợi".to_string(), 1)
            ]
        );
        // A report whose JSON names another period is refused.
        let e = Ward::parse(&received("X", 1, 0), br#"{"period":"2026-M9"}"#).unwrap_err();
        assert!(matches!(e, RollupError::BadReport { .. }), "{e}");
        assert!(Ward::parse(&received("X", 1, 0), b"[1]").is_err());
    }

    #[test]
    fn status_and_outputs_are_deterministic() {
        let s = status(&h1(), &wards());
        assert_eq!(s.scope, "wards");
        assert!(
            s.summary
                .starts_with("2 phường/xã đã gửi báo cáo; 5/6 đơn vị đã báo cáo"),
            "{}",
            s.summary
        );
        assert_eq!(s.wards[0].ward, "Phường Gia Viên");
        assert_eq!(s.wards[0].revision, 2);
        assert_eq!(s.wards[1].completeness.late, 1);
        let text = s.to_text(Lang::Vi);
        assert!(
            text.contains("Phường Lê Lợi") && text.contains("2/2"),
            "{text}"
        );
        let back: WardsStatus = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);

        let catalog = Catalog::builtin();
        let day = NaiveDate::from_ymd_opt(2026, 6, 4).unwrap();
        let r = rollup(&Letterhead::default(), &catalog, &h1(), &wards(), day);
        let json = r.render(Format::Json).unwrap();
        assert_eq!(json, r.render(Format::Json).unwrap());
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["units_expected"], 6);
        assert_eq!(v["wards_reporting"], 2);
        let ck = v["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "CK01")
            .unwrap();
        assert_eq!(ck["total"], 40);
        assert_eq!(ck["by_ward"]["Phường Lê Lợi"], serde_json::Value::Null);
        assert_eq!(ck["by_unit"], ck["by_ward"]);

        let csv = String::from_utf8(r.render(Format::Csv).unwrap()).unwrap();
        let mut lines = csv.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .ends_with(",Phường Gia Viên,Phường Lê Lợi")
        );
        assert!(csv.contains("\r\nCK01,"), "{csv}");
        assert!(
            csv.lines()
                .any(|l| l.starts_with("CK01,") && l.ends_with(",40,1,2,40,")),
            "{csv}"
        );
        let md = String::from_utf8(r.render(Format::Md).unwrap()).unwrap();
        assert!(
            md.contains("| CK01 |") && md.contains("Xin kinh phí"),
            "{md}"
        );
        assert!(r.render(Format::Xlsx).unwrap().starts_with(b"PK"));
        assert!(matches!(
            r.render(Format::Docx),
            Err(RollupError::Format("docx"))
        ));
    }
}
