//! The pages where a reviewer (or admin) enters the report of a unit whose
//! log the ward keeps: its activities (`/units/{CODE}/activities`, the
//! agent's activity form) and a period's values and narratives
//! (`/periods/{P}/units/{CODE}/entry`: save, or submit a frozen report).
//! Every entry goes through the ward ([`coso_ward::Ward::add_activity`],
//! [`coso_ward::Ward::save_period`]), which checks it with the agent's own
//! rules and writes it into the unit's log as a push would; a unit handed
//! over (or never kept) shows why the ward cannot write to it.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use coso_domain::entry::ActivityFields;
use coso_domain::{Form as ActivityForm, Lang, Section, UnitCode};
use serde::Deserialize;

use super::Shared;
use super::chrome::Chrome;
use super::error::WebError;
use super::session::Authed;
use coso_ward::kept::{PeriodInput, SectionField};
use coso_ward::{Actor, Role, WardError};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/units/{code}/activities",
            get(activities_page).post(add_activity),
        )
        .route(
            "/periods/{period}/units/{code}/entry",
            get(entry_page).post(save_entry),
        )
        .route(
            "/periods/{period}/units/{code}/paper",
            post(attach_paper).layer(DefaultBodyLimit::max(PAPER_BODY_BYTES)),
        )
        .route(
            "/periods/{period}/units/{code}/paper/{seq}",
            get(download_paper),
        )
}

/// The largest upload of a scan: the scan and the multipart framing.
pub const PAPER_BODY_BYTES: usize = coso_ward::paper::MAX_PAPER_BYTES + (64 << 10);

/// A scan attached to a submission, as the pages list it.
pub struct PaperLine {
    pub seq: u64,
    pub period: String,
    pub media_type: String,
    pub size: String,
    pub by: String,
    pub at: String,
}

/// The scans attached to the unit's submissions of `period`.
/// The names of whoever entered the unit's entries at the ward, once each.
pub fn entered_by_names(st: &Shared, code: &UnitCode) -> Result<String, WebError> {
    Ok(st.ward.entered_by_names(code)?.join(", "))
}

pub fn paper_lines(
    st: &Shared,
    code: &UnitCode,
    period: &coso_domain::PeriodCode,
) -> Result<Vec<PaperLine>, WebError> {
    Ok(st
        .ward
        .papers(code)?
        .into_iter()
        .filter(|p| &p.period == period)
        .map(|p| PaperLine {
            seq: p.seq,
            period: p.period.to_string(),
            media_type: p.media_type,
            size: format!("{} KiB", p.size.div_ceil(1024)),
            by: p.by,
            at: super::grid::vn_instant(p.at),
        })
        .collect())
}

/// The activity form as typed.
#[derive(Deserialize, Default, Clone)]
pub struct ActivityInput {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub form: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub participants: String,
    #[serde(default)]
    pub note: String,
}

pub struct ActivityRow {
    pub id: String,
    pub date: String,
    pub form: &'static str,
    pub title: String,
    pub participants: String,
    pub note: String,
    pub entered_by: String,
}

#[derive(Template)]
#[template(path = "kept_activities.html")]
struct ActivitiesPage {
    c: Chrome,
    code: String,
    name: String,
    kept: bool,
    not_kept: String,
    done: Option<String>,
    f: ActivityInput,
    forms: Vec<(&'static str, &'static str)>,
    /// Refusals, next to their fields.
    e: FieldErrors,
    rows: Vec<ActivityRow>,
}

/// A refusal's message and the field it is about; a field the domain
/// refused is worded by the domain, as the agent words it.
pub fn refusal(e: &WardError, lang: Lang) -> (Option<&'static str>, String) {
    match e {
        WardError::Domain { field, error } => {
            (Some(field), coso_domain::entry::message(field, error, lang))
        }
        other => (other.field(), other.message(lang)),
    }
}

pub fn unit_code(raw: &str) -> Result<UnitCode, WebError> {
    raw.parse().map_err(|_| WebError::NotFound)
}

/// A refusal of the activity form, next to the field it is about (the rest
/// above the form).
pub struct FieldErrors {
    pub form: Option<String>,
    pub date: Option<String>,
    pub kind: Option<String>,
    pub title: Option<String>,
    pub participants: Option<String>,
    pub note: Option<String>,
}

