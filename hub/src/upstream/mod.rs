//! Upstream delivery: the consolidated report goes to the level above (the
//! Department of Home Affairs, or a city-level coso hub) on its own, exactly
//! once per revision. This module owns the admin calls behind `coso-hub
//! upstream set|push|log`, the schedule, the durable outbox worker that
//! retries with backoff, and the receiving endpoint of a city-level hub.
//! The records themselves are kept by the store (`store::outbox`).
//!
//! Flow: `push` (by hand or by the schedule) compiles the report (JSON, DOCX,
//! XLSX), derives its content hash and idempotency key, and queues it in the
//! outbox, flushed, before it answers. The worker sends what is due, records
//! every attempt, and retries passing failures (see [`backoff`]).

pub mod backoff;
pub mod cli;
pub mod deliver;
pub mod payload;
pub mod receive;
pub mod schedule;
pub mod settings;
pub mod worker;

use chrono::{DateTime, Utc};
use coso_proto::{Lang, Period, PeriodCode, ReportState, pb};
use thiserror::Error;
use tonic::Code;

use crate::reporting::{self, UnitEntry};
use crate::state::HubState;
use crate::store::StoreError;
use crate::store::outbox::{Enqueued, NewDelivery, Payload, Trigger, UpstreamTarget};

pub use worker::{run as run_worker, wake};

/// The longest token accepted by `upstream set`.
const MAX_TOKEN_CHARS: usize = 4096;

