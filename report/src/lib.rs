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

pub mod adx;
pub mod city;
mod csv;
pub mod dhis2;
pub mod docx;
mod json;
mod md;
pub mod report_json;
pub mod synthesis;
mod xlsx;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use coso_domain::calendar::vietnam;
use coso_domain::catalog::{Aggregation, Indicator, ValueType};
use coso_domain::report::Tally;
use coso_domain::value::format_vi;
use coso_domain::{
    Catalog, Lang, Period, PeriodCode, ReportState, Section, SubmittedReport, Timeliness, Unit,
    UnitCode, UnitKind, Value,
};
use serde::{Deserialize, Serialize};

/// The words of the report's letterhead, signature block and distribution
/// list. Part of the hub config (`[letterhead]` in hub.toml); every field has
/// the default of UBND phường Gia Viên reporting to Sở Nội vụ Hải Phòng.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Letterhead {
    /// First line of the left header block, e.g. "ỦY BAN NHÂN DÂN".
    pub issuer_parent: String,
    /// Second line: the issuing body, e.g. "PHƯỜNG GIA VIÊN".
    pub issuer: String,
    /// Whether the first line is bold too. For a People's Committee the two
    /// lines are one body's name and both are bold; set false when the first
    /// line is a separate parent body (Decree 30/2020: parent not bold).
    pub issuer_parent_bold: bool,
    /// The issuer as named in running text, e.g. "UBND phường Gia Viên".
    pub issuer_short: String,
    /// The number line; the blank is filled in by hand when the report is signed.
    pub number_line: String,
    pub nation: String,
    pub motto: String,
    /// The place on the place-date line, e.g. "Gia Viên".
    pub place: String,
    /// The subject line is this followed by the period, e.g. "… 6 tháng đầu năm 2026".
    pub subject_prefix: String,
    /// Who the report is addressed to ("Kính gửi: …").
    pub recipient: String,
    /// "TM. ỦY BAN NHÂN DÂN".
    pub signatory_for: String,
    /// "KT. CHỦ TỊCH" when a deputy signs for the chair (Decree 30/2020);
    /// empty when the chair signs.
    pub signatory_on_behalf: String,
    /// "CHỦ TỊCH" (or "PHÓ CHỦ TỊCH" under "KT. CHỦ TỊCH").
    pub signatory_title: String,
    /// The signer's name; empty leaves the space for a handwritten one.
    pub signatory_name: String,
    /// The "Nơi nhận" list, one entry per line, without the leading "- ".
    pub distribution: Vec<String>,
}

impl Default for Letterhead {
    fn default() -> Self {
        Letterhead {
            issuer_parent: "ỦY BAN NHÂN DÂN".into(),
            issuer: "PHƯỜNG GIA VIÊN".into(),
            issuer_parent_bold: true,
            issuer_short: "UBND phường Gia Viên".into(),
            number_line: "Số:      /BC-UBND".into(),
            nation: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
            motto: "Độc lập - Tự do - Hạnh phúc".into(),
            place: "Gia Viên".into(),
            subject_prefix: "Kết quả thực hiện dân chủ ở cơ sở".into(),
            recipient: "Sở Nội vụ thành phố Hải Phòng".into(),
            signatory_for: "TM. ỦY BAN NHÂN DÂN".into(),
            signatory_on_behalf: String::new(),
            signatory_title: "CHỦ TỊCH".into(),
            signatory_name: String::new(),
            distribution: vec![
                "Sở Nội vụ;".into(),
                "Thường trực Đảng ủy phường;".into(),
                "Thường trực HĐND phường;".into(),
                "Chủ tịch, các Phó Chủ tịch UBND phường;".into(),
                "Lưu: VT, VHXH.".into(),
            ],
        }
    }
}

/// What the hub holds for one expected unit in the period.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitEntry {
    pub unit: Unit,
    /// `None`: nothing received for this period.
    pub state: Option<ReportState>,
    /// The hub holds draft data for the period (shown as "draft").
    pub has_data: bool,
    /// When the hub received the current submission.
    pub submitted_at: Option<DateTime<Utc>>,
    /// The frozen submission.
    pub report: Option<SubmittedReport>,
    pub review_reason: Option<String>,
    /// The unit's log diverged from the hub's (two copies of its agent):
    /// its syncs are refused until it enrols again.
    pub diverged: bool,
}

