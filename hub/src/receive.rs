//! The receiving side, for a city-level hub: `POST /api/v1/reports` on the
//! HTTP listener takes a ward hub's delivery (the multipart payload of
//! [`super::payload`]), authenticated by a bearer token whose SHA-256 is
//! bound to one ward in `[receive.wards]`, and stores it once per
//! `Idempotency-Key`: 201 when stored, 200 when that key was stored before (a
//! retry). A token delivers only as its own ward: a delivery whose
//! `X-Coso-Ward` names another ward is refused (403).

use std::sync::Arc;

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use coso_domain::PeriodCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use coso_report::city::Received;
use coso_ward::state::HubState;
use coso_ward::upstream::payload::*;
use coso_ward::{Payload, Ward};

/// Parts beyond this many are refused (a sender sends three).
const MAX_PARTS: usize = 16;

/// The receiving route, with its body limit from `[receive]`.
pub fn routes(hub: &HubState) -> Router<Arc<HubState>> {
    Router::new()
        .route(RECEIVE_PATH, post(receive))
        .layer(DefaultBodyLimit::max(
            hub.config.file.receive.max_body_bytes,
        ))
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

fn refuse(status: StatusCode, reason: impl Into<String>) -> Response {
    let mut r = reply(status, json!({"error": reason.into()}));
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

/// The ward whose token the request's bearer token is (its SHA-256 against
/// every ward's, in constant time), if any.
fn authorised<'a>(
    headers: &HeaderMap,
    wards: &'a std::collections::BTreeMap<String, String>,
) -> Option<&'a str> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)?;
    let h: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    // Every entry is compared, so the time does not say which one matched.
    wards.iter().fold(None, |found, (ward, a)| {
        let matches = hex::decode(a)
            .map(|a| bool::from(a.as_slice().ct_eq(&h)))
            .unwrap_or(false);
        if matches { Some(ward.as_str()) } else { found }
    })
}

fn text_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Why a delivery is refused: the status and the reason sent back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

impl Refusal {
    fn new(status: StatusCode, reason: impl Into<String>) -> Refusal {
        Refusal {
            status,
            reason: reason.into(),
        }
    }

    fn bad(reason: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, reason)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        refuse(self.status, self.reason)
    }
}

/// The delivery's headers, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub key: String,
    pub ward: String,
    pub period: PeriodCode,
    pub revision: u64,
    pub content: Option<String>,
}

/// Checks the delivery's headers (everything but the bearer token).
pub fn meta(headers: &HeaderMap) -> Result<Meta, Refusal> {
    let key = text_header(headers, H_IDEMPOTENCY_KEY)
        .filter(|k| is_key(k))
        .ok_or_else(|| Refusal::bad("Idempotency-Key: send 64 lowercase hex digits"))?
        .to_string();
    let ward = text_header(headers, H_WARD)
        .and_then(percent_decode)
        .map(|w| coso_domain::text::normalize(w.trim()))
        .filter(|w| !w.is_empty() && w.chars().count() <= 200 && !w.chars().any(char::is_control))
        .ok_or_else(|| Refusal::bad("X-Coso-Ward: send the ward's name, percent-encoded UTF-8"))?;
    let period = text_header(headers, H_PERIOD)
        .and_then(|p| p.parse::<PeriodCode>().ok())
        .ok_or_else(|| Refusal::bad("X-Coso-Period: send a period code such as 2026-H1"))?;
    let revision = text_header(headers, H_REVISION)
        .and_then(|r| r.parse::<u64>().ok())
        .filter(|r| *r >= 1)
        .ok_or_else(|| Refusal::bad("X-Coso-Revision: send a number from 1"))?;
    let content = match text_header(headers, H_CONTENT) {
        None => None,
        Some(c) if is_key(c) => Some(c.to_string()),
        Some(_) => {
            return Err(Refusal::bad(
                "X-Coso-Content-Sha256: send 64 lowercase hex digits",
            ));
        }
    };
    Ok(Meta {
        key,
        ward,
        period,
        revision,
        content,
    })
}

/// Reads the multipart body into its three parts.
pub async fn parts(mut mp: Multipart) -> Result<Payload, Refusal> {
    let mut report = None;
    let mut docx = None;
    let mut xlsx = None;
    let mut count = 0;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(Refusal::new(e.status(), e.body_text())),
        };
        count += 1;
        if count > MAX_PARTS {
            return Err(Refusal::bad("too many parts"));
        }
        let name = field.name().unwrap_or_default().to_string();
        let bytes = match field.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => return Err(Refusal::new(e.status(), e.body_text())),
        };
        match name.as_str() {
            PART_REPORT => report = Some(bytes),
            PART_DOCX => docx = Some(bytes),
            PART_XLSX => xlsx = Some(bytes),
            // Parts a later sender may add are ignored.
            _ => {}
        }
    }
    let missing = |p: &str| Refusal::bad(format!("the {p} part is missing"));
    Ok(Payload {
        report_json: report.ok_or_else(|| missing(PART_REPORT))?,
        docx: docx.ok_or_else(|| missing(PART_DOCX))?,
        xlsx: xlsx.ok_or_else(|| missing(PART_XLSX))?,
    })
}

