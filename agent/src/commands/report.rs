//! `report` and `submit`: the period's report as it will be sent (values
//! derived and entered, narratives, problems, deadline, state), and freezing it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use coso_domain::calendar::Period;
use coso_domain::catalog::{Catalog, Indicator};
use coso_domain::validate::check_report;
use coso_domain::{
    Change, Lang, PeriodCode, Problem, ReportState, Review, Section, SubmittedReport, Unit, Value,
};
use serde_json::json;

use super::{Ctx, find_period};
use crate::error::{AgentError, InputError};
use crate::messages::{day_vn, deadline_sentence, state_name, time_vn};
use crate::output::{Render, Table, json_text, not_reported, value_text};

/// Where an indicator's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Entered,
    Derived,
    Rate,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Entered => "entered",
            Source::Derived => "derived",
            Source::Rate => "rate",
        }
    }
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Source::Entered => lang.pick("nhập", "entered"),
            Source::Derived => lang.pick("từ hoạt động", "from activities"),
            Source::Rate => lang.pick("tự tính", "computed"),
        }
    }
}

/// One row of the report's indicator table.
#[derive(Debug, Clone)]
pub struct Row {
    pub indicator: Indicator,
    pub source: Source,
    pub required: bool,
    pub value: Option<Value>,
}

/// Everything the report of one period shows.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub unit: Unit,
    pub period: Period,
    pub state: ReportState,
    pub submission: Option<SubmittedReport>,
    pub review: Option<Review>,
    /// The report shown is the frozen submission (submitted or accepted).
    pub frozen: bool,
    pub values: BTreeMap<String, Value>,
    pub entered: BTreeMap<String, Value>,
    /// What the report would say now, if it differs from the frozen one.
    pub live_if_different: Option<BTreeMap<String, Value>>,
    pub notes: BTreeMap<Section, String>,
    pub activities: usize,
    pub rows: Vec<Row>,
    pub problems: Vec<Problem>,
    pub catalog: Catalog,
    pub now: DateTime<Utc>,
}

impl ReportView {
    pub(crate) fn build(ctx: &Ctx<'_>, period: &str) -> Result<ReportView, AgentError> {
        let identity = ctx.identity()?;
        let catalog = ctx.catalog()?;
        let calendar = ctx.calendar()?;
        let period = find_period(&calendar, period)?;
        let st = ctx.state()?;
        let kind = identity.unit.kind;
        let state = st.state(&period.code);
        let frozen = !state.is_editable();
        let entered = st.values.get(&period.code).cloned().unwrap_or_default();
        let live = st.live_values(&catalog, kind, &period);
        let submission = st.submissions.get(&period.code).cloned();
        let (values, notes, activities, problems, live_if_different) = match (&submission, frozen) {
            (Some(s), true) => {
                let problems = check_report(&catalog, kind, &period, &BTreeMap::new(), &s.values);
                let differs = (live != s.values).then(|| live.clone());
                (
                    s.values.clone(),
                    s.notes.clone(),
                    s.activities as usize,
                    problems,
                    differs,
                )
            }
            _ => {
                let problems = check_report(&catalog, kind, &period, &entered, &live);
                (
                    live.clone(),
                    st.notes.get(&period.code).cloned().unwrap_or_default(),
                    st.activities_in(&period).len(),
                    problems,
                    None,
                )
            }
        };
        let rows = catalog
            .indicators
            .iter()
            .filter(|i| i.applies_to(kind) && period.asks_for(&i.code))
            .map(|i| Row {
                indicator: i.clone(),
                source: if i.derived.is_some() {
                    Source::Derived
                } else if i.rate.is_some() {
                    Source::Rate
                } else {
                    Source::Entered
                },
                required: i.required_for(kind),
                value: values.get(&i.code).cloned(),
            })
            .collect();
        Ok(ReportView {
            unit: identity.unit,
            state,
            review: st.reviews.get(&period.code).cloned(),
            submission,
            frozen,
            values,
            entered,
            live_if_different,
            notes,
            activities,
            rows,
            problems,
            catalog,
            now: ctx.now,
            period,
        })
    }

    pub fn overdue(&self) -> bool {
        self.now >= self.period.due
    }

