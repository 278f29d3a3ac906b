//! Handler tests: the router with tower's `oneshot`, no socket and no browser.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use coso_domain::Lang;
use tower::ServiceExt;

use super::{App, UiConfig, router};

const PORT: u16 = 4321;
const CODE: &str = "0123456789abcdef";
const HOST: &str = "127.0.0.1:4321";

fn app(dir: &Path) -> Arc<App> {
    App::new(
        UiConfig {
            data_dir: dir.join("agent"),
            lang: Lang::Vi,
            lock_wait: Duration::from_secs(2),
            sync_every: Duration::from_secs(300),
        },
        PORT,
        CODE.to_string(),
    )
}

async fn send(app: &Arc<App>, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp: Response<Body> = router(app.clone()).oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 22)
        .await
        .expect("body");
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path).header(header::HOST, HOST);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

fn post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::HOST, HOST)
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap()
}

/// Trades the code for the session cookie, as the browser does.
async fn login(app: &Arc<App>) -> String {
    let (status, headers, _) = send(app, get(&format!("/?code={CODE}"), None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/");
    let set = headers[header::SET_COOKIE].to_str().unwrap().to_string();
    set.split(';').next().unwrap().to_string()
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_is_refused_with_403() {
    let tmp = tempfile::tempdir().unwrap();
    let app = app(tmp.path());
    for host in [
        "evil.example:4321",
        "127.0.0.1:9999",
        "192.168.1.5:4321",
        "localhost",
    ] {
        let req = Request::get(format!("/?code={CODE}"))
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap();
        let (status, headers, _) = send(&app, req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{host}");
        assert!(headers.get(header::SET_COOKIE).is_none());
    }
    // The code was not spent by the refused requests.
    for host in ["localhost:4321", "[::1]:4321"] {
        let req = Request::get("/app.css")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&app, req).await.0, StatusCode::OK, "{host}");
    }
    login(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_code_no_data_is_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let app = app(tmp.path());
    let (status, _, body) = send(&app, get("/", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("coso-agent ui"), "{body}");
    let (status, _, body) = send(&app, get("/?code=wrong", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("một lần"), "{body}");
    for path in ["/activities", "/periods/2026-H1", "/sync", "/enroll"] {
        assert_eq!(
            send(&app, get(path, None)).await.0,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        let forged = "coso_ui=0123456789abcdef0123456789abcdef";
        assert_eq!(
            send(&app, get(path, Some(forged))).await.0,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    // The right code once: an HttpOnly, SameSite=Strict cookie and a
    // redirect that drops the code from the address bar.
    let (status, headers, _) = send(&app, get(&format!("/?code={CODE}"), None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/");
    let set = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    // The code works once.
    assert_eq!(
        send(&app, get(&format!("/?code={CODE}"), None)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // With the session: before enrolment, the home page sends to /enroll
    // and creates nothing.
    let (status, headers, _) = send(&app, get("/", Some(&cookie))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/enroll");
    let (status, headers, body) = send(&app, get("/enroll", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"<form id="enroll""#) && body.contains(r#"name="link""#));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.get("access-control-allow-origin").is_none());
    assert!(!tmp.path().join("agent").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_post_is_refused_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let app = app(tmp.path());
    let cookie = login(&app).await;
    let form = "unit=TDP05&name=T&kind=residential-group";
    let cross_site = |site: Option<&str>, origin: Option<&str>| {
        let mut b = Request::post("/init")
            .header(header::HOST, HOST)
            .header(header::COOKIE, cookie.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(s) = site {
            b = b.header("sec-fetch-site", s);
        }
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        b.body(Body::from(form)).unwrap()
    };
    for (site, origin) in [
        (Some("cross-site"), None),
        (Some("same-site"), Some("http://127.0.0.1:4321")),
        (None, Some("http://evil.example")),
        (None, Some("http://127.0.0.1:9999")),
        (None, None),
    ] {
        let (status, _, _) = send(&app, cross_site(site, origin)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{site:?} {origin:?}");
        assert!(!tmp.path().join("agent").exists(), "{site:?} {origin:?}");
    }
    // Origin equal to the Host is accepted when Sec-Fetch-Site is absent.
    let (status, _, _) = send(&app, cross_site(None, Some("http://127.0.0.1:4321"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(tmp.path().join("agent").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_escaped_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let app = app(tmp.path());
    let cookie = login(&app).await;
    let evil = r#"<script>alert("x")</script>&<img src=x onerror=alert(1)>"#;
    let (status, headers, _) = send(
        &app,
        post(
            "/init",
            &cookie,
            &format!("unit=TDP05&name={}&kind=residential-group", enc(evil)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/");
    let form = format!(
        "date=2026-03-02&form=conference&title={}&participants=45&note={}",
        enc(evil),
        enc(evil)
    );
    let (status, _, _) = send(&app, post("/activities", &cookie, &form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let form = format!("note-results={}&action=save", enc(evil));
    let (status, _, body) = send(&app, post("/periods/2026-H1", &cookie, &form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    for path in ["/", "/activities", "/periods/2026-H1", "/activities/HD-1"] {
        let (status, _, body) = send(&app, get(path, Some(&cookie))).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!body.contains("<script>alert"), "{path}: {body}");
        assert!(!body.contains("<img src=x"), "{path}");
        assert!(body.contains("&#60;script&#62;"), "{path}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_value_is_shown_at_its_field_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let app = app(tmp.path());
    let cookie = login(&app).await;
    send(
        &app,
        post("/init", &cookie, "unit=TDP05&name=T&kind=residential-group"),
    )
    .await;
    let (status, _, body) = send(
        &app,
        post(
            "/periods/2026-H1",
            &cookie,
            "DB01=ba&DB02=2&note-results=K%E1%BA%BFt+qu%E1%BA%A3&action=save",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains(r#"data-error-for="DB01""#), "{body}");
    assert!(
        body.contains("không hợp lệ, cần một số nguyên không âm"),
        "{body}"
    );
    assert!(
        body.contains(r##"href="#DB01""##),
        "the summary links to the field"
    );
    assert!(body.contains("autofocus"));
    // What was typed is kept; nothing was stored.
    assert!(body.contains(r#"value="ba""#));
    let (_, _, body) = send(&app, get("/periods/2026-H1", Some(&cookie))).await;
    assert!(!body.contains("Kết quả</textarea>") && !body.contains(r#"value="2""#));
    // Fixed, then submitted: the page shows the frozen report and refuses edits.
    let (status, headers, _) = send(
        &app,
        post("/periods/2026-H1", &cookie, "DB01=3&action=submit"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/periods/2026-H1");
    let (_, _, body) = send(&app, get("/periods/2026-H1", Some(&cookie))).await;
    assert!(body.contains(r#"data-period-state="submitted""#), "{body}");
    assert!(body.contains("Chờ gửi"));
    let (status, _, body) = send(
        &app,
        post("/periods/2026-H1", &cookie, "DB01=4&action=save"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("đã được chốt"), "{body}");
}

fn upload(path: &str, cookie: &str, name: &str, content: &str) -> Request<Body> {
    let boundary = "XcosoBoundary7";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    Request::post(path)
        .header(header::HOST, HOST)
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_is_all_or_nothing_as_in_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let app = app(tmp.path());
    let cookie = login(&app).await;
    send(
        &app,
        post("/init", &cookie, "unit=TDP05&name=T&kind=residential-group"),
    )
    .await;
    let (status, _, body) = send(
        &app,
        upload(
            "/periods/2026-H1/import",
            &cookie,
            "so-lieu.csv",
            "DB01;5\nDB02;hai\n",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains(r#"data-error-for="file""#), "{body}");
    assert!(
        body.contains("so-lieu.csv") && body.contains("dòng 2"),
        "{body}"
    );
    assert!(
        !body.contains("coso-ui-"),
        "the temporary path is not shown"
    );
    let (_, _, body) = send(&app, get("/periods/2026-H1", Some(&cookie))).await;
    assert!(!body.contains(r#"value="5""#), "nothing was written");
    let (status, _, _) = send(
        &app,
        upload(
            "/periods/2026-H1/import",
            &cookie,
            "so-lieu.csv",
            "DB01;5\nDB02;2\n",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, body) = send(&app, get("/periods/2026-H1", Some(&cookie))).await;
    assert!(body.contains(r#"value="5""#) && body.contains(r#"value="2""#));
    assert!(body.contains("Đã nhập 2 giá trị từ so-lieu.csv"), "{body}");
}
