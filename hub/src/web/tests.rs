//! Handler tests on the router with tower's `oneshot`: login, wrong
//! password, throttling, sessions and their revocation, the cross-site
//! check and the security headers.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use tower::ServiceExt;

use crate::state::HubState;
use crate::store::users::{self, Role, User};

pub const HOST: &str = "hub.test:8443";
pub const PASSWORD: &str = "mật khẩu đủ dài 123";

pub struct Web {
    pub hub: Arc<HubState>,
    pub router: Router,
    _dir: tempfile::TempDir,
}

impl Web {
    pub async fn new() -> Web {
        let dir = tempfile::tempdir().unwrap();
        let hub = crate::upstream::testutil::hub(dir.path(), |_| {}).await;
        let router = super::router(hub.clone());
        Web {
            hub,
            router,
            _dir: dir,
        }
    }

    pub async fn add_user(&self, name: &str, role: Role, must_change: bool) {
        let now = coso_proto::clock::now();
        self.hub
            .store
            .add_user(&User {
                name: name.into(),
                role,
                password_hash: users::hash_password(PASSWORD).unwrap(),
                must_change_password: must_change,
                created_at: now,
                password_changed_at: now,
            })
            .await
            .unwrap();
    }

    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.unwrap()
    }

    /// Signs in and returns the session cookie (`name=value`).
    pub async fn login(&self, name: &str) -> String {
        let r = self
            .send(post(
                "/login",
                &[("username", name), ("password", PASSWORD)],
                None,
            ))
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        session_cookie(&r).expect("a session cookie")
    }
}

pub fn session_cookie(r: &Response<Body>) -> Option<String> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-coso_session=") && !v.starts_with("__Host-coso_session=;"))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

pub fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path)
        .header(header::HOST, HOST)
        .header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

/// A same-origin form POST, as a browser sends it.
pub fn post(path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Request<Body> {
    post_from(
        path,
        form,
        cookie,
        Some("same-origin"),
        Some(&format!("https://{HOST}")),
    )
}

pub fn post_from(
    path: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
    fetch_site: Option<&str>,
    origin: Option<&str>,
) -> Request<Body> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut b = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ACCEPT, "text/html")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    if let Some(s) = fetch_site {
        b = b.header("sec-fetch-site", s);
    }
    if let Some(o) = origin {
        b = b.header(header::ORIGIN, o);
    }
    b.body(Body::from(body)).unwrap()
}

pub async fn text(r: Response<Body>) -> String {
    let b = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(b.to_vec()).unwrap()
}

