//! The admin pages: units (register one or a CSV list, revoke, reissue the
//! enrolment link shown with its QR code), ad-hoc periods, users, and the
//! upstream delivery state and log. Every route checks the admin role on
//! the server; every change goes through [`crate::ward`].

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use coso_proto::Lang;
use coso_proto::domain::calendar::AdHocPeriod;
use serde::Deserialize;

use super::Shared;
use super::chrome::Chrome;
use super::error::WebError;
use super::grid::{kind_label, vn_instant};
use super::session::Authed;
use crate::store::users::Role;
use crate::ward::{Actor, EnrolmentInvite, NewUnit, WardError};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/admin/units", get(units_page).post(add_unit))
        .route("/admin/units/import", post(import_units))
        .route("/admin/units/{code}/revoke", post(revoke_unit))
        .route("/admin/units/{code}/reissue", post(reissue_unit))
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

/// Answers a refusal with the form again (via `again`), and fails otherwise.
fn refusal(
    e: WardError,
    lang: Lang,
    again: impl FnOnce(FormError) -> Result<Response, WebError>,
) -> Result<Response, WebError> {
    if e.is_refusal() {
        again(FormError::of(&e, lang))
    } else {
        Err(e.into())
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

fn units_view(
    st: &Shared,
    s: &Authed,
    form: UnitForm,
    csv: String,
    error: FormError,
    import_error: FormError,
    invites: Vec<Invite>,
) -> Result<UnitsPage, WebError> {
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
        })
        .collect();
    Ok(UnitsPage {
        c: s.chrome(st, lang.pick("Đơn vị", "Units"), "/admin/units"),
        units,
        kinds: coso_proto::UnitKind::ALL
            .into_iter()
            .map(|k| (k.as_str(), kind_label(k, lang)))
            .collect(),
        form,
        csv,
        error,
        import_error,
        invites,
    })
}

async fn units_page(State(st): State<Shared>, s: Authed) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let page = units_view(
        &st,
        &s,
        UnitForm::default(),
        String::new(),
        FormError::default(),
        FormError::default(),
        Vec::new(),
    )?;
    Ok(html(StatusCode::OK, page.render()?))
}

fn new_unit(f: &UnitForm) -> Result<NewUnit, WardError> {
    let unit = crate::input::unit(f.code.trim(), f.name.trim(), f.kind.trim())?;
    let contact = crate::input::contact(&f.contact, &f.phone)?;
    Ok(NewUnit { unit, contact })
}

async fn add_unit(
    State(st): State<Shared>,
    s: Authed,
    Form(f): Form<UnitForm>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let lang = s.lang;
    let result = match new_unit(&f) {
        Ok(u) => st.ward.add_units(&Actor::user(&s.user.name), vec![u]).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(invites) => {
            let invites = invites.iter().map(invite).collect();
            let page = units_view(
                &st,
                &s,
                UnitForm::default(),
                String::new(),
                FormError::default(),
                FormError::default(),
                invites,
            )?;
            Ok(html(StatusCode::OK, page.render()?))
        }
        Err(e) => refusal(e, lang, |err| {
            let page = units_view(
                &st,
                &s,
                f,
                String::new(),
                err,
                FormError::default(),
                Vec::new(),
            )?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
        }),
    }
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
    let lang = s.lang;
    let result = match crate::input::units_csv("csv", &f.csv) {
        Ok(rows) => {
            let units = rows
                .into_iter()
                .map(|(unit, contact)| NewUnit { unit, contact })
                .collect();
            st.ward.add_units(&Actor::user(&s.user.name), units).await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(invites) => {
            let invites = invites.iter().map(invite).collect();
            let page = units_view(
                &st,
                &s,
                UnitForm::default(),
                String::new(),
                FormError::default(),
                FormError::default(),
                invites,
            )?;
            Ok(html(StatusCode::OK, page.render()?))
        }
        Err(e) => refusal(e, lang, |mut err| {
            err.field = Some("csv");
            let csv: String = f.csv.chars().take(100_000).collect();
            let page = units_view(
                &st,
                &s,
                UnitForm::default(),
                csv,
                FormError::default(),
                err,
                Vec::new(),
            )?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
        }),
    }
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
    let inv = st.ward.reissue(&Actor::user(&s.user.name), &code).await?;
    let page = units_view(
        &st,
        &s,
        UnitForm::default(),
        String::new(),
        FormError::default(),
        FormError::default(),
        vec![invite(&inv)],
    )?;
    Ok(html(StatusCode::OK, page.render()?))
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
            adhoc: p.kind == coso_proto::PeriodKind::AdHoc,
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
        code: crate::input::period_code(f.code.trim())?,
        title: crate::input::title(&f.title)?,
        due: crate::input::date("due", f.due.trim())?,
        indicators: crate::input::indicators(&st.hub.docs.catalog(), &codes)?,
    })
}

