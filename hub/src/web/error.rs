//! Why a dashboard request failed, and the page each failure answers with.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use thiserror::Error;

use coso_ward::StoreError;
use coso_ward::UserError;
use coso_ward::WardError;

#[derive(Debug, Error)]
pub enum WebError {
    /// No valid session. Browsers are sent to the login page.
    #[error("not signed in")]
    Unauthenticated { html: bool },
    /// The user holds a one-time password and must choose their own first.
    #[error("the password must be changed first")]
    MustChangePassword,
    #[error("this needs the {0} role")]
    Forbidden(&'static str),
    #[error("the cross-site check failed")]
    CrossSite,
    #[error("not found")]
    NotFound,
    #[error("the address is too long")]
    UriTooLong,
    /// The `Host` is not one of the dashboard's names.
    #[error("this host is not served here")]
    MisdirectedHost,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the database failed: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ward(#[from] WardError),
    #[error("{0}")]
    Internal(String),
}

impl From<UserError> for WebError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Store(s) => WebError::Store(s),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("a page cannot be rendered: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    vi: &'a str,
    en: &'a str,
}

/// A short bilingual page for a status.
pub fn error_page(status: StatusCode, vi: &str, en: &str) -> Response {
    let body = ErrorPage {
        status: status.as_u16(),
        vi,
        en,
    }
    .render()
    .unwrap_or_else(|_| en.to_string());
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Unauthenticated { html: true } => Redirect::to("/login").into_response(),
            WebError::Unauthenticated { html: false } => {
                error_page(StatusCode::UNAUTHORIZED, "Cần đăng nhập.", "Sign in first.")
            }
            WebError::MustChangePassword => Redirect::to("/password").into_response(),
            WebError::Forbidden(role) => {
                let vi = format!("Tài khoản của bạn không có quyền này (cần vai trò {role}).");
                let en = format!("Your account may not do this (it needs the {role} role).");
                error_page(StatusCode::FORBIDDEN, &vi, &en)
            }
            WebError::CrossSite => error_page(
                StatusCode::FORBIDDEN,
                "Yêu cầu bị từ chối: biểu mẫu không được gửi từ chính trang này.",
                "Refused: the form was not sent from this site.",
            ),
            WebError::Ward(WardError::Store(e)) if e.failure().is_some() => {
                storage_page(e.failure())
            }
            WebError::UriTooLong => error_page(
                StatusCode::URI_TOO_LONG,
                "Địa chỉ quá dài.",
                "The address is too long.",
            ),
            WebError::MisdirectedHost => error_page(
                StatusCode::MISDIRECTED_REQUEST,
                "Máy chủ này không phục vụ tên miền đã gửi.",
                "This server does not serve the requested host name.",
            ),
            WebError::PayloadTooLarge => {
                let mut r = error_page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Dữ liệu gửi lên quá lớn.",
                    "The request is too large.",
                );
                // The rest of the body is not read: the connection ends.
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                r
            }
            WebError::NotFound
            | WebError::Ward(
                WardError::NoSuchUnit(_)
                | WardError::NoSuchPeriod(_)
                | WardError::NoSuchActivity { .. },
            ) => not_found_page(),
            WebError::Ward(e) if e.is_refusal() => error_page(
                StatusCode::BAD_REQUEST,
                &e.message(coso_domain::Lang::Vi),
                &e.message(coso_domain::Lang::En),
            ),
            WebError::Ward(e) => {
                tracing::error!(error = %e, "dashboard use case failed");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Lỗi máy chủ phường.",
                    "The hub failed.",
                )
            }
            WebError::Store(e) if e.failure().is_some() => storage_page(e.failure()),
            WebError::Store(e) => {
                tracing::error!(error = %e, "dashboard store error");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Lỗi cơ sở dữ liệu của máy chủ phường.",
                    "The hub's database failed.",
                )
            }
            WebError::Internal(e) => {
                tracing::error!(error = %e, "dashboard error");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Lỗi máy chủ phường.",
                    "The hub failed.",
                )
            }
        }
    }
}

/// 503 and the failure in the officer's words: the store failed, so no
/// page shows what may not be on disk.
fn storage_page(f: Option<&coso_ward::StorageFailure>) -> Response {
    match f {
        Some(f) => error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            &f.message(coso_domain::Lang::Vi),
            &f.message(coso_domain::Lang::En),
        ),
        None => error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Máy chủ phường tạm ngừng.",
            "The hub is paused.",
        ),
    }
}

/// Every dashboard request, once the store has failed, gets the failure
/// page (the stylesheet still loads): no page reads what may not be durable.
pub async fn storage_gate(
    axum::extract::State(hub): axum::extract::State<std::sync::Arc<coso_ward::state::HubState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match hub.storage_failure() {
        Some(f) if req.uri().path() != "/static/style.css" => storage_page(Some(&f)),
        _ => next.run(req).await,
    }
}

fn not_found_page() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Không có trang này.",
        "There is no such page.",
    )
}

pub async fn not_found() -> Response {
    not_found_page()
}