impl FieldErrors {
    pub fn of(error: Option<&WardError>, lang: Lang) -> FieldErrors {
        let (field, message) = match error {
            Some(e) => {
                let (f, m) = refusal(e, lang);
                (f, Some(m))
            }
            None => (None, None),
        };
        let at = |name: &str| message.clone().filter(|_| field == Some(name));
        let fields = ["date", "form", "title", "participants", "note"];
        FieldErrors {
            form: message
                .clone()
                .filter(|_| !field.is_some_and(|f| fields.contains(&f))),
            date: at("date"),
            kind: at("form"),
            title: at("title"),
            participants: at("participants"),
            note: at("note"),
        }
    }
}

/// The activity forms, as the select offers them.
pub fn form_options(lang: Lang) -> Vec<(&'static str, &'static str)> {
    ActivityForm::ALL
        .into_iter()
        .map(|f| (f.as_str(), form_name(f, lang)))
        .collect()
}

/// The typed fields of the activity form, for the domain's check.
pub fn activity_fields(f: &ActivityInput) -> ActivityFields {
    ActivityFields {
        date: f.date.clone(),
        form: f.form.clone(),
        title: f.title.clone(),
        participants: f.participants.clone(),
        note: f.note.clone(),
    }
}

fn form_name(f: ActivityForm, lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => f.name_vi(),
        Lang::En => f.as_str(),
    }
}