/// Everything a report is built from.
#[derive(Clone, Copy, Debug)]
pub struct CompileInput<'a> {
    pub letterhead: &'a Letterhead,
    pub catalog: &'a Catalog,
    pub period: &'a Period,
    /// Every expected (registered, not revoked) unit.
    pub units: &'a [UnitEntry],
    /// The date on the place-date line.
    pub report_date: NaiveDate,
    /// The ward's own narrative per section; where it has one, it is the
    /// body of that section instead of the synthesis of the units' texts.
    pub ward_notes: &'a BTreeMap<Section, String>,
}

/// No ward narrative (every section is synthesised from the units).
pub static NO_WARD_NOTES: BTreeMap<Section, String> = BTreeMap::new();

/// Where a unit stands for the period, as `status` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    Missing,
    Draft,
    Submitted,
    Returned,
    Accepted,
}

impl UnitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitStatus::Missing => "missing",
            UnitStatus::Draft => "draft",
            UnitStatus::Submitted => "submitted",
            UnitStatus::Returned => "returned",
            UnitStatus::Accepted => "accepted",
        }
    }
    pub fn label_vi(self) -> &'static str {
        match self {
            UnitStatus::Missing => "Chưa có dữ liệu",
            UnitStatus::Draft => "Đang soạn",
            UnitStatus::Submitted => "Đã gửi",
            UnitStatus::Returned => "Bị trả lại",
            UnitStatus::Accepted => "Đã chấp nhận",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            UnitStatus::Missing => "Nothing received",
            UnitStatus::Draft => "Draft",
            UnitStatus::Submitted => "Submitted",
            UnitStatus::Returned => "Returned",
            UnitStatus::Accepted => "Accepted",
        }
    }
}

/// How many units have reported. `reported = on_time + late` and
/// `missing = expected - reported`; `missing` splits into `not_received`,
/// `draft` and `returned`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completeness {
    pub expected: usize,
    pub reported: usize,
    pub on_time: usize,
    pub late: usize,
    pub missing: usize,
    pub submitted: usize,
    pub accepted: usize,
    pub returned: usize,
    pub draft: usize,
    pub not_received: usize,
}

impl Completeness {
    /// "38/45 đơn vị đã báo cáo, 35 đúng hạn, 3 muộn, 7 chưa báo cáo".
    pub fn sentence(&self, lang: Lang) -> String {
        match lang {
            Lang::Vi => {
                let mut s = format!(
                    "{}/{} đơn vị đã báo cáo, {} đúng hạn, {} muộn, {} chưa báo cáo",
                    self.reported, self.expected, self.on_time, self.late, self.missing
                );
                if self.returned > 0 {
                    s.push_str(&format!(
                        " (trong đó {} báo cáo bị trả lại chờ hoàn thiện)",
                        self.returned
                    ));
                }
                s
            }
            Lang::En => {
                let mut s = format!(
                    "{}/{} units have reported, {} on time, {} late, {} not reported",
                    self.reported, self.expected, self.on_time, self.late, self.missing
                );
                if self.returned > 0 {
                    s.push_str(&format!(
                        " (of which {} returned for correction)",
                        self.returned
                    ));
                }
                s
            }
        }
    }
}

/// One row of `status`: a unit and where its report stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusRow {
    pub unit: UnitCode,
    pub name: String,
    pub kind: UnitKind,
    pub state: UnitStatus,
    /// RFC 3339, in Vietnam time.
    #[serde(deserialize_with = "report_json::required")]
    pub submitted_at: Option<String>,
    pub timeliness: Timeliness,
    /// Whether the report counts toward totals (submitted or accepted).
    pub counted: bool,
    /// Activities covered by the current submission.
    #[serde(deserialize_with = "report_json::required")]
    pub activities: Option<u32>,
    /// The ward's reason when it returned the report.
    #[serde(deserialize_with = "report_json::required")]
    pub review_reason: Option<String>,
    /// The unit's log diverged from the hub's: what the hub holds for it
    /// may be incomplete until it recovers. (Absent in reports written
    /// before it existed, hence the default.)
    #[serde(default)]
    pub diverged: bool,
}

/// `coso-hub status --json`: totals first, then every expected unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub period: PeriodCode,
    pub title: String,
    /// The deadline, RFC 3339 in Vietnam time.
    pub due: String,
    /// The completeness sentence, in Vietnamese.
    pub summary: String,
    pub summary_en: String,
    pub totals: Completeness,
    pub units: Vec<StatusRow>,
}

