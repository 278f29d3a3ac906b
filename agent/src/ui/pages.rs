//! The handlers. Reads open the store for one request and build a view;
//! writes run the CLI's own commands (`crate::commands`) with the same
//! checks, then answer 303 (success, with a one-time message) or the same
//! page again with each refusal next to its field and a summary at the top.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Extension, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Utc};
use coso_domain::calendar::{Period, vietnam};
use coso_domain::catalog::{Catalog, Derivation, Indicator, ValueType};
use coso_domain::{ActivityId, ChangeKind, Form, Lang, ReportState, Section, UnitKind, Value};
use coso_proto::link::EnrolmentLink;

use super::App;
use super::background::SyncOutcome;
use super::form::Fields;
use super::security::{Flash, Session, see_other};
use super::views::{self, Chrome, render};
use crate::cli::{ActivityAddArgs, ActivityEditArgs, InitArgs, NoteSetArgs};
use crate::commands::report::{ReportView, Source};
use crate::commands::{Ctx, activity, find_period, init, note, report, values};
use crate::error::{AgentError, InputError};
use crate::messages::{day_vn, error_message, input_message, time_vn};
use crate::output::{not_reported, value_text};
use crate::store::{Identity, Store};
use crate::sync;

type Shared = State<Arc<App>>;

