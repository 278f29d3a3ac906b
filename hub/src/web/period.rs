//! The pages of one period: the completeness grid, one unit's report with
//! the review form, the downloads, whom to call, and the ward's own
//! narrative. Every read and every change goes through [`coso_ward`].

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use coso_domain::calendar::vietnam;
use coso_domain::{Lang, Period, PeriodCode, ReportState, Section, UnitCode, Value};
use serde::Deserialize;

use super::Shared;
use super::chrome::Chrome;
use super::error::WebError;
use super::grid::{self, GridQuery, GridView, vn_instant, vn_time};
use super::session::Authed;
use coso_report::{Format, Status, StatusRow, UnitStatus};
use coso_ward::Role;
use coso_ward::{Actor, Scope, Verdict, WardError};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/periods/{p}", get(grid_page))
        .route("/periods/{p}/units/{code}", get(unit_page))
        .route("/periods/{p}/units/{code}/review", post(review))
        .route("/periods/{p}/calls", get(calls_page))
        .route("/periods/{p}/calls.csv", get(calls_csv))
        .route(
            "/periods/{p}/narrative",
            get(narrative_page).post(save_narrative),
        )
        .route("/periods/{p}/{file}", get(download))
}

fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

/// The period named in a URL; an unknown or malformed one is a 404.
pub fn period_of(st: &Shared, p: &str) -> Result<Period, WebError> {
    let code: PeriodCode = p.parse().map_err(|_| WebError::NotFound)?;
    st.ward.period(&code).map_err(WebError::from)
}

fn unit_code(code: &str) -> Result<UnitCode, WebError> {
    code.parse().map_err(|_| WebError::NotFound)
}

// --- the grid ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "grid.html")]
struct GridPage {
    c: Chrome,
    g: GridView,
}

async fn grid_page(
    State(st): State<Shared>,
    s: Authed,
    Path(p): Path<String>,
    Query(q): Query<GridQuery>,
) -> Result<Response, WebError> {
    let period = period_of(&st, &p)?;
    let status = st.ward.status(&period)?;
    let versions: grid::AgentVersions = st
        .ward
        .units()?
        .into_iter()
        .map(|u| (u.unit.code.to_string(), u.agent_version))
        .collect();
    let g = GridView::build(
        &period,
        &status,
        &q,
        &versions,
        s.lang,
        coso_domain::clock::now(),
    );
    let page = GridPage {
        c: s.chrome(
            &st,
            &format!("{} {}", period.code, period.title),
            &format!("/periods/{}", period.code),
        ),
        g,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

// --- one unit ----------------------------------------------------------------

pub struct ValueRow {
    pub code: String,
    pub name: String,
    pub measure: String,
    pub derived: bool,
    pub value: String,
    pub previous: String,
}

pub struct NoteView {
    pub title: &'static str,
    pub text: String,
}

pub struct ActivityRow {
    pub date: String,
    pub form: &'static str,
    pub title: String,
    pub participants: String,
}

pub struct HistoryRow {
    pub at: String,
    pub kind: &'static str,
    pub what: &'static str,
    pub by: String,
    pub reason: String,
}

pub struct UnitView {
    pub period: String,
    pub period_title: String,
    pub code: String,
    pub name: String,
    pub kind_label: &'static str,
    pub state: &'static str,
    pub state_label: &'static str,
    pub timeliness: &'static str,
    pub timeliness_label: &'static str,
    pub received: String,
    pub last_sync: String,
    /// The release the unit's agent named; empty when unknown.
    pub agent_version: String,
    /// The unit's log diverged from the hub's: its syncs are refused until
    /// it enrols again.
    pub diverged: bool,
    /// The ward keeps the unit's log: its report is entered here.
    pub kept: bool,
    /// Scanned paper reports attached to the unit's submissions.
    pub papers: Vec<super::kept::PaperLine>,
    /// Who at the ward entered the unit's entries (names, once each, in the
    /// order they first entered); empty when its agent wrote the whole log.
    pub entered_by: String,
    pub reviewable: bool,
    /// What the form was rendered against: a decision on a report that
    /// changed since is refused as stale.
    pub seen: String,
    pub previous: String,
    pub values: Vec<ValueRow>,
    pub notes: Vec<NoteView>,
    pub activities: Vec<ActivityRow>,
    pub history: Vec<HistoryRow>,
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    c: Chrome,
    u: UnitView,
    done: Option<String>,
    reason: String,
    error_reason: Option<String>,
    error_form: Option<String>,
}

pub fn show_value(v: &Value, lang: Lang) -> String {
    match (v, lang) {
        (Value::Bool(b), _) => lang
            .pick(
                if *b { "có" } else { "không" },
                if *b { "yes" } else { "no" },
            )
            .into(),
        (Value::Number(n), Lang::Vi) => {
            coso_domain::value::format_vi(*n, if n.fract() == 0.0 { 0 } else { 1 })
        }
        (Value::Number(n), Lang::En) => n.to_string(),
        (Value::Text(t), _) => t.clone(),
    }
}

fn row_of<'a>(status: &'a Status, code: &UnitCode) -> Option<&'a StatusRow> {
    status.units.iter().find(|r| &r.unit == code)
}