    /// "hạn nộp: trước 00:00 ngày 05/6/2026 (còn 3 ngày)".
    pub fn deadline_text(&self, lang: Lang) -> String {
        deadline_sentence(&self.period, self.now, lang)
    }

    fn problems_json(&self, lang: Lang) -> Vec<serde_json::Value> {
        self.problems
            .iter()
            .map(|p| json!({"code": p.code, "field": p.field, "message": p.message(lang)}))
            .collect()
    }

    fn indicators_json(&self) -> Vec<serde_json::Value> {
        self.rows
            .iter()
            .map(|r| {
                json!({
                    "code": r.indicator.code,
                    "group": r.indicator.group,
                    "name": r.indicator.name,
                    "name_en": r.indicator.name_en,
                    "measure": r.indicator.measure,
                    "source": r.source.as_str(),
                    "required": r.required,
                    "value": r.value.as_ref().map(Value::to_json),
                    "reported": r.value.is_some(),
                })
            })
            .collect()
    }

    fn not_reported_codes(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|r| r.value.is_none())
            .map(|r| r.indicator.code.as_str())
            .collect()
    }

    fn map_json(m: &BTreeMap<String, Value>) -> serde_json::Value {
        serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
    }

    /// The `report --json` document.
    pub fn to_json(&self, lang: Lang) -> serde_json::Value {
        let notes: serde_json::Map<String, serde_json::Value> = self
            .notes
            .iter()
            .map(|(s, t)| (s.as_str().to_string(), json!(t)))
            .collect();
        json!({
            "period": self.period.code,
            "title": self.period.title,
            "unit": {"code": self.unit.code, "name": self.unit.name, "kind": self.unit.kind},
            "window": {"start": self.period.window_start, "end": self.period.window_end},
            "due": self.period.due.to_rfc3339(),
            "due_day": self.period.due_day(),
            "days_left": self.period.days_left(self.now),
            "overdue": self.overdue(),
            "deadline": self.deadline_text(lang),
            "state": self.state.as_str(),
            "frozen": self.frozen,
            "submitted_at": self.submission.as_ref().map(|s| s.submitted_at.to_rfc3339()),
            "review_comment": self.review.as_ref().filter(|r| !r.reason.is_empty()).map(|r| r.reason.clone()),
            "review": self.review.as_ref().map(|r| json!({
                "decision": r.decision.as_str(),
                "reason": r.reason,
                "decided_at": r.decided_at.to_rfc3339(),
            })),
            "activities": self.activities,
            "values": Self::map_json(&self.values),
            "entered": Self::map_json(&self.entered),
            "indicators": self.indicators_json(),
            "not_reported": self.not_reported_codes(),
            "notes": notes,
            "problems": self.problems_json(lang),
            "can_submit": self.problems.is_empty() && self.state.is_editable(),
            "live_values": self.live_if_different.as_ref().map(Self::map_json),
        })
    }

    /// The `value list --json` document.
    pub fn values_json(&self, lang: Lang) -> serde_json::Value {
        json!({
            "period": self.period.code,
            "state": self.state.as_str(),
            "frozen": self.frozen,
            "values": Self::map_json(&self.values),
            "entered": Self::map_json(&self.entered),
            "indicators": self.indicators_json(),
            "not_reported": self.not_reported_codes(),
            "problems": self.problems_json(lang),
        })
    }

    /// The indicator tables, one per catalog group.
    pub fn values_text(&self, lang: Lang) -> String {
        let mut s = String::new();
        let mut n = 0;
        for g in &self.catalog.groups {
            let rows: Vec<&Row> = self
                .rows
                .iter()
                .filter(|r| r.indicator.group == g.code)
                .collect();
            if rows.is_empty() {
                continue;
            }
            n += 1;
            let name = match lang {
                Lang::Vi => &g.name,
                Lang::En => &g.name_en,
            };
            let _ = writeln!(s, "{n}. {name}");
            let mut t = Table::new(match lang {
                Lang::Vi => ["Mã", "Giá trị", "Đơn vị", "Nguồn", "Chỉ tiêu"],
                Lang::En => ["Code", "Value", "Measure", "Source", "Indicator"],
            });
            for r in rows {
                let value = match &r.value {
                    Some(v) => value_text(v, lang),
                    None => not_reported(lang).to_string(),
                };
                let mut name = match lang {
                    Lang::Vi => r.indicator.name.clone(),
                    Lang::En => r.indicator.name_en.clone(),
                };
                if r.required {
                    name.push_str(lang.pick(" (bắt buộc)", " (required)"));
                }
                t.row([
                    r.indicator.code.clone(),
                    value,
                    r.indicator.measure.clone(),
                    r.source.label(lang).to_string(),
                    name,
                ]);
            }
            let _ = writeln!(s, "{}", t.render("   "));
            s.push('\n');
        }
        s.trim_end().to_string()
    }

    /// The whole report for people.
    pub fn to_text(&self, lang: Lang) -> String {
        let mut s = String::new();
        let title = self.period.title.to_uppercase();
        let _ = writeln!(s, "{title} ({})", self.period.code);
        let _ = match lang {
            Lang::Vi => writeln!(
                s,
                "Đơn vị: {} ({}, {})",
                self.unit.name,
                self.unit.code,
                self.unit.kind.name_vi()
            ),
            Lang::En => writeln!(
                s,
                "Unit: {} ({}, {})",
                self.unit.name, self.unit.code, self.unit.kind
            ),
        };
        let (ws, we) = (
            day_vn(self.period.window_start),
            day_vn(self.period.window_end),
        );
        let _ = match lang {
            Lang::Vi => writeln!(s, "Số liệu từ {ws} đến {we}; {} hoạt động", self.activities),
            Lang::En => writeln!(s, "Data from {ws} to {we}; {} activities", self.activities),
        };
        let _ = writeln!(s, "{}", capitalise(&self.deadline_text(lang)));
        let mut st = format!(
            "{}: {}",
            lang.pick("Trạng thái", "State"),
            state_name(self.state, lang)
        );
        if let Some(sub) = &self.submission {
            let _ = write!(
                st,
                " ({} {})",
                lang.pick("nộp lúc", "submitted at"),
                time_vn(sub.submitted_at)
            );
        }
        let _ = writeln!(s, "{st}");
        if let Some(r) = &self.review
            && !r.reason.is_empty()
        {
            let _ = writeln!(
                s,
                "{}: \"{}\" ({})",
                lang.pick("Ý kiến của phường", "The ward's comment"),
                r.reason,
                time_vn(r.decided_at)
            );
        }
        if self.frozen {
            let _ = writeln!(
                s,
                "{}",
                lang.pick(
                    "Báo cáo đã được chốt: dưới đây là số liệu đã nộp.",
                    "The report is frozen: below are the submitted values."
                )
            );
            if self.live_if_different.is_some() {
                let _ = writeln!(
                    s,
                    "{}",
                    lang.pick(
                        "Lưu ý: hoạt động ghi thêm sau khi nộp không làm thay đổi báo cáo này; chúng được tính vào các kỳ sau.",
                        "Note: activities recorded after submission do not change this report; they count toward later periods."
                    )
                );
            }
        }
        s.push('\n');
        s.push_str(&self.values_text(lang));
        s.push_str("\n\n");
        let _ = writeln!(s, "{}", lang.pick("THUYẾT MINH", "NARRATIVE"));
        const ROMAN: [&str; 4] = ["I", "II", "III", "IV"];
        for (i, sec) in Section::ALL.iter().enumerate() {
            let heading = match lang {
                Lang::Vi => sec.heading_vi().to_string(),
                Lang::En => sec.heading_en().to_uppercase(),
            };
            let _ = writeln!(s, "{}. {heading}", ROMAN[i]);
            match self.notes.get(sec) {
                Some(t) => {
                    for line in t.lines() {
                        let _ = writeln!(s, "   {line}");
                    }
                }
                None => {
                    let _ = writeln!(s, "   {}", lang.pick("(chưa có)", "(none yet)"));
                }
            }
        }
        s.push('\n');
        if self.problems.is_empty() {
            if self.state.is_editable() {
                let _ = write!(
                    s,
                    "{} `coso-agent submit --period {}`.",
                    lang.pick(
                        "Không còn vấn đề nào: có thể nộp bằng lệnh",
                        "No problems left: submit with"
                    ),
                    self.period.code
                );
            } else {
                s.push_str(lang.pick("Không có vấn đề nào.", "No problems."));
            }
        } else {
            let _ = writeln!(
                s,
                "{} ({}):",
                lang.pick(
                    "VẤN ĐỀ CẦN XỬ LÝ TRƯỚC KHI NỘP",
                    "PROBLEMS TO FIX BEFORE SUBMITTING"
                ),
                self.problems.len()
            );
            for (i, p) in self.problems.iter().enumerate() {
                let _ = writeln!(s, "  {}. [{}] {}", i + 1, p.code.as_str(), p.message(lang));
            }
        }
        s.trim_end().to_string()
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl Render for ReportView {
    fn text(&self, lang: Lang) -> String {
        self.to_text(lang)
    }

    fn json(&self, lang: Lang) -> Option<String> {
        Some(json_text(&self.to_json(lang)))
    }
}

/// What `submit` froze.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub period: PeriodCode,
    /// Indicators with a value, and those not reported.
    pub values: usize,
    pub not_reported: usize,
    pub activities: u64,
    /// The deadline day, when the report was submitted after it.
    pub late: Option<NaiveDate>,
    /// Whether the agent is enrolled (else the report waits for enrolment).
    pub enrolled: bool,
}

