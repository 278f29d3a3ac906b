//! The admin pages: units (register one or a CSV list, revoke, reissue the
//! enrolment link shown with its QR code), ad-hoc periods, users, and the
//! upstream delivery state and log. Every route checks the admin role on
//! the server; every change goes through [`coso_ward`].

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use coso_domain::Lang;
use coso_domain::calendar::AdHocPeriod;
use serde::Deserialize;

use super::Shared;
use super::chrome::Chrome;
use super::error::WebError;
use super::grid::{kind_label, vn_instant};
use super::session::Authed;
use coso_ward::Role;
use coso_ward::users::PasswordSet;
use coso_ward::{Actor, EnrolmentInvite, NewUnit, WardError};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/admin/units", get(units_page).post(add_unit))
        .route("/admin/units/import", post(import_units))
        .route("/admin/units/{code}/revoke", post(revoke_unit))
        .route("/admin/units/{code}/reissue", post(reissue_unit))
        .route("/admin/units/{code}/keep", post(keep_unit))
        .route("/admin/units/{code}/handover", post(handover_unit))
        .route("/admin/periods", get(periods_page).post(add_period))
        .route("/admin/users", get(users_page).post(add_user))
        .route("/admin/users/{name}/role", post(set_role))
        .route("/admin/users/{name}/reset", post(reset_password))
        .route("/admin/users/{name}/remove", post(remove_user))
        .route("/admin/upstream", get(upstream_page))
}

fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

/// A refused form's message and the field it is about.
#[derive(Default)]
pub struct FormError {
    pub field: Option<&'static str>,
    pub message: String,
}

impl FormError {
    pub fn is(&self, field: &str) -> bool {
        !self.message.is_empty() && self.field == Some(field)
    }
    /// A message not about one of the form's own fields.
    pub fn general(&self, fields: &[&str]) -> bool {
        !self.message.is_empty() && !self.field.is_some_and(|f| fields.contains(&f))
    }
    fn of(e: &WardError, lang: Lang) -> FormError {
        FormError {
            field: e.field(),
            message: e.message(lang),
        }
    }
}

/// Answers a change: `done` a success; a refusal (bad input, a stale or
/// conflicting form) the form again with its message, via `again`; any other
/// failure is an error page.
fn answer<T>(
    result: Result<T, WardError>,
    lang: Lang,
    done: impl FnOnce(T) -> Result<Response, WebError>,
    again: impl FnOnce(FormError) -> Result<Response, WebError>,
) -> Result<Response, WebError> {
    match result {
        Ok(v) => done(v),
        Err(e) if e.is_refusal() => again(FormError::of(&e, lang)),
        Err(e) => Err(e.into()),
    }
}

// --- units -------------------------------------------------------------------

pub struct UnitLine {
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub enrolment: &'static str,
    pub contact: String,
    pub phone: String,
    pub last_sync: String,
    /// The ward keeps the unit's log.
    pub kept: bool,
    /// Never enrolled nor synced: it may be kept at the ward.
    pub may_keep: bool,
}

pub struct Invite {
    pub code: String,
    pub name: String,
    pub link: String,
    pub expires: String,
    pub qr: String,
}

/// The link as a QR code, an SVG drawn with presentation attributes only
/// (the CSP allows no inline styles), for a phone to scan off the screen.
pub fn qr_svg(link: &str) -> String {
    match qrcode::QrCode::new(link.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .build();
            // Inline in HTML: drop the XML declaration.
            match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            }
        }
        Err(_) => String::new(),
    }
}

fn invite(i: &EnrolmentInvite) -> Invite {
    Invite {
        code: i.unit.code.to_string(),
        name: i.unit.name.clone(),
        link: i.link.clone(),
        expires: vn_instant(i.expires_at),
        qr: qr_svg(&i.link),
    }
}

#[derive(Deserialize, Default)]
pub struct UnitForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub phone: String,
    /// The checkbox "the ward keeps its log".
    #[serde(default)]
    pub kept_at_ward: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_units.html")]
struct UnitsPage {
    c: Chrome,
    units: Vec<UnitLine>,
    kinds: Vec<(&'static str, &'static str)>,
    form: UnitForm,
    csv: String,
    error: FormError,
    import_error: FormError,
    invites: Vec<Invite>,
}

/// What the units page shows beside the list: the forms (as typed, after a
/// refusal), their messages, and the enrolment links just issued.
#[derive(Default)]
struct UnitsShown {
    form: UnitForm,
    csv: String,
    error: FormError,
    import_error: FormError,
    invites: Vec<Invite>,
}