fn activities_html(
    st: &Shared,
    s: &Authed,
    code: &UnitCode,
    status: StatusCode,
    f: ActivityInput,
    error: Option<&WardError>,
) -> Result<Response, WebError> {
    let lang = s.lang;
    let unit = st.ward.unit(code)?;
    let state = st.ward.unit_state(code)?;
    let mut by: BTreeMap<String, String> = BTreeMap::new();
    for e in st.ward.entered_by(code)? {
        by.insert(e.entity, e.user);
    }
    let rows = state
        .activities
        .values()
        .map(|a| ActivityRow {
            id: a.id.to_string(),
            date: a.date.format("%d/%m/%Y").to_string(),
            form: form_name(a.form, lang),
            title: a.title.clone(),
            participants: a.participants.map(|n| n.to_string()).unwrap_or_default(),
            note: a.note.clone(),
            entered_by: by.get(a.id.as_str()).cloned().unwrap_or_default(),
        })
        .collect();
    let e = FieldErrors::of(error, lang);
    let page = ActivitiesPage {
        c: s.chrome(
            st,
            lang.pick("Hoạt động của đơn vị", "Unit activities"),
            &format!("/units/{code}/activities"),
        ),
        code: code.to_string(),
        name: unit.unit.name.clone(),
        kept: unit.kept_at_ward,
        not_kept: WardError::NotKept(code.clone()).message(lang),
        done: None,
        e,
        f,
        forms: form_options(lang),
        rows,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn activities_page(
    State(st): State<Shared>,
    s: Authed,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    s.require(Role::Reviewer)?;
    let code = unit_code(&code)?;
    let f = ActivityInput {
        form: "conference".into(),
        ..ActivityInput::default()
    };
    activities_html(&st, &s, &code, StatusCode::OK, f, None)
}

async fn add_activity(
    State(st): State<Shared>,
    s: Authed,
    Path(code): Path<String>,
    Form(f): Form<ActivityInput>,
) -> Result<Response, WebError> {
    s.require(Role::Reviewer)?;
    let code = unit_code(&code)?;
    let fields = activity_fields(&f);
    match st
        .ward
        .add_activity(&Actor::user(&s.user.name), &code, &fields)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/units/{code}/activities")).into_response()),
        Err(e) if e.is_refusal() => {
            let status = match e {
                WardError::NotKept(_) => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            activities_html(&st, &s, &code, status, f, Some(&e))
        }
        Err(e) => Err(e.into()),
    }
}

pub struct IndicatorRow {
    pub code: String,
    pub name: String,
    pub measure: String,
    pub entered: bool,
    pub value: String,
    pub error: Option<String>,
}

pub struct NoteRow {
    pub name: &'static str,
    pub heading: &'static str,
    pub text: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "kept_entry.html")]
struct EntryPage {
    c: Chrome,
    code: String,
    name: String,
    period: String,
    period_title: String,
    state: &'static str,
    state_label: &'static str,
    kept: bool,
    editable: bool,
    not_kept: String,
    err_general: Option<String>,
    rows: Vec<IndicatorRow>,
    notes: Vec<NoteRow>,
    /// The scans attached, and whether a scan may be attached now.
    u: PapersView,
    submitted: bool,
    err_file: Option<String>,
}

/// What `papers.html` reads.
pub struct PapersView {
    pub code: String,
    pub papers: Vec<PaperLine>,
}

/// The form as typed, to show again after a refusal.
type Typed = BTreeMap<String, String>;

fn entry_html(
    st: &Shared,
    s: &Authed,
    period: &coso_domain::PeriodCode,
    code: &UnitCode,
    status: StatusCode,
    typed: Option<&Typed>,
    error: Option<&WardError>,
) -> Result<Response, WebError> {
    let lang = s.lang;
    let unit = st.ward.unit(code)?;
    let p = st.ward.period(period)?;
    let catalog = st.hub.docs.catalog();
    let state = st.ward.unit_state(code)?;
    let kind = unit.unit.kind;
    let report_state = state.state(&p.code);
    let (values, notes) = match state.submissions.get(&p.code) {
        Some(sub) if !report_state.is_editable() => (sub.values.clone(), sub.notes.clone()),
        _ => (
            state.live_values(&catalog, kind, &p),
            state.notes.get(&p.code).cloned().unwrap_or_default(),
        ),
    };
    // Each refusal at its field; what is not about one field above the form.
    let mut at: BTreeMap<String, String> = BTreeMap::new();
    let mut general = Vec::new();
    match error {
        Some(WardError::Problems(ps)) => {
            for pr in ps {
                let m = if lang == Lang::En {
                    &pr.message_en
                } else {
                    &pr.message_vi
                };
                at.entry(pr.field.clone())
                    .and_modify(|t| {
                        t.push_str("; ");
                        t.push_str(m)
                    })
                    .or_insert_with(|| m.clone());
            }
        }
        Some(e) => {
            let (field, message) = refusal(e, lang);
            match field {
                Some(f) if f.starts_with("note-") || f == "file" => {
                    at.insert(f.to_string(), message);
                }
                _ => general.push(message),
            }
        }
        None => {}
    }
    let rows: Vec<IndicatorRow> = catalog
        .indicators
        .iter()
        .filter(|i| i.applies_to(kind) && p.asks_for(&i.code))
        .map(|i| IndicatorRow {
            code: i.code.clone(),
            name: if lang == Lang::En {
                i.name_en.clone()
            } else {
                i.name.clone()
            },
            measure: i.measure.clone(),
            entered: i.is_entered(),
            value: typed
                .and_then(|t| t.get(&i.code).cloned())
                .unwrap_or_else(|| {
                    values
                        .get(&i.code)
                        .map(coso_domain::entry::input_text)
                        .unwrap_or_default()
                }),
            error: at.remove(&i.code),
        })
        .collect();
    let notes = Section::ALL
        .into_iter()
        .map(|sec| {
            let name = sec.field();
            NoteRow {
                name,
                heading: if lang == Lang::En {
                    sec.heading_en()
                } else {
                    sec.heading_vi()
                },
                text: typed
                    .and_then(|t| t.get(name).cloned())
                    .unwrap_or_else(|| notes.get(&sec).cloned().unwrap_or_default()),
                error: at.remove(name),
            }
        })
        .collect();
    let err_file = at.remove("file");
    // Refusals about no field on the page (a rule across indicators).
    general.extend(at.into_values());
    let page = EntryPage {
        c: s.chrome(
            st,
            lang.pick("Nhập báo cáo tại phường", "Entry at the ward"),
            &format!("/periods/{}/units/{code}/entry", p.code),
        ),
        code: code.to_string(),
        name: unit.unit.name.clone(),
        period: p.code.to_string(),
        period_title: p.title.clone(),
        state: report_state.as_str(),
        state_label: coso_domain::words::state(Some(report_state), lang),
        kept: unit.kept_at_ward,
        editable: unit.kept_at_ward && report_state.is_editable(),
        not_kept: WardError::NotKept(code.clone()).message(lang),
        err_general: (!general.is_empty()).then(|| general.join(" ")),
        rows,
        notes,
        u: PapersView {
            code: code.to_string(),
            papers: paper_lines(st, code, &p.code)?,
        },
        submitted: state.submissions.contains_key(&p.code),
        err_file,
    };
    Ok((status, Html(page.render()?)).into_response())
}

fn period_code(raw: &str) -> Result<coso_domain::PeriodCode, WebError> {
    raw.parse().map_err(|_| WebError::NotFound)
}

async fn entry_page(
    State(st): State<Shared>,
    s: Authed,
    Path((period, code)): Path<(String, String)>,
) -> Result<Response, WebError> {
    s.require(Role::Reviewer)?;
    let (period, code) = (period_code(&period)?, unit_code(&code)?);
    entry_html(&st, &s, &period, &code, StatusCode::OK, None, None)
}

async fn save_entry(
    State(st): State<Shared>,
    s: Authed,
    Path((period, code)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    s.require(Role::Reviewer)?;
    let (period, code) = (period_code(&period)?, unit_code(&code)?);
    let mut typed: Typed = BTreeMap::new();
    for (k, v) in form {
        typed.entry(k).or_insert(v);
    }
    let submit = typed.get("action").is_some_and(|a| a == "submit");
    let mut input = PeriodInput::default();
    for (k, v) in &typed {
        if k == "action" {
            continue;
        }
        match Section::ALL.into_iter().find(|sec| sec.field() == k) {
            Some(sec) => {
                input.notes.insert(sec, v.clone());
            }
            None => input.values.push((k.clone(), v.clone())),
        }
    }
    let actor = Actor::user(&s.user.name);
    match st
        .ward
        .save_period(&actor, &code, &period, &input, submit)
        .await
    {
        Ok(_) => {
            let to = if submit {
                format!("/periods/{period}/units/{code}")
            } else {
                format!("/periods/{period}/units/{code}/entry")
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) if e.is_refusal() => {
            let status = match e {
                WardError::NotKept(_) | WardError::Frozen { .. } => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            entry_html(&st, &s, &period, &code, status, Some(&typed), Some(&e))
        }
        Err(e) => Err(e.into()),
    }
}

/// Attaches a scanned paper report (multipart field `file`) to the unit's
/// latest submission of the period.
async fn attach_paper(
    State(st): State<Shared>,
    s: Authed,
    Path((period, code)): Path<(String, String)>,
    mut form: Multipart,
) -> Result<Response, WebError> {
    s.require(Role::Reviewer)?;
    let (period, code) = (period_code(&period)?, unit_code(&code)?);
    let mut bytes = Vec::new();
    loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => match field.bytes().await {
                Ok(b) => {
                    bytes = b.to_vec();
                    break;
                }
                Err(_) => return Err(WebError::PayloadTooLarge),
            },
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(_) => return Err(WebError::PayloadTooLarge),
        }
    }
    let actor = Actor::user(&s.user.name);
    match st.ward.attach_paper(&actor, &code, &period, &bytes).await {
        Ok(_) => Ok(Redirect::to(&format!("/periods/{period}/units/{code}")).into_response()),
        Err(e) if e.is_refusal() => entry_html(
            &st,
            &s,
            &period,
            &code,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(&e),
        ),
        Err(e) => Err(e.into()),
    }
}

/// Downloads an attached scan, as the type its first bytes said.
async fn download_paper(
    State(st): State<Shared>,
    s: Authed,
    Path((period, code, seq)): Path<(String, String, u64)>,
) -> Result<Response, WebError> {
    s.require(Role::Viewer)?;
    let (period, code) = (period_code(&period)?, unit_code(&code)?);
    let (paper, bytes) = st
        .ward
        .paper(&code, seq)?
        .filter(|(p, _)| p.period == period)
        .ok_or(WebError::NotFound)?;
    let ext = match paper.media_type.as_str() {
        "application/pdf" => "pdf",
        "image/png" => "png",
        _ => "jpg",
    };
    let disposition = format!("attachment; filename=\"{code}-{period}-{seq}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, paper.media_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
