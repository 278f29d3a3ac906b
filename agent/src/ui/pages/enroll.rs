//! `/enroll` and `/init`: enrolling with the ward's link, or setting the unit
//! up offline, before anything else can be recorded.

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use coso_domain::{Lang, UnitKind};
use coso_proto::link::EnrolmentLink;

use super::{Shared, chrome, ctx, failure, flash_ok};
use crate::commands::init::{self, UnitInput};
use crate::error::{AgentError, InputError};
use crate::messages::{input_message, time_vn};
use crate::output::Render;
use crate::store::Identity;
use crate::sync;
use crate::ui::App;
use crate::ui::form::Fields;
use crate::ui::security::{Session, see_other};
use crate::ui::views::{self, Flash, render};

fn kinds(selected: &str) -> Vec<views::KindOption> {
    UnitKind::ALL
        .iter()
        .map(|k| views::KindOption {
            value: k.as_str(),
            name: k.name_vi(),
            selected: k.as_str() == selected,
        })
        .collect()
}

fn enroll_view(app: &App, sess: &Session, identity: Option<&Identity>) -> views::Enroll {
    let lang = app.cfg.lang;
    views::Enroll {
        c: chrome(app, sess, lang.pick("Ghi danh", "Enrol"), "", identity),
        problems: Vec::new(),
        enrolled: identity.and_then(|i| {
            i.hub.as_ref().map(|h| match lang {
                Lang::Vi => format!(
                    "Đơn vị {} đã ghi danh với {} lúc {}.",
                    i.unit.code,
                    h.addr,
                    time_vn(h.enrolled_at)
                ),
                Lang::En => format!(
                    "Unit {} is enrolled with {} since {}.",
                    i.unit.code,
                    h.addr,
                    time_vn(h.enrolled_at)
                ),
            })
        }),
        link: String::new(),
        err_link: None,
        show_init: identity.is_none(),
        unit: String::new(),
        name: String::new(),
        kinds: kinds("residential-group"),
        err_init: None,
    }
}

fn read_identity(app: &App) -> Result<Option<Identity>, AgentError> {
    if !app.has_data() {
        return Ok(None);
    }
    Ok(app.open_store()?.identity()?)
}

pub async fn enroll_page(State(app): Shared, Extension(sess): Extension<Session>) -> Response {
    let _op = app.op().await;
    let identity = tryp!(app, sess, read_identity(&app));
    render(StatusCode::OK, &enroll_view(&app, &sess, identity.as_ref()))
}

pub async fn enroll(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    body: Bytes,
) -> Response {
    let lang = app.cfg.lang;
    let f = Fields::parse(&body);
    let raw = f.text("link").trim().to_string();
    let _op = app.op().await;
    let refused = |message: String, status: StatusCode| {
        let identity = read_identity(&app).ok().flatten();
        let mut v = enroll_view(&app, &sess, identity.as_ref());
        v.problems.push(views::Problem {
            anchor: Some("link".into()),
            message: message.clone(),
        });
        v.err_link = Some(message);
        v.link = raw.clone();
        render(status, &v)
    };
    let link: EnrolmentLink = match raw.parse() {
        Ok(l) => l,
        Err(source) => {
            return refused(
                input_message(&InputError::Link { source }, lang),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    match sync::enroll(&app.cfg.data_dir, &link, lang).await {
        Ok(outcome) => {
            app.auth.set_flash(
                &sess,
                Flash {
                    ok: true,
                    text: outcome.text(lang),
                },
            );
            app.sync.nudge();
            see_other("/")
        }
        Err(e) => {
            let status = if e.exit_code() == 2 {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::BAD_GATEWAY
            };
            refused(e.message(lang), status)
        }
    }
}

pub async fn init(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    let args = UnitInput {
        unit: f.text("unit"),
        name: f.text("name"),
        kind: f.text("kind"),
    };
    let _op = app.op().await;
    let store = tryp!(app, sess, app.open_store());
    let c = ctx(&app, store);
    let r = init::init(&c, &args).await;
    drop(c);
    match r {
        Ok(outcome) => {
            flash_ok(&app, &sess, &outcome.text(app.cfg.lang));
            see_other("/")
        }
        Err(AgentError::Input(e)) => {
            let identity = read_identity(&app).ok().flatten();
            let mut v = enroll_view(&app, &sess, identity.as_ref());
            let message = input_message(&e, app.cfg.lang);
            v.problems.push(views::Problem {
                anchor: Some("unit".into()),
                message: message.clone(),
            });
            v.err_init = Some(message);
            v.unit = args.unit;
            v.name = args.name;
            v.kinds = kinds(&args.kind);
            render(StatusCode::UNPROCESSABLE_ENTITY, &v)
        }
        Err(e) => failure(&app, &sess, &e),
    }
}