/// Builds what the unit page shows, all from the ward layer.
fn unit_view(
    st: &Shared,
    period: &Period,
    code: &UnitCode,
    lang: Lang,
) -> Result<UnitView, WebError> {
    let ward = &st.ward;
    let summary = ward.unit(code)?;
    let detail = ward.unit_detail(code)?;
    let state = ward.unit_state(code)?;
    let status = ward.status(period)?;
    let row = row_of(&status, code);
    let catalog = st.hub.docs.catalog();
    let current = detail.periods.iter().find(|p| p.period.code == period.code);
    // The previous report of the calendar, for comparison: reports are
    // cumulative within a year, so the nearest earlier deadline is the one.
    let previous = detail
        .periods
        .iter()
        .rfind(|p| p.period.due < period.due && p.period.kind == coso_domain::PeriodKind::Standard);
    let mut values = Vec::new();
    for ind in &catalog.indicators {
        let now = current.and_then(|c| c.values.get(&ind.code));
        let before = previous.and_then(|p| p.values.get(&ind.code));
        if now.is_none() && before.is_none() {
            continue;
        }
        values.push(ValueRow {
            code: ind.code.clone(),
            name: lang.pick(&ind.name, &ind.name_en).to_string(),
            measure: ind.measure.clone(),
            derived: ind.derived.is_some(),
            value: now
                .map(|v| show_value(v, lang))
                .unwrap_or_else(|| "—".into()),
            previous: before
                .map(|v| show_value(v, lang))
                .unwrap_or_else(|| "—".into()),
        });
    }
    let notes_src = match state.submissions.get(&period.code) {
        Some(s) => s.notes.clone(),
        None => state.notes.get(&period.code).cloned().unwrap_or_default(),
    };
    let notes = Section::ALL
        .into_iter()
        .map(|s| NoteView {
            title: lang.pick(s.heading_vi(), s.heading_en()),
            text: notes_src.get(&s).cloned().unwrap_or_default(),
        })
        .collect();
    let activities = state
        .activities_in(period)
        .into_iter()
        .map(|a| ActivityRow {
            date: a.date.format("%d/%m/%Y").to_string(),
            form: a.form.as_str(),
            title: a.title.clone(),
            participants: a.participants.map(|n| n.to_string()).unwrap_or_default(),
        })
        .collect();
    let mut history = Vec::new();
    if let Some(at) = row.and_then(|r| r.submitted_at.clone()) {
        history.push(HistoryRow {
            at: vn_time(&at),
            kind: "submitted",
            what: lang.pick(
                "đơn vị gửi báo cáo (lần đầu)",
                "the unit submitted (first time)",
            ),
            by: String::new(),
            reason: String::new(),
        });
    }
    let reviews: Vec<_> = ward
        .review_history(code)?
        .into_iter()
        .filter(|r| r.review.period == period.code)
        .collect();
    for r in &reviews {
        let (kind, what) = match r.review.decision {
            coso_domain::Decision::Accepted => (
                "accepted",
                lang.pick("phường chấp nhận", "accepted by the ward"),
            ),
            coso_domain::Decision::Returned => (
                "returned",
                lang.pick("phường trả lại", "returned by the ward"),
            ),
        };
        history.push(HistoryRow {
            at: vn_instant(r.review.decided_at),
            kind,
            what,
            by: r.by.clone(),
            reason: r.review.reason.clone(),
        });
    }
    let report_state = current.map(|c| c.state);
    let (st_code, st_label, tl, tl_label) = match row {
        Some(r) => (
            r.state.as_str(),
            grid::state_label(r.state, lang),
            r.timeliness.as_str(),
            grid::timeliness_label(r.timeliness, lang),
        ),
        None => (
            UnitStatus::Missing.as_str(),
            grid::state_label(UnitStatus::Missing, lang),
            coso_domain::Timeliness::Missing.as_str(),
            grid::timeliness_label(coso_domain::Timeliness::Missing, lang),
        ),
    };
    Ok(UnitView {
        period: period.code.to_string(),
        period_title: period.title.clone(),
        code: code.to_string(),
        name: summary.unit.name.clone(),
        kind_label: grid::kind_label(summary.unit.kind, lang),
        state: st_code,
        state_label: st_label,
        timeliness: tl,
        timeliness_label: tl_label,
        received: row
            .and_then(|r| r.submitted_at.as_deref())
            .map(vn_time)
            .unwrap_or_default(),
        last_sync: summary.last_sync.map(vn_instant).unwrap_or_default(),
        agent_version: summary
            .agent_version
            .map(|v| v.to_string())
            .unwrap_or_default(),
        diverged: summary.diverged.is_some(),
        kept: summary.kept_at_ward,
        papers: super::kept::paper_lines(st, code, &period.code)?,
        entered_by: super::kept::entered_by_names(st, code)?,
        reviewable: matches!(
            report_state,
            Some(ReportState::Submitted | ReportState::Accepted)
        ),
        seen: format!("{st_code}-{}", reviews.len()),
        previous: previous
            .map(|p| p.period.code.to_string())
            .unwrap_or_default(),
        values,
        notes,
        activities,
        history,
    })
}