impl Render for Submitted {
    fn text(&self, lang: Lang) -> String {
        let (code, nv, missing, na) = (
            &self.period,
            self.values,
            self.not_reported,
            self.activities,
        );
        let mut lines = vec![match lang {
            Lang::Vi => format!(
                "Đã nộp báo cáo kỳ {code}: {nv} chỉ tiêu có số liệu, {missing} chỉ tiêu chưa báo cáo, {na} hoạt động. \
                 Số liệu và thuyết minh của kỳ đã được chốt."
            ),
            Lang::En => format!(
                "Submitted the report for {code}: {nv} indicators with values, {missing} not reported, {na} activities. \
                 Its values and notes are now frozen."
            ),
        }];
        if let Some(due) = self.late {
            let day = day_vn(due);
            lines.push(match lang {
                Lang::Vi => format!("Lưu ý: đã quá hạn nộp (trước 00:00 ngày {day}); phường sẽ ghi nhận là nộp muộn."),
                Lang::En => format!("Note: the deadline (before 00:00 on {day}) has passed; the ward will record it as late."),
            });
        }
        lines.push(if self.enrolled {
            lang.pick(
                "Chạy `coso-agent sync` để gửi báo cáo lên phường.",
                "Run `coso-agent sync` to send it to the ward.",
            )
            .to_string()
        } else {
            lang.pick(
                "Máy chưa ghi danh với phường: báo cáo sẽ được gửi khi ghi danh (`coso-agent enroll LINK`) và đồng bộ.",
                "This agent is not enrolled yet: the report is sent once you enrol (`coso-agent enroll LINK`) and sync.",
            )
            .to_string()
        });
        lines.join("\n")
    }
}