/// Checks the report part against the headers; returns its content hash.
pub fn check(m: &Meta, payload: &Payload) -> Result<String, Refusal> {
    let report: serde_json::Value = serde_json::from_slice(&payload.report_json)
        .map_err(|e| Refusal::bad(format!("report: not JSON ({e})")))?;
    let report_period = report
        .get("period")
        .and_then(|p| p.as_str())
        .unwrap_or_default();
    if report_period.parse::<PeriodCode>().ok().as_ref() != Some(&m.period) {
        return Err(Refusal::bad(format!(
            "report: its period {report_period:?} is not the X-Coso-Period {}",
            m.period
        )));
    }
    let content = content_sha256(&payload.report_json);
    if m.content.as_ref().is_some_and(|c| *c != content) {
        return Err(Refusal::bad(
            "report: it does not match X-Coso-Content-Sha256",
        ));
    }
    Ok(content)
}

/// The whole parse of a delivery from its headers and complete body, with
/// no server and no store (the handler runs the same steps, with the store
/// between them): the fuzz target `receive_delivery` calls it.
pub async fn parse(headers: &HeaderMap, body: Vec<u8>) -> Result<(Meta, Payload, String), Refusal> {
    let m = meta(headers)?;
    let mut req = axum::http::Request::new(axum::body::Body::from(body));
    *req.headers_mut() = headers.clone();
    let mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| Refusal::new(e.status(), e.body_text()))?;
    let payload = parts(mp).await?;
    let content = check(&m, &payload)?;
    Ok((m, payload, content))
}

