//! Who is asking: the session cookie (`__Host-coso_session`, HttpOnly,
//! Secure, SameSite=Strict; only its SHA-256 is stored) and the extractors
//! that turn it into a signed-in user, and the role checks.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use coso_domain::Lang;

use super::Shared;
use super::chrome::{Chrome, cookie, lang_of};
use super::error::WebError;
use coso_ward::Hash32;
use coso_ward::{Role, User};

/// `__Host-`: the browser keeps it only if Secure, Path=/ and no Domain.
pub const SESSION_COOKIE: &str = "__Host-coso_session";

pub fn set_cookie(token: &str, max_age_secs: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age_secs}; HttpOnly; Secure; SameSite=Strict"
    ))
    .unwrap_or_else(|_| clear_cookie())
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-coso_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
    )
}

/// Whether the client reads HTML (a browser), so it is sent to the login
/// page rather than answered 401.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// A signed-in user, whatever the state of their password.
pub struct AnySession {
    pub user: User,
    pub token_hash: Hash32,
    pub lang: Lang,
}

impl FromRequestParts<Shared> for AnySession {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Self, WebError> {
        let unauth = WebError::Unauthenticated {
            html: wants_html(&parts.headers),
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(unauth);
        };
        let Some((user, token_hash)) = st.ward.session_user(token)? else {
            return Err(unauth);
        };
        Ok(AnySession {
            user,
            token_hash,
            lang: lang_of(parts),
        })
    }
}

/// A signed-in user who has a password of their own: what every page but
/// the password page needs.
pub struct Authed(pub AnySession);

impl FromRequestParts<Shared> for Authed {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Self, WebError> {
        let s = AnySession::from_request_parts(parts, st).await?;
        if s.user.must_change_password {
            return Err(WebError::MustChangePassword);
        }
        Ok(Authed(s))
    }
}

impl AnySession {
    /// Refuses (403) unless the user's role includes `role`.
    pub fn require(&self, role: Role) -> Result<(), WebError> {
        if self.user.role >= role {
            Ok(())
        } else {
            Err(WebError::Forbidden(role.as_str()))
        }
    }

    /// The frame of a page for this user.
    pub fn chrome(&self, st: &Shared, title: &str, path: &str) -> Chrome {
        let mut c = Chrome::new(
            self.lang,
            &st.hub.config.file.ward,
            title.to_string(),
            path.to_string(),
        );
        c.user = Some(self.user.name.clone());
        c.role = Some(self.user.role);
        c
    }
}

impl std::ops::Deref for Authed {
    type Target = AnySession;
    fn deref(&self) -> &AnySession {
        &self.0
    }
}