pub fn location(r: &Response<Body>) -> &str {
    r.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_login_page_keeps_the_promise_and_sends_the_security_headers() {
    let w = Web::new().await;
    let r = w.send(get("/login", None)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let body = text(r).await;
    assert!(body.contains(r#"id="login""#));
    assert!(body.contains(r#"name="username""#));
    assert!(body.contains(r#"name="password""#));
    assert!(body.contains("Đăng nhập"));
    let en = text(w.send(get("/login?lang=en", None)).await).await;
    assert!(en.contains("Sign in"));
}

#[tokio::test]
async fn a_right_password_signs_in_with_a_strict_cookie_and_a_wrong_one_does_not() {
    let w = Web::new().await;
    w.add_user("lan", Role::Viewer, false).await;

    let r = w
        .send(post(
            "/login",
            &[("username", "lan"), ("password", "sai mật khẩu rồi")],
            None,
        ))
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&r).is_none());
    assert!(text(r).await.contains("không đúng"));
    let r = w
        .send(post(
            "/login",
            &[("username", "nobody"), ("password", PASSWORD)],
            None,
        ))
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = w
        .send(post(
            "/login",
            &[("username", "lan"), ("password", PASSWORD)],
            None,
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    let set = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("__Host-coso_session="))
        .unwrap();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    let cookie = session_cookie(&r).unwrap();
    let r = w.send(get("/", Some(&cookie))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(text(r).await.contains("lan"));
}

#[tokio::test]
async fn without_a_session_browsers_go_to_login_and_other_clients_get_401() {
    let w = Web::new().await;
    let r = w.send(get("/", None)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login");
    let r = w
        .send(
            Request::get("/")
                .header(header::HOST, HOST)
                .header(header::ACCEPT, "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = w.send(get("/", Some("__Host-coso_session=forged"))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn repeated_failures_are_throttled_even_with_the_right_password() {
    let w = Web::new().await;
    w.add_user("lan", Role::Viewer, false).await;
    for _ in 0..super::throttle::MAX_FAILURES {
        let r = w
            .send(post(
                "/login",
                &[("username", "lan"), ("password", "đoán bừa 12345")],
                None,
            ))
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = w
        .send(post(
            "/login",
            &[("username", "lan"), ("password", PASSWORD)],
            None,
        ))
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(session_cookie(&r).is_none());
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let w = Web::new().await;
    w.add_user("lan", Role::Viewer, false).await;
    let cookie = w.login("lan").await;
    // A cross-site logout would end the session: it must not.
    for (site, origin) in [
        (Some("cross-site"), None),
        (Some("same-site"), Some("https://hub.test:8443")),
        (None, Some("https://evil.example")),
        (None, Some("http://hub.test:8443")),
        (None, Some("null")),
        (None, None),
    ] {
        let r = w
            .send(post_from("/logout", &[], Some(&cookie), site, origin))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{site:?} {origin:?}");
    }
    assert_eq!(
        w.send(get("/", Some(&cookie))).await.status(),
        StatusCode::OK
    );
    // A cross-site login is refused before the password is even checked.
    let r = w
        .send(post_from(
            "/login",
            &[("username", "lan"), ("password", PASSWORD)],
            None,
            None,
            Some("https://evil.example"),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&r).is_none());
    // Origin alone (an older browser) is enough when it matches.
    let r = w
        .send(post_from(
            "/logout",
            &[],
            Some(&cookie),
            None,
            Some(&format!("https://{HOST}")),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn logout_and_password_change_end_sessions() {
    let w = Web::new().await;
    w.add_user("lan", Role::Reviewer, false).await;
    let a = w.login("lan").await;
    let b = w.login("lan").await;
    let r = w.send(post("/logout", &[], Some(&a))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        w.send(get("/", Some(&a))).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(w.send(get("/", Some(&b))).await.status(), StatusCode::OK);

    // A refused new password: the page again, the message by the field, nothing changed.
    let r = w
        .send(post(
            "/password",
            &[("current", PASSWORD), ("new", "ngắn"), ("confirm", "ngắn")],
            Some(&b),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(r).await.contains(r#"data-error-for="new""#));
    assert_eq!(w.send(get("/", Some(&b))).await.status(), StatusCode::OK);

    let c = w.login("lan").await;
    let new = "một mật khẩu mới rất dài";
    let r = w
        .send(post(
            "/password",
            &[("current", PASSWORD), ("new", new), ("confirm", new)],
            Some(&b),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let d = session_cookie(&r).unwrap();
    // Every earlier session ended; the browser that changed it has a new one.
    assert_eq!(
        w.send(get("/", Some(&b))).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        w.send(get("/", Some(&c))).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(w.send(get("/", Some(&d))).await.status(), StatusCode::OK);
    let r = w
        .send(post(
            "/login",
            &[("username", "lan"), ("password", new)],
            None,
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_before_anything_else() {
    let w = Web::new().await;
    w.add_user("moi", Role::Admin, true).await;
    let cookie = w.login("moi").await;
    let r = w.send(get("/", Some(&cookie))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/password");
    let page = text(w.send(get("/password", Some(&cookie))).await).await;
    assert!(page.contains("mật khẩu dùng một lần"));
    let new = "mật khẩu riêng của tôi";
    let r = w
        .send(post(
            "/password",
            &[("current", PASSWORD), ("new", new), ("confirm", new)],
            Some(&cookie),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let fresh = session_cookie(&r).unwrap();
    assert_eq!(
        w.send(get("/", Some(&fresh))).await.status(),
        StatusCode::OK
    );
    assert!(
        !w.hub
            .store
            .user("moi")
            .unwrap()
            .unwrap()
            .must_change_password
    );
}
