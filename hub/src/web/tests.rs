//! Handler tests on the router with tower's `oneshot`: login, wrong
//! password, throttling, sessions and their revocation, the cross-site
//! check and the security headers.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use tower::ServiceExt;

use coso_ward::state::HubState;
use coso_ward::users;
use coso_ward::{Role, User};

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
        let hub = coso_ward::testing::hub(dir.path(), |_| {}).await;
        let names =
            super::HostNames::new("0.0.0.0:8443".parse().unwrap(), ["hub.test".to_string()]);
        let router = super::router(hub.clone(), names);
        Web {
            hub,
            router,
            _dir: dir,
        }
    }

    pub async fn add_user(&self, name: &str, role: Role, must_change: bool) {
        let now = coso_domain::clock::now();
        coso_ward::testing::add_user(
            &self.hub,
            &User {
                name: name.into(),
                role,
                password_hash: users::hash_password(PASSWORD).unwrap(),
                must_change_password: must_change,
                created_at: now,
                password_changed_at: now,
            },
        )
        .await;
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
    for _ in 0..coso_ward::throttle::MAX_FAILURES {
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

/// `req` as if it came from `ip`.
fn from(ip: &str, mut req: Request<Body>) -> Request<Body> {
    let addr = std::net::SocketAddr::new(ip.parse().unwrap(), 40000);
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(super::listener::Peer(addr)));
    req
}

fn sign_in(ip: &str, name: &str, password: &str) -> Request<Body> {
    from(
        ip,
        post(
            "/login",
            &[("username", name), ("password", password)],
            None,
        ),
    )
}

#[tokio::test]
async fn a_stranger_cannot_lock_a_user_out_and_a_success_clears_the_address() {
    let w = Web::new().await;
    w.add_user("lan", Role::Admin, false).await;
    w.add_user("binh", Role::Viewer, false).await;
    // A stranger guesses lan's password from its own address, again and
    // again: only the stranger is slowed down.
    for _ in 0..3 * coso_ward::throttle::MAX_FAILURES {
        let r = w.send(sign_in("10.0.0.9", "lan", "đoán bừa 12345")).await;
        assert_ne!(r.status(), StatusCode::SEE_OTHER);
    }
    let r = w.send(sign_in("10.0.0.9", "lan", PASSWORD)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Lan, from a clean address, signs in at once.
    let r = w.send(sign_in("10.0.0.1", "lan", PASSWORD)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(session_cookie(&r).is_some());
    // In an office behind one address, lan mistypes a few times and then
    // signs in: binh, behind the same address, is not held back.
    for _ in 0..coso_ward::throttle::MAX_FAILURES - 1 {
        let r = w.send(sign_in("10.0.0.2", "lan", "gõ nhầm 123456")).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = w.send(sign_in("10.0.0.2", "lan", PASSWORD)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for _ in 0..coso_ward::throttle::MAX_FAILURES - 1 {
        let r = w.send(sign_in("10.0.0.2", "binh", "gõ nhầm 123456")).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = w.send(sign_in("10.0.0.2", "binh", PASSWORD)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn unlocking_a_user_lets_them_in_from_where_the_guesses_came() {
    let w = Web::new().await;
    w.add_user("lan", Role::Admin, false).await;
    for _ in 0..coso_ward::throttle::MAX_FAILURES {
        w.send(sign_in("10.0.0.9", "lan", "đoán bừa 12345")).await;
    }
    let r = w.send(sign_in("10.0.0.9", "lan", PASSWORD)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // The Admin service's use case, on the same running hub's state.
    let ward = coso_ward::Ward::new(w.hub.clone());
    let cleared = ward
        .unlock_user(&coso_ward::Actor::admin_token(), "lan")
        .await
        .unwrap();
    assert_eq!(cleared, 1);
    let r = w.send(sign_in("10.0.0.9", "lan", PASSWORD)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn guesses_of_the_current_password_are_throttled() {
    let w = Web::new().await;
    w.add_user("lan", Role::Viewer, false).await;
    let cookie = w.login("lan").await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = w
            .send(from(
                "10.0.0.9",
                post(
                    "/password",
                    &[
                        ("current", "đoán bừa 12345"),
                        ("new", "mật khẩu mới dài dài"),
                        ("confirm", "mật khẩu mới dài dài"),
                    ],
                    Some(&cookie),
                ),
            ))
            .await;
        statuses.push(r.status());
    }
    let wrong = coso_ward::throttle::MAX_FAILURES as usize;
    assert!(
        statuses[..wrong]
            .iter()
            .all(|s| *s == StatusCode::UNPROCESSABLE_ENTITY),
        "{statuses:?}"
    );
    assert!(
        statuses[wrong..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // Even the right current password waits now.
    let r = w
        .send(from(
            "10.0.0.9",
            post(
                "/password",
                &[
                    ("current", PASSWORD),
                    ("new", "mật khẩu mới dài dài"),
                    ("confirm", "mật khẩu mới dài dài"),
                ],
                Some(&cookie),
            ),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
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
        !coso_ward::Ward::new(w.hub.clone())
            .user("moi")
            .unwrap()
            .unwrap()
            .must_change_password
    );
}

// --- pages over the ward layer ----------------------------------------------------

use chrono::Utc;
use coso_domain::change::{NoteSet, ValuesSet};
use coso_domain::{Change, Entry, Section, Unit, UnitCode, UnitKind, UnitState, Value};

use coso_ward::Incoming;
use coso_ward::{Actor, NewUnit, Ward};

const HOSTILE: &str = "<script>alert('x')</script> & \"quoted\"";

/// Registers a unit named `name` and pushes a submission for 2026-H1 whose
/// results narrative is `note`.
async fn submitted(w: &Web, code: &str, name: &str, note: &str) -> UnitCode {
    submitted_with(w, code, name, note, &[("DB01", Value::Number(3.0))]).await
}

/// As [`submitted`], with these indicator values.
async fn submitted_with(
    w: &Web,
    code: &str,
    name: &str,
    note: &str,
    values: &[(&str, Value)],
) -> UnitCode {
    let ward = Ward::new(w.hub.clone());
    let code: UnitCode = code.parse().unwrap();
    let unit = Unit::new(code.clone(), name, UnitKind::ResidentialGroup).unwrap();
    let contact = coso_ward::input::contact("Nguyễn Văn A", "0912 345 678").unwrap();
    ward.add_units(&Actor::admin_token(), vec![NewUnit { unit, contact }])
        .await
        .unwrap();
    let period = ward.period(&"2026-H1".parse().unwrap()).unwrap();
    let set = Change::ValuesSet(ValuesSet {
        period: period.code.clone(),
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), Some(v.clone())))
            .collect(),
    });
    let noted = Change::NoteSet(NoteSet {
        period: period.code.clone(),
        section: Section::Results,
        text: note.to_string(),
    });
    let mut st = UnitState::default();
    st.apply(&set);
    st.apply(&noted);
    let frozen = st.freeze(
        &w.hub.docs.catalog(),
        UnitKind::ResidentialGroup,
        &period,
        Utc::now(),
    );
    let submit = Change::Submit(Box::new(frozen));
    let batch = [
        Incoming::new(Entry::new(1, &set, Utc::now())).unwrap(),
        Incoming::new(Entry::new(2, &noted, Utc::now())).unwrap(),
        Incoming::new(Entry::new(3, &submit, Utc::now())).unwrap(),
    ];
    coso_ward::testing::push(&w.hub, &code, &batch).await;
    code
}

fn state_of(w: &Web, code: &str) -> String {
    let ward = Ward::new(w.hub.clone());
    let period = ward.period(&"2026-H1".parse().unwrap()).unwrap();
    let st = ward.status(&period).unwrap();
    st.units
        .iter()
        .find(|r| r.unit.as_str() == code)
        .map(|r| r.state.as_str().to_string())
        .unwrap()
}

/// The `seen` value the unit page's review form carries.
async fn seen(w: &Web, cookie: &str, code: &str) -> String {
    let page = text(
        w.send(get(&format!("/periods/2026-H1/units/{code}"), Some(cookie)))
            .await,
    )
    .await;
    let at = page.find(r#"name="seen" value=""#).expect("a review form")
        + r#"name="seen" value=""#.len();
    page[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn the_grid_and_unit_page_escape_hostile_names_notes_and_reasons() {
    let w = Web::new().await;
    w.add_user("duyet", Role::Reviewer, false).await;
    submitted(&w, "TDP01", HOSTILE, HOSTILE).await;
    let cookie = w.login("duyet").await;
    let grid = text(w.send(get("/periods/2026-H1", Some(&cookie))).await).await;
    assert!(
        grid.contains(r#"data-unit="TDP01" data-state="submitted" data-timeliness="late""#),
        "{grid}"
    );
    assert!(!grid.contains("<script>"), "{grid}");
    assert!(
        grid.contains("&#60;script&#62;alert(&#39;x&#39;)"),
        "{grid}"
    );
    let s = seen(&w, &cookie, "TDP01").await;
    let r = w
        .send(post(
            "/periods/2026-H1/units/TDP01/review",
            &[("decision", "return"), ("reason", HOSTILE), ("seen", &s)],
            Some(&cookie),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let unit = text(
        w.send(get("/periods/2026-H1/units/TDP01", Some(&cookie)))
            .await,
    )
    .await;
    assert!(!unit.contains("<script>"), "{unit}");
    assert!(unit.contains("&#60;script&#62;alert("), "{unit}");
    // Who decided is on the page.
    assert!(unit.contains("(duyet)"), "{unit}");
    let grid = text(w.send(get("/periods/2026-H1", Some(&cookie))).await).await;
    assert!(!grid.contains("<script>"));
    let narrative = text(
        w.send(get("/periods/2026-H1/narrative", Some(&cookie)))
            .await,
    )
    .await;
    assert!(!narrative.contains("<script>"), "{narrative}");
}

#[tokio::test]
async fn bad_review_input_gets_the_page_back_and_changes_nothing() {
    let w = Web::new().await;
    w.add_user("duyet", Role::Reviewer, false).await;
    submitted(&w, "TDP01", "Tổ dân phố số 1", "Kết quả").await;
    let cookie = w.login("duyet").await;
    let s = seen(&w, &cookie, "TDP01").await;
    let url = "/periods/2026-H1/units/TDP01/review";
    let huge = "x".repeat(100 * 1024);
    for reason in ["", "   ", huge.as_str()] {
        let r = w
            .send(post(
                url,
                &[("decision", "return"), ("reason", reason), ("seen", &s)],
                Some(&cookie),
            ))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = text(r).await;
        assert!(
            page.contains(r#"data-error-for="reason""#),
            "{}",
            &page[..page.len().min(2000)]
        );
        assert!(
            page.len() < 60 * 1024,
            "the huge reason is not echoed whole"
        );
        assert_eq!(state_of(&w, "TDP01"), "submitted");
    }
    // A stale form (the report changed since the page was drawn).
    let r = w
        .send(post(
            url,
            &[
                ("decision", "accept"),
                ("reason", ""),
                ("seen", "submitted-7"),
            ],
            Some(&cookie),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(r).await.contains(r#"data-error-for="form""#));
    assert_eq!(state_of(&w, "TDP01"), "submitted");
    // Reopening what was never accepted is refused by the ward's rule.
    let r = w
        .send(post(
            url,
            &[("decision", "reopen"), ("reason", "sai số"), ("seen", &s)],
            Some(&cookie),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(state_of(&w, "TDP01"), "submitted");
    // Unknown periods and units are 404s.
    for path in [
        "/periods/2026-Q9/units/TDP01/review",
        "/periods/2026-H1/units/NOPE/review",
    ] {
        let r = w
            .send(post(
                path,
                &[("decision", "accept"), ("seen", &s)],
                Some(&cookie),
            ))
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        w.send(get("/periods/nope", Some(&cookie))).await.status(),
        StatusCode::NOT_FOUND
    );
    // Accept, then reopen with a reason.
    let r = w
        .send(post(
            url,
            &[("decision", "accept"), ("reason", ""), ("seen", &s)],
            Some(&cookie),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&w, "TDP01"), "accepted");
    let page = text(
        w.send(get("/periods/2026-H1/units/TDP01", Some(&cookie)))
            .await,
    )
    .await;
    assert!(page.contains(r#"name="decision" value="reopen""#));
    let s = seen(&w, &cookie, "TDP01").await;
    let r = w
        .send(post(
            url,
            &[
                ("decision", "reopen"),
                ("reason", "Sai số liệu DB01"),
                ("seen", &s),
            ],
            Some(&cookie),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&w, "TDP01"), "returned");
}

#[tokio::test]
async fn each_role_is_refused_what_it_may_not_do_and_nothing_changes() {
    let w = Web::new().await;
    w.add_user("xem", Role::Viewer, false).await;
    w.add_user("duyet", Role::Reviewer, false).await;
    w.add_user("quantri", Role::Admin, false).await;
    submitted(&w, "TDP01", "Tổ dân phố số 1", "Kết quả").await;
    let viewer = w.login("xem").await;
    let reviewer = w.login("duyet").await;
    let admin = w.login("quantri").await;
    let s = seen(&w, &reviewer, "TDP01").await;

    // A viewer reads and downloads ...
    assert_eq!(
        w.send(get("/periods/2026-H1", Some(&viewer)))
            .await
            .status(),
        StatusCode::OK
    );
    let r = w
        .send(get("/periods/2026-H1/report.json", Some(&viewer)))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    let ward = Ward::new(w.hub.clone());
    let period = ward.period(&"2026-H1".parse().unwrap()).unwrap();
    let cli = ward
        .report(&period, coso_report::Format::Json, coso_ward::Scope::Auto)
        .unwrap();
    assert_eq!(
        body.as_ref(),
        cli.content.as_slice(),
        "the same bytes as coso-hub report"
    );
    // ... but neither reviews nor writes the narrative, and sees no review form.
    let page = text(
        w.send(get("/periods/2026-H1/units/TDP01", Some(&viewer)))
            .await,
    )
    .await;
    assert!(!page.contains(r#"id="review""#));
    let r = w
        .send(post(
            "/periods/2026-H1/units/TDP01/review",
            &[("decision", "accept"), ("seen", &s)],
            Some(&viewer),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(state_of(&w, "TDP01"), "submitted");
    let r = w
        .send(post(
            "/periods/2026-H1/narrative",
            &[("results", "Viết bởi người xem")],
            Some(&viewer),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(ward.ward_notes(&period).unwrap().is_empty());

    // A reviewer writes the narrative but manages no units, users or periods.
    let r = w
        .send(post(
            "/periods/2026-H1/narrative",
            &[("results", "Phường đã tổ chức 12 hội nghị.")],
            Some(&reviewer),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        ward.ward_notes(&period)
            .unwrap()
            .get(&Section::Results)
            .map(String::as_str),
        Some("Phường đã tổ chức 12 hội nghị.")
    );
    for path in [
        "/admin/users",
        "/admin/units",
        "/admin/periods",
        "/admin/upstream",
    ] {
        assert_eq!(
            w.send(get(path, Some(&reviewer))).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let posts: [(&str, &[(&str, &str)]); 5] = [
        ("/admin/users", &[("name", "moi"), ("role", "admin")]),
        ("/admin/users/xem/role", &[("role", "admin")]),
        (
            "/admin/units",
            &[
                ("code", "TDP09"),
                ("name", "Tổ 9"),
                ("kind", "residential-group"),
            ],
        ),
        ("/admin/units/TDP01/revoke", &[]),
        (
            "/admin/periods",
            &[
                ("code", "2026-A01"),
                ("title", "Đột xuất"),
                ("due", "2026-12-01"),
            ],
        ),
    ];
    for (path, form) in posts {
        let r = w.send(post(path, form, Some(&reviewer))).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert!(
        coso_ward::Ward::new(w.hub.clone())
            .user("moi")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        coso_ward::Ward::new(w.hub.clone())
            .user("xem")
            .unwrap()
            .unwrap()
            .role,
        Role::Viewer
    );
    assert_eq!(ward.units().unwrap().len(), 1);
    assert_eq!(
        ward.unit(&"TDP01".parse().unwrap()).unwrap().enrolment,
        coso_ward::Enrolment::Pending
    );
    assert!(ward.period(&"2026-A01".parse().unwrap()).is_err());

    // An admin may; a role change ends the changed user's sessions.
    let r = w
        .send(post(
            "/admin/users/xem/role",
            &[("role", "reviewer")],
            Some(&admin),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        w.send(get("/periods/2026-H1", Some(&viewer)))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let r = w
        .send(post(
            "/admin/users",
            &[("name", "moi"), ("role", "viewer")],
            Some(&admin),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(text(r).await.contains("data-one-time-password"));
    assert!(
        coso_ward::Ward::new(w.hub.clone())
            .user("moi")
            .unwrap()
            .unwrap()
            .must_change_password
    );
    // A refused unit: the message next to the field, nothing registered.
    let r = w
        .send(post(
            "/admin/units",
            &[
                ("code", "bad code!"),
                ("name", "Tổ 9"),
                ("kind", "residential-group"),
            ],
            Some(&admin),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(r).await.contains(r#"data-error-for="code""#));
    assert_eq!(ward.units().unwrap().len(), 1);
    let r = w
        .send(post(
            "/admin/units",
            &[
                ("code", "TDP09"),
                ("name", "Tổ 9"),
                ("kind", "residential-group"),
                ("phone", "0912 345 678"),
            ],
            Some(&admin),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    assert!(
        page.contains("coso://") && page.contains("<svg"),
        "an enrolment link with its QR code"
    );
}

#[tokio::test]
async fn whom_to_call_lists_the_units_without_a_report_with_their_phone() {
    let w = Web::new().await;
    w.add_user("xem", Role::Viewer, false).await;
    submitted(&w, "TDP01", "Tổ dân phố số 1", "Kết quả").await;
    let ward = Ward::new(w.hub.clone());
    let unit = Unit::new(
        "TDP02".parse().unwrap(),
        "Tổ dân phố số 2",
        UnitKind::ResidentialGroup,
    )
    .unwrap();
    let contact = coso_ward::input::contact("Trần Thị B", "0987 654 321").unwrap();
    ward.add_units(&Actor::admin_token(), vec![NewUnit { unit, contact }])
        .await
        .unwrap();
    let cookie = w.login("xem").await;
    let page = text(w.send(get("/periods/2026-H1/calls", Some(&cookie))).await).await;
    assert!(page.contains(r#"data-unit="TDP02""#));
    assert!(!page.contains(r#"data-unit="TDP01""#));
    assert!(page.contains("0987 654 321") && page.contains("Trần Thị B"));
    let r = w
        .send(get("/periods/2026-H1/calls.csv", Some(&cookie)))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = text(r).await;
    assert!(
        csv.contains("TDP02") && csv.contains("0987 654 321") && !csv.contains("TDP01,"),
        "{csv}"
    );
}

/// A name or contact typed as a formula reaches the download as text
/// (issue 23): a spreadsheet opening `calls.csv` must not run it.
#[tokio::test]
async fn whom_to_call_writes_formulas_as_text() {
    let w = Web::new().await;
    w.add_user("xem", Role::Viewer, false).await;
    let unit = Unit::new(
        "TDP03".parse().unwrap(),
        r#"=HYPERLINK("http://evil.example","x")"#,
        UnitKind::ResidentialGroup,
    )
    .unwrap();
    let contact = coso_ward::input::contact("@SUM(1+1)", "0987 654 321").unwrap();
    Ward::new(w.hub.clone())
        .add_units(&Actor::admin_token(), vec![NewUnit { unit, contact }])
        .await
        .unwrap();
    let cookie = w.login("xem").await;
    let csv = text(
        w.send(get("/periods/2026-H1/calls.csv", Some(&cookie)))
            .await,
    )
    .await;
    assert!(
        csv.contains(r#""'=HYPERLINK(""http://evil.example"",""x"")""#)
            && csv.contains(",'@SUM(1+1),"),
        "{csv}"
    );
}

// --- the appendix and the chart across periods -------------------------------------

/// `name="value"` of the first element after `anchor` in `page`.
fn attr_after(page: &str, anchor: &str, name: &str) -> String {
    let at = page
        .find(anchor)
        .unwrap_or_else(|| panic!("{anchor} not on the page"));
    let key = format!(r#"{name}=""#);
    let from = at + page[at..].find(&key).unwrap() + key.len();
    page[from..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn the_appendix_page_is_the_json_reports_table_with_hostile_text_escaped() {
    let w = Web::new().await;
    w.add_user("xem", Role::Viewer, false).await;
    submitted_with(
        &w,
        "TDP01",
        HOSTILE,
        "Kết quả",
        &[
            ("DB01", Value::Number(3.0)),
            ("DG03", Value::Text(HOSTILE.into())),
        ],
    )
    .await;
    submitted_with(
        &w,
        "TDP02",
        "Tổ dân phố số 2",
        "",
        &[("DB01", Value::Number(4.0))],
    )
    .await;
    let viewer = w.login("xem").await;
    let r = w
        .send(get("/periods/2026-H1/appendix", Some(&viewer)))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    // Hostile text from units is shown, escaped, never as markup.
    assert!(!page.contains("<script>alert"), "{page}");
    // Askama writes the markup characters as numeric references.
    let escaped = "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; &#34;quoted&#34;";
    assert_eq!(
        page.matches(escaped).count(),
        2,
        "the unit's name and its answer, escaped: {page}"
    );
    // Every total is the JSON report's; one nobody reported is "—", not 0.
    let ward = Ward::new(w.hub.clone());
    let period = ward.period(&"2026-H1".parse().unwrap()).unwrap();
    let json = ward
        .report(&period, coso_report::Format::Json, coso_ward::Scope::Auto)
        .unwrap();
    let report = coso_report::report_json::ReportJson::parse(&json.content).unwrap();
    let mut missing = 0;
    for ind in report.indicators.iter().filter(|i| i.value_type != "text") {
        let anchor = format!(r#"data-indicator="{}""#, ind.code);
        let shown = attr_after(&page, &anchor, "data-total");
        match &ind.total {
            Some(Value::Number(n)) => {
                assert_eq!(shown, coso_report::machine_number(*n), "{}", ind.code)
            }
            None => {
                assert_eq!(shown, "", "{}", ind.code);
                missing += 1;
            }
            Some(v) => panic!("{}: a total of {v:?}", ind.code),
        }
    }
    assert!(missing > 0);
    assert_eq!(
        attr_after(&page, r#"data-indicator="DB01""#, "data-total"),
        "7"
    );
    let row = &page[page.find(r#"data-indicator="DB02""#).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("<strong>—</strong>"), "{row}");
    assert!(!row.contains(">0<"), "{row}");
    // Linked from the grid; an unknown period is a 404.
    let grid = text(w.send(get("/periods/2026-H1", Some(&viewer))).await).await;
    assert!(grid.contains(r#"href="/periods/2026-H1/appendix""#));
    let r = w
        .send(get("/periods/2026-X9/appendix", Some(&viewer)))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_start_page_charts_the_rate_of_each_period_beside_its_table() {
    let w = Web::new().await;
    w.add_user("xem", Role::Viewer, false).await;
    submitted(&w, "TDP01", "Tổ dân phố số 1", "Kết quả").await;
    let ward = Ward::new(w.hub.clone());
    ward.add_units(
        &Actor::admin_token(),
        vec![NewUnit {
            unit: Unit::new(
                "TDP02".parse().unwrap(),
                "Tổ dân phố số 2",
                UnitKind::ResidentialGroup,
            )
            .unwrap(),
            contact: Default::default(),
        }],
    )
    .await
    .unwrap();
    let viewer = w.login("xem").await;
    let page = text(w.send(get("/", Some(&viewer))).await).await;
    assert!(
        page.contains(r#"aria-describedby="period-rates""#),
        "{page}"
    );
    assert!(page.contains(r#"<title id="period-rates-title">"#));
    let period = ward.period(&"2026-H1".parse().unwrap()).unwrap();
    let totals = ward.status(&period).unwrap().totals;
    let row = &page[page.find(r#"data-rate-period="2026-H1""#).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    for (cell, n) in [
        ("data-expected", totals.expected),
        ("data-reported", totals.reported),
        ("data-on-time", totals.on_time),
        ("data-late", totals.late),
    ] {
        assert!(row.contains(&format!("{cell}>{n}<")), "{cell} {n}: {row}");
    }
    assert_eq!((totals.expected, totals.reported), (2, 1));
}

#[tokio::test]
async fn every_download_is_the_same_bytes_as_the_report_command_each_time() {
    let w = Web::new().await;
    w.add_user("xem", Role::Viewer, false).await;
    submitted(&w, "TDP01", HOSTILE, HOSTILE).await;
    let viewer = w.login("xem").await;
    let ward = Ward::new(w.hub.clone());
    let period = ward.period(&"2026-H1".parse().unwrap()).unwrap();
    for format in coso_report::Format::ALL {
        // What `coso-hub report` writes, compiled on another thread too:
        // nothing in a file may depend on what was compiled before.
        let cli = ward
            .report(&period, format, coso_ward::Scope::Auto)
            .unwrap()
            .content;
        let elsewhere = {
            let ward = Ward::new(w.hub.clone());
            let period = period.clone();
            std::thread::spawn(move || {
                ward.report(&period, format, coso_ward::Scope::Auto)
                    .unwrap()
                    .content
            })
            .join()
            .unwrap()
        };
        assert!(
            cli == elsewhere,
            "report.{format} differs between compilations"
        );
        for _ in 0..2 {
            let r = w
                .send(get(
                    &format!("/periods/2026-H1/report.{format}"),
                    Some(&viewer),
                ))
                .await;
            assert_eq!(r.status(), StatusCode::OK, "{format}");
            let body = axum::body::to_bytes(r.into_body(), usize::MAX)
                .await
                .unwrap();
            assert!(
                body.as_ref() == cli.as_slice(),
                "report.{format} differs from the CLI's"
            );
        }
    }
}

/// Every answer of the HTTPS dashboard says to use HTTPS only, and an
/// address too long for any page gets 414 with the security headers
/// (issue 23).
#[tokio::test]
async fn hsts_on_every_answer_and_414_with_the_headers() {
    let w = Web::new().await;
    let long = format!(
        "/periods/{}",
        "x".repeat(super::security::MAX_URI_BYTES + 1)
    );
    for (path, status) in [
        ("/login", StatusCode::OK),
        ("/no-such-page", StatusCode::NOT_FOUND),
        (long.as_str(), StatusCode::URI_TOO_LONG),
    ] {
        let r = w.send(get(path, None)).await;
        assert_eq!(r.status(), status, "{}", &path[..path.len().min(40)]);
        let h = r.headers();
        assert_eq!(
            h.get(header::STRICT_TRANSPORT_SECURITY)
                .and_then(|v| v.to_str().ok()),
            Some("max-age=31536000"),
            "{status}"
        );
        assert!(h.contains_key(header::CONTENT_SECURITY_POLICY), "{status}");
        assert!(h.contains_key(header::X_FRAME_OPTIONS), "{status}");
    }
}

#[tokio::test]
async fn the_start_page_says_how_old_the_newest_scheduled_backup_is() {
    let w = Web::new().await;
    w.add_user("xem", Role::Viewer, false).await;
    let viewer = w.login("xem").await;
    let page = text(w.send(get("/", Some(&viewer))).await).await;
    assert!(page.contains(r#"data-backup-age="off""#), "{page}");
    assert!(page.contains("Sao lưu tự động: chưa bật"), "{page}");

    let dir = tempfile::tempdir().unwrap();
    let hub = coso_ward::testing::hub(dir.path(), |f| {
        f.backup = Some(coso_ward::scheduled_backup::Schedule::default());
    })
    .await;
    let names = super::HostNames::new("0.0.0.0:8443".parse().unwrap(), ["hub.test".to_string()]);
    let w = Web {
        router: super::router(hub.clone(), names),
        hub,
        _dir: dir,
    };
    w.add_user("xem", Role::Viewer, false).await;
    let viewer = w.login("xem").await;
    let page = text(w.send(get("/", Some(&viewer))).await).await;
    assert!(page.contains(r#"data-backup-age="none""#), "{page}");
    assert!(
        page.contains("chưa có bản nào; mỗi 24 giờ, giữ 14 bản"),
        "{page}"
    );
    // No path on a page every role sees.
    assert!(!page.contains("backups"), "{page}");
}

/// The grid filters the units whose agent is older than a release (or has
/// not named one), and each cell carries its agent's release.
#[tokio::test]
async fn the_grid_filters_units_whose_agent_is_older_than_a_release() {
    let w = Web::new().await;
    w.add_user("duyet", Role::Reviewer, false).await;
    let ward = Ward::new(w.hub.clone());
    for (code, version) in [("TDP01", "0.2.0"), ("TDP02", "9.0.0"), ("TDP03", "")] {
        let unit = submitted(&w, code, code, "").await;
        let invite = ward.reissue(&Actor::admin_token(), &unit).await.unwrap();
        let link: coso_proto::link::EnrolmentLink = invite.link.parse().unwrap();
        let enrolled = ward.enroll(code, &link.code).await.unwrap();
        let caller = ward.unit_of(&enrolled.credential).unwrap();
        let hello = coso_ward::sync::Hello {
            claim_chain: None,
            claim_seq: 0,
            agent_head: 3,
            behind: false,
            pull_epoch: Vec::new(),
            pull_after: 0,
            catalog_version: 0,
            calendar_version: 0,
            agent_version: version.into(),
        };
        ward.hello(caller, hello).await.unwrap();
    }
    let cookie = w.login("duyet").await;
    let grid = text(
        w.send(get("/periods/2026-H1?agent_below=1.0.0", Some(&cookie)))
            .await,
    )
    .await;
    assert!(grid.contains(r#"data-agent-version="0.2.0""#), "{grid}");
    assert!(
        grid.contains(r#"data-unit="TDP03""#),
        "an unnamed release is older"
    );
    assert!(!grid.contains(r#"data-unit="TDP02""#), "{grid}");
    let all = text(w.send(get("/periods/2026-H1", Some(&cookie))).await).await;
    assert!(all.contains(r#"data-agent-version="9.0.0""#), "{all}");
    let unit = text(
        w.send(get("/periods/2026-H1/units/TDP01", Some(&cookie)))
            .await,
    )
    .await;
    assert!(unit.contains(r#"data-agent-version="0.2.0""#), "{unit}");
}
