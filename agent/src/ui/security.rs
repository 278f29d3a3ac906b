//! What keeps the app to its officer on a shared laptop: the Host check (DNS
//! rebinding), the one-time code traded for an HttpOnly, SameSite=Strict
//! session cookie, the cross-site check on every POST, and the security
//! headers on every response (strict CSP, no framing, nosniff, no caching).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::App;
use super::views::{self, Flash};

/// The session cookie's name.
pub const COOKIE: &str = "coso_ui";

/// The session a request belongs to, put there by [`guard`].
#[derive(Debug, Clone)]
pub struct Session(pub String);

/// The one-time code and the sessions it opened. Sessions live in memory
/// only: restarting the app asks for a new code.
pub struct Auth {
    code: Mutex<Option<String>>,
    sessions: Mutex<HashMap<String, Option<Flash>>>,
}

impl Auth {
    pub fn new(code: String) -> Auth {
        Auth {
            code: Mutex::new(Some(code)),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Trades the one-time code for a new session token; the code works once.
    pub fn redeem(&self, offered: &str) -> Option<String> {
        let mut code = self.code.lock().unwrap_or_else(|p| p.into_inner());
        let ok = code
            .as_deref()
            .is_some_and(|c| bool::from(c.as_bytes().ct_eq(offered.as_bytes())));
        if !ok {
            return None;
        }
        *code = None;
        let token = new_secret();
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.clone(), None);
        Some(token)
    }

    fn is_session(&self, token: &str) -> bool {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        // Compared in constant time against each (there is usually one).
        sessions
            .keys()
            .any(|k| bool::from(k.as_bytes().ct_eq(token.as_bytes())))
    }

    pub fn set_flash(&self, s: &Session, flash: Flash) {
        if let Some(slot) = self
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&s.0)
        {
            *slot = Some(flash);
        }
    }

    pub fn take_flash(&self, s: &Session) -> Option<Flash> {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&s.0)
            .and_then(Option::take)
    }
}

/// 128 random bits as hex: one-time codes and session tokens.
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Whether `host` names this app: the loopback address and our port only.
pub fn host_allowed(host: Option<&str>, port: u16) -> bool {
    let Some(host) = host else { return false };
    let host = host.trim().to_ascii_lowercase();
    [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ]
    .contains(&host)
}

/// Whether a state-changing request comes from this app's own pages:
/// `Sec-Fetch-Site: same-origin` when the browser sends it, else an `Origin`
/// equal to `http://` + Host. A request with neither is refused.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return site.eq_ignore_ascii_case("same-origin");
    }
    match (get("origin"), get("host")) {
        (Some(origin), Some(host)) => origin.eq_ignore_ascii_case(&format!("http://{host}")),
        _ => false,
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == COOKIE).then(|| v.to_string())
        })
}

fn query_code(req: &Request) -> Option<String> {
    let q = req.uri().query()?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
}

/// The middleware in front of every route.
pub async fn guard(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let lang = app.cfg.lang;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    let mut resp = if !host_allowed(host, app.port) {
        views::plain(
            StatusCode::FORBIDDEN,
            lang.pick(
                "Bị từ chối: ứng dụng chỉ trả lời khi được mở bằng địa chỉ 127.0.0.1 hoặc localhost của máy này.",
                "Forbidden: this app answers only at 127.0.0.1 or localhost on this computer.",
            ),
        )
    } else if !matches!(*req.method(), Method::GET | Method::HEAD) && !same_origin(req.headers()) {
        views::plain(
            StatusCode::FORBIDDEN,
            lang.pick(
                "Bị từ chối: yêu cầu thay đổi dữ liệu không đến từ chính ứng dụng này.",
                "Forbidden: a change that did not come from this app's own pages.",
            ),
        )
    } else if req.uri().path() == "/" && req.method() == Method::GET && query_code(&req).is_some() {
        let offered = query_code(&req).unwrap_or_default();
        match app.auth.redeem(&offered) {
            Some(token) => {
                // The redirect drops the code from the address bar and history.
                let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
                let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    r.headers_mut().insert(header::SET_COOKIE, v);
                }
                r
            }
            None => views::how_to_open(lang, true),
        }
    } else if req.uri().path() == "/app.css" {
        next.run(req).await
    } else {
        match cookie_token(req.headers()).filter(|t| app.auth.is_session(t)) {
            Some(token) => {
                req.extensions_mut().insert(Session(token));
                next.run(req).await
            }
            None => views::how_to_open(lang, false),
        }
    };
    add_headers(resp.headers_mut());
    resp
}

fn add_headers(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cache-control", "no-store");
}

/// An empty body, for handlers that only redirect.
pub fn see_other(to: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}
