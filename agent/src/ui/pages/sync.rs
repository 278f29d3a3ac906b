//! `/sync`: the sync page and "sync now" (`POST /sync`), and the sync panel
//! the home page shares.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use coso_domain::Lang;

use super::{Shared, chrome};
use crate::error::AgentError;
use crate::messages::{Label, never, time_vn};
use crate::store::{Identity, SyncState};
use crate::ui::App;
use crate::ui::background::SyncOutcome;
use crate::ui::form::Fields;
use crate::ui::security::{Session, see_other};
use crate::ui::views::{self, Flash, render};

/// The sync panel: the hub, the cursors as read (`s`, `head`), and how the
/// background sync last ended.
pub(super) fn sync_box(
    app: &App,
    s: SyncState,
    head: u64,
    identity: &Identity,
    back: &'static str,
) -> views::SyncBox {
    let lang = app.cfg.lang;
    let bg = app.sync.status();
    let latest = match bg.last {
        Some(SyncOutcome::Done { summary, .. }) => Some(summary),
        Some(SyncOutcome::Failed { at, message }) => Some(format!("{}: {message}", time_vn(at))),
        _ => None,
    };
    views::SyncBox {
        enrolled: identity.hub.is_some(),
        hub: identity
            .hub
            .as_ref()
            .map(|h| match &identity.ward {
                Some(w) => format!("{w} ({})", h.addr),
                None => h.addr.clone(),
            })
            .unwrap_or_default(),
        last_sync: s
            .last_sync
            .map(time_vn)
            .unwrap_or_else(|| never(lang).into()),
        pending: head.saturating_sub(s.acked_seq),
        last_error: s.last_error,
        latest,
        running: bg.running,
        back,
    }
}

pub async fn sync_page(State(app): Shared, Extension(sess): Extension<Session>) -> Response {
    if !app.has_data() {
        return see_other("/enroll");
    }
    let lang = app.cfg.lang;
    let _op = app.op().await;
    let store = tryp!(app, sess, app.open_store());
    let Some(identity) = tryp!(app, sess, store.identity()) else {
        return see_other("/enroll");
    };
    let s = tryp!(app, sess, store.sync_state());
    let head = tryp!(app, sess, store.head_seq());
    let sync = sync_box(&app, s, head, &identity, "/sync");
    drop(store);
    let secs = app.cfg.sync_every.as_secs();
    let every = match lang {
        Lang::Vi => format!(
            "Khi đã ghi danh, ứng dụng tự đồng bộ mỗi {} trong lúc chạy.",
            human_secs(secs, lang)
        ),
        Lang::En => format!(
            "Once enrolled, the app syncs every {} while it runs.",
            human_secs(secs, lang)
        ),
    };
    let page = views::SyncPage {
        c: chrome(&app, &sess, Label::Sync.text(lang), "sync", Some(&identity)),
        sync,
        every,
    };
    render(StatusCode::OK, &page)
}

fn human_secs(s: u64, lang: Lang) -> String {
    match (s, lang) {
        (s, Lang::Vi) if s % 60 == 0 => format!("{} phút", s / 60),
        (s, Lang::Vi) => format!("{s} giây"),
        (s, Lang::En) if s % 60 == 0 => format!("{} min", s / 60),
        (s, Lang::En) => format!("{s} s"),
    }
}

pub async fn sync_now(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    body: Bytes,
) -> Response {
    let lang = app.cfg.lang;
    let f = Fields::parse(&body);
    let back = if f.text("back") == "/" { "/" } else { "/sync" };
    let status = app.sync.sync_now(Duration::from_secs(60)).await;
    let flash = match status.last {
        Some(SyncOutcome::Done { summary, .. }) => Flash { ok: true, text: summary },
        Some(SyncOutcome::Failed { message, .. }) => Flash { ok: false, text: message },
        Some(SyncOutcome::NotEnrolled) => Flash {
            ok: false,
            text: lang
                .pick(
                    "Máy này chưa ghi danh với phường nên chưa đồng bộ được.",
                    "This computer is not enrolled with the ward, so there is nothing to sync with.",
                )
                .into(),
        },
        None => Flash {
            ok: false,
            text: lang.pick("Đồng bộ chưa xong; hãy xem lại sau ít phút.", "The sync has not finished yet; look again in a minute.").into(),
        },
    };
    app.auth.set_flash(&sess, flash);
    see_other(back)
}
