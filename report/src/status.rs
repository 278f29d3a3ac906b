//! `status`: who has reported for the period. The unit's state
//! ([`UnitStatus`]), the completeness counts and their sentence
//! ([`Completeness`]), and the status document with its text for people
//! ([`Status`]).

use chrono::{DateTime, Utc};
use coso_domain::calendar::vietnam;
use coso_domain::{Lang, PeriodCode, ReportState, Timeliness, UnitCode, UnitKind, words};
use serde::{Deserialize, Serialize};

use crate::model::{completeness, unit_rows};
use crate::{CompileInput, UnitRow, local_time, report_json, rfc3339_vn, short_date, text_table};

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
    /// The state `as_str` names.
    pub fn parse(s: &str) -> Option<UnitStatus> {
        [
            UnitStatus::Missing,
            UnitStatus::Draft,
            UnitStatus::Submitted,
            UnitStatus::Returned,
            UnitStatus::Accepted,
        ]
        .into_iter()
        .find(|u| u.as_str() == s)
    }

    /// The report state behind it; `None`: nothing received.
    pub fn report_state(self) -> Option<ReportState> {
        match self {
            UnitStatus::Missing => None,
            UnitStatus::Draft => Some(ReportState::Draft),
            UnitStatus::Submitted => Some(ReportState::Submitted),
            UnitStatus::Returned => Some(ReportState::Returned),
            UnitStatus::Accepted => Some(ReportState::Accepted),
        }
    }
    /// As a table cell says it (`words::state_label`).
    pub fn label(self, lang: Lang) -> &'static str {
        words::state_label(self.report_state(), lang)
    }
    pub fn label_vi(self) -> &'static str {
        self.label(Lang::Vi)
    }
    pub fn label_en(self) -> &'static str {
        self.label(Lang::En)
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
    /// What the completeness sentence counts.
    pub fn counts(&self) -> words::Counts {
        words::Counts {
            expected: self.expected as u64,
            reported: self.reported as u64,
            on_time: self.on_time as u64,
            late: self.late as u64,
            missing: self.missing as u64,
            returned: self.returned as u64,
        }
    }

    /// "38/45 đơn vị đã báo cáo, 35 đúng hạn, 3 muộn, 7 chưa báo cáo"
    /// (`words::completeness`).
    pub fn sentence(&self, lang: Lang) -> String {
        words::completeness(&self.counts(), lang)
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
        let mut rows: Vec<[String; 5]> = vec![head.map(String::from)];
        rows.extend(self.units.iter().map(|r| {
            let name: String = if r.name.chars().count() > 40 {
                r.name.chars().take(39).chain(['…']).collect()
            } else {
                r.name.clone()
            };
            let at = r
                .submitted_at
                .as_deref()
                .and_then(local_time)
                .unwrap_or_else(|| "-".into());
            let timely = words::timeliness(r.timeliness, lang);
            let mut state = r.state.label(lang).to_string();
            if let Some(reason) = &r.review_reason
                && r.state == UnitStatus::Returned
            {
                state = format!("{state}: {}", reason.replace(['\n', '\r'], " "));
            }
            [r.unit.to_string(), name, state, at, timely.to_string()]
        }));
        out.push_str(&text_table(&rows));
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