impl Status {
    /// The status for people: the period, the completeness sentence, then one
    /// line per unit (times in Vietnam time).
    pub fn to_text(&self, lang: Lang) -> String {
        let due = DateTime::parse_from_rfc3339(&self.due)
            .map(|d| {
                let d = d.with_timezone(&vietnam());
                match lang {
                    Lang::Vi => format!(
                        "trước {} ngày {}",
                        d.format("%H:%M"),
                        short_date(d.date_naive())
                    ),
                    Lang::En => format!("before {}", d.format("%H:%M on %Y-%m-%d")),
                }
            })
            .unwrap_or_else(|_| self.due.clone());
        let mut out = match lang {
            Lang::Vi => format!("Kỳ {} — {} — hạn nộp: {due}\n", self.period, self.title),
            Lang::En => format!("Period {} — {} — due {due}\n", self.period, self.title),
        };
        out.push_str(match lang {
            Lang::Vi => &self.summary,
            Lang::En => &self.summary_en,
        });
        out.push_str("\n\n");
        let head = match lang {
            Lang::Vi => ["MÃ", "ĐƠN VỊ", "TRẠNG THÁI", "THỜI ĐIỂM NHẬN", "ĐÚNG HẠN"],
            Lang::En => ["CODE", "UNIT", "STATE", "RECEIVED", "TIMELINESS"],
        };
        let rows: Vec<[String; 5]> = self
            .units
            .iter()
            .map(|r| {
                let name: String = if r.name.chars().count() > 40 {
                    r.name.chars().take(39).chain(['…']).collect()
                } else {
                    r.name.clone()
                };
                let at = r
                    .submitted_at
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| {
                        t.with_timezone(&vietnam())
                            .format("%Y-%m-%d %H:%M:%S")
                            .to_string()
                    })
                    .unwrap_or_else(|| "-".into());
                let timely = match (r.timeliness, lang) {
                    (Timeliness::OnTime, Lang::Vi) => "đúng hạn",
                    (Timeliness::Late, Lang::Vi) => "muộn",
                    (Timeliness::Missing, Lang::Vi) => "chưa báo cáo",
                    (Timeliness::OnTime, Lang::En) => "on time",
                    (Timeliness::Late, Lang::En) => "late",
                    (Timeliness::Missing, Lang::En) => "missing",
                };
                let state = match lang {
                    Lang::Vi => r.state.label_vi(),
                    Lang::En => r.state.label_en(),
                };
                let mut state = state.to_string();
                if let Some(reason) = &r.review_reason
                    && r.state == UnitStatus::Returned
                {
                    state = format!("{state}: {}", reason.replace(['\n', '\r'], " "));
                }
                [r.unit.to_string(), name, state, at, timely.to_string()]
            })
            .collect();
        let mut widths = head.map(|h| h.chars().count());
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: [&str; 5]| {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate() {
                l.push_str(c);
                if i + 1 < cells.len() {
                    let pad = widths[i] - c.chars().count() + 2;
                    l.extend(std::iter::repeat_n(' ', pad));
                }
            }
            l.push('\n');
            l
        };
        out.push_str(&line(head));
        for r in &rows {
            out.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
        }
        out
    }
}

/// Who has reported for the period: totals first, then every expected unit.
pub fn status(input: &CompileInput) -> Status {
    let rows = unit_rows(input);
    let totals = completeness(&rows);
    Status {
        period: input.period.code.clone(),
        title: input.period.title.clone(),
        due: rfc3339_vn(input.period.due.with_timezone(&Utc)),
        summary: totals.sentence(Lang::Vi),
        summary_en: totals.sentence(Lang::En),
        units: rows.iter().map(UnitRow::status_row).collect(),
        totals,
    }
}

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

// ---------------------------------------------------------------------------
// The model every format renders
// ---------------------------------------------------------------------------

/// One expected unit with its derived standing.
pub(crate) struct UnitRow<'a> {
    pub entry: &'a UnitEntry,
    pub state: UnitStatus,
    pub submitted_at: Option<DateTime<Utc>>,
    pub timeliness: Timeliness,
    /// The report counts (submitted or accepted, for this period).
    pub report: Option<&'a SubmittedReport>,
}