fn ctx<'a>(app: &'a App, store: Store, out: &'a mut Vec<u8>) -> Ctx<'a> {
    Ctx {
        store,
        lang: app.cfg.lang,
        json: false,
        now: coso_domain::clock::now(),
        out,
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

fn flash_ok(app: &App, sess: &Session, out: Vec<u8>) {
    let text = String::from_utf8_lossy(&out).trim().to_string();
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

/// Runs one of the CLI's commands on the store, as the CLI would; on success
/// its output becomes the one-time message, the background sync is nudged
/// and the answer is 303 to `to`. The caller holds `app.op()`.
async fn run_command(
    app: &App,
    sess: &Session,
    to: &str,
    command: impl AsyncFnOnce(&mut Ctx<'_>) -> Result<(), AgentError>,
) -> Ran {
    let store = match app.open_store() {
        Ok(store) => store,
        Err(e) => return Ran::Answered(failure(app, sess, &e)),
    };
    let mut out = Vec::new();
    let mut c = ctx(app, store, &mut out);
    let r = command(&mut c).await;
    let store = c.store;
    match r {
        Ok(()) => {
            drop(store);
            flash_ok(app, sess, out);
            app.sync.nudge();
            Ran::Answered(see_other(to))
        }
        Err(AgentError::Input(e)) => Ran::Refused(store, e),
        Err(e) => Ran::Answered(failure(app, sess, &e)),
    }
}

/// A page for a failure that is not about one field: refused input (422),
/// a store held elsewhere (503), or anything else (500), in plain words.
fn failure(app: &App, sess: &Session, e: &AgentError) -> Response {
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

macro_rules! tryp {
    ($app:expr, $sess:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return failure(&$app, &$sess, &AgentError::from(e)),
        }
    };
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
        include_str!("../../templates/app.css"),
    )
        .into_response()
}

// ---------------------------------------------------------------- home, sync

/// The report states in words that cannot be misread. A submission the hub
/// does not hold yet is "Chờ gửi", one it holds "Đã gửi".
fn state_words(state: ReportState, waiting: bool, lang: Lang) -> (&'static str, String) {
    let w = match (state, waiting) {
        (ReportState::Draft, _) => lang.pick("Nháp", "Draft"),
        (ReportState::Submitted, true) => lang.pick("Chờ gửi", "Waiting to be sent"),
        (ReportState::Submitted, false) => lang.pick("Đã gửi", "Sent to the ward"),
        (ReportState::Accepted, _) => lang.pick("Đã chấp nhận", "Accepted"),
        (ReportState::Returned, _) => lang.pick("Bị trả lại", "Returned"),
    };
    (state.as_str(), w.to_string())
}

/// "Hạn nộp: trước 00:00 ngày 05/6/2026 (giờ Việt Nam)" and "còn 12 ngày".
fn deadline(p: &Period, now: DateTime<Utc>, lang: Lang) -> (String, String) {
    let day = day_vn(p.due_day());
    let left = p.days_left(now);
    let overdue = now >= p.due;
    match lang {
        Lang::Vi => (
            format!("Hạn nộp: trước 00:00 ngày {day} (giờ Việt Nam)"),
            if !overdue {
                if left <= 1 {
                    "hôm nay là ngày cuối".into()
                } else {
                    format!("còn {left} ngày")
                }
            } else {
                format!("đã quá hạn {} ngày", (-left).max(0))
            },
        ),
        Lang::En => (
            format!("Due before 00:00 on {day}, Vietnam time"),
            if !overdue {
                if left <= 1 {
                    "today is the last day".into()
                } else {
                    format!("{left} days left")
                }
            } else {
                format!("overdue by {} day(s)", (-left).max(0))
            },
        ),
    }
}

/// Periods with a submission the hub has not acknowledged yet.
fn waiting_submissions(store: &Store) -> Result<BTreeSet<String>, AgentError> {
    let acked = store.sync_state()?.acked_seq;
    let mut out = BTreeSet::new();
    for e in store.entries_after(acked, usize::MAX, usize::MAX)? {
        if e.kind == ChangeKind::Submit {
            out.insert(e.entity);
        }
    }
    Ok(out)
}

fn sync_box(
    app: &App,
    store: &Store,
    identity: &Identity,
    back: &'static str,
) -> Result<views::SyncBox, AgentError> {
    let lang = app.cfg.lang;
    let s = store.sync_state()?;
    let head = store.head_seq()?;
    let bg = app.sync.status();
    let latest = match bg.last {
        Some(SyncOutcome::Done { summary, .. }) => Some(summary),
        Some(SyncOutcome::Failed { at, message }) => Some(format!("{}: {message}", time_vn(at))),
        _ => None,
    };
    Ok(views::SyncBox {
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
            .unwrap_or_else(|| lang.pick("chưa lần nào", "never").into()),
        pending: head.saturating_sub(s.acked_seq),
        last_error: s.last_error,
        latest,
        running: bg.running,
        back,
    })
}

pub async fn home(State(app): Shared, Extension(sess): Extension<Session>) -> Response {
    if !app.has_data() {
        return see_other("/enroll");
    }
    let lang = app.cfg.lang;
    let _op = app.op().await;
    let store = tryp!(app, sess, app.open_store());
    let Some(identity) = tryp!(app, sess, store.identity()) else {
        return see_other("/enroll");
    };
    let state = tryp!(app, sess, store.unit_state());
    let (_, calendar) = tryp!(app, sess, store.calendar());
    let waiting = tryp!(app, sess, waiting_submissions(&store));
    let sync = tryp!(app, sess, sync_box(&app, &store, &identity, "/"));
    drop(store);
    let now = coso_domain::clock::now();
    let mut periods = calendar.open_periods(now);
    // Reports still in play (sent, returned) stay on the page after their
    // period closes, so a returned report is never missed.
    for code in state.submissions.keys() {
        let st = state.state(code);
        if st != ReportState::Accepted
            && !periods.iter().any(|p| &p.code == code)
            && let Some(p) = calendar.period(code)
        {
            periods.push(p);
        }
    }
    periods.sort_by_key(|p| p.due);
    let next_note = if periods.is_empty() {
        let year = now.with_timezone(&vietnam()).year();
        let next = [year, year + 1]
            .into_iter()
            .flat_map(|y| calendar.periods_of_year(y))
            .filter(|p| p.due > now)
            .min_by_key(|p| p.due);
        Some(match next {
            Some(p) => {
                let (d, _) = deadline(&p, now, lang);
                match lang {
                    Lang::Vi => format!(
                        "Không có kỳ báo cáo nào đang mở. Kỳ tiếp theo: {} ({}), {d}.",
                        p.title, p.code
                    ),
                    Lang::En => format!(
                        "No reporting period is open. Next: {} ({}), {d}.",
                        p.title, p.code
                    ),
                }
            }
            None => lang
                .pick(
                    "Không có kỳ báo cáo nào đang mở.",
                    "No reporting period is open.",
                )
                .into(),
        })
    } else {
        None
    };
    let cards = periods
        .iter()
        .map(|p| {
            let st = state.state(&p.code);
            let (state_key, state_word) =
                state_words(st, waiting.contains(&p.code.to_string()), lang);
            let (deadline, days_left) = deadline(p, now, lang);
            let sub = state.submissions.get(&p.code);
            views::PeriodCard {
                code: p.code.to_string(),
                title: p.title.clone(),
                deadline,
                days_left,
                state_key,
                state_word,
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
    let unit_line = match &identity.ward {
        Some(w) => format!(
            "{} · {} · {w}",
            identity.unit.code,
            kind_name(identity.unit.kind, lang)
        ),
        None => format!(
            "{} · {}",
            identity.unit.code,
            kind_name(identity.unit.kind, lang)
        ),
    };
    let page = views::Home {
        c: chrome(
            &app,
            &sess,
            lang.pick("Trang chủ", "Home"),
            "home",
            Some(&identity),
        ),
        unit_name: identity.unit.name.clone(),
        unit_line,
        periods: cards,
        next_note,
        sync,
    };
    render(StatusCode::OK, &page)
}

fn kind_name(k: UnitKind, lang: Lang) -> String {
    match lang {
        Lang::Vi => k.name_vi().to_string(),
        Lang::En => k.to_string(),
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
    let sync = tryp!(app, sess, sync_box(&app, &store, &identity, "/sync"));
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
        c: chrome(
            &app,
            &sess,
            lang.pick("Đồng bộ", "Sync"),
            "sync",
            Some(&identity),
        ),
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

// ---------------------------------------------------------------- enrolment

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
                    text: outcome.render(lang, false),
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
    let args = InitArgs {
        unit: f.text("unit"),
        name: f.text("name"),
        kind: f.text("kind"),
    };
    let _op = app.op().await;
    let store = tryp!(app, sess, app.open_store());
    let mut out = Vec::new();
    let mut c = ctx(&app, store, &mut out);
    let r = init::init(&mut c, &args).await;
    drop(c);
    match r {
        Ok(()) => {
            flash_ok(&app, &sess, out);
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

// ---------------------------------------------------------------- activities

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
    let list: Vec<&coso_domain::Activity> = match &selected {
        Some(p) => state.activities_in(p),
        None => {
            let mut v: Vec<_> = state.activities.values().collect();
            v.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
            v
        }
    };
    let total: u64 = list
        .iter()
        .filter_map(|a| a.participants)
        .map(u64::from)
        .sum();
    let summary = match (&selected, lang) {
        (Some(p), Lang::Vi) => format!(
            "{} hoạt động trong kỳ {}, {} lượt người tham gia.",
            list.len(),
            p.code,
            total
        ),
        (None, Lang::Vi) => format!("{} hoạt động, {} lượt người tham gia.", list.len(), total),
        (Some(p), Lang::En) => format!(
            "{} activities in {}, {} participants.",
            list.len(),
            p.code,
            total
        ),
        (None, Lang::En) => format!("{} activities, {} participants.", list.len(), total),
    };
    let rows = list
        .iter()
        .map(|a| views::ActivityRow {
            id: a.id.to_string(),
            date: day_vn(a.date),
            form: match lang {
                Lang::Vi => a.form.name_vi().to_string(),
                Lang::En => a.form.as_str().to_string(),
            },
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
    let args = ActivityAddArgs {
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
            lang.pick("Sửa hoạt động", "Edit activity"),
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
    let args = ActivityEditArgs {
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

// ---------------------------------------------------------------- a period's report

/// What an input shows for a stored value: a form `parse_input` reads back.
fn input_text(v: &Value) -> String {
    match v {
        Value::Number(n) if n.fract() == 0.0 => format!("{n:.0}"),
        Value::Number(n) => n.to_string().replace('.', ","),
        Value::Bool(true) => "có".into(),
        Value::Bool(false) => "không".into(),
        Value::Text(t) => t.clone(),
    }
}

fn form_name(f: Option<Form>, lang: Lang) -> String {
    match (f, lang) {
        (Some(f), Lang::Vi) => format!("hình thức “{}”", f.name_vi()),
        (Some(f), Lang::En) => format!("of form {}", f.as_str()),
        (None, Lang::Vi) => "mọi hình thức".into(),
        (None, Lang::En) => "of every form".into(),
    }
}

/// The help under an indicator: what to type, or how it is counted.
fn help(ind: &Indicator, catalog: &Catalog, lang: Lang) -> String {
    if let Some(d) = &ind.derived {
        return match (d, lang) {
            (Derivation::ActivityCount { form }, Lang::Vi) => format!(
                "Tự tính: số hoạt động {} đã ghi trong kỳ.",
                form_name(*form, lang)
            ),
            (Derivation::ActivityCount { form }, Lang::En) => format!(
                "Computed: the activities {} recorded in the period.",
                form_name(*form, lang)
            ),
            (Derivation::Participants { form }, Lang::Vi) => format!(
                "Tự tính: tổng lượt người tham gia các hoạt động {} trong kỳ.",
                form_name(*form, lang)
            ),
            (Derivation::Participants { form }, Lang::En) => format!(
                "Computed: participants in the activities {} in the period.",
                form_name(*form, lang)
            ),
        };
    }
    if let Some(r) = &ind.rate {
        return match lang {
            Lang::Vi => format!("Tự tính: 100 × {} / {} (%).", r.numerator, r.denominator),
            Lang::En => format!("Computed: 100 × {} / {} (%).", r.numerator, r.denominator),
        };
    }
    let mut s = match (ind.value_type, lang) {
        (ValueType::Count, Lang::Vi) => "Số nguyên từ 0.".to_string(),
        (ValueType::Count, Lang::En) => "A whole number from 0.".to_string(),
        (ValueType::Number, Lang::Vi) => {
            "Một số; phần thập phân viết sau dấu phẩy, ví dụ 12,5.".to_string()
        }
        (ValueType::Number, Lang::En) => "A number, e.g. 12.5.".to_string(),
        (ValueType::Percent, Lang::Vi) => "Tỷ lệ phần trăm từ 0 đến 100, ví dụ 87,5.".to_string(),
        (ValueType::Percent, Lang::En) => "A percentage from 0 to 100, e.g. 87.5.".to_string(),
        (ValueType::YesNo, Lang::Vi) => "Chọn Có hoặc Không.".to_string(),
        (ValueType::YesNo, Lang::En) => "Choose yes or no.".to_string(),
        (ValueType::Text, Lang::Vi) => "Văn bản.".to_string(),
        (ValueType::Text, Lang::En) => "Text.".to_string(),
    };
    if let Some(max) = ind.max.filter(|_| ind.value_type != ValueType::Percent) {
        s.push_str(&match lang {
            Lang::Vi => format!(" Tối đa {max}."),
            Lang::En => format!(" At most {max}."),
        });
    }
    for r in catalog.rules.iter().filter(|r| r.left == ind.code) {
        s.push_str(&match lang {
            Lang::Vi => format!(" Kiểm tra: {} {} {}.", r.left, r.op.symbol(), r.right),
            Lang::En => format!(" Check: {} {} {}.", r.left, r.op.symbol(), r.right),
        });
    }
    s
}

/// Builds the period page: from the store, or with what was typed and the
/// refusals placed at their fields.
/// What a refused POST brings back to the period page.
#[derive(Default)]
struct Outcome<'a> {
    /// The form as typed.
    typed: Option<&'a Fields>,
    /// Refused values, shown at their fields.
    refusals: &'a [coso_domain::Problem],
    /// Other problems, in the summary only.
    other: Vec<views::Problem>,
    import_error: Option<String>,
}

fn period_view(
    app: &App,
    sess: &Session,
    c: &Ctx<'_>,
    code: &str,
    outcome: Outcome<'_>,
) -> Result<views::PeriodPage, AgentError> {
    let lang = app.cfg.lang;
    let Outcome {
        typed,
        refusals,
        other,
        import_error,
    } = outcome;
    let identity = c.identity()?;
    let view = ReportView::build(c, code)?;
    let waiting = waiting_submissions(&c.store)?;
    let (state_key, state_word) = state_words(
        view.state,
        waiting.contains(&view.period.code.to_string()),
        lang,
    );
    let (deadline_text, left) = deadline(&view.period, view.now, lang);
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
        state_word,
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
    let mut out = Vec::new();
    let c = ctx(&app, store, &mut out);
    let v = tryp!(
        app,
        sess,
        period_view(&app, &sess, &c, &code, Outcome::default())
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
    let mut out = Vec::new();
    let mut c = ctx(&app, store, &mut out);
    let view = match ReportView::build(&c, &code) {
        Ok(v) => v,
        Err(e) => return failure(&app, &sess, &e),
    };
    let code = view.period.code.to_string();
    let assignments = changed_values(&view, &f);
    // Values first: if one is refused, nothing is written, the narratives
    // included, and the page comes back as typed.
    let mut wrote = false;
    if !assignments.is_empty() {
        match values::set(&mut c, &code, &assignments).await {
            Ok(()) => wrote = true,
            Err(AgentError::Input(InputError::Values { problems })) => {
                let v = tryp!(
                    app,
                    sess,
                    period_view(
                        &app,
                        &sess,
                        &c,
                        &code,
                        Outcome {
                            typed: Some(&f),
                            refusals: &problems,
                            ..Outcome::default()
                        }
                    )
                );
                return render(StatusCode::UNPROCESSABLE_ENTITY, &v);
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
        let args = NoteSetArgs {
            period: code.clone(),
            section: s.as_str().to_string(),
            text: Some(text),
            file: None,
        };
        match note::set(&mut c, &args).await {
            Ok(()) => wrote = true,
            Err(AgentError::Input(e)) => {
                let other = vec![views::Problem {
                    anchor: Some(name.clone()),
                    message: input_message(&e, lang),
                }];
                let v = tryp!(
                    app,
                    sess,
                    period_view(
                        &app,
                        &sess,
                        &c,
                        &code,
                        Outcome {
                            typed: Some(&f),
                            other,
                            ..Outcome::default()
                        }
                    )
                );
                return render(StatusCode::UNPROCESSABLE_ENTITY, &v);
            }
            Err(e) => return failure(&app, &sess, &e),
        }
    }
    if submit {
        match report::submit(&mut c, &code).await {
            Ok(()) => wrote = true,
            Err(AgentError::Input(InputError::SubmitBlocked { problems, .. })) => {
                let head = views::Problem {
                    anchor: None,
                    message: if wrote {
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
                let v = tryp!(
                    app,
                    sess,
                    period_view(
                        &app,
                        &sess,
                        &c,
                        &code,
                        Outcome {
                            refusals: &refusals,
                            other: vec![head],
                            ..Outcome::default()
                        }
                    )
                );
                return render(StatusCode::UNPROCESSABLE_ENTITY, &v);
            }
            Err(e) => return failure(&app, &sess, &e),
        }
    }
    drop(c);
    if wrote {
        flash_ok(&app, &sess, out);
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

/// A file name safe to write in our own temporary directory.
fn safe_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '))
        .take(80)
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    if clean.is_empty() {
        "import.csv".into()
    } else {
        clean
    }
}

pub async fn period_import(
    State(app): Shared,
    Extension(sess): Extension<Session>,
    Path(code): Path<String>,
    mut mp: Multipart,
) -> Response {
    let lang = app.cfg.lang;
    let mut upload: Option<(String, Bytes)> = None;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = safe_name(field.file_name().unwrap_or(""));
                match field.bytes().await {
                    Ok(b) => upload = Some((name, b)),
                    Err(e) => {
                        return failure(
                            &app,
                            &sess,
                            &AgentError::Output(std::io::Error::other(e.to_string())),
                        );
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                return failure(
                    &app,
                    &sess,
                    &AgentError::Output(std::io::Error::other(e.to_string())),
                );
            }
        }
    }
    let Some((name, bytes)) = upload.filter(|(_, b)| !b.is_empty()) else {
        app.auth.set_flash(
            &sess,
            Flash {
                ok: false,
                text: lang
                    .pick("Chưa chọn tệp nào để nhập.", "No file was chosen.")
                    .into(),
            },
        );
        return see_other(&format!("/periods/{code}"));
    };
    // The CLI's import reads a path: the upload goes to a private temporary
    // directory under its own name (so messages name the officer's file).
    let dir = std::env::temp_dir().join(format!("coso-ui-{}", super::security::new_secret()));
    let path = dir.join(&name);
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &bytes));
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&dir);
        return failure(&app, &sess, &AgentError::Output(e));
    }
    let _op = app.op().await;
    let result = async {
        let store = app.open_store()?;
        let mut out = Vec::new();
        let mut c = ctx(&app, store, &mut out);
        let r = values::import(&mut c, &code, &path).await;
        Ok::<_, AgentError>((r, c.store, out))
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    let (r, store, out) = tryp!(app, sess, result);
    let prefix = format!("{}", dir.join("").display());
    match r {
        Ok(()) => {
            drop(store);
            let text = String::from_utf8_lossy(&out).replace(&prefix, "");
            flash_ok(&app, &sess, text.into_bytes());
            app.sync.nudge();
            see_other(&format!("/periods/{code}"))
        }
        Err(AgentError::Input(e)) => {
            let message = input_message(&e, lang).replace(&prefix, "");
            let mut out2 = Vec::new();
            let c = ctx(&app, store, &mut out2);
            let other = vec![views::Problem {
                anchor: Some("file".into()),
                message: message.lines().next().unwrap_or_default().to_string(),
            }];
            let v = tryp!(
                app,
                sess,
                period_view(
                    &app,
                    &sess,
                    &c,
                    &code,
                    Outcome {
                        other,
                        import_error: Some(message),
                        ..Outcome::default()
                    }
                )
            );
            render(StatusCode::UNPROCESSABLE_ENTITY, &v)
        }
        Err(e) => failure(&app, &sess, &e),
    }
}
