//! The handlers, one module per page. Reads open the store for one request
//! and build a view; writes run the same command functions as the CLI
//! (`crate::commands`), with the same checks, and show the typed outcome
//! each returns in the CLI's words: 303 with it as the one-time message, or
//! the same page again with each refusal next to its field and a summary at
//! the top. This module holds what the pages share: running a command for a
//! form, the failure page, the 404 and the stylesheet.

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::App;
use super::security::{Session, see_other};
use super::views::{self, Chrome, Flash, render};
use crate::commands::Ctx;
use crate::error::{AgentError, InputError};
use crate::messages::error_message;
use crate::output::Render;
use crate::store::{Identity, Store};

/// Returns the failure page for an error from `$e`, else its value.
macro_rules! tryp {
    ($app:expr, $sess:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $crate::ui::pages::failure(&$app, &$sess, &AgentError::from(e)),
        }
    };
}

mod activities;
mod enroll;
mod home;
mod import;
mod indicator;
mod period;
mod sync;

pub use activities::{
    activities, activity_add, activity_edit, activity_edit_page, activity_remove,
};
pub use enroll::{enroll, enroll_page, init};
pub use home::home;
pub use import::period_import;
pub use period::{period, period_save};
pub use sync::{sync_now, sync_page};

type Shared = State<Arc<App>>;

/// The command context for one request, on the store it opened.
fn ctx(app: &App, store: Store) -> Ctx<'_> {
    Ctx {
        store,
        now: coso_domain::clock::now(),
        data_dir: &app.cfg.data_dir,
    }
}

fn chrome(
    app: &App,
    sess: &Session,
    title: &str,
    nav: &'static str,
    unit: Option<&Identity>,
) -> Chrome {
    let mut c = Chrome::new(app.cfg.lang, title, nav);
    c.unit = unit.map(|i| i.unit.name.clone());
    c.flash = app.auth.take_flash(sess);
    c
}

/// Shows what commands did as the next page's one-time message: their
/// outcomes in the CLI's words, one per line.
fn flash_ok(app: &App, sess: &Session, text: &str) {
    let text = text.trim().to_string();
    if !text.is_empty() {
        app.auth.set_flash(sess, Flash { ok: true, text });
    }
}

/// What became of a command run for a form.
enum Ran {
    /// Done (303 with the one-time message), or failed in a way that is not
    /// about a field (an error page): the answer.
    Answered(Response),
    /// Refused input: the store, still open for the page again, and why.
    Refused(Store, InputError),
}

/// Runs one of the commands on the store, as the CLI would; on success its
/// outcome becomes the one-time message, the background sync is nudged and
/// the answer is 303 to `to`. The caller holds `app.op()`.
async fn run_command<R: Render>(
    app: &App,
    sess: &Session,
    to: &str,
    command: impl AsyncFnOnce(&Ctx<'_>) -> Result<R, AgentError>,
) -> Ran {
    let store = match app.open_store() {
        Ok(store) => store,
        Err(e) => return Ran::Answered(failure(app, sess, &e)),
    };
    let c = ctx(app, store);
    let r = command(&c).await;
    let store = c.store;
    match r {
        Ok(outcome) => {
            drop(store);
            flash_ok(app, sess, &outcome.text(app.cfg.lang));
            app.sync.nudge();
            Ran::Answered(see_other(to))
        }
        Err(AgentError::Input(e)) => Ran::Refused(store, e),
        Err(e) => Ran::Answered(failure(app, sess, &e)),
    }
}

/// A page for a failure that is not about one field: refused input (422),
/// a store held elsewhere (503), or anything else (500), in plain words.
pub(crate) fn failure(app: &App, sess: &Session, e: &AgentError) -> Response {
    let lang = app.cfg.lang;
    let status = match e {
        AgentError::Input(
            InputError::UnknownPeriod { .. } | InputError::UnknownActivity { .. },
        ) => StatusCode::NOT_FOUND,
        AgentError::Store(crate::store::StoreError::Locked { .. }) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ if e.exit_code() == 2 => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let heading = lang.pick("Không thực hiện được", "This could not be done");
    let page = views::MessagePage {
        c: chrome(app, sess, heading, "", None),
        heading: heading.to_string(),
        message: error_message(e, lang),
        link: Some(("/".into(), lang.pick("Về trang chủ", "Back home").into())),
    };
    render(status, &page)
}

pub async fn not_found(State(app): Shared, Extension(sess): Extension<Session>) -> Response {
    let lang = app.cfg.lang;
    let heading = lang.pick("Không có trang này", "No such page");
    let page = views::MessagePage {
        c: chrome(&app, &sess, heading, "", None),
        heading: heading.to_string(),
        message: String::new(),
        link: Some(("/".into(), lang.pick("Về trang chủ", "Back home").into())),
    };
    render(StatusCode::NOT_FOUND, &page)
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../../templates/app.css"),
    )
        .into_response()
}
