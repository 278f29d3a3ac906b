//! Upstream delivery, end to end: a real hub delivers its report to a
//! receiver inside the test that fails on purpose (a 503, a dropped
//! connection, a 503 after storing), across a hub restart, and with a 401;
//! the schedule fires from the clock the test sets (COSO_NOW) and from the
//! last acceptance; and a ward hub delivers to a city-level hub.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use coso_tests::{Agent, Hub, wait_until};
use coso_ward::upstream::payload;
use serde_json::Value;

const WARD: &str = "Phường Gia Viên";
const TOKEN: &str = "so-noi-vu-token-42";
/// Lê Lợi's own token at the city hub.
const TOKEN_LE_LOI: &str = "so-noi-vu-token-le-loi";

/// `[receive.wards]`: Gia Viên delivers with TOKEN, Lê Lợi with TOKEN_LE_LOI.
fn receive_wards() -> String {
    format!(
        "[receive.wards]\n\"{WARD}\" = \"{}\"\n\"Phường Lê Lợi\" = \"{}\"\n\n[receive]\n",
        String::from(coso_ward::auth::hash(TOKEN)),
        String::from(coso_ward::auth::hash(TOKEN_LE_LOI))
    )
}
const WAIT: Duration = Duration::from_secs(60);

/// What the receiver does with the next connection or request.
#[derive(Debug, Clone, PartialEq)]
enum Action {
    /// Answer with this status and body, storing nothing.
    Status(u16, &'static str),
    /// Close the connection without reading or answering.
    Drop,
    /// 429 with `Retry-After: 1`.
    TooMany,
    /// Store the report, then answer 503 (as a proxy failing after the
    /// backend stored it would).
    StoreThen503,
    /// Store the report once per key: 201, then 200 for a repeat.
    Accept,
}

/// One request the receiver read.
#[derive(Debug, Clone)]
struct Seen {
    headers: BTreeMap<String, String>,
    /// name -> (content type, bytes)
    parts: BTreeMap<String, (String, Vec<u8>)>,
}

impl Seen {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
    fn key(&self) -> &str {
        self.header("idempotency-key")
    }
}

#[derive(Default)]
struct Log {
    script: VecDeque<Action>,
    default: Option<Action>,
    seen: Vec<Seen>,
    dropped: usize,
    /// Stored reports by idempotency key.
    stored: BTreeMap<String, Seen>,
}

/// An HTTP receiver on 127.0.0.1:0, run by its own runtime thread.
struct Receiver {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Accepts connections and drops those the script says to drop, before
/// HTTP sees them. The hub opens a connection per attempt.
struct Scripted {
    inner: tokio::net::TcpListener,
    log: Arc<Mutex<Log>>,
}

impl axum::serve::Listener for Scripted {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((s, a)) = self.inner.accept().await else {
                continue;
            };
            let drop_it = {
                let mut l = self.log.lock().unwrap();
                if l.script.front() == Some(&Action::Drop) {
                    l.script.pop_front();
                    l.dropped += 1;
                    true
                } else {
                    false
                }
            };
            if !drop_it {
                return (s, a);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

async fn handle(
    State(log): State<Arc<Mutex<Log>>>,
    headers: HeaderMap,
    mut mp: Multipart,
) -> Response {
    let mut parts = BTreeMap::new();
    loop {
        match mp.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or_default().to_string();
                let ct = f.content_type().unwrap_or_default().to_string();
                let Ok(bytes) = f.bytes().await else {
                    return StatusCode::BAD_REQUEST.into_response();
                };
                parts.insert(name, (ct, bytes.to_vec()));
            }
            Ok(None) => break,
            // A request cut off midway (the hub stopped while sending) is
            // not a delivery: it is neither counted nor stored.
            Err(_) => return StatusCode::BAD_REQUEST.into_response(),
        }
    }
    let seen = Seen {
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        parts,
    };
    let mut l = log.lock().unwrap();
    let action = l
        .script
        .pop_front()
        .or_else(|| l.default.clone())
        .unwrap_or(Action::Accept);
    l.seen.push(seen.clone());
    let key = seen.key().to_string();
    match action {
        Action::Status(code, body) => (StatusCode::from_u16(code).unwrap(), body).into_response(),
        Action::Drop => (StatusCode::SERVICE_UNAVAILABLE, "drop out of order").into_response(),
        Action::TooMany => (
            StatusCode::TOO_MANY_REQUESTS,
            [(axum::http::header::RETRY_AFTER, "1")],
            "slow down",
        )
            .into_response(),
        Action::StoreThen503 => {
            l.stored.entry(key).or_insert(seen);
            (StatusCode::SERVICE_UNAVAILABLE, "upstream proxy failed").into_response()
        }
        Action::Accept => match l.stored.entry(key) {
            std::collections::btree_map::Entry::Occupied(_) => {
                (StatusCode::OK, "{\"status\":\"duplicate\"}").into_response()
            }
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(seen);
                (StatusCode::CREATED, "{\"status\":\"stored\"}").into_response()
            }
        },
    }
}

impl Receiver {
    fn start(script: Vec<Action>, default: Action) -> Receiver {
        let log = Arc::new(Mutex::new(Log {
            script: script.into(),
            default: Some(default),
            ..Log::default()
        }));
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shared = log.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let inner = tokio::net::TcpListener::from_std(std_listener).unwrap();
                let app = Router::new()
                    .route("/api/v1/reports", post(handle))
                    .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
                    .with_state(shared.clone());
                let listener = Scripted { inner, log: shared };
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Receiver {
            addr,
            log,
            stop: Some(stop),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/api/v1/reports", self.addr)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Log) -> T) -> T {
        f(&mut self.log.lock().unwrap())
    }

    fn stored(&self) -> usize {
        self.with(|l| l.stored.len())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// A hub in `tmp`, its hub.toml edited (each `from` must be there), not serving.
fn hub_with(tmp: &Path, init: &[&str], edits: &[(&str, &str)]) -> Hub {
    let dir = tmp.join("hub");
    let hub = Hub::init_in(&dir, init);
    let path = dir.join("hub.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "hub.toml has no {from:?}:\n{text}");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(&path, text).unwrap();
    hub
}

/// Fast retries, and no schedule (manual pushes only).
const MANUAL_ONLY: &[(&str, &str)] = &[
    ("retry_base_ms = 2000", "retry_base_ms = 40"),
    ("days_before_due = 2", "days_before_due = 0"),
    ("when_all_accepted = true", "when_all_accepted = false"),
];

fn log_json(hub: &Hub) -> Value {
    hub.cmd(&["upstream", "log", "--json"]).ok().json()
}

fn outcomes(log: &Value) -> Vec<(String, u64)> {
    log["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["outcome"].as_str().unwrap().to_string(),
                a["http_status"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn push(hub: &Hub, period: &str) -> Value {
    hub.cmd(&["upstream", "push", "--period", period, "--json"])
        .ok()
        .json()
}

/// What the receiver saw is the documented payload for `period`.
fn check_payload(s: &Seen, period: &str, key: &str, revision: &str) {
    assert_eq!(s.key(), key);
    assert_eq!(s.header("x-coso-revision"), revision);
    assert_eq!(s.header("x-coso-period"), period);
    assert_eq!(
        payload::percent_decode(s.header("x-coso-ward")).as_deref(),
        Some(WARD)
    );
    assert_eq!(s.header("authorization"), format!("Bearer {TOKEN}"));
    let (ct, report) = &s.parts["report"];
    assert_eq!(ct, "application/json");
    let json: Value = serde_json::from_slice(report).unwrap();
    assert_eq!(json["period"], period);
    assert!(s.parts["docx"].1.starts_with(b"PK"), "docx is a zip");
    assert!(s.parts["xlsx"].1.starts_with(b"PK"), "xlsx is a zip");
    assert!(s.parts["docx"].0.contains("wordprocessingml"));
    assert!(s.parts["xlsx"].0.contains("spreadsheetml"));
    // The key is the documented function of ward, period and content.
    let content = payload::content_sha256(report);
    assert_eq!(s.header("x-coso-content-sha256"), content);
    assert_eq!(key, payload::idempotency_key(WARD, period, &content, None));
}

#[test]
fn retries_through_failures_and_delivers_exactly_once() {
    let rx = Receiver::start(
        vec![
            Action::Status(503, "maintenance"),
            Action::Drop,
            Action::TooMany,
            Action::StoreThen503,
        ],
        Action::Accept,
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut hub = hub_with(tmp.path(), &[], MANUAL_ONLY);
    hub.serve();
    hub.add_unit("TDP01", "Tổ dân phố số 1", "residential-group");

    // Nothing to deliver to yet: refused, exit 2.
    let r = hub
        .cmd(&["upstream", "push", "--period", "2026-H1"])
        .expect_code(2);
    assert!(r.stderr().contains("upstream set"), "{}", r.context());

    hub.cmd(&["upstream", "set", "--url", &rx.url(), "--token", TOKEN])
        .ok();
    let pushed = push(&hub, "2026-H1");
    assert_eq!(pushed["revision"], 1);
    assert_eq!(pushed["state"], "queued");
    let key = pushed["idempotency_key"].as_str().unwrap().to_string();

    wait_until(WAIT, "the delivery to be acknowledged", || {
        log_json(&hub)["deliveries"][0]["state"] == "delivered"
    });
    let log = log_json(&hub);
    assert_eq!(
        outcomes(&log),
        vec![
            ("retry".to_string(), 503),
            ("retry".to_string(), 0),
            ("retry".to_string(), 429),
            ("retry".to_string(), 503),
            ("delivered".to_string(), 200),
        ],
        "{log:#}"
    );
    // Retry-After: 1 was honoured (the base backoff here is 40 ms).
    let at = |i: usize| {
        chrono::DateTime::parse_from_rfc3339(log["attempts"][i]["at"].as_str().unwrap()).unwrap()
    };
    assert!(at(3) - at(2) >= chrono::Duration::seconds(1), "{log:#}");
    assert!(
        log["attempts"][2]["detail"]
            .as_str()
            .unwrap()
            .contains("next attempt in 1 s")
    );
    assert!(
        log["attempts"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("maintenance")
    );
    for a in log["attempts"].as_array().unwrap() {
        assert_eq!(a["idempotency_key"], key.as_str());
        assert_eq!(a["revision"], 1);
    }

    // Stored exactly once; every request carried the same key and payload.
    rx.with(|l| {
        assert_eq!(l.stored.len(), 1);
        assert_eq!(l.dropped, 1);
        assert_eq!(l.seen.len(), 4);
        for s in &l.seen {
            check_payload(s, "2026-H1", &key, "1");
        }
    });

    // The same content again: no new revision, nothing sent.
    let again = push(&hub, "2026-H1");
    assert_eq!(again["state"], "delivered");
    assert_eq!(again["unchanged"], true);
    assert_eq!(again["idempotency_key"], key.as_str());
    let text = hub.cmd(&["upstream", "log"]).ok().stdout();
    assert!(
        text.contains("đã gửi") && text.contains(&rx.url()),
        "{text}"
    );
    assert_eq!(rx.with(|l| l.seen.len()), 4);

    // New content (a new unit): revision 2, with its own key.
    hub.add_unit("TDP02", "Tổ dân phố số 2", "residential-group");
    let second = push(&hub, "2026-H1");
    assert_eq!(second["revision"], 2);
    assert_eq!(second["unchanged"], false);
    let key2 = second["idempotency_key"].as_str().unwrap().to_string();
    assert_ne!(key2, key);
    wait_until(WAIT, "revision 2 to be stored", || rx.stored() == 2);
    rx.with(|l| check_payload(&l.stored[&key2], "2026-H1", &key2, "2"));
}

#[test]
fn a_delivery_pending_over_a_restart_is_delivered_once() {
    let rx = Receiver::start(vec![], Action::Status(503, "down for the night"));
    let tmp = tempfile::tempdir().unwrap();
    let mut hub = hub_with(tmp.path(), &[], MANUAL_ONLY);
    hub.serve();
    hub.cmd(&["upstream", "set", "--url", &rx.url(), "--token", TOKEN])
        .ok();
    let key = push(&hub, "2026-M9")["idempotency_key"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until(WAIT, "two failed attempts", || {
        outcomes(&log_json(&hub)).len() >= 2
    });
    hub.stop();

    rx.with(|l| l.default = Some(Action::Accept));
    assert_eq!(rx.stored(), 0);
    hub.serve();
    wait_until(WAIT, "the report to arrive after the restart", || {
        rx.stored() == 1
    });
    wait_until(WAIT, "the hub to record the delivery", || {
        log_json(&hub)["deliveries"][0]["state"] == "delivered"
    });
    let log = log_json(&hub);
    let o = outcomes(&log);
    // 201, or 200 if a request sent just before the stop was answered only
    // after the receiver had switched to accepting.
    let (last, status) = o.last().unwrap();
    assert!(
        last == "delivered" && (*status == 201 || *status == 200),
        "{log:#}"
    );
    assert!(
        o[..o.len() - 1]
            .iter()
            .all(|(out, s)| out == "retry" && *s == 503),
        "{log:#}"
    );
    rx.with(|l| {
        assert_eq!(l.stored.len(), 1);
        // Every request, before and after the restart, was the same delivery.
        for s in &l.seen {
            check_payload(s, "2026-M9", &key, "1");
        }
    });
}

#[test]
fn a_401_stops_the_retries_and_says_why() {
    let rx = Receiver::start(
        vec![],
        Action::Status(401, "token revoked by the Department"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut hub = hub_with(tmp.path(), &[], MANUAL_ONLY);
    hub.serve();
    hub.cmd(&["upstream", "set", "--url", &rx.url(), "--token", TOKEN])
        .ok();
    push(&hub, "2026-H1");
    wait_until(WAIT, "the refusal to be recorded", || {
        log_json(&hub)["deliveries"][0]["state"] == "failed"
    });
    // A barrier: the upstream now accepts, and a later delivery goes
    // through; the refused one was not tried again meanwhile.
    rx.with(|l| l.default = Some(Action::Accept));
    push(&hub, "2026-M9");
    wait_until(WAIT, "the next delivery", || rx.stored() == 1);
    let log = log_json(&hub);
    let h1: Vec<_> = log["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["period"] == "2026-H1")
        .collect();
    assert_eq!(h1.len(), 1, "{log:#}");
    assert_eq!(h1[0]["outcome"], "failed");
    assert_eq!(h1[0]["http_status"], 401);
    let detail = h1[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("refused the token") && detail.contains("token revoked"),
        "{detail}"
    );
    assert_eq!(
        rx.with(|l| l
            .seen
            .iter()
            .filter(|s| s.header("x-coso-period") == "2026-H1")
            .count()),
        1
    );

    let vi = hub.cmd(&["upstream", "log"]).ok().stdout();
    assert!(
        vi.contains("401") && vi.contains("từ chối mã xác thực") && vi.contains("thất bại"),
        "{vi}"
    );
    let en = hub.cmd(&["upstream", "log", "--lang", "en"]).ok().stdout();
    assert!(
        en.contains("refused the token") && en.contains("failed"),
        "{en}"
    );

    // Setting a new token queues the refused delivery again, same revision
    // and key.
    let set = hub
        .cmd(&[
            "upstream",
            "set",
            "--url",
            &rx.url(),
            "--token",
            "new-token",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(set["requeued"], 1);
    wait_until(WAIT, "the retried delivery", || rx.stored() == 2);
    rx.with(|l| {
        let s = l.seen.last().unwrap();
        assert_eq!(s.header("authorization"), "Bearer new-token");
        assert_eq!(s.key(), h1[0]["idempotency_key"].as_str().unwrap());
        assert_eq!(s.header("x-coso-revision"), "1");
    });
    // A push of the same content changes nothing now.
    let again = push(&hub, "2026-H1");
    assert_eq!(
        (again["revision"].as_u64(), again["state"].as_str()),
        (Some(1), Some("delivered"))
    );
}

#[test]
fn the_schedule_fires_on_the_clock_and_on_the_last_acceptance() {
    let rx = Receiver::start(vec![], Action::Accept);
    let tmp = tempfile::tempdir().unwrap();
    // The deadline trigger: two days before H1 is due (before 5 June).
    let mut hub = hub_with(
        tmp.path(),
        &[],
        &[("retry_base_ms = 2000", "retry_base_ms = 40")],
    );
    hub.env
        .push(("COSO_NOW".into(), "2026-06-03T08:00:00+07:00".into()));
    hub.serve();
    hub.cmd(&["upstream", "set", "--url", &rx.url(), "--token", TOKEN])
        .ok();
    wait_until(WAIT, "the scheduled delivery", || rx.stored() == 1);
    let log = log_json(&hub);
    assert_eq!(log["deliveries"].as_array().unwrap().len(), 1, "{log:#}");
    assert_eq!(log["deliveries"][0]["period"], "2026-H1");
    assert_eq!(log["deliveries"][0]["trigger"], "before_due");
    hub.stop();

    // All accepted, weeks before the deadline: the last acceptance delivers.
    let tmp2 = tempfile::tempdir().unwrap();
    let now = "2026-05-10T09:00:00+07:00";
    let mut hub = hub_with(
        tmp2.path(),
        &[],
        &[("retry_base_ms = 2000", "retry_base_ms = 40")],
    );
    hub.env.push(("COSO_NOW".into(), now.into()));
    hub.serve();
    hub.cmd(&["upstream", "set", "--url", &rx.url(), "--token", TOKEN])
        .ok();
    let mut agents = Vec::new();
    for code in ["VP01", "VP02"] {
        let link = hub.add_unit(code, &format!("Văn phòng {code}"), "other");
        let mut a = Agent::new();
        a.env.push(("COSO_NOW".into(), now.into()));
        a.enroll(&link);
        a.cmd(&[
            "note",
            "set",
            "--period",
            "2026-H1",
            "--section",
            "results",
            "--text",
            "Đã triển khai",
        ])
        .ok();
        a.cmd(&["submit", "--period", "2026-H1"]).ok();
        a.cmd(&["sync"]).ok();
        agents.push(a);
    }
    hub.cmd(&[
        "review", "--unit", "VP01", "--period", "2026-H1", "--accept",
    ])
    .ok();
    assert!(log_json(&hub)["deliveries"].as_array().unwrap().is_empty());
    hub.cmd(&[
        "review", "--unit", "VP02", "--period", "2026-H1", "--accept",
    ])
    .ok();
    wait_until(WAIT, "the delivery on the last acceptance", || {
        rx.stored() == 2
    });
    let log = log_json(&hub);
    assert_eq!(log["deliveries"][0]["trigger"], "all_accepted", "{log:#}");
    let key = log["deliveries"][0]["idempotency_key"]
        .as_str()
        .unwrap()
        .to_string();
    rx.with(|l| {
        let s = &l.stored[&key];
        let report: Value = serde_json::from_slice(&s.parts["report"].1).unwrap();
        assert_eq!(report["units_reported"], 2);
        assert_eq!(report["units_expected"], 2);
    });
}

#[test]
fn a_ward_hub_delivers_to_a_city_hub() {
    let tmp = tempfile::tempdir().unwrap();
    let city_dir = tmp.path().join("city");
    std::fs::create_dir_all(&city_dir).unwrap();
    let mut city = hub_with(
        &city_dir,
        &["--ward", "Thành phố Hải Phòng"],
        &[("[receive]\n", &receive_wards())],
    );
    city.serve();
    let ward_dir = tmp.path().join("ward");
    std::fs::create_dir_all(&ward_dir).unwrap();
    let mut ward = hub_with(&ward_dir, &["--ward", WARD], MANUAL_ONLY);
    ward.serve();
    let url = format!("http://{}/api/v1/reports", city.http);

    // A wrong token is refused for good.
    ward.cmd(&["upstream", "set", "--url", &url, "--token", "wrong"])
        .ok();
    push(&ward, "2026-H1");
    wait_until(WAIT, "the refusal", || {
        log_json(&ward)["deliveries"][0]["state"] == "failed"
    });
    assert_eq!(
        outcomes(&log_json(&ward)),
        vec![("failed".to_string(), 401)]
    );

    // The right token: the refused delivery goes again by itself.
    ward.cmd(&["upstream", "set", "--url", &url, "--token", TOKEN])
        .ok();
    wait_until(WAIT, "the city to acknowledge", || {
        log_json(&ward)["deliveries"][0]["state"] == "delivered"
    });
    let key = push(&ward, "2026-H1")["idempotency_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        outcomes(&log_json(&ward)).last().unwrap(),
        &("delivered".to_string(), 201)
    );
    let got = city.cmd(&["upstream", "received", "--json"]).ok().json();
    let received = got["received"].as_array().unwrap();
    assert_eq!(received.len(), 1, "{got:#}");
    assert_eq!(received[0]["ward"], WARD);
    assert_eq!(received[0]["period"], "2026-H1");
    assert_eq!(received[0]["revision"], 1);
    assert_eq!(received[0]["idempotency_key"], key.as_str());
    let text = city.cmd(&["upstream", "received"]).ok().stdout();
    assert!(text.contains(WARD) && text.contains("2026-H1"), "{text}");
}

/// A ward hub in `tmp/<dir>`, manual delivery only, with the clock at `now`.
fn ward_hub(tmp: &Path, dir: &str, name: &str, now: &str) -> Hub {
    let parent = tmp.join(dir);
    std::fs::create_dir_all(&parent).unwrap();
    let mut hub = hub_with(&parent, &["--ward", name], MANUAL_ONLY);
    hub.env.push(("COSO_NOW".into(), now.into()));
    hub.serve();
    hub
}

/// Registers a unit of kind "other", enrols an agent, and, given values,
/// sets them, submits and syncs.
fn unit_reports(hub: &Hub, code: &str, now: &str, values: Option<&[&str]>) -> Agent {
    let link = hub.add_unit(code, &format!("Đơn vị {code}"), "other");
    let mut a = Agent::new();
    a.env.push(("COSO_NOW".into(), now.into()));
    a.enroll(&link);
    if let Some(values) = values {
        let mut args = vec!["value", "set", "--period", "2026-H1"];
        args.extend_from_slice(values);
        a.cmd(&args).ok();
        a.cmd(&["submit", "--period", "2026-H1"]).ok();
        a.cmd(&["sync"]).ok();
    }
    a
}

/// `upstream push` and wait until the city acknowledged that revision.
fn deliver(ward: &Hub) -> u64 {
    let revision = push(ward, "2026-H1")["revision"].as_u64().unwrap();
    wait_until(WAIT, "the ward's delivery to be acknowledged", || {
        log_json(ward)["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["revision"] == revision && d["state"] == "delivered")
    });
    revision
}

fn report_json(hub: &Hub, dir: &Path, name: &str, extra: &[&str]) -> Value {
    let out = dir.join(name);
    let out_s = out.to_str().unwrap();
    let mut args = vec![
        "report", "--period", "2026-H1", "--format", "json", "--out", out_s,
    ];
    args.extend_from_slice(extra);
    hub.cmd(&args).ok();
    serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
}

fn indicator<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {report:#}"))
}

#[test]
fn a_city_hub_rolls_up_the_wards_reports() {
    let now = "2026-05-10T09:00:00+07:00";
    let tmp = tempfile::tempdir().unwrap();
    let city_dir = tmp.path().join("city");
    std::fs::create_dir_all(&city_dir).unwrap();
    let mut city = hub_with(
        &city_dir,
        &["--ward", "Thành phố Hải Phòng"],
        &[("[receive]\n", &receive_wards())],
    );
    city.env.push(("COSO_NOW".into(), now.into()));
    city.serve();
    let url = format!("http://{}/api/v1/reports", city.http);

    // Nothing received yet: no ward to roll up, and a report is refused.
    let empty = city
        .cmd(&["status", "--period", "2026-H1", "--wards", "--json"])
        .ok()
        .json();
    assert_eq!(empty["totals"]["wards"], 0, "{empty:#}");
    let out = tmp.path().join("none.json");
    city.cmd(&[
        "report",
        "--period",
        "2026-H1",
        "--wards",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ])
    .expect_code(2);
    assert!(!out.exists());

    // Gia Viên: two units report, a third has not yet.
    let gia_vien = ward_hub(tmp.path(), "gv", WARD, now);
    let _a1 = unit_reports(
        &gia_vien,
        "VP01",
        now,
        Some(&["CK01=10", "CK02=8", "DG01=8", "GS01=có"]),
    );
    let _a2 = unit_reports(
        &gia_vien,
        "VP02",
        now,
        Some(&["CK01=4", "CK02=1", "DG01=6", "GS01=không"]),
    );
    let a3 = unit_reports(&gia_vien, "VP03", now, None);
    // Lê Lợi: one unit, without DG01.
    let le_loi = ward_hub(tmp.path(), "ll", "Phường Lê Lợi", now);
    let _b1 = unit_reports(&le_loi, "VP01", now, Some(&["CK01=6", "CK02=6", "GS01=có"]));
    // Lê Lợi cannot deliver with Gia Viên's token (as itself or as Gia Viên).
    le_loi
        .cmd(&["upstream", "set", "--url", &url, "--token", TOKEN])
        .ok();
    push(&le_loi, "2026-H1");
    wait_until(WAIT, "the wrong ward's delivery to be refused", || {
        outcomes(&log_json(&le_loi))
            .iter()
            .any(|(o, status)| o == "failed" && *status == 403)
    });
    assert!(
        city.cmd(&["upstream", "received", "--json"]).ok().json()["received"]
            .as_array()
            .is_none_or(|r| r.is_empty())
    );
    for (w, token) in [(&gia_vien, TOKEN), (&le_loi, TOKEN_LE_LOI)] {
        w.cmd(&["upstream", "set", "--url", &url, "--token", token])
            .ok();
        assert_eq!(deliver(w), 1);
    }
    // Gia Viên's third unit reports later: revision 2 replaces revision 1.
    a3.cmd(&[
        "value", "set", "--period", "2026-H1", "CK01=1", "CK02=1", "DG01=10",
    ])
    .ok();
    a3.cmd(&["submit", "--period", "2026-H1"]).ok();
    a3.cmd(&["sync"]).ok();
    assert_eq!(deliver(&gia_vien), 2);

    let dir = tmp.path();
    let gv = report_json(&gia_vien, dir, "gv.json", &[]);
    let ll = report_json(&le_loi, dir, "ll.json", &[]);
    assert_eq!(gv["units_reported"], 3);
    let city_report = report_json(&city, dir, "city.json", &["--wards"]);
    assert_eq!(city_report["scope"], "wards");
    assert_eq!(city_report["wards_reporting"], 2);
    assert_eq!(city_report["units_expected"], 4);
    assert_eq!(city_report["units_reported"], 4);

    // sum and count-yes: the sum of the wards' own totals, null stays null.
    let mut checked = 0;
    for i in city_report["indicators"].as_array().unwrap() {
        let code = i["code"].as_str().unwrap();
        let agg = i["aggregate"].as_str().unwrap();
        if agg != "sum" && agg != "count-yes" {
            continue;
        }
        let parts: Vec<f64> = [&gv, &ll]
            .iter()
            .filter_map(|r| indicator(r, code)["total"].as_f64())
            .collect();
        if parts.is_empty() {
            assert!(i["total"].is_null(), "{code}: {i:#}");
        } else {
            assert_eq!(
                i["total"].as_f64(),
                Some(parts.iter().sum()),
                "{code}: {i:#}"
            );
            checked += 1;
        }
        assert_eq!(i["by_ward"][WARD], indicator(&gv, code)["total"], "{code}");
        assert_eq!(
            i["by_ward"]["Phường Lê Lợi"],
            indicator(&ll, code)["total"],
            "{code}"
        );
    }
    assert!(checked >= 3, "{city_report:#}");
    assert_eq!(indicator(&city_report, "CK01")["total"], 21);
    assert_eq!(indicator(&city_report, "GS01")["total"], 2);
    // rate: 100 × (8 + 1 + 1 + 6) / (10 + 4 + 1 + 6).
    assert_eq!(indicator(&city_report, "CK03")["total"], 76.19);
    // mean, weighted by units reporting: Lê Lợi gave none.
    assert_eq!(indicator(&gv, "DG01")["total"], 8);
    assert_eq!(indicator(&city_report, "DG01")["total"], 8);
    assert!(indicator(&city_report, "DG01")["by_ward"]["Phường Lê Lợi"].is_null());

    // status --wards: every ward's latest revision and its own completeness.
    let st = city
        .cmd(&["status", "--period", "2026-H1", "--wards", "--json"])
        .ok()
        .json();
    assert_eq!(st["scope"], "wards");
    assert_eq!(st["totals"]["wards"], 2);
    assert_eq!(st["totals"]["units_expected"], 4);
    assert_eq!(st["totals"]["units_reported"], 4);
    let rows = st["wards"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|w| w["ward"] == name).unwrap().clone();
    assert_eq!(row(WARD)["revision"], 2);
    assert_eq!(row("Phường Lê Lợi")["revision"], 1);
    for (name, own) in [(WARD, &gv), ("Phường Lê Lợi", &ll)] {
        let c = &row(name)["completeness"];
        for f in ["expected", "reported", "on_time", "late", "missing"] {
            assert_eq!(c[f], own["completeness"][f], "{name} {f}");
        }
        assert!(
            row(name)["received_at"]
                .as_str()
                .unwrap()
                .ends_with("+07:00")
        );
    }
    let text = city
        .cmd(&["status", "--period", "2026-H1", "--wards"])
        .ok()
        .stdout();
    assert!(
        text.contains("2 phường/xã đã gửi báo cáo") && text.contains("Phường Lê Lợi"),
        "{text}"
    );

    // The city hub has no units of its own: the roll-up without --wards.
    let auto = city
        .cmd(&["status", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    assert_eq!(auto, st);
    assert_eq!(report_json(&city, dir, "auto.json", &[]), city_report);
    // Other formats; no DOCX at this level.
    let csv = dir.join("city.csv");
    city.cmd(&[
        "report",
        "--period",
        "2026-H1",
        "--format",
        "csv",
        "--out",
        csv.to_str().unwrap(),
    ])
    .ok();
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(
        csv.lines()
            .any(|l| l.starts_with("CK01,") && l.contains(",21,")),
        "{csv}"
    );
    city_docx_totals_are_the_wards_sums(&city, dir, &city_report, &gv, &ll);
    // A ward hub's own status is unchanged by the flag's existence.
    let own = gia_vien
        .cmd(&["status", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    assert!(own.get("scope").is_none() && own["units"].as_array().unwrap().len() == 3);
}

/// The city's DOCX (Decree 30/2020, a column per ward at two wards), read
/// back by LibreOffice as text: each indicator row of Phụ lục I is its
/// name, its unit of measure, Gia Viên's total, Lê Lợi's and the city's, cell
/// after cell; the city's equals the sum of the wards' (sum and count-yes)
/// and what the JSON roll-up says.
fn city_docx_totals_are_the_wards_sums(
    city: &Hub,
    dir: &Path,
    city_report: &Value,
    gv: &Value,
    ll: &Value,
) {
    let docx = dir.join("city.docx");
    city.cmd(&[
        "report",
        "--period",
        "2026-H1",
        "--wards",
        "--format",
        "docx",
        "--out",
        docx.to_str().unwrap(),
    ])
    .ok();
    let text = crate::report::docx_text(&docx, dir);
    for needle in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "BÁO CÁO",
        "Kính gửi",
        "Nơi nhận",
        "Phụ lục I",
        "Phụ lục II",
        "TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC PHƯỜNG, XÃ",
        // Both wards delivered before the deadline (the clock is in May).
        "2/2 phường, xã đã gửi báo cáo, 2 đúng hạn, 0 muộn, 0 chưa gửi",
        "4/4 đơn vị cơ sở đã báo cáo",
    ] {
        assert!(text.contains(needle), "city DOCX lacks {needle:?}:\n{text}");
    }
    // One cell a line (or tab-separated, depending on the filter): cells.
    let lines: Vec<&str> = text
        .split(['\n', '\t'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // "1.234,5" the Vietnamese way; "—" is no value.
    let number = |s: &str| -> Option<f64> { s.replace('.', "").replace(',', ".").parse().ok() };
    let mut checked = 0;
    for i in city_report["indicators"].as_array().unwrap() {
        let agg = i["aggregate"].as_str().unwrap();
        if agg != "sum" && agg != "count-yes" {
            continue;
        }
        let code = i["code"].as_str().unwrap();
        let name = i["name"].as_str().unwrap();
        let at = lines
            .iter()
            .position(|l| *l == name)
            .unwrap_or_else(|| panic!("no row {name:?} ({code}) in the city DOCX:\n{text}"));
        let cells = &lines[at + 1..at + 5];
        assert_eq!(cells[0], i["unit"].as_str().unwrap(), "{code}: {cells:?}");
        let (a, b, total) = (number(cells[1]), number(cells[2]), number(cells[3]));
        assert_eq!(
            a,
            indicator(gv, code)["total"].as_f64(),
            "{code}: {cells:?}"
        );
        assert_eq!(
            b,
            indicator(ll, code)["total"].as_f64(),
            "{code}: {cells:?}"
        );
        assert_eq!(total, i["total"].as_f64(), "{code}: {cells:?}");
        if let Some(t) = total {
            assert_eq!(t, a.unwrap_or(0.0) + b.unwrap_or(0.0), "{code}: {cells:?}");
            checked += 1;
        } else {
            assert!(
                a.is_none() && b.is_none() && cells[3] == "—",
                "{code}: {cells:?}"
            );
        }
    }
    assert!(checked >= 3, "{text}");
}