#[derive(Debug, Error)]
pub enum UpstreamError {
    #[error("url {url:?}: {reason}")]
    Url { url: String, reason: &'static str },
    #[error("token: {0}")]
    Token(&'static str),
    #[error("ca_file: {0}")]
    Ca(String),
    #[error("no upstream is set: run coso-hub upstream set --url URL first")]
    NotConfigured,
    #[error("the {period} report could not be compiled: {reason}")]
    Compile { period: PeriodCode, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UpstreamError {
    pub fn code(&self) -> Code {
        match self {
            UpstreamError::Url { .. } | UpstreamError::Token(_) | UpstreamError::Ca(_) => {
                Code::InvalidArgument
            }
            UpstreamError::NotConfigured => Code::FailedPrecondition,
            UpstreamError::Compile { .. } | UpstreamError::Store(_) => Code::Internal,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            UpstreamError::Url { url, reason } => {
                format!("địa chỉ (url) {url:?} không hợp lệ: {reason}")
            }
            UpstreamError::Token(r) => format!("mã xác thực (token) không hợp lệ: {r}"),
            UpstreamError::Ca(r) => {
                format!("tệp chứng chỉ CA (ca_file) không hợp lệ: {r}")
            }
            UpstreamError::NotConfigured => {
                "chưa đặt nơi nhận báo cáo cấp trên: chạy coso-hub upstream set --url URL trước"
                    .into()
            }
            UpstreamError::Compile { period, reason } => {
                format!("không lập được báo cáo kỳ {period} để gửi: {reason}")
            }
            UpstreamError::Store(_) => "lỗi cơ sở dữ liệu của máy chủ phường".into(),
        }
    }
}

/// Checks a delivery URL: https, or http to this machine only (a local relay,
/// or tests), since the token must not cross a network in clear text.
pub fn check_url(raw: &str) -> Result<String, UpstreamError> {
    let bad = |reason| UpstreamError::Url {
        url: raw.to_string(),
        reason,
    };
    let u = url::Url::parse(raw.trim()).map_err(|_| bad("not a URL"))?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("put the credential in --token, not in the URL"));
    }
    let Some(host) = u.host() else {
        return Err(bad("it has no host"));
    };
    match u.scheme() {
        "https" => {}
        "http" => {
            let loopback = match host {
                url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
                url::Host::Ipv4(ip) => ip.is_loopback(),
                url::Host::Ipv6(ip) => ip.is_loopback(),
            };
            if !loopback {
                return Err(bad("use https (http only to this machine)"));
            }
        }
        _ => return Err(bad("use https")),
    }
    if u.fragment().is_some() {
        return Err(bad("a URL with a #fragment cannot be delivered to"));
    }
    Ok(u.to_string())
}

/// `upstream set`: checks and stores where reports go.
pub async fn set_target(
    hub: &HubState,
    req: pb::SetUpstreamRequest,
) -> Result<pb::SetUpstreamResponse, UpstreamError> {
    let url = check_url(&req.url)?;
    let token = req.token.trim();
    if token.chars().count() > MAX_TOKEN_CHARS {
        return Err(UpstreamError::Token("it is too long"));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(UpstreamError::Token(
            "use printable ASCII characters without spaces",
        ));
    }
    let ca_pem = req.ca_pem.trim();
    if !ca_pem.is_empty() {
        deliver::ca_certificates(ca_pem).map_err(UpstreamError::Ca)?;
    }
    let target = UpstreamTarget {
        url,
        token: (!token.is_empty()).then(|| token.to_string()),
        ca_pem: (!ca_pem.is_empty()).then(|| ca_pem.to_string()),
        set_at: coso_proto::clock::now(),
    };
    // A client must build with this CA before it is accepted.
    deliver::client(&target, std::time::Duration::from_secs(1)).map_err(UpstreamError::Ca)?;
    hub.store.set_upstream_target(&target).await?;
    tracing::info!(url = %target.url, "upstream set");
    wake();
    Ok(pb::SetUpstreamResponse {})
}

/// Compiles the three files a delivery carries.
fn compile_payload(
    hub: &HubState,
    period: &Period,
    entries: &[UnitEntry],
) -> Result<Payload, UpstreamError> {
    let catalog = hub.docs.catalog();
    let one = |format: &str| {
        reporting::compile(
            &hub.config.file.letterhead,
            &catalog,
            period,
            entries,
            format,
        )
        .map(|(bytes, _)| bytes)
        .map_err(|e| UpstreamError::Compile {
            period: period.code.clone(),
            reason: e.to_string(),
        })
    };
    Ok(Payload {
        report_json: one("json")?,
        docx: one("docx")?,
        xlsx: one("xlsx")?,
    })
}

/// Queues a delivery of the period's report (unless the latest revision
/// already carries the same content), flushed before it returns.
pub async fn push(
    hub: &HubState,
    period: &Period,
    entries: &[UnitEntry],
    trigger: Trigger,
) -> Result<pb::PushUpstreamResponse, UpstreamError> {
    if hub.store.upstream_target()?.is_none() {
        return Err(UpstreamError::NotConfigured);
    }
    let payload = compile_payload(hub, period, entries)?;
    let content = payload::content_sha256(&payload.report_json);
    let ward = hub.config.file.ward.clone();
    let code = period.code.to_string();
    let content_for_key = content.clone();
    let key = move |reused: Option<u64>| {
        payload::idempotency_key(&ward, &code, &content_for_key, reused)
    };
    let now = coso_proto::clock::now();
    let outcome = hub
        .store
        .enqueue_delivery(NewDelivery {
            period: &period.code,
            content_sha256: &content,
            trigger,
            payload: &payload,
            now,
            first_attempt_at: Utc::now(),
            key: &key,
        })
        .await?;
    let d = outcome.delivery();
    let state = match &outcome {
        Enqueued::AlreadyDelivered(_) => "delivered",
        _ => "queued",
    };
    tracing::info!(period = %d.period, revision = d.revision, trigger = trigger.as_str(), state, "upstream delivery");
    if state == "queued" {
        wake();
    }
    Ok(pb::PushUpstreamResponse {
        revision: d.revision,
        idempotency_key: d.idempotency_key.clone(),
        state: state.into(),
        unchanged: !matches!(outcome, Enqueued::New(_)),
    })
}

fn wire_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

/// `upstream log`: the target, every delivery and attempt, and the reports
/// received from ward hubs.
pub fn log(hub: &HubState) -> Result<pb::UpstreamLogResponse, UpstreamError> {
    let s = &hub.store;
    let target = s.upstream_target()?;
    Ok(pb::UpstreamLogResponse {
        attempts: s
            .attempts()?
            .into_iter()
            .map(|a| pb::UpstreamAttempt {
                period: a.period.to_string(),
                revision: a.revision,
                idempotency_key: a.idempotency_key,
                at: wire_time(a.at),
                outcome: a.outcome.as_str().into(),
                http_status: u32::from(a.http_status),
                detail: a.detail,
            })
            .collect(),
        url: target.as_ref().map(|t| t.url.clone()).unwrap_or_default(),
        token_set: target.as_ref().is_some_and(|t| t.token.is_some()),
        ca_set: target.as_ref().is_some_and(|t| t.ca_pem.is_some()),
        deliveries: s
            .deliveries()?
            .into_iter()
            .map(|d| pb::UpstreamDelivery {
                period: d.period.to_string(),
                revision: d.revision,
                idempotency_key: d.idempotency_key,
                state: d.state.as_str().into(),
                trigger: d.trigger.as_str().into(),
                queued_at: wire_time(d.queued_at),
                attempts: d.attempts,
                next_attempt_at: if d.state == crate::store::outbox::DeliveryState::Queued {
                    wire_time(d.next_attempt_at)
                } else {
                    String::new()
                },
                content_sha256: d.content_sha256,
            })
            .collect(),
        received: s
            .received_all()?
            .into_iter()
            .map(|r| pb::ReceivedReport {
                ward: r.ward,
                period: r.period.to_string(),
                revision: r.revision,
                idempotency_key: r.idempotency_key,
                received_at: wire_time(r.received_at),
                content_sha256: r.content_sha256,
                bytes: r.bytes,
            })
            .collect(),
    })
}

/// How many of the entries are accepted.
pub fn accepted(entries: &[UnitEntry]) -> usize {
    entries
        .iter()
        .filter(|e| e.state == Some(ReportState::Accepted))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_or_local() {
        assert!(check_url("https://sonoivu.haiphong.gov.vn/api/v1/reports").is_ok());
        assert!(check_url("http://127.0.0.1:8080/api/v1/reports").is_ok());
        assert!(check_url("http://localhost/api").is_ok());
        assert!(check_url("http://[::1]:80/").is_ok());
        for bad in [
            "http://sonoivu.gov.vn/api",
            "ftp://x/",
            "not a url",
            "https://user:pw@x.vn/",
            "https://x.vn/#frag",
            "",
        ] {
            assert_eq!(check_url(bad).unwrap_err().code(), Code::InvalidArgument, "{bad}");
        }
    }
}
