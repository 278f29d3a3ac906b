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
pub mod deliver;
pub mod payload;
pub mod revision;
pub mod schedule;
pub mod settings;
pub mod worker;

use crate::ErrorKind;
use chrono::Utc;
use coso_domain::{Lang, Period, PeriodCode, ReportState};
use thiserror::Error;

use crate::reporting;
use crate::state::HubState;
use crate::store::StoreError;
use crate::store::inbox::Received;
use crate::store::outbox::{
    Attempt, Delivery, Enqueued, NewDelivery, Payload, Trigger, UpstreamTarget,
};
use coso_report::{Format, UnitEntry};

pub use worker::{run as run_worker, schedule_soon, wake};

/// The longest token accepted by `upstream set`.
const MAX_TOKEN_CHARS: usize = 4096;

/// Why an input was refused: in English and in Vietnamese.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Why(pub &'static str, pub &'static str);

#[derive(Debug, Error)]
pub enum UpstreamError {
    #[error("url {url:?}: {}", reason.0)]
    Url { url: String, reason: Why },
    #[error("token: {}", .0.0)]
    Token(Why),
    #[error("ca_file: {0}")]
    Ca(String),
    #[error("no upstream is set: run coso-hub upstream set --url URL first")]
    NotConfigured,
    #[error("the {period} report could not be compiled: {reason}")]
    Compile { period: PeriodCode, reason: String },
    #[error(transparent)]
    /// A roll-up of received ward reports failed (the city level, `crate::city`).
    Rollup(#[from] coso_report::city::CityError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UpstreamError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            UpstreamError::Url { .. } | UpstreamError::Token(_) | UpstreamError::Ca(_) => {
                ErrorKind::Invalid
            }
            UpstreamError::NotConfigured => ErrorKind::Precondition,
            UpstreamError::Rollup(e) => match e {
                coso_report::city::CityError::Format(_) => ErrorKind::Invalid,
                coso_report::city::CityError::NothingReceived(_) => ErrorKind::Precondition,
                _ => ErrorKind::Internal,
            },
            UpstreamError::Compile { .. } | UpstreamError::Store(_) => ErrorKind::Internal,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            UpstreamError::Url { url, reason } => {
                format!("địa chỉ (url) {url:?} không hợp lệ: {}", reason.1)
            }
            UpstreamError::Token(r) => format!("mã xác thực (token) không hợp lệ: {}", r.1),
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
            UpstreamError::Rollup(e) => e.message_vi(),
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
    let u = url::Url::parse(raw.trim())
        .map_err(|_| bad(Why("not a URL", "không phải một địa chỉ URL")))?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad(Why(
            "put the credential in --token, not in the URL",
            "đặt thông tin xác thực vào --token, không đặt trong URL",
        )));
    }
    let Some(host) = u.host() else {
        return Err(bad(Why("it has no host", "thiếu tên máy chủ")));
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
                return Err(bad(Why(
                    "use https (http only to this machine)",
                    "dùng https (chỉ dùng http tới chính máy này)",
                )));
            }
        }
        _ => return Err(bad(Why("use https", "dùng https"))),
    }
    if u.fragment().is_some() {
        return Err(bad(Why(
            "a URL with a #fragment cannot be delivered to",
            "URL không được có phần #fragment",
        )));
    }
    Ok(u.to_string())
}

/// Where reports go, as typed by `upstream set` (not yet checked).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetInput {
    pub url: String,
    pub token: String,
    /// PEM of a CA to trust besides the system roots; empty for none.
    pub ca_pem: String,
}

/// What `upstream push` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    pub revision: u64,
    pub idempotency_key: String,
    /// "queued" or "delivered".
    pub state: &'static str,
    /// The same content was already queued or delivered: nothing new queued.
    pub unchanged: bool,
}

/// `upstream log`: the target, every delivery and attempt, and the reports
/// received from ward hubs.
#[derive(Clone, Debug, PartialEq)]
pub struct UpstreamLog {
    pub target: Option<UpstreamTarget>,
    pub deliveries: Vec<Delivery>,
    pub attempts: Vec<Attempt>,
    pub received: Vec<Received>,
}

/// `upstream set`: checks and stores where reports go; returns how many
/// deliveries the old target refused and are queued again.
pub async fn set_target(hub: &HubState, req: TargetInput) -> Result<u32, UpstreamError> {
    let url = check_url(&req.url)?;
    let token = req.token.trim();
    if token.chars().count() > MAX_TOKEN_CHARS {
        return Err(UpstreamError::Token(Why("it is too long", "quá dài")));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(UpstreamError::Token(Why(
            "use printable ASCII characters without spaces",
            "chỉ dùng ký tự ASCII in được, không có dấu cách",
        )));
    }
    let ca_pem = req.ca_pem.trim();
    if !ca_pem.is_empty() {
        deliver::ca_certificates(ca_pem).map_err(UpstreamError::Ca)?;
    }
    let target = UpstreamTarget {
        url,
        token: (!token.is_empty()).then(|| token.to_string()),
        ca_pem: (!ca_pem.is_empty()).then(|| ca_pem.to_string()),
        set_at: coso_domain::clock::now(),
    };
    // A client must build with this CA before it is accepted.
    deliver::client(&target, std::time::Duration::from_secs(1)).map_err(UpstreamError::Ca)?;
    hub.store.set_upstream_target(&target).await?;
    // What the old target refused (a wrong token, a moved endpoint) is tried
    // again at the new one.
    let requeued = hub.store.requeue_failed(Utc::now()).await?;
    tracing::info!(url = %target.url, requeued, "upstream set");
    // Schedule triggers that came due while no target was set fire now.
    schedule_soon();
    Ok(u32::try_from(requeued).unwrap_or(u32::MAX))
}