#[derive(Deserialize, Default)]
struct UnitQuery {
    #[serde(default)]
    done: String,
}

fn done_message(done: &str, lang: Lang) -> Option<String> {
    let m = match done {
        "accept" => lang.pick("Đã chấp nhận báo cáo.", "The report was accepted."),
        "return" => lang.pick(
            "Đã trả lại báo cáo; đơn vị sẽ thấy lý do ở lần đồng bộ tới.",
            "The report was returned; the unit sees the reason on its next sync.",
        ),
        "reopen" => lang.pick(
            "Đã mở lại báo cáo; đơn vị sẽ thấy lý do ở lần đồng bộ tới.",
            "The report was reopened; the unit sees the reason on its next sync.",
        ),
        _ => return None,
    };
    Some(m.to_string())
}

async fn unit_page(
    State(st): State<Shared>,
    s: Authed,
    Path((p, code)): Path<(String, String)>,
    Query(q): Query<UnitQuery>,
) -> Result<Response, WebError> {
    let period = period_of(&st, &p)?;
    let code = unit_code(&code)?;
    let u = unit_view(&st, &period, &code, s.lang)?;
    let page = UnitPage {
        c: s.chrome(
            &st,
            &u.name,
            &format!("/periods/{}/units/{}", u.period, u.code),
        ),
        done: done_message(&q.done, s.lang),
        u,
        reason: String::new(),
        error_reason: None,
        error_form: None,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
struct ReviewForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    seen: String,
}

async fn review(
    State(st): State<Shared>,
    s: Authed,
    Path((p, code)): Path<(String, String)>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, WebError> {
    s.require(Role::Reviewer)?;
    let period = period_of(&st, &p)?;
    let code = unit_code(&code)?;
    let lang = s.lang;
    let u = unit_view(&st, &period, &code, lang)?;
    // The page again with the message next to the field; nothing written.
    let again =
        |u: UnitView, reason: String, on_reason: Option<String>, on_form: Option<String>| {
            let page = UnitPage {
                c: s.chrome(
                    &st,
                    &u.name,
                    &format!("/periods/{}/units/{}", u.period, u.code),
                ),
                done: None,
                u,
                reason,
                error_reason: on_reason,
                error_form: on_form,
            };
            Ok::<_, WebError>(html(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
        };
    // Never echo a huge reason back into the page.
    let echo: String = f
        .reason
        .chars()
        .take(coso_ward::input::MAX_REASON_CHARS)
        .collect();
    if f.seen != u.seen {
        let msg = lang.pick(
            "Báo cáo đã thay đổi kể từ khi bạn mở trang này. Hãy xem lại rồi quyết định.",
            "The report changed since you opened this page. Check it again, then decide.",
        );
        return again(u, echo, None, Some(msg.into()));
    }
    let verdict = match Verdict::parse(&f.decision, &f.reason) {
        Ok(v) => v,
        Err(e) => {
            let msg = WardError::from(e).message(lang);
            return if f.decision == "return" || f.decision == "reopen" {
                again(u, echo, Some(msg), None)
            } else {
                again(u, echo, None, Some(msg))
            };
        }
    };
    let decision = f.decision.trim().to_string();
    match st
        .ward
        .review(&Actor::user(&s.user.name), &code, &period, verdict)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/periods/{}/units/{}?done={decision}",
            period.code, code
        ))
        .into_response()),
        Err(e) if e.is_refusal() => {
            let u = unit_view(&st, &period, &code, lang)?;
            again(u, echo, None, Some(e.message(lang)))
        }
        Err(e) => Err(e.into()),
    }
}

