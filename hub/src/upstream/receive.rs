//! The receiving side, for a city-level hub: `POST /api/v1/reports` on the
//! HTTP listener takes a ward hub's delivery (the multipart payload of
//! [`super::payload`]), authenticated by a bearer token whose SHA-256 is in
//! `[receive] tokens_sha256`, and stores it once per `Idempotency-Key`: 201
//! when stored, 200 when that key was stored before (a retry).

use std::sync::Arc;

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use coso_proto::PeriodCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::payload::*;
use crate::state::HubState;
use crate::store::outbox::{Payload, Received};

/// Parts beyond this many are refused (a sender sends three).
const MAX_PARTS: usize = 16;

/// The receiving route, with its body limit from `[receive]`.
pub fn routes(hub: &HubState) -> Router<Arc<HubState>> {
    Router::new()
        .route(RECEIVE_PATH, post(receive))
        .layer(DefaultBodyLimit::max(hub.config.file.receive.max_body_bytes))
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

/// Whether the request's bearer token hashes to one of `accepted` (hex),
/// compared in constant time.
fn authorised(headers: &HeaderMap, accepted: &[String]) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return false;
    };
    let h: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    accepted.iter().fold(false, |ok, a| {
        let matches = hex::decode(a)
            .map(|a| bool::from(a.as_slice().ct_eq(&h)))
            .unwrap_or(false);
        ok | matches
    })
}

fn text_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// The delivery's headers, checked.
struct Meta {
    key: String,
    ward: String,
    period: PeriodCode,
    revision: u64,
    content: Option<String>,
}

fn meta(headers: &HeaderMap) -> Result<Meta, String> {
    let key = text_header(headers, H_IDEMPOTENCY_KEY)
        .filter(|k| is_key(k))
        .ok_or("Idempotency-Key: send 64 lowercase hex digits")?
        .to_string();
    let ward = text_header(headers, H_WARD)
        .and_then(percent_decode)
        .map(|w| coso_proto::domain::text::normalize(w.trim()))
        .filter(|w| !w.is_empty() && w.chars().count() <= 200 && !w.chars().any(char::is_control))
        .ok_or("X-Coso-Ward: send the ward's name, percent-encoded UTF-8")?;
    let period = text_header(headers, H_PERIOD)
        .and_then(|p| p.parse::<PeriodCode>().ok())
        .ok_or("X-Coso-Period: send a period code such as 2026-H1")?;
    let revision = text_header(headers, H_REVISION)
        .and_then(|r| r.parse::<u64>().ok())
        .filter(|r| *r >= 1)
        .ok_or("X-Coso-Revision: send a number from 1")?;
    let content = match text_header(headers, H_CONTENT) {
        None => None,
        Some(c) if is_key(c) => Some(c.to_string()),
        Some(_) => return Err("X-Coso-Content-Sha256: send 64 lowercase hex digits".into()),
    };
    Ok(Meta {
        key,
        ward,
        period,
        revision,
        content,
    })
}

async fn parts(mut mp: Multipart) -> Result<Payload, Response> {
    let mut report = None;
    let mut docx = None;
    let mut xlsx = None;
    let mut count = 0;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(refuse(e.status(), e.body_text())),
        };
        count += 1;
        if count > MAX_PARTS {
            return Err(refuse(StatusCode::BAD_REQUEST, "too many parts"));
        }
        let name = field.name().unwrap_or_default().to_string();
        let bytes = match field.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => return Err(refuse(e.status(), e.body_text())),
        };
        match name.as_str() {
            PART_REPORT => report = Some(bytes),
            PART_DOCX => docx = Some(bytes),
            PART_XLSX => xlsx = Some(bytes),
            // Parts a later sender may add are ignored.
            _ => {}
        }
    }
    let missing = |p: &str| refuse(StatusCode::BAD_REQUEST, format!("the {p} part is missing"));
    Ok(Payload {
        report_json: report.ok_or_else(|| missing(PART_REPORT))?,
        docx: docx.ok_or_else(|| missing(PART_DOCX))?,
        xlsx: xlsx.ok_or_else(|| missing(PART_XLSX))?,
    })
}

async fn receive(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let accepted = &hub.config.file.receive.tokens_sha256;
    if accepted.is_empty() {
        return refuse(
            StatusCode::FORBIDDEN,
            "this hub does not receive reports ([receive] tokens_sha256 is empty)",
        );
    }
    if !authorised(&headers, accepted) {
        return refuse(StatusCode::UNAUTHORIZED, "the bearer token is not accepted");
    }
    let m = match meta(&headers) {
        Ok(m) => m,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e),
    };
    let duplicate = |r: &Received| {
        reply(
            StatusCode::OK,
            json!({"status": "duplicate", "idempotency_key": r.idempotency_key,
                   "received_at": r.received_at.to_rfc3339()}),
        )
    };
    match hub.store.received(&m.key) {
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
        Err(r) => return r,
    };
    let report: serde_json::Value = match serde_json::from_slice(&payload.report_json) {
        Ok(v) => v,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("report: not JSON ({e})")),
    };
    let report_period = report.get("period").and_then(|p| p.as_str()).unwrap_or_default();
    if report_period.parse::<PeriodCode>().ok().as_ref() != Some(&m.period) {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "report: its period {report_period:?} is not the X-Coso-Period {}",
                m.period
            ),
        );
    }
    let content = content_sha256(&payload.report_json);
    if m.content.as_ref().is_some_and(|c| *c != content) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "report: it does not match X-Coso-Content-Sha256",
        );
    }
    let r = Received {
        idempotency_key: m.key,
        ward: m.ward,
        period: m.period,
        revision: m.revision,
        content_sha256: content,
        received_at: coso_proto::clock::now(),
        bytes: payload.len() as u64,
    };
    match hub.store.store_received(&r, &payload).await {
        Ok(true) => {
            tracing::info!(ward = %r.ward, period = %r.period, revision = r.revision, "report received");
            reply(
                StatusCode::CREATED,
                json!({"status": "stored", "idempotency_key": r.idempotency_key,
                       "received_at": r.received_at.to_rfc3339()}),
            )
        }
        // Another copy of the same delivery won the race.
        Ok(false) => match hub.store.received(&r.idempotency_key) {
            Ok(Some(first)) => duplicate(&first),
            _ => duplicate(&r),
        },
        Err(e) => {
            tracing::error!(error = %e, "receive: cannot store");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "the database failed")
        }
    }
}