/// Compiles the three files a delivery carries.
fn compile_payload(
    hub: &HubState,
    period: &Period,
    entries: &[UnitEntry],
) -> Result<Payload, UpstreamError> {
    let catalog = hub.docs.catalog();
    let notes = hub.store.ward_notes(&period.code)?;
    let one = |format: Format| {
        reporting::compile(
            &hub.config.file.letterhead,
            &catalog,
            period,
            entries,
            &notes,
            format,
        )
        .map_err(|e| UpstreamError::Compile {
            period: period.code.clone(),
            reason: e.to_string(),
        })
    };
    Ok(Payload {
        report_json: one(Format::Json)?,
        docx: one(Format::Docx)?,
        xlsx: one(Format::Xlsx)?,
    })
}

/// Queues a delivery of the period's report (unless the latest revision
/// already carries the same content), flushed before it returns.
pub async fn push(
    hub: &HubState,
    period: &Period,
    entries: &[UnitEntry],
    trigger: Trigger,
) -> Result<Pushed, UpstreamError> {
    if hub.store.upstream_target()?.is_none() {
        return Err(UpstreamError::NotConfigured);
    }
    let payload = compile_payload(hub, period, entries)?;
    let content = payload::content_sha256(&payload.report_json);
    let ward = hub.config.file.ward.clone();
    let code = period.code.to_string();
    let key = |reused: Option<u64>| payload::idempotency_key(&ward, &code, &content, reused);
    let now = coso_domain::clock::now();
    let outcome = hub
        .store
        .enqueue_delivery(
            NewDelivery {
                period: &period.code,
                content_sha256: &content,
                trigger,
                payload: &payload,
                now,
                first_attempt_at: Utc::now(),
            },
            |hist| revision::plan(hist, &content, key),
        )
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
    Ok(Pushed {
        revision: d.revision,
        idempotency_key: d.idempotency_key.clone(),
        state,
        unchanged: !matches!(outcome, Enqueued::New(_)),
    })
}

/// `upstream log`: everything the store holds about delivery.
pub fn log(hub: &HubState) -> Result<UpstreamLog, UpstreamError> {
    let s = &hub.store;
    Ok(UpstreamLog {
        target: s.upstream_target()?,
        deliveries: s.deliveries()?,
        attempts: s.attempts()?,
        received: s.received_all()?,
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
            assert_eq!(
                check_url(bad).unwrap_err().kind(),
                ErrorKind::Invalid,
                "{bad}"
            );
        }
    }
}

#[cfg(test)]
mod push_tests {
    use super::*;

    #[tokio::test]
    async fn push_queues_once_per_content_and_needs_a_target() {
        let dir = tempfile::tempdir().unwrap();
        let hub = crate::testing::hub(dir.path(), |_| {}).await;
        let period = hub
            .docs
            .calendar()
            .period(&"2026-H1".parse().unwrap())
            .unwrap();
        let e = push(&hub, &period, &[], Trigger::Manual).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Precondition);

        let bad = TargetInput {
            url: "http://sonoivu.example.vn/api".into(),
            ..Default::default()
        };
        assert_eq!(
            set_target(&hub, bad).await.unwrap_err().kind(),
            ErrorKind::Invalid
        );
        let bad_ca = TargetInput {
            url: "https://sonoivu.example.vn/api".into(),
            ca_pem: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n".into(),
            ..Default::default()
        };
        assert_eq!(
            set_target(&hub, bad_ca).await.unwrap_err().kind(),
            ErrorKind::Invalid
        );
        let ok = TargetInput {
            url: "https://sonoivu.example.vn/api/v1/reports".into(),
            token: "s3cret".into(),
            ca_pem: String::new(),
        };
        set_target(&hub, ok).await.unwrap();

        let first = push(&hub, &period, &[], Trigger::Manual).await.unwrap();
        assert_eq!(
            (first.revision, first.state, first.unchanged),
            (1, "queued", false)
        );
        let again = push(&hub, &period, &[], Trigger::Manual).await.unwrap();
        assert_eq!(again.idempotency_key, first.idempotency_key);
        assert!(again.unchanged);

        let log = log(&hub).unwrap();
        let target = log.target.as_ref().unwrap();
        assert_eq!(target.url, "https://sonoivu.example.vn/api/v1/reports");
        assert!(target.token.is_some() && target.ca_pem.is_none());
        assert_eq!(log.deliveries.len(), 1);
        let d = &log.deliveries[0];
        assert_eq!(d.state, crate::store::outbox::DeliveryState::Queued);
        // The key is the documented function of ward, period and content.
        assert_eq!(
            d.idempotency_key,
            payload::idempotency_key("Phường Gia Viên", "2026-H1", &d.content_sha256, None)
        );
        let id = hub.store.deliveries().unwrap()[0].id;
        let p = hub.store.payload(id).unwrap().unwrap();
        assert_eq!(payload::content_sha256(&p.report_json), d.content_sha256);
        assert!(p.docx.starts_with(b"PK") && p.xlsx.starts_with(b"PK"));
    }
}
