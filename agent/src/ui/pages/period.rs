//! `/periods/{P}`: a period's report as a form (values, narratives, the
//! state and what is still missing), saving it and submitting it.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use coso_domain::catalog::ValueType;
use coso_domain::{Lang, ReportState, Section};

use super::indicator::{help, input_text};
use super::{Shared, chrome, ctx, failure, flash_ok};
use crate::commands::note::{self, NoteInput};
use crate::commands::report::{self, ReportView, Source};
use crate::commands::{Ctx, values};
use crate::error::{AgentError, InputError};
use crate::messages::{day_vn, deadline_words, input_message, state_label, time_vn};
use crate::output::{Render, not_reported, value_text};
use crate::query::waiting_submissions;
use crate::ui::App;
use crate::ui::form::Fields;
use crate::ui::security::{Session, see_other};
use crate::ui::views::{self, Flash, render};

/// What a refused POST brings back to the period page.
#[derive(Default)]
pub(super) struct Refused<'a> {
    /// The form as typed.
    pub typed: Option<&'a Fields>,
    /// Refused values, shown at their fields.
    pub refusals: &'a [coso_domain::Problem],
    /// Other problems, in the summary only.
    pub other: Vec<views::Problem>,
    pub import_error: Option<String>,
}

/// The period page again with what was refused next to its fields (422).
pub(super) fn refused_page(
    app: &App,
    sess: &Session,
    c: &Ctx<'_>,
    code: &str,
    refused: Refused<'_>,
) -> Response {
    match period_view(app, sess, c, code, refused) {
        Ok(v) => render(StatusCode::UNPROCESSABLE_ENTITY, &v),
        Err(e) => failure(app, sess, &e),
    }
}