async fn add_period(
    State(st): State<Shared>,
    s: Authed,
    Form(f): Form<PeriodForm>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let result = match adhoc(&st, &f) {
        Ok(a) => st.ward.add_period(&Actor::user(&s.user.name), a).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => Ok(Redirect::to(&format!("/periods/{}", p.code)).into_response()),
        Err(e) => refusal(e, s.lang, |err| {
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                periods_view(&st, &s, f, err).render()?,
            ))
        }),
    }
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

fn users_view(
    st: &Shared,
    s: &Authed,
    name: String,
    error: FormError,
    issued: Option<(String, String)>,
) -> Result<UsersPage, WebError> {
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
    Ok(UsersPage {
        c: s.chrome(st, s.lang.pick("Người dùng", "Users"), "/admin/users"),
        users,
        name,
        error,
        issued,
    })
}

async fn users_page(State(st): State<Shared>, s: Authed) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    Ok(html(
        StatusCode::OK,
        users_view(&st, &s, String::new(), FormError::default(), None)?.render()?,
    ))
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
        .map_err(|e| WardError::from(crate::store::users::UserError::from(e)))
}

async fn add_user(
    State(st): State<Shared>,
    s: Authed,
    Form(f): Form<UserForm>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let name = f.name.trim().to_string();
    let result = match role_of(&f.role) {
        Ok(role) => {
            st.ward
                .add_user(&Actor::user(&s.user.name), &name, role, None)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(set) => {
            let issued = set.one_time_password.map(|p| (set.user.name.clone(), p));
            Ok(html(
                StatusCode::OK,
                users_view(&st, &s, String::new(), FormError::default(), issued)?.render()?,
            ))
        }
        Err(e) => refusal(e, s.lang, |err| {
            let keep: String = name.chars().take(64).collect();
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                users_view(&st, &s, keep, err, None)?.render()?,
            ))
        }),
    }
}

async fn set_role(
    State(st): State<Shared>,
    s: Authed,
    Path(name): Path<String>,
    Form(f): Form<UserForm>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    let result = match role_of(&f.role) {
        Ok(role) => st
            .ward
            .set_role(&Actor::user(&s.user.name), &name, role)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => refusal(e, s.lang, |err| {
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                users_view(&st, &s, String::new(), err, None)?.render()?,
            ))
        }),
    }
}

async fn reset_password(
    State(st): State<Shared>,
    s: Authed,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    match st
        .ward
        .set_password(&Actor::user(&s.user.name), &name, None)
        .await
    {
        Ok(set) => {
            let issued = set.one_time_password.map(|p| (set.user.name.clone(), p));
            Ok(html(
                StatusCode::OK,
                users_view(&st, &s, String::new(), FormError::default(), issued)?.render()?,
            ))
        }
        Err(e) => refusal(e, s.lang, |err| {
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                users_view(&st, &s, String::new(), err, None)?.render()?,
            ))
        }),
    }
}

async fn remove_user(
    State(st): State<Shared>,
    s: Authed,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    s.require(Role::Admin)?;
    match st.ward.remove_user(&Actor::user(&s.user.name), &name).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => refusal(e, s.lang, |err| {
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                users_view(&st, &s, String::new(), err, None)?.render()?,
            ))
        }),
    }
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
