//! `/activities`: the list of activities with the form that adds one, and
//! `/activities/{id}` to edit or remove one.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use coso_domain::calendar::vietnam;
use coso_domain::{ActivityId, Form, Lang};

use super::{Ran, Shared, chrome, failure, run_command};
use crate::commands::activity::{self, ActivityChanges, ActivityInput, ActivityList, form_name};
use crate::commands::find_period;
use crate::error::{AgentError, InputError};
use crate::messages::{Label, day_vn, input_message};
use crate::store::Store;
use crate::ui::App;
use crate::ui::form::Fields;
use crate::ui::security::{Session, see_other};
use crate::ui::views::{self, render};

fn form_options(selected: &str) -> Vec<views::FormOption> {
    Form::ALL
        .iter()
        .map(|f| views::FormOption {
            value: f.as_str(),
            name: f.name_vi(),
            selected: f.as_str() == selected,
        })
        .collect()
}

/// The activity field an input error is about, if it is one of the form's.
fn activity_field(e: &InputError) -> Option<&'static str> {
    match e {
        InputError::Invalid { field, .. } => ["date", "form", "title", "participants", "note"]
            .into_iter()
            .find(|f| f == field),
        InputError::Participants { .. } => Some("participants"),
        _ => None,
    }
}

fn activity_form_from(f: &Fields) -> views::ActivityForm {
    views::ActivityForm {
        date: f.text("date"),
        form: f.text("form"),
        title: f.text("title"),
        participants: f.text("participants"),
        note: f.text("note"),
        ..Default::default()
    }
}

/// Puts a refusal next to its field and in the summary.
fn place_error(form: &mut views::ActivityForm, e: &InputError, lang: Lang) -> views::Problem {
    let message = input_message(e, lang);
    let field = activity_field(e);
    let slot = match field {
        Some("date") => Some(&mut form.err_date),
        Some("form") => Some(&mut form.err_form),
        Some("title") => Some(&mut form.err_title),
        Some("participants") => Some(&mut form.err_participants),
        Some("note") => Some(&mut form.err_note),
        _ => None,
    };
    if let Some(slot) = slot {
        *slot = Some(message.clone());
    }
    if let Some(f) = field {
        form.focus = f;
    }
    views::Problem {
        anchor: field.map(str::to_string),
        message,
    }
}

fn activities_view(
    app: &App,
    sess: &Session,
    store: &Store,
    period: Option<&str>,
    form: views::ActivityForm,
    mut problems: Vec<views::Problem>,
) -> Result<views::Activities, AgentError> {
    let lang = app.cfg.lang;
    let identity = store.identity()?;
    let state = store.unit_state()?;
    let (_, calendar) = store.calendar()?;
    let now = coso_domain::clock::now();
    let selected = match period.filter(|p| !p.trim().is_empty()) {
        Some(raw) => match find_period(&calendar, raw) {
            Ok(p) => Some(p),
            Err(e) => {
                problems.push(views::Problem {
                    anchor: None,
                    message: input_message(&e, lang),
                });
                None
            }
        },
        None => None,
    };
    let list = ActivityList::of(&state, &calendar, selected.clone());
    let summary = list.summary(lang);
    let rows = list
        .activities
        .iter()
        .map(|(a, _)| views::ActivityRow {
            id: a.id.to_string(),
            date: day_vn(a.date),
            form: form_name(a.form, lang).to_string(),
            title: a.title.clone(),
            participants: a
                .participants
                .map(|p| p.to_string())
                .unwrap_or_else(|| "–".into()),
            note: a.note.clone(),
        })
        .collect();
    let year = now.with_timezone(&vietnam()).year();
    let periods = calendar
        .periods_of_year(year)
        .into_iter()
        .map(|p| views::PeriodOption {
            selected: selected.as_ref().is_some_and(|s| s.code == p.code),
            code: p.code.to_string(),
            title: p.title,
        })
        .collect();
    let forms = form_options(if form.form.is_empty() {
        "conference"
    } else {
        &form.form
    });
    Ok(views::Activities {
        c: chrome(
            app,
            sess,
            lang.pick("Hoạt động", "Activities"),
            "activities",
            identity.as_ref(),
        ),
        problems,
        f: form,
        forms,
        form_id: "activity",
        action: "/activities".into(),
        submit_label: lang.pick("Ghi hoạt động", "Record the activity").into(),
        periods,
        rows,
        summary,
    })
}

