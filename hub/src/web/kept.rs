//! The pages where a reviewer (or admin) enters the report of a unit whose
//! log the ward keeps: its activities (`/units/{CODE}/activities`, the
//! agent's activity form). Every entry goes through
//! [`coso_ward::Ward::add_activity`], which checks it with the agent's own
//! rules and writes it into the unit's log as a push would; a unit handed
//! over (or never kept) shows why the ward cannot write to it.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use coso_domain::entry::ActivityFields;
use coso_domain::{Form as ActivityForm, Lang, UnitCode};
use serde::Deserialize;

use super::Shared;
use super::chrome::Chrome;
use super::error::WebError;
use super::session::Authed;
use coso_ward::{Actor, Role, WardError};

pub fn routes() -> Router<Shared> {
    Router::new().route(
        "/units/{code}/activities",
        get(activities_page).post(add_activity),
    )
}

/// The activity form as typed.
#[derive(Deserialize, Default)]
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
    err_form: Option<String>,
    err_date: Option<String>,
    err_kind: Option<String>,
    err_title: Option<String>,
    err_participants: Option<String>,
    err_note: Option<String>,
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
    let (field, message) = match error {
        Some(e) => {
            let (f, m) = refusal(e, lang);
            (f, Some(m))
        }
        None => (None, None),
    };
    let at = |name: &str| message.clone().filter(|_| field == Some(name));
    let fields = ["date", "form", "title", "participants", "note"];
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
        err_form: message
            .clone()
            .filter(|_| !field.is_some_and(|f| fields.contains(&f))),
        err_date: at("date"),
        err_kind: at("form"),
        err_title: at("title"),
        err_participants: at("participants"),
        err_note: at("note"),
        f,
        forms: ActivityForm::ALL
            .into_iter()
            .map(|f| (f.as_str(), form_name(f, lang)))
            .collect(),
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
    let fields = ActivityFields {
        date: f.date.clone(),
        form: f.form.clone(),
        title: f.title.clone(),
        participants: f.participants.clone(),
        note: f.note.clone(),
    };
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