impl UnitRow<'_> {
    pub fn unit(&self) -> &Unit {
        &self.entry.unit
    }
    fn status_row(&self) -> StatusRow {
        StatusRow {
            unit: self.entry.unit.code.clone(),
            name: self.entry.unit.name.clone(),
            kind: self.entry.unit.kind,
            state: self.state,
            submitted_at: self.submitted_at.map(rfc3339_vn),
            timeliness: self.timeliness,
            counted: self.report.is_some(),
            activities: self.entry.report.as_ref().map(|r| r.activities),
            review_reason: match self.state {
                UnitStatus::Returned | UnitStatus::Accepted => self
                    .entry
                    .review_reason
                    .clone()
                    .filter(|r| !r.trim().is_empty()),
                _ => None,
            },
            diverged: self.entry.diverged,
        }
    }
}

fn unit_rows<'a>(input: &CompileInput<'a>) -> Vec<UnitRow<'a>> {
    let period = input.period;
    let mut rows: Vec<UnitRow<'a>> = input
        .units
        .iter()
        .map(|e| {
            let state = match e.state {
                None if e.has_data => UnitStatus::Draft,
                None => UnitStatus::Missing,
                Some(ReportState::Draft) => UnitStatus::Draft,
                Some(ReportState::Submitted) => UnitStatus::Submitted,
                Some(ReportState::Returned) => UnitStatus::Returned,
                Some(ReportState::Accepted) => UnitStatus::Accepted,
            };
            let report = e.report.as_ref().filter(|r| r.period == period.code);
            let submitted_at = match state {
                UnitStatus::Submitted | UnitStatus::Returned | UnitStatus::Accepted => {
                    e.submitted_at.or(report.map(|r| r.submitted_at))
                }
                UnitStatus::Missing | UnitStatus::Draft => None,
            };
            let counts = matches!(state, UnitStatus::Submitted | UnitStatus::Accepted);
            let report = report.filter(|_| counts);
            let timeliness = match report {
                Some(_) => Timeliness::of(period, submitted_at),
                None => Timeliness::Missing,
            };
            UnitRow {
                entry: e,
                state,
                submitted_at,
                timeliness,
                report,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        a.unit()
            .kind
            .cmp(&b.unit().kind)
            .then_with(|| natural_cmp(a.unit().code.as_str(), b.unit().code.as_str()))
    });
    rows
}

fn completeness(rows: &[UnitRow]) -> Completeness {
    let mut c = Completeness {
        expected: rows.len(),
        ..Completeness::default()
    };
    for r in rows {
        match r.timeliness {
            Timeliness::OnTime => c.on_time += 1,
            Timeliness::Late => c.late += 1,
            Timeliness::Missing => {}
        }
        match r.state {
            UnitStatus::Missing => c.not_received += 1,
            UnitStatus::Draft => c.draft += 1,
            UnitStatus::Submitted => c.submitted += 1,
            UnitStatus::Returned => c.returned += 1,
            UnitStatus::Accepted => c.accepted += 1,
        }
    }
    c.reported = c.on_time + c.late;
    c.missing = c.expected - c.reported;
    c
}

/// A value of one kind of unit in the appendix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum KindCell {
    /// The indicator does not apply to this kind.
    NotApplicable,
    /// It applies, and no unit of the kind reported it.
    Missing,
    Value(f64),
}

pub(crate) struct IndicatorRow<'a> {
    pub ind: &'a Indicator,
    pub total: Option<f64>,
    /// Counted units that gave a value.
    pub units_reporting: usize,
    /// One per kind in `Model::kinds`.
    pub by_kind: Vec<(UnitKind, KindCell)>,
    /// Counted units' values, in unit order.
    pub by_unit: Vec<(&'a Unit, &'a Value)>,
}

pub(crate) struct Narrative<'a> {
    pub section: Section,
    pub unit: &'a Unit,
    pub text: &'a str,
}

/// The consolidated report, computed once and rendered by every format.
pub(crate) struct Model<'a> {
    pub input: CompileInput<'a>,
    pub rows: Vec<UnitRow<'a>>,
    pub completeness: Completeness,
    /// Kinds among the expected units, in `UnitKind` order.
    pub kinds: Vec<UnitKind>,
    /// Indicators the period asks for, in catalog order.
    pub indicators: Vec<IndicatorRow<'a>>,
    /// By section, then unit order.
    pub narratives: Vec<Narrative<'a>>,
}

