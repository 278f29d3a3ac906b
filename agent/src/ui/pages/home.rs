//! `/`: the home page, where the unit stands: its reporting periods in play
//! (deadline, state, the ward's reason for a returned report), the next
//! period when none is open, and the sync panel. What it shows is read by
//! [`crate::query::StatusView`], as `coso-agent status` reads it.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use coso_domain::{Lang, ReportState};

use super::sync::sync_box;
use super::{Shared, chrome};
use crate::error::AgentError;
use crate::messages::{Label, deadline_words, kind_name, no_open_period, state_label, time_vn};
use crate::query::{StatusView, waiting_submissions};
use crate::ui::security::{Session, see_other};
use crate::ui::views::{self, render};

pub async fn home(State(app): Shared, Extension(sess): Extension<Session>) -> Response {
    if !app.has_data() {
        return see_other("/enroll");
    }
    let lang = app.cfg.lang;
    let _op = app.op().await;
    let store = tryp!(app, sess, app.open_store());
    let view = tryp!(
        app,
        sess,
        StatusView::read(&store, coso_domain::clock::now())
    );
    let Some(identity) = view.identity.clone() else {
        return see_other("/enroll");
    };
    let waiting = tryp!(app, sess, waiting_submissions(&store));
    drop(store);
    let sync = sync_box(&app, view.sync.clone(), view.head, &identity, "/");
    let (state, now) = (&view.state, view.now);
    let periods = view.in_play();
    let next_note = if periods.is_empty() {
        let none = no_open_period(lang);
        Some(match &view.next {
            Some(p) => {
                let (d, _) = deadline_words(p, now, lang);
                match lang {
                    Lang::Vi => format!("{none} Kỳ tiếp theo: {} ({}), {d}.", p.title, p.code),
                    Lang::En => format!("{none} Next: {} ({}), {d}.", p.title, p.code),
                }
            }
            None => none.to_string(),
        })
    } else {
        None
    };
    let cards = periods
        .iter()
        .map(|p| {
            let st = state.state(&p.code);
            let (state_key, state_word) =
                state_label(st, waiting.contains(&p.code.to_string()), lang);
            let (deadline, days_left) = deadline_words(p, now, lang);
            let sub = state.submissions.get(&p.code);
            views::PeriodCard {
                code: p.code.to_string(),
                title: p.title.clone(),
                deadline,
                days_left,
                state_key,
                state_word: state_word.to_string(),
                reason: state
                    .reviews
                    .get(&p.code)
                    .filter(|r| st == ReportState::Returned && !r.reason.is_empty())
                    .map(|r| r.reason.clone()),
                note: sub.map(|s| {
                    format!(
                        "{} {}",
                        lang.pick("Nộp lúc", "Submitted at"),
                        time_vn(s.submitted_at)
                    )
                }),
            }
        })
        .collect();
    let kind = kind_name(identity.unit.kind, lang);
    let unit_line = match &identity.ward {
        Some(w) => format!("{} · {kind} · {w}", identity.unit.code),
        None => format!("{} · {kind}", identity.unit.code),
    };
    let page = views::Home {
        c: chrome(&app, &sess, Label::Home.text(lang), "home", Some(&identity)),
        unit_name: identity.unit.name.clone(),
        unit_line,
        periods: cards,
        next_note,
        sync,
    };
    render(StatusCode::OK, &page)
}