// --- downloads -----------------------------------------------------------------

async fn download(
    State(st): State<Shared>,
    _s: Authed,
    Path((p, file)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let Some(ext) = file.strip_prefix("report.") else {
        return Err(WebError::NotFound);
    };
    let format: Format = ext.parse().map_err(|_| WebError::NotFound)?;
    let period = period_of(&st, &p)?;
    let report = st.ward.report(&period, format, Scope::Auto)?;
    let disposition = format!("attachment; filename=\"{}\"", report.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, report.media_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        report.content,
    )
        .into_response())
}

// --- whom to call --------------------------------------------------------------

pub struct CallRow {
    pub code: String,
    pub name: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub contact: String,
    pub phone: String,
    pub reminder: String,
}

fn reminder(period: &Period, row: &StatusRow, lang: Lang, ward: &str) -> String {
    let due = period.due.with_timezone(&vietnam());
    let days = period.days_left(coso_domain::clock::now());
    match lang {
        Lang::Vi => {
            let what = match row.state {
                UnitStatus::Returned => format!(
                    "báo cáo đã bị trả lại và chưa được gửi lại (lý do: {})",
                    row.review_reason.as_deref().unwrap_or("")
                ),
                UnitStatus::Draft => "đơn vị đã nhập số liệu nhưng chưa bấm gửi báo cáo".into(),
                _ => "phường chưa nhận được báo cáo của đơn vị".into(),
            };
            let left = if days >= 0 {
                format!("còn {days} ngày")
            } else {
                format!("đã quá hạn {} ngày", -days)
            };
            format!(
                "{ward} kính gửi {}: kỳ báo cáo \"{}\" ({}) có hạn nộp trước {} ngày {} ({left}). Hiện {what}. Đề nghị đơn vị hoàn thiện và gửi báo cáo bằng coso-agent (coso-agent submit --period {}, rồi coso-agent sync).",
                row.name,
                period.title,
                period.code,
                due.format("%H:%M"),
                due.format("%d/%m/%Y"),
                period.code,
            )
        }
        Lang::En => {
            let what = match row.state {
                UnitStatus::Returned => format!(
                    "the report was returned and not yet sent again (reason: {})",
                    row.review_reason.as_deref().unwrap_or("")
                ),
                UnitStatus::Draft => "the unit has entered data but not submitted".into(),
                _ => "the ward has not received the unit's report".into(),
            };
            format!(
                "{ward} to {}: the report \"{}\" ({}) is due before {} ({days} days left). At present {what}. Please complete and submit it with coso-agent (coso-agent submit --period {}, then coso-agent sync).",
                row.name,
                period.title,
                period.code,
                due.format("%H:%M on %d/%m/%Y"),
                period.code,
            )
        }
    }
}

/// Units that have not (validly) submitted, with whom to call and what to say.
fn calls(st: &Shared, period: &Period, lang: Lang) -> Result<Vec<CallRow>, WebError> {
    let status = st.ward.status(period)?;
    let contacts: HashMap<UnitCode, coso_ward::Contact> = st
        .ward
        .units()?
        .into_iter()
        .map(|u| (u.unit.code, u.contact))
        .collect();
    let ward = &st.hub.config.file.ward;
    Ok(status
        .units
        .iter()
        .filter(|r| {
            matches!(
                r.state,
                UnitStatus::Missing | UnitStatus::Draft | UnitStatus::Returned
            )
        })
        .map(|r| {
            let c = contacts.get(&r.unit).cloned().unwrap_or_default();
            CallRow {
                code: r.unit.to_string(),
                name: r.name.clone(),
                state: r.state.as_str(),
                state_label: grid::state_label(r.state, lang),
                contact: c.person.unwrap_or_default(),
                phone: c.phone.unwrap_or_default(),
                reminder: reminder(period, r, lang, ward),
            }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "calls.html")]
struct CallsPage {
    c: Chrome,
    period: String,
    title: String,
    rows: Vec<CallRow>,
}

async fn calls_page(
    State(st): State<Shared>,
    s: Authed,
    Path(p): Path<String>,
) -> Result<Response, WebError> {
    let period = period_of(&st, &p)?;
    let rows = calls(&st, &period, s.lang)?;
    let page = CallsPage {
        c: s.chrome(
            &st,
            s.lang.pick("Cần gọi nhắc", "Whom to call"),
            &format!("/periods/{}/calls", period.code),
        ),
        period: period.code.to_string(),
        title: period.title.clone(),
        rows,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

async fn calls_csv(
    State(st): State<Shared>,
    s: Authed,
    Path(p): Path<String>,
) -> Result<Response, WebError> {
    let period = period_of(&st, &p)?;
    let rows = calls(&st, &period, s.lang)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| WebError::Internal(e.to_string());
    w.write_record(["unit", "name", "state", "contact", "phone", "reminder"])
        .map_err(csv_err)?;
    for r in &rows {
        // Names, contacts and reminders are typed by people: no formulas.
        w.write_record(
            [&r.code, &r.name, r.state, &r.contact, &r.phone, &r.reminder]
                .map(|c| coso_report::spreadsheet_text(c).into_owned()),
        )
        .map_err(csv_err)?;
    }
    let body = w
        .into_inner()
        .map_err(|e| WebError::Internal(e.to_string()))?;
    // A BOM, so Excel on the office PC reads the Vietnamese as UTF-8.
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend(body);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"can-goi-{}.csv\"", period.code),
            ),
        ],
        out,
    )
        .into_response())
}

