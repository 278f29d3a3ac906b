//! Signing in and out, and choosing one's own password (required after a
//! one-time password). Wrong passwords (at sign-in, and the current one on
//! a password change) slow down the (name, address) pair and the address
//! that sent them, by the ward's rule (`coso_ward::throttle`); an unknown
//! user costs the same Argon2 work as a known one.

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::Shared;
use super::chrome::{Chrome, PageLang};
use super::error::WebError;
use super::session::{AnySession, clear_cookie, set_cookie};
use coso_ward::User;
use coso_ward::UserError;
use coso_ward::users;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/password", get(password_page).post(change_password))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

fn login_chrome(st: &Shared, lang: coso_domain::Lang) -> Chrome {
    let title = lang.pick("Đăng nhập", "Sign in").to_string();
    Chrome::new(lang, &st.hub.config.file.ward, title, "/login".into())
}

async fn login_page(
    State(st): State<Shared>,
    PageLang(lang): PageLang,
) -> Result<Response, WebError> {
    let page = LoginPage {
        c: login_chrome(&st, lang),
        username: String::new(),
        error: None,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

fn peer(ext: &Extensions) -> String {
    ext.get::<ConnectInfo<super::listener::Peer>>()
        .map(|ci| ci.0.0.ip().to_string())
        .unwrap_or_else(|| "local".into())
}

/// Starts a session for `user` and answers 303 to `to` with its cookie.
async fn start_session(st: &Shared, user: &User, to: &str) -> Result<Response, WebError> {
    let hours = i64::from(st.hub.config.file.web.session_hours.max(1));
    let token = st.ward.start_session(user, hours).await?;
    let mut resp = Redirect::to(to).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&token, hours * 3600));
    Ok(resp)
}

/// Why a password was not even tried, and for how long.
fn wait_message(lang: coso_domain::Lang, wait: std::time::Duration) -> String {
    let seconds = wait.as_secs().max(1);
    match lang {
        coso_domain::Lang::Vi => {
            format!("Nhập sai mật khẩu quá nhiều lần. Hãy thử lại sau {seconds} giây.")
        }
        coso_domain::Lang::En => {
            format!("Too many wrong passwords. Try again in {seconds} seconds.")
        }
    }
}

async fn login(
    State(st): State<Shared>,
    PageLang(lang): PageLang,
    ext: Extensions,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    let name = f.username.trim().to_string();
    let address = peer(&ext);
    let again = |error: String, status: StatusCode| -> Result<Response, WebError> {
        let page = LoginPage {
            c: login_chrome(&st, lang),
            username: name.clone(),
            error: Some(error),
        };
        Ok(html(status, page.render()?))
    };
    if let Some(wait) = st.ward.password_wait(&name, &address) {
        return again(wait_message(lang, wait), StatusCode::TOO_MANY_REQUESTS);
    }
    let user = if users::check_name(&name).is_ok() && f.password.len() <= users::MAX_PASSWORD_BYTES
    {
        st.ward.user(&name)?
    } else {
        None
    };
    let phc = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| users::decoy_hash().to_string());
    let password = f.password;
    let matches = st
        .hashing(move || users::verify_password(&password, &phc))
        .await?;
    match user {
        Some(user) if matches => {
            st.ward.password_succeeded(&name, &address);
            tracing::info!(user = %user.name, "dashboard sign-in");
            start_session(&st, &user, "/").await
        }
        _ => {
            st.ward.password_failed(&name, &address);
            tracing::warn!(user = %name, "dashboard sign-in failed");
            again(
                lang.pick(
                    "Tên đăng nhập hoặc mật khẩu không đúng.",
                    "Wrong user name or password.",
                )
                .to_string(),
                StatusCode::UNAUTHORIZED,
            )
        }
    }
}

async fn logout(State(st): State<Shared>, s: AnySession) -> Result<Response, WebError> {
    st.ward.end_session(&s.token_hash).await?;
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, clear_cookie());
    Ok(resp)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    c: Chrome,
    forced: bool,
    error_current: Option<String>,
    error_new: Option<String>,
}

async fn password_page(State(st): State<Shared>, s: AnySession) -> Result<Response, WebError> {
    let page = PasswordPage {
        c: s.chrome(
            &st,
            s.lang.pick("Đổi mật khẩu", "Change password"),
            "/password",
        ),
        forced: s.user.must_change_password,
        error_current: None,
        error_new: None,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// The message for a refused new password.
fn password_problem(lang: coso_domain::Lang, e: &UserError) -> String {
    match (lang, e) {
        (coso_domain::Lang::Vi, UserError::PasswordTooShort) => format!(
            "Mật khẩu mới quá ngắn: cần ít nhất {} ký tự.",
            users::MIN_PASSWORD_CHARS
        ),
        (coso_domain::Lang::Vi, UserError::PasswordTooLong) => format!(
            "Mật khẩu mới quá dài: tối đa {} byte.",
            users::MAX_PASSWORD_BYTES
        ),
        (_, e) => e.to_string(),
    }
}

async fn change_password(
    State(st): State<Shared>,
    s: AnySession,
    ext: Extensions,
    Form(f): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let lang = s.lang;
    let address = peer(&ext);
    let page = |current: Option<String>,
                new: Option<String>,
                status: StatusCode|
     -> Result<Response, WebError> {
        let page = PasswordPage {
            c: s.chrome(
                &st,
                lang.pick("Đổi mật khẩu", "Change password"),
                "/password",
            ),
            forced: s.user.must_change_password,
            error_current: current,
            error_new: new,
        };
        Ok(html(status, page.render()?))
    };
    let again = |current: Option<String>, new: Option<String>| {
        page(current, new, StatusCode::UNPROCESSABLE_ENTITY)
    };
    if let Err(e) = users::check_password(&f.new) {
        return again(None, Some(password_problem(lang, &e)));
    }
    if f.new != f.confirm {
        return again(
            None,
            Some(
                lang.pick(
                    "Hai lần nhập mật khẩu mới không khớp.",
                    "The two new passwords differ.",
                )
                .into(),
            ),
        );
    }
    if f.new == f.current {
        return again(
            None,
            Some(
                lang.pick(
                    "Mật khẩu mới phải khác mật khẩu hiện tại.",
                    "The new password must differ from the current one.",
                )
                .into(),
            ),
        );
    }
    // The current password is a password guess like a sign-in's: a stolen
    // session must not be a way to guess it at speed.
    if let Some(wait) = st.ward.password_wait(&s.user.name, &address) {
        return page(
            Some(wait_message(lang, wait)),
            None,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let phc = s.user.password_hash.clone();
    let current = f.current;
    if !st
        .hashing(move || users::verify_password(&current, &phc))
        .await?
    {
        st.ward.password_failed(&s.user.name, &address);
        return again(
            Some(
                lang.pick(
                    "Mật khẩu hiện tại không đúng.",
                    "The current password is wrong.",
                )
                .into(),
            ),
            None,
        );
    }
    st.ward.password_succeeded(&s.user.name, &address);
    let new = f.new;
    let hash = st.hashing(move || users::hash_password(&new)).await??;
    // Every session ends, this one too; this browser gets a new one.
    let user = st.ward.change_own_password(&s.user, hash).await?;
    tracing::info!(user = %user.name, "dashboard password changed");
    start_session(&st, &user, "/").await
}