/// Builds the period page: from the store, or with what was typed and the
/// refusals placed at their fields.
pub(super) fn period_view(
    app: &App,
    sess: &Session,
    c: &Ctx<'_>,
    code: &str,
    refused: Refused<'_>,
) -> Result<views::PeriodPage, AgentError> {
    let lang = app.cfg.lang;
    let Refused {
        typed,
        refusals,
        other,
        import_error,
    } = refused;
    let identity = c.identity()?;
    let view = ReportView::build(c, code)?;
    let waiting = waiting_submissions(&c.store)?;
    let (state_key, state_word) = state_label(
        view.state,
        waiting.contains(&view.period.code.to_string()),
        lang,
    );
    let (deadline_text, left) = deadline_words(&view.period, view.now, lang);
    let entered_codes: BTreeSet<&str> = view
        .rows
        .iter()
        .filter(|r| r.source == Source::Entered)
        .map(|r| r.indicator.code.as_str())
        .collect();
    let first_refused = refusals
        .iter()
        .map(|p| p.field.as_str())
        .find(|f| entered_codes.contains(f));
    let mut groups = Vec::new();
    for g in &view.catalog.groups {
        let rows: Vec<views::IndicatorRow> = view
            .rows
            .iter()
            .filter(|r| r.indicator.group == g.code)
            .map(|r| {
                let ind = &r.indicator;
                let input = match (r.source, ind.value_type) {
                    (Source::Derived | Source::Rate, _) => "computed",
                    (_, ValueType::YesNo) => "yesno",
                    (_, ValueType::Text) => "text",
                    _ => "number",
                };
                let stored = if view.frozen {
                    view.values.get(&ind.code)
                } else {
                    view.entered.get(&ind.code)
                };
                let value = match typed.and_then(|t| t.get(&ind.code)) {
                    Some(t) => t,
                    None => stored.map(input_text).unwrap_or_default(),
                };
                let error = refusals
                    .iter()
                    .filter(|p| p.field == ind.code)
                    .map(|p| p.message(lang).to_string())
                    .collect::<Vec<_>>();
                views::IndicatorRow {
                    code: ind.code.clone(),
                    name: match lang {
                        Lang::Vi => ind.name.clone(),
                        Lang::En => ind.name_en.clone(),
                    },
                    measure: ind.measure.clone(),
                    help: help(ind, &view.catalog, lang),
                    required: r.required,
                    input,
                    value,
                    shown: r
                        .value
                        .as_ref()
                        .map(|v| value_text(v, lang))
                        .unwrap_or_else(|| not_reported(lang).to_string()),
                    error: (!error.is_empty()).then(|| error.join(" ")),
                    autofocus: first_refused == Some(ind.code.as_str()),
                }
            })
            .collect();
        if !rows.is_empty() {
            groups.push(views::GroupView {
                name: match lang {
                    Lang::Vi => g.name.clone(),
                    Lang::En => g.name_en.clone(),
                },
                rows,
            });
        }
    }
    let notes = Section::ALL
        .iter()
        .map(|s| {
            let name = format!("note-{}", s.as_str());
            let text = match typed.and_then(|t| t.get(&name)) {
                Some(t) => t,
                None => view.notes.get(s).cloned().unwrap_or_default(),
            };
            views::NoteView {
                heading: match lang {
                    Lang::Vi => s.heading_vi().to_string(),
                    Lang::En => s.heading_en().to_string(),
                },
                name,
                text,
            }
        })
        .collect();
    let anchor = |field: &str| entered_codes.contains(field).then(|| field.to_string());
    let mut problems: Vec<views::Problem> = refusals
        .iter()
        .map(|p| views::Problem {
            anchor: anchor(&p.field),
            message: p.message(lang).to_string(),
        })
        .collect();
    problems.extend(other);
    let todo = if view.state.is_editable() {
        view.problems
            .iter()
            .map(|p| views::Problem {
                anchor: anchor(&p.field),
                message: p.message(lang).to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let locked = (!view.state.is_editable()).then(|| {
        let at = view.submission.as_ref().map(|s| time_vn(s.submitted_at)).unwrap_or_default();
        match (view.state, lang) {
            (ReportState::Accepted, Lang::Vi) => format!("Báo cáo đã được phường chấp nhận (nộp lúc {at}) nên số liệu và thuyết minh đã được chốt; dưới đây là báo cáo đã nộp."),
            (ReportState::Accepted, Lang::En) => format!("The ward accepted this report (submitted at {at}): its values and notes are frozen. Below is the submitted report."),
            (_, Lang::Vi) => format!("Báo cáo đã nộp lúc {at} nên số liệu và thuyết minh đã được chốt; dưới đây là báo cáo đã nộp. Chỉ sửa được khi phường trả lại báo cáo."),
            (_, Lang::En) => format!("The report was submitted at {at}: its values and notes are frozen. Below is the submitted report. It can change only if the ward returns it."),
        }
    });
    let window = match lang {
        Lang::Vi => format!(
            "số liệu từ {} đến {}",
            day_vn(view.period.window_start),
            day_vn(view.period.window_end)
        ),
        Lang::En => format!(
            "data from {} to {}",
            day_vn(view.period.window_start),
            day_vn(view.period.window_end)
        ),
    };
    Ok(views::PeriodPage {
        c: chrome(app, sess, &view.period.title, "", Some(&identity)),
        code: view.period.code.to_string(),
        title: view.period.title.clone(),
        deadline: format!("{deadline_text} · {left}"),
        window,
        state_key,
        state_word: state_word.to_string(),
        reason: view
            .review
            .as_ref()
            .filter(|r| view.state == ReportState::Returned && !r.reason.is_empty())
            .map(|r| r.reason.clone()),
        locked,
        problems,
        todo,
        groups,
        notes,
        preview: view.to_text(lang),
        import_error,
    })
}

pub async fn period(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    Path(code): Path<String>,
) -> Response {
    if !app.has_data() {
        return see_other("/enroll");
    }
    let _op = app.op().await;
    let store = tryp!(app, sess, app.open_store());
    let c = ctx(&app, store);
    let v = tryp!(
        app,
        sess,
        period_view(&app, &sess, &c, &code, Refused::default())
    );
    drop(c);
    render(StatusCode::OK, &v)
}

/// The `CODE=VALUE` assignments for what the officer changed on the form.
fn changed_values(view: &ReportView, f: &Fields) -> Vec<String> {
    view.rows
        .iter()
        .filter(|r| r.source == Source::Entered)
        .filter_map(|r| {
            let code = &r.indicator.code;
            let typed = f.get(code)?;
            let stored = view.entered.get(code).map(input_text).unwrap_or_default();
            (typed.trim() != stored.trim()).then(|| format!("{code}={}", typed.trim()))
        })
        .collect()
}

pub async fn period_save(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let lang = app.cfg.lang;
    let f = Fields::parse(&body);
    let submit = f.text("action") == "submit";
    let _op = app.op().await;
    let store = tryp!(app, sess, app.open_store());
    let c = ctx(&app, store);
    let view = match ReportView::build(&c, &code) {
        Ok(v) => v,
        Err(e) => return failure(&app, &sess, &e),
    };
    let code = view.period.code.to_string();
    let assignments = changed_values(&view, &f);
    // Values first: if one is refused, nothing is written, the narratives
    // included, and the page comes back as typed. What each command did is
    // said in the one-time message, in order.
    let mut said: Vec<String> = Vec::new();
    if !assignments.is_empty() {
        match values::set(&c, &code, &assignments).await {
            Ok(outcome) => said.push(outcome.text(lang)),
            Err(AgentError::Input(InputError::Values { problems })) => {
                return refused_page(
                    &app,
                    &sess,
                    &c,
                    &code,
                    Refused {
                        typed: Some(&f),
                        refusals: &problems,
                        ..Refused::default()
                    },
                );
            }
            Err(e) => return failure(&app, &sess, &e),
        }
    }
    for s in Section::ALL {
        let name = format!("note-{}", s.as_str());
        let Some(text) = f.get(&name) else { continue };
        let stored = view.notes.get(&s).cloned().unwrap_or_default();
        if text.trim_end() == stored.trim_end() {
            continue;
        }
        let args = NoteInput {
            period: code.clone(),
            section: s.as_str().to_string(),
            text: Some(text),
            file: None,
        };
        match note::set(&c, &args).await {
            Ok(outcome) => said.push(outcome.text(lang)),
            Err(AgentError::Input(e)) => {
                let other = vec![views::Problem {
                    anchor: Some(name.clone()),
                    message: input_message(&e, lang),
                }];
                return refused_page(
                    &app,
                    &sess,
                    &c,
                    &code,
                    Refused {
                        typed: Some(&f),
                        other,
                        ..Refused::default()
                    },
                );
            }
            Err(e) => return failure(&app, &sess, &e),
        }
    }
    if submit {
        match report::submit(&c, &code).await {
            Ok(outcome) => said.push(outcome.text(lang)),
            Err(AgentError::Input(InputError::SubmitBlocked { problems, .. })) => {
                let head = views::Problem {
                    anchor: None,
                    message: if !said.is_empty() {
                        lang.pick("Đã lưu nháp, nhưng chưa gửi được báo cáo: còn các vấn đề dưới đây.", "The draft was saved, but the report cannot be sent yet: fix the problems below.").into()
                    } else {
                        lang.pick(
                            "Chưa gửi được báo cáo: còn các vấn đề dưới đây.",
                            "The report cannot be sent yet: fix the problems below.",
                        )
                        .into()
                    },
                };
                let mut refusals = problems;
                refusals.retain(|p| !p.field.is_empty());
                return refused_page(
                    &app,
                    &sess,
                    &c,
                    &code,
                    Refused {
                        refusals: &refusals,
                        other: vec![head],
                        ..Refused::default()
                    },
                );
            }
            Err(e) => return failure(&app, &sess, &e),
        }
    }
    drop(c);
    if !said.is_empty() {
        flash_ok(&app, &sess, &said.join("\n"));
        app.sync.nudge();
    } else {
        app.auth.set_flash(
            &sess,
            Flash {
                ok: true,
                text: lang
                    .pick(
                        "Không có gì thay đổi; không ghi gì.",
                        "Nothing changed; nothing was written.",
                    )
                    .into(),
            },
        );
    }
    see_other(&format!("/periods/{code}"))
}