// --- the ward's narrative ---------------------------------------------------------

pub struct SectionEdit {
    pub name: &'static str,
    pub title: &'static str,
    pub text: String,
    /// Not saved yet: pre-filled from the units' texts.
    pub drafted: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "narrative.html")]
struct NarrativePage {
    c: Chrome,
    period: String,
    title: String,
    sections: Vec<SectionEdit>,
    saved: bool,
}

/// The ward's saved text per section, or a draft put together from the
/// units' submitted texts (each paragraph headed by the unit's name).
fn sections(st: &Shared, period: &Period, lang: Lang) -> Result<Vec<SectionEdit>, WebError> {
    let saved = st.ward.ward_notes(period)?;
    let entries = st.ward.entries(period)?;
    Ok(Section::ALL
        .into_iter()
        .map(|s| {
            let (text, drafted) = match saved.get(&s) {
                Some(t) => (t.clone(), false),
                None => {
                    let parts: Vec<String> = entries
                        .iter()
                        .filter_map(|e| {
                            let t = e.report.as_ref()?.notes.get(&s)?;
                            (!t.trim().is_empty()).then(|| format!("{}: {}", e.unit.name, t.trim()))
                        })
                        .collect();
                    (parts.join("\n\n"), true)
                }
            };
            SectionEdit {
                name: s.as_str(),
                title: lang.pick(s.heading_vi(), s.heading_en()),
                text,
                drafted,
                error: None,
            }
        })
        .collect())
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    #[serde(default)]
    saved: String,
}

async fn narrative_page(
    State(st): State<Shared>,
    s: Authed,
    Path(p): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, WebError> {
    let period = period_of(&st, &p)?;
    let page = NarrativePage {
        c: s.chrome(
            &st,
            s.lang
                .pick("Nội dung báo cáo của phường", "The ward's text"),
            &format!("/periods/{}/narrative", period.code),
        ),
        period: period.code.to_string(),
        title: period.title.clone(),
        sections: sections(&st, &period, s.lang)?,
        saved: q.saved == "1",
    };
    Ok(html(StatusCode::OK, page.render()?))
}

async fn save_narrative(
    State(st): State<Shared>,
    s: Authed,
    Path(p): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    s.require(Role::Reviewer)?;
    let period = period_of(&st, &p)?;
    let lang = s.lang;
    let mut edits = sections(&st, &period, lang)?;
    for e in &mut edits {
        if let Some(t) = f.get(e.name) {
            e.text = t.clone();
        }
    }
    // Check every section before writing any, so a refusal changes nothing.
    let mut refused = false;
    for e in &mut edits {
        if e.text.trim().len() > coso_domain::text::MAX_NOTE_BYTES {
            e.error = Some(
                lang.pick("Nội dung quá dài.", "The text is too long.")
                    .to_string(),
            );
            e.text = e.text.chars().take(2000).collect();
            refused = true;
        }
    }
    if refused {
        let page = NarrativePage {
            c: s.chrome(
                &st,
                lang.pick("Nội dung báo cáo của phường", "The ward's text"),
                &format!("/periods/{}/narrative", period.code),
            ),
            period: period.code.to_string(),
            title: period.title.clone(),
            sections: edits,
            saved: false,
        };
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page.render()?));
    }
    let actor = Actor::user(&s.user.name);
    for e in &edits {
        if let Some(t) = f.get(e.name) {
            let section: Section = e.name.parse().map_err(|_| WebError::NotFound)?;
            st.ward.set_ward_note(&actor, &period, section, t).await?;
        }
    }
    Ok(Redirect::to(&format!("/periods/{}/narrative?saved=1", period.code)).into_response())
}