impl UnitsShown {
    fn invites(issued: &[EnrolmentInvite]) -> UnitsShown {
        UnitsShown {
            invites: issued.iter().map(invite).collect(),
            ..UnitsShown::default()
        }
    }
}

fn units_html(
    st: &Shared,
    s: &Authed,
    status: StatusCode,
    shown: UnitsShown,
) -> Result<Response, WebError> {
    let lang = s.lang;
    let units = st
        .ward
        .units()?
        .into_iter()
        .map(|u| UnitLine {
            code: u.unit.code.to_string(),
            name: u.unit.name.clone(),
            kind: kind_label(u.unit.kind, lang),
            enrolment: u.enrolment.as_str(),
            contact: u.contact.person.clone().unwrap_or_default(),
            phone: u.contact.phone.clone().unwrap_or_default(),
            last_sync: u.last_sync.map(vn_instant).unwrap_or_default(),
            kept: u.kept_at_ward,
            may_keep: !u.kept_at_ward
                && u.enrolment == coso_ward::Enrolment::Pending
                && u.acked_seq == 0
                && u.last_sync.is_none(),
        })
        .collect();
    let page = UnitsPage {
        c: s.chrome(st, lang.pick("Đơn vị", "Units"), "/admin/units"),
        units,
        kinds: coso_domain::UnitKind::ALL
            .into_iter()
            .map(|k| (k.as_str(), kind_label(k, lang)))
            .collect(),
        form: shown.form,
        csv: shown.csv,
        error: shown.error,
        import_error: shown.import_error,
        invites: shown.invites,
    };
    Ok(html(status, page.render()?))
}

async fn units_page(State(st): State<Shared>, s: Authed) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    units_html(&st, &s, StatusCode::OK, UnitsShown::default())
}

fn new_unit(f: &UnitForm) -> Result<NewUnit, WardError> {
    let unit = coso_ward::input::unit(f.code.trim(), f.name.trim(), f.kind.trim())?;
    let contact = coso_ward::input::contact(&f.contact, &f.phone)?;
    Ok(NewUnit { unit, contact })
}

async fn add_unit(
    State(st): State<Shared>,
    s: Authed,
    Form(f): Form<UnitForm>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let result = async {
        let unit = new_unit(&f)?;
        let actor = Actor::user(&s.user.name);
        if f.kept_at_ward.is_some() {
            st.ward.add_kept_unit(&actor, unit).await?;
            return Ok(Vec::new());
        }
        st.ward.add_units(&actor, vec![unit]).await
    }
    .await;
    answer(
        result,
        s.lang,
        |issued| units_html(&st, &s, StatusCode::OK, UnitsShown::invites(&issued)),
        |error| {
            let shown = UnitsShown {
                form: f,
                error,
                ..UnitsShown::default()
            };
            units_html(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, shown)
        },
    )
}

#[derive(Deserialize)]
struct ImportForm {
    #[serde(default)]
    csv: String,
}

async fn import_units(
    State(st): State<Shared>,
    s: Authed,
    Form(f): Form<ImportForm>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let result = async {
        let units = coso_ward::input::units_csv("csv", &f.csv)?
            .into_iter()
            .map(|(unit, contact)| NewUnit { unit, contact })
            .collect();
        st.ward.add_units(&Actor::user(&s.user.name), units).await
    }
    .await;
    answer(
        result,
        s.lang,
        |issued| units_html(&st, &s, StatusCode::OK, UnitsShown::invites(&issued)),
        |mut error| {
            error.field = Some("csv");
            let shown = UnitsShown {
                csv: f.csv.chars().take(100_000).collect(),
                import_error: error,
                ..UnitsShown::default()
            };
            units_html(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, shown)
        },
    )
}

async fn revoke_unit(
    State(st): State<Shared>,
    s: Authed,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let code = code.parse().map_err(|_| WebError::NotFound)?;
    st.ward.revoke(&Actor::user(&s.user.name), &code).await?;
    Ok(Redirect::to("/admin/units").into_response())
}

async fn reissue_unit(
    State(st): State<Shared>,
    s: Authed,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let code = code.parse().map_err(|_| WebError::NotFound)?;
    let issued = st.ward.reissue(&Actor::user(&s.user.name), &code).await?;
    units_html(&st, &s, StatusCode::OK, UnitsShown::invites(&[issued]))
}