/// The values of `reports` turned into one column per indicator of
/// `asked` (in its order), each entry `(i, value)` with `i` the report's
/// place in `reports`, in that order. One pass over every unit's values:
/// looking each indicator up in every unit's map instead (once per
/// indicator and kind of unit) walked 10,000 maps hundreds of times with
/// cold caches, and made a city's report 28 times slower for 10 times the
/// units.
pub(crate) fn columns<'a>(
    asked: &[&Indicator],
    reports: impl Iterator<Item = &'a SubmittedReport>,
) -> Vec<Vec<(usize, &'a Value)>> {
    let place: HashMap<&str, usize> = asked
        .iter()
        .enumerate()
        .map(|(c, ind)| (ind.code.as_str(), c))
        .collect();
    let mut columns = vec![Vec::new(); asked.len()];
    for (i, report) in reports.enumerate() {
        for (code, value) in &report.values {
            if let Some(&c) = place.get(code.as_str()) {
                columns[c].push((i, value));
            }
        }
    }
    columns
}

impl<'a> Model<'a> {
    pub fn build(input: &CompileInput<'a>) -> Model<'a> {
        let rows = unit_rows(input);
        let completeness = completeness(&rows);
        let kinds: Vec<UnitKind> = UnitKind::ALL
            .into_iter()
            .filter(|k| rows.iter().any(|r| r.unit().kind == *k))
            .collect();
        let counted: Vec<(&'a Unit, &'a SubmittedReport)> = rows
            .iter()
            .filter_map(|r| Some((&r.entry.unit, r.report?)))
            .collect();
        let asked: Vec<&'a Indicator> = input
            .catalog
            .indicators
            .iter()
            .filter(|i| input.period.asks_for(&i.code))
            .collect();
        let columns = columns(&asked, counted.iter().map(|(_, r)| *r));
        // Each counted unit's place in `kinds`.
        let slots: Vec<usize> = counted
            .iter()
            .map(|(u, _)| kinds.iter().position(|k| *k == u.kind).unwrap_or(0))
            .collect();
        let indicators = asked
            .iter()
            .zip(columns)
            .map(|(&ind, column)| {
                let mut total = Tally::new(ind);
                let mut of_kind = vec![Tally::new(ind); kinds.len()];
                if ind.aggregate == Aggregation::Rate {
                    // A rate reads two other indicators of each unit.
                    for ((_, r), &slot) in counted.iter().zip(&slots) {
                        let get = |code: &str| r.values.get(code);
                        total.add(get);
                        of_kind[slot].add(get);
                    }
                } else {
                    for &(i, v) in &column {
                        let get = |code: &str| (code == ind.code).then_some(v);
                        total.add(get);
                        of_kind[slots[i]].add(get);
                    }
                }
                let by_kind = kinds
                    .iter()
                    .zip(&of_kind)
                    .map(|(&k, tally)| {
                        let cell = if !ind.applies_to(k) {
                            KindCell::NotApplicable
                        } else {
                            match tally.total() {
                                Some(v) => KindCell::Value(v),
                                None => KindCell::Missing,
                            }
                        };
                        (k, cell)
                    })
                    .collect();
                let by_unit: Vec<(&'a Unit, &'a Value)> =
                    column.iter().map(|&(i, v)| (counted[i].0, v)).collect();
                IndicatorRow {
                    ind,
                    total: total.total(),
                    units_reporting: by_unit.len(),
                    by_kind,
                    by_unit,
                }
            })
            .collect();
        let mut narratives = Vec::new();
        for section in Section::ALL {
            for (unit, report) in &counted {
                if let Some(text) = report.notes.get(&section)
                    && !text.trim().is_empty()
                {
                    narratives.push(Narrative {
                        section,
                        unit,
                        text: text.as_str(),
                    });
                }
            }
        }
        Model {
            input: *input,
            rows,
            completeness,
            kinds,
            indicators,
            narratives,
        }
    }

    pub fn period(&self) -> &'a Period {
        self.input.period
    }

    pub fn letterhead(&self) -> &'a Letterhead {
        self.input.letterhead
    }

    /// "6 tháng đầu năm 2026", "9 tháng năm 2026", "năm 2026", or the ad-hoc title.
    pub fn period_phrase(&self) -> String {
        period_phrase(self.period())
    }

    /// "Kết quả thực hiện dân chủ ở cơ sở 6 tháng đầu năm 2026".
    pub fn subject(&self) -> String {
        format!(
            "{} {}",
            self.letterhead().subject_prefix.trim(),
            self.period_phrase()
        )
    }

    pub fn narratives_of(&self, section: Section) -> impl Iterator<Item = &Narrative<'a>> {
        self.narratives.iter().filter(move |n| n.section == section)
    }

    /// The ward's own text for a section, when it wrote one.
    pub fn ward_note(&self, section: Section) -> Option<&'a str> {
        self.input
            .ward_notes
            .get(&section)
            .map(String::as_str)
            .filter(|t| !t.trim().is_empty())
    }

    /// Text indicators (free-text answers), with the units that gave them.
    pub fn text_answers(&self) -> impl Iterator<Item = &IndicatorRow<'a>> {
        self.indicators
            .iter()
            .filter(|r| r.ind.value_type == ValueType::Text)
    }
}