pub(crate) async fn submit(ctx: &Ctx<'_>, period: &str) -> Result<Submitted, AgentError> {
    let identity = ctx.identity()?;
    let view = ReportView::build(ctx, period)?;
    if !view.state.is_editable() {
        return Err(InputError::AlreadySubmitted {
            period: view.period.code.clone(),
            state: view.state,
        }
        .into());
    }
    // Frozen before its window opens, a report covers none of the period:
    // the hub would refuse it, so it is not recorded.
    if !view.period.has_opened(ctx.now) {
        return Err(InputError::NotOpenYet {
            period: view.period.code.clone(),
            opens: view.period.window_start,
        }
        .into());
    }
    if !view.problems.is_empty() {
        return Err(InputError::SubmitBlocked {
            period: view.period.code.clone(),
            problems: view.problems.clone(),
        }
        .into());
    }
    let state = ctx.state()?;
    let catalog = ctx.catalog()?;
    let frozen = state.freeze(&catalog, identity.unit.kind, &view.period, ctx.now);
    let (values, activities) = (frozen.values.len(), frozen.activities);
    ctx.record(&Change::Submit(Box::new(frozen)), None).await?;
    Ok(Submitted {
        period: view.period.code.clone(),
        values,
        not_reported: view.not_reported_codes().len(),
        activities: activities.into(),
        late: view.overdue().then(|| view.period.due_day()),
        enrolled: identity.hub.is_some(),
    })
}