/// Keeps the log of a unit that never enrolled at the ward.
async fn keep_unit(
    State(st): State<Shared>,
    s: Authed,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let code = code.parse().map_err(|_| WebError::NotFound)?;
    let result = st
        .ward
        .keep_at_ward(&Actor::user(&s.user.name), &code)
        .await;
    answer(
        result,
        s.lang,
        |_| Ok(Redirect::to("/admin/units").into_response()),
        |error| {
            let shown = UnitsShown {
                error,
                ..UnitsShown::default()
            };
            units_html(&st, &s, StatusCode::CONFLICT, shown)
        },
    )
}

/// Hands a kept unit over: its enrolment link, shown as a new one is.
async fn handover_unit(
    State(st): State<Shared>,
    s: Authed,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let code = code.parse().map_err(|_| WebError::NotFound)?;
    let result = st.ward.handover(&Actor::user(&s.user.name), &code).await;
    answer(
        result,
        s.lang,
        |issued| units_html(&st, &s, StatusCode::OK, UnitsShown::invites(&[issued])),
        |error| {
            let shown = UnitsShown {
                error,
                ..UnitsShown::default()
            };
            units_html(&st, &s, StatusCode::CONFLICT, shown)
        },
    )
}

// --- periods -----------------------------------------------------------------

pub struct PeriodLine {
    pub code: String,
    pub title: String,
    pub due: String,
    pub adhoc: bool,
}

#[derive(Deserialize, Default)]
pub struct PeriodForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub due: String,
    #[serde(default)]
    pub indicators: String,
}

#[derive(Template)]
#[template(path = "admin_periods.html")]
struct PeriodsPage {
    c: Chrome,
    periods: Vec<PeriodLine>,
    form: PeriodForm,
    error: FormError,
}

fn periods_view(st: &Shared, s: &Authed, form: PeriodForm, error: FormError) -> PeriodsPage {
    let periods = st
        .ward
        .periods()
        .into_iter()
        .map(|p| PeriodLine {
            code: p.code.to_string(),
            title: p.title.clone(),
            due: p.due_day().format("%d/%m/%Y").to_string(),
            adhoc: p.kind == coso_domain::PeriodKind::AdHoc,
        })
        .collect();
    PeriodsPage {
        c: s.chrome(st, s.lang.pick("Kỳ báo cáo", "Periods"), "/admin/periods"),
        periods,
        form,
        error,
    }
}

async fn periods_page(State(st): State<Shared>, s: Authed) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    Ok(html(
        StatusCode::OK,
        periods_view(&st, &s, PeriodForm::default(), FormError::default()).render()?,
    ))
}

fn adhoc(st: &Shared, f: &PeriodForm) -> Result<AdHocPeriod, WardError> {
    let codes: Vec<String> = f.indicators.split([',', ' ']).map(str::to_string).collect();
    Ok(AdHocPeriod {
        code: coso_ward::input::period_code(f.code.trim())?,
        title: coso_ward::input::title(&f.title)?,
        due: coso_ward::input::date("due", f.due.trim())?,
        indicators: coso_ward::input::indicators(&st.hub.docs.catalog(), &codes)?,
    })
}

async fn add_period(
    State(st): State<Shared>,
    s: Authed,
    Form(f): Form<PeriodForm>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let result = async {
        let a = adhoc(&st, &f)?;
        st.ward.add_period(&Actor::user(&s.user.name), a).await
    }
    .await;
    answer(
        result,
        s.lang,
        |p| Ok(Redirect::to(&format!("/periods/{}", p.code)).into_response()),
        |err| {
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                periods_view(&st, &s, f, err).render()?,
            ))
        },
    )
}

// --- users -------------------------------------------------------------------

pub struct UserLine {
    pub name: String,
    pub role: &'static str,
    pub must_change: bool,
    pub created: String,
    pub sessions: usize,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<UserLine>,
    name: String,
    error: FormError,
    /// Who was just given a one-time password, and the password.
    issued: Option<(String, String)>,
}

/// The users page: `name` back in the form after a refusal, `issued` the
/// one-time password just given (to whom, and the password).
fn users_html(
    st: &Shared,
    s: &Authed,
    status: StatusCode,
    name: String,
    error: FormError,
    issued: Option<(String, String)>,
) -> Result<Response, WebError> {
    let users = st
        .ward
        .users()?
        .into_iter()
        .map(|u| UserLine {
            name: u.name,
            role: u.role.as_str(),
            must_change: u.must_change_password,
            created: vn_instant(u.created_at),
            sessions: u.sessions,
        })
        .collect();
    let page = UsersPage {
        c: s.chrome(st, s.lang.pick("Người dùng", "Users"), "/admin/users"),
        users,
        name,
        error,
        issued,
    };
    Ok(html(status, page.render()?))
}