pub async fn activities(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !app.has_data() {
        return see_other("/enroll");
    }
    let _op = app.op().await;
    let store = tryp!(app, sess, app.open_store());
    if tryp!(app, sess, store.identity()).is_none() {
        return see_other("/enroll");
    }
    let form = views::ActivityForm {
        date: coso_domain::clock::now()
            .with_timezone(&vietnam())
            .date_naive()
            .to_string(),
        ..Default::default()
    };
    let v = tryp!(
        app,
        sess,
        activities_view(
            &app,
            &sess,
            &store,
            q.get("period").map(String::as_str),
            form,
            Vec::new()
        )
    );
    drop(store);
    render(StatusCode::OK, &v)
}

fn opt(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

pub async fn activity_add(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    let args = ActivityInput {
        date: f.text("date"),
        form: f.text("form"),
        title: f.text("title"),
        participants: opt(f.text("participants")),
        note: opt(f.text("note")),
    };
    let _op = app.op().await;
    match run_command(&app, &sess, "/activities", async |c| {
        activity::add(c, &args).await
    })
    .await
    {
        Ran::Answered(answer) => answer,
        Ran::Refused(store, e) => {
            let mut form = activity_form_from(&f);
            let p = place_error(&mut form, &e, app.cfg.lang);
            let v = tryp!(
                app,
                sess,
                activities_view(&app, &sess, &store, None, form, vec![p])
            );
            render(StatusCode::UNPROCESSABLE_ENTITY, &v)
        }
    }
}

fn edit_view(
    app: &App,
    sess: &Session,
    store: &Store,
    id: &str,
    form: views::ActivityForm,
    problems: Vec<views::Problem>,
) -> Result<views::ActivityEdit, AgentError> {
    let lang = app.cfg.lang;
    let identity = store.identity()?;
    let forms = form_options(&form.form);
    Ok(views::ActivityEdit {
        c: chrome(
            app,
            sess,
            Label::EditActivity.text(lang),
            "activities",
            identity.as_ref(),
        ),
        id: id.to_string(),
        problems,
        f: form,
        forms,
        form_id: "activity-edit",
        action: format!("/activities/{id}"),
        submit_label: lang.pick("Lưu thay đổi", "Save the changes").into(),
    })
}

pub async fn activity_edit_page(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let _op = app.op().await;
    let store = tryp!(app, sess, app.open_store());
    let parsed: ActivityId = tryp!(
        app,
        sess,
        id.parse::<ActivityId>()
            .map_err(|source| InputError::Invalid {
                field: "id",
                source
            })
    );
    let state = tryp!(app, sess, store.unit_state());
    let Some(a) = state.activities.get(&parsed) else {
        return failure(
            &app,
            &sess,
            &InputError::UnknownActivity { id: parsed }.into(),
        );
    };
    let form = views::ActivityForm {
        date: a.date.to_string(),
        form: a.form.as_str().to_string(),
        title: a.title.clone(),
        participants: a.participants.map(|p| p.to_string()).unwrap_or_default(),
        note: a.note.clone(),
        ..Default::default()
    };
    let v = tryp!(
        app,
        sess,
        edit_view(&app, &sess, &store, &parsed.to_string(), form, Vec::new())
    );
    drop(store);
    render(StatusCode::OK, &v)
}

pub async fn activity_edit(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    let args = ActivityChanges {
        id: id.clone(),
        date: Some(f.text("date")),
        form: Some(f.text("form")),
        title: Some(f.text("title")),
        participants: Some(f.text("participants")),
        note: Some(f.text("note")),
    };
    let _op = app.op().await;
    match run_command(&app, &sess, "/activities", async |c| {
        activity::edit(c, &args).await
    })
    .await
    {
        Ran::Answered(answer) => answer,
        Ran::Refused(store, e) if activity_field(&e).is_some() => {
            let mut form = activity_form_from(&f);
            let p = place_error(&mut form, &e, app.cfg.lang);
            let v = tryp!(
                app,
                sess,
                edit_view(&app, &sess, &store, &id, form, vec![p])
            );
            render(StatusCode::UNPROCESSABLE_ENTITY, &v)
        }
        Ran::Refused(_, e) => failure(&app, &sess, &e.into()),
    }
}

pub async fn activity_remove(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let _op = app.op().await;
    match run_command(&app, &sess, "/activities", async |c| {
        activity::remove(c, &id).await
    })
    .await
    {
        Ran::Answered(answer) => answer,
        Ran::Refused(_, e) => failure(&app, &sess, &e.into()),
    }
}
