//! Correcting and removing an activity of a unit whose log the ward keeps
//! (`/units/{CODE}/activities/{ID}`, and `.../remove`): the agent's own edit
//! (an upsert with the same id, checked by the agent's rules) and removal,
//! through the ward ([`coso_ward::Ward::edit_activity`],
//! [`coso_ward::Ward::remove_activity`]), marked with who entered them. A unit
//! handed over (or never kept) shows why the ward cannot write to it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use coso_domain::{ActivityId, UnitCode};

use super::Shared;
use super::chrome::Chrome;
use super::error::WebError;
use super::kept::{ActivityInput, FieldErrors, activity_fields, form_options, unit_code};
use super::session::Authed;
use coso_ward::{Actor, Role, WardError};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/units/{code}/activities/{id}",
            get(edit_page).post(edit_activity),
        )
        .route(
            "/units/{code}/activities/{id}/remove",
            post(remove_activity),
        )
}

#[derive(Template)]
#[template(path = "kept_activity_edit.html")]
struct EditPage {
    c: Chrome,
    code: String,
    name: String,
    id: String,
    kept: bool,
    not_kept: String,
    f: ActivityInput,
    forms: Vec<(&'static str, &'static str)>,
    /// Refusals, next to their fields.
    e: FieldErrors,
}

fn activity_id(raw: &str) -> Result<ActivityId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound)
}

/// The edit page; `typed` is the form as posted after a refusal, else the
/// activity as recorded.
fn edit_html(
    st: &Shared,
    s: &Authed,
    code: &UnitCode,
    id: &ActivityId,
    status: StatusCode,
    typed: Option<ActivityInput>,
    error: Option<&WardError>,
) -> Result<Response, WebError> {
    let lang = s.lang;
    let unit = st.ward.unit(code)?;
    let state = st.ward.unit_state(code)?;
    let recorded = state.activities.get(id);
    // A unit the ward keeps shows its activity; one it does not keep shows
    // why (whatever id was asked for).
    if recorded.is_none() && unit.kept_at_ward {
        return Err(WardError::NoSuchActivity {
            unit: code.clone(),
            id: id.clone(),
        }
        .into());
    }
    let f = match (typed, recorded) {
        (Some(typed), _) => typed,
        (None, Some(a)) => ActivityInput {
            date: a.date.format("%Y-%m-%d").to_string(),
            form: a.form.as_str().to_string(),
            title: a.title.clone(),
            participants: a.participants.map(|n| n.to_string()).unwrap_or_default(),
            note: a.note.clone(),
        },
        (None, None) => ActivityInput::default(),
    };
    let e = FieldErrors::of(error, lang);
    let page = EditPage {
        c: s.chrome(
            st,
            lang.pick("Sửa hoạt động", "Edit activity"),
            &format!("/units/{code}/activities/{id}"),
        ),
        code: code.to_string(),
        name: unit.unit.name.clone(),
        id: id.to_string(),
        kept: unit.kept_at_ward,
        not_kept: WardError::NotKept(code.clone()).message(lang),
        f,
        forms: form_options(lang),
        e,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn edit_page(
    State(st): State<Shared>,
    s: Authed,
    Path((code, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    s.require(Role::Reviewer)?;
    let code = unit_code(&code)?;
    let id = activity_id(&id)?;
    edit_html(&st, &s, &code, &id, StatusCode::OK, None, None)
}

/// The page again after a refused write: a unit not kept is a conflict,
/// an unknown activity is not found, a refused field is unprocessable.
fn refused(
    st: &Shared,
    s: &Authed,
    code: &UnitCode,
    id: &ActivityId,
    typed: Option<ActivityInput>,
    e: WardError,
) -> Result<Response, WebError> {
    let status = match e {
        WardError::NotKept(_) => StatusCode::CONFLICT,
        WardError::NoSuchActivity { .. } | WardError::NoSuchUnit(_) => return Err(e.into()),
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    edit_html(st, s, code, id, status, typed, Some(&e))
}

async fn edit_activity(
    State(st): State<Shared>,
    s: Authed,
    Path((code, id)): Path<(String, String)>,
    Form(f): Form<ActivityInput>,
) -> Result<Response, WebError> {
    s.require(Role::Reviewer)?;
    let code = unit_code(&code)?;
    let id = activity_id(&id)?;
    let fields = activity_fields(&f);
    match st
        .ward
        .edit_activity(&Actor::user(&s.user.name), &code, &id, &fields)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/units/{code}/activities")).into_response()),
        Err(e) if e.is_refusal() => refused(&st, &s, &code, &id, Some(f), e),
        Err(e) => Err(e.into()),
    }
}

async fn remove_activity(
    State(st): State<Shared>,
    s: Authed,
    Path((code, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    s.require(Role::Reviewer)?;
    let code = unit_code(&code)?;
    let id = activity_id(&id)?;
    match st
        .ward
        .remove_activity(&Actor::user(&s.user.name), &code, &id)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/units/{code}/activities")).into_response()),
        Err(e) if e.is_refusal() => refused(&st, &s, &code, &id, None, e),
        Err(e) => Err(e.into()),
    }
}