async fn receive(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let wards = &hub.config.file.receive.wards;
    if wards.is_empty() {
        return refuse(
            StatusCode::FORBIDDEN,
            "this hub does not receive reports ([receive.wards] is empty)",
        );
    }
    let Some(sender) = authorised(&headers, wards) else {
        return refuse(StatusCode::UNAUTHORIZED, "the bearer token is not accepted");
    };
    let m = match meta(&headers) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    // A ward delivers only as itself: the name it sends must be the one its
    // token is bound to.
    if coso_domain::text::normalize(sender.trim()) != m.ward {
        return refuse(
            StatusCode::FORBIDDEN,
            format!(
                "this token delivers for {sender:?} only, not for {:?}",
                m.ward
            ),
        );
    }
    let duplicate = |r: &Received| {
        reply(
            StatusCode::OK,
            json!({"status": "duplicate", "idempotency_key": r.idempotency_key,
                   "received_at": r.received_at.to_rfc3339()}),
        )
    };
    // A retry of a stored delivery is answered before its body is read.
    let ward = Ward::new(hub.clone());
    match ward.received(&m.key) {
        Ok(Some(r)) => return duplicate(&r),
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "receive: cannot read the store");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "the database failed");
        }
    }
    let multipart = match multipart {
        Ok(m) => m,
        Err(e) => return refuse(e.status(), e.body_text()),
    };
    let payload = match parts(multipart).await {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let content = match check(&m, &payload) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let r = Received {
        idempotency_key: m.key,
        ward: m.ward,
        period: m.period,
        revision: m.revision,
        content_sha256: content,
        received_at: coso_domain::clock::now(),
        bytes: payload.len() as u64,
    };
    match ward.store_received(&r, &payload).await {
        Ok(true) => {
            tracing::info!(ward = %r.ward, period = %r.period, revision = r.revision, "report received");
            reply(
                StatusCode::CREATED,
                json!({"status": "stored", "idempotency_key": r.idempotency_key,
                       "received_at": r.received_at.to_rfc3339()}),
            )
        }
        // Another copy of the same delivery won the race.
        Ok(false) => match ward.received(&r.idempotency_key) {
            Ok(Some(first)) => duplicate(&first),
            _ => duplicate(&r),
        },
        Err(e) => {
            tracing::error!(error = %e, "receive: cannot store");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "the database failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    const TOKEN: &str = "city-token-1";
    /// Lê Lợi's token.
    const OTHER_TOKEN: &str = "city-token-2";
    const B: &str = "XBOUNDARYx";

    fn body(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        for (name, bytes) in parts {
            b.extend_from_slice(
                format!(
                    "--{B}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            b.extend_from_slice(bytes);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(format!("--{B}--\r\n").as_bytes());
        b
    }

    fn report() -> Vec<u8> {
        br#"{"period":"2026-H1","report_date":"2026-06-01","units_expected":3}"#.to_vec()
    }

    fn request(token: &str, key: &str, period: &str, body: Vec<u8>) -> Request<Body> {
        Request::post(RECEIVE_PATH)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", format!("multipart/form-data; boundary={B}"))
            .header(H_IDEMPOTENCY_KEY, key)
            .header(H_REVISION, "1")
            .header(H_WARD, percent_encode("Phường Gia Viên"))
            .header(H_PERIOD, period)
            .body(Body::from(body))
            .unwrap()
    }

    fn full() -> Vec<u8> {
        body(&[
            ("report", &report()),
            ("docx", b"PK docx"),
            ("xlsx", b"PK xlsx"),
        ])
    }

    async fn send(router: &Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    #[tokio::test]
    async fn stores_each_key_once_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let hub = coso_ward::testing::hub(dir.path(), |f| {
            f.receive.wards = [
                (
                    "Phường Gia Viên".to_string(),
                    hex::encode(Sha256::digest(TOKEN)),
                ),
                (
                    "Phường Lê Lợi".to_string(),
                    hex::encode(Sha256::digest(OTHER_TOKEN)),
                ),
            ]
            .into();
            f.receive.max_body_bytes = 64 * 1024;
        })
        .await;
        let router = crate::http::router(hub.clone());
        let key = idempotency_key(
            "Phường Gia Viên",
            "2026-H1",
            &content_sha256(&report()),
            None,
        );

        let (s, _) = send(&router, request("wrong", &key, "2026-H1", full())).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        // Lê Lợi's token cannot deliver as Gia Viên.
        let (s, v) = send(&router, request(OTHER_TOKEN, &key, "2026-H1", full())).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        assert!(
            v["error"].as_str().unwrap().contains("Phường Lê Lợi"),
            "{v}"
        );
        let (s, v) = send(&router, request(TOKEN, "short", "2026-H1", full())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(v["error"].as_str().unwrap().contains("Idempotency-Key"));
        let (s, v) = send(&router, request(TOKEN, &key, "2026-M9", full())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        let missing = body(&[("report", &report()), ("xlsx", b"PK")]);
        let (s, v) = send(&router, request(TOKEN, &key, "2026-H1", missing)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(v["error"].as_str().unwrap().contains("docx"));
        let huge = body(&[
            ("report", &report()),
            ("docx", &vec![b'x'; 70_000]),
            ("xlsx", b"PK"),
        ]);
        let (s, _) = send(&router, request(TOKEN, &key, "2026-H1", huge)).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(coso_ward::testing::received_all(&hub).is_empty());

        let (s, v) = send(&router, request(TOKEN, &key, "2026-H1", full())).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["status"], "stored");
        // A retry of the same delivery: 200, nothing stored twice.
        let (s, v) = send(&router, request(TOKEN, &key, "2026-H1", full())).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["status"], "duplicate");
        let got = coso_ward::testing::received_all(&hub);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].ward, "Phường Gia Viên");
        assert_eq!(got[0].idempotency_key, key);
        let p = coso_ward::testing::received_payload(&hub, &key).unwrap();
        assert_eq!((p.report_json, p.docx), (report(), b"PK docx".to_vec()));
    }

    fn headers(key: &str, period: &str) -> HeaderMap {
        request(TOKEN, key, period, Vec::new()).headers().clone()
    }

    /// The parse step alone, as the fuzz target drives it: no server, no
    /// store, the same checks as the handler.
    #[tokio::test]
    async fn parse_checks_headers_parts_and_report_without_a_server() {
        let key = "a".repeat(64);
        let (m, payload, content) = parse(&headers(&key, "2026-H1"), full()).await.unwrap();
        assert_eq!(
            (m.key.as_str(), m.ward.as_str()),
            (key.as_str(), "Phường Gia Viên")
        );
        assert_eq!(payload.docx, b"PK docx");
        assert_eq!(content, content_sha256(&report()));

        let refused = |r: Result<(Meta, Payload, String), Refusal>| r.unwrap_err();
        let r = refused(parse(&headers("short", "2026-H1"), full()).await);
        assert!(r.reason.contains("Idempotency-Key"), "{r:?}");
        let r = refused(parse(&headers(&key, "2026-M9"), full()).await);
        assert!(r.reason.contains("X-Coso-Period"), "{r:?}");
        let mut truncated = full();
        truncated.truncate(80);
        let r = refused(parse(&headers(&key, "2026-H1"), truncated).await);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
        let mut no_type = headers(&key, "2026-H1");
        no_type.remove(header::CONTENT_TYPE);
        let r = refused(parse(&no_type, full()).await);
        assert!(r.status.is_client_error(), "{r:?}");
        let not_json = body(&[("report", b"{"), ("docx", b"D"), ("xlsx", b"X")]);
        let r = refused(parse(&headers(&key, "2026-H1"), not_json).await);
        assert!(r.reason.contains("not JSON"), "{r:?}");
    }

    #[tokio::test]
    async fn a_hub_without_tokens_receives_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let hub = coso_ward::testing::hub(dir.path(), |_| {}).await;
        let router = crate::http::router(hub);
        let (s, _) = send(&router, request(TOKEN, &"a".repeat(64), "2026-H1", full())).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
}