/// The users page after a change: the one-time password it issued, if any.
fn users_issued(st: &Shared, s: &Authed, set: PasswordSet) -> Result<Response, WebError> {
    let issued = set.one_time_password.map(|p| (set.user.name.clone(), p));
    users_html(
        st,
        s,
        StatusCode::OK,
        String::new(),
        FormError::default(),
        issued,
    )
}

/// The users page again with a refusal's message (`keep` in the name field).
fn users_refused(
    st: &Shared,
    s: &Authed,
    keep: String,
    error: FormError,
) -> Result<Response, WebError> {
    users_html(st, s, StatusCode::UNPROCESSABLE_ENTITY, keep, error, None)
}

fn to_users() -> Result<Response, WebError> {
    Ok(Redirect::to("/admin/users").into_response())
}

async fn users_page(State(st): State<Shared>, s: Authed) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    users_html(
        &st,
        &s,
        StatusCode::OK,
        String::new(),
        FormError::default(),
        None,
    )
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

fn role_of(s: &str) -> Result<Role, WardError> {
    s.parse::<Role>()
        .map_err(|e| WardError::from(coso_ward::UserError::from(e)))
}

async fn add_user(
    State(st): State<Shared>,
    s: Authed,
    Form(f): Form<UserForm>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let name = f.name.trim();
    let result = async {
        let role = role_of(&f.role)?;
        st.ward
            .add_user(&Actor::user(&s.user.name), name, role, None)
            .await
    }
    .await;
    answer(
        result,
        s.lang,
        |set| users_issued(&st, &s, set),
        |err| users_refused(&st, &s, name.chars().take(64).collect(), err),
    )
}

async fn set_role(
    State(st): State<Shared>,
    s: Authed,
    Path(name): Path<String>,
    Form(f): Form<UserForm>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let result = async {
        let role = role_of(&f.role)?;
        st.ward
            .set_role(&Actor::user(&s.user.name), &name, role)
            .await
    }
    .await;
    answer(
        result,
        s.lang,
        |_| to_users(),
        |err| users_refused(&st, &s, String::new(), err),
    )
}

async fn reset_password(
    State(st): State<Shared>,
    s: Authed,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let result = st
        .ward
        .set_password(&Actor::user(&s.user.name), &name, None)
        .await;
    answer(
        result,
        s.lang,
        |set| users_issued(&st, &s, set),
        |err| users_refused(&st, &s, String::new(), err),
    )
}

async fn remove_user(
    State(st): State<Shared>,
    s: Authed,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let result = st.ward.remove_user(&Actor::user(&s.user.name), &name).await;
    answer(
        result,
        s.lang,
        |_| to_users(),
        |err| users_refused(&st, &s, String::new(), err),
    )
}

// --- upstream ------------------------------------------------------------------

pub struct DeliveryLine {
    pub period: String,
    pub revision: u64,
    pub state: &'static str,
    pub trigger: &'static str,
    pub queued: String,
    pub attempts: u32,
}

pub struct AttemptLine {
    pub at: String,
    pub period: String,
    pub revision: u64,
    pub status: u16,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "admin_upstream.html")]
struct UpstreamPage {
    c: Chrome,
    target: String,
    deliveries: Vec<DeliveryLine>,
    attempts: Vec<AttemptLine>,
}

async fn upstream_page(State(st): State<Shared>, s: Authed) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let log = st.ward.upstream_log()?;
    let page = UpstreamPage {
        c: s.chrome(
            &st,
            s.lang.pick("Gửi báo cáo lên cấp trên", "Upstream delivery"),
            "/admin/upstream",
        ),
        target: log
            .target
            .as_ref()
            .map(|t| t.url.clone())
            .unwrap_or_default(),
        deliveries: log
            .deliveries
            .iter()
            .rev()
            .map(|d| DeliveryLine {
                period: d.period.to_string(),
                revision: d.revision,
                state: d.state.as_str(),
                trigger: d.trigger.as_str(),
                queued: vn_instant(d.queued_at),
                attempts: d.attempts,
            })
            .collect(),
        attempts: log
            .attempts
            .iter()
            .rev()
            .take(100)
            .map(|a| AttemptLine {
                at: vn_instant(a.at),
                period: a.period.to_string(),
                revision: a.revision,
                status: a.http_status,
                detail: a.detail.clone(),
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, page.render()?))
}