/// The period as it follows "… dân chủ ở cơ sở" in the subject line.
pub(crate) fn period_phrase(period: &Period) -> String {
    let y = period.code.year();
    match period.code.suffix() {
        "H1" => format!("6 tháng đầu năm {y}"),
        "M9" => format!("9 tháng năm {y}"),
        "Y" => format!("năm {y}"),
        _ => {
            let t = period.title.trim();
            let t = t
                .strip_prefix("Báo cáo ")
                .or_else(|| t.strip_prefix("báo cáo "))
                .unwrap_or(t);
            let mut chars = t.chars();
            match chars.next() {
                // Mid-sentence, so the title loses its capital.
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => period.code.to_string(),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Shared helpers for the renderers
// ---------------------------------------------------------------------------

/// RFC 3339 in Vietnam time, seconds precision.
pub(crate) fn rfc3339_vn(t: DateTime<Utc>) -> String {
    t.with_timezone(&vietnam())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Day and month the Decree 30/2020 way: days below 10 and the months 1 and 2
/// take a leading zero, other months do not.
fn day_month(d: NaiveDate) -> (String, String) {
    let day = format!("{:02}", d.day());
    let month = if d.month() <= 2 {
        format!("{:02}", d.month())
    } else {
        d.month().to_string()
    };
    (day, month)
}

/// "Gia Viên, ngày 04 tháng 6 năm 2026".
pub(crate) fn place_date_line(place: &str, d: NaiveDate) -> String {
    let (day, month) = day_month(d);
    format!("{place}, ngày {day} tháng {month} năm {}", d.year())
}

/// "04/6/2026".
pub(crate) fn short_date(d: NaiveDate) -> String {
    let (day, month) = day_month(d);
    format!("{day}/{month}/{}", d.year())
}

/// "trước 00:00 ngày 05/6/2026".
pub(crate) fn due_phrase(period: &Period) -> String {
    let due = period.due.with_timezone(&vietnam());
    format!(
        "trước {} ngày {}",
        due.format("%H:%M"),
        short_date(due.date_naive())
    )
}

/// How many decimals a value of the indicator shows in documents.
fn decimals(ind: &Indicator) -> usize {
    match (ind.value_type, ind.aggregate) {
        (ValueType::Count, Aggregation::Sum) => 0,
        _ => 2,
    }
}

/// A total or kind value for people: "1.234", "87,5%", "8,25".
pub fn format_number(ind: &Indicator, n: f64) -> String {
    let s = format_vi(n, decimals(ind));
    if ind.value_type == ValueType::Percent {
        format!("{s}%")
    } else {
        s
    }
}

/// A unit's own value for people: numbers the Vietnamese way, "Có"/"Không".
pub(crate) fn format_value(ind: &Indicator, v: &Value) -> String {
    match v {
        Value::Number(n) => format_number(ind, *n),
        Value::Bool(true) => "Có".into(),
        Value::Bool(false) => "Không".into(),
        Value::Text(t) => t.clone(),
    }
}

/// A number as machines read it: whole numbers without a fraction.
pub fn machine_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Replaces characters XML 1.0 cannot carry (C0 controls other than tab and
/// newline, U+FFFE, U+FFFF) with U+FFFD, and carriage returns with newlines,
/// so text from units can never break a document.
pub(crate) fn clean_text(s: &str) -> String {
    let s = s.replace("\r\n", "\n");
    s.chars()
        .map(|c| match c {
            '\t' | '\n' => c,
            '\r' => '\n',
            c if (c as u32) < 0x20 => '\u{FFFD}',
            '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Compares codes so that embedded numbers sort by value (TDP2 < TDP10).
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    if a.is_empty() || b.is_empty() {
        return a.cmp(b);
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for ((da, xa), (db, xb)) in ca.iter().zip(cb.iter()) {
        let ord = if *da && *db {
            let (ta, tb) = (xa.trim_start_matches('0'), xb.trim_start_matches('0'));
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            xa.cmp(xb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests;
