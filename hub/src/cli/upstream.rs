//! `coso-hub upstream set|push|log|received`: where the consolidated report
//! goes, delivering it now, and every delivery and attempt (text or `--json`).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use coso_domain::Lang;
use coso_proto::pb;
use serde_json::json;

use super::{CliError, Ctx, fmt};
use coso_ward::input;

#[derive(Debug, Subcommand)]
pub enum UpstreamCommand {
    /// Where the consolidated report is delivered: URL, bearer token, extra CA.
    ///
    /// Example: coso-hub upstream set --url https://sonoivu.example.vn/api/v1/reports --token T --ca-file ca.pem
    Set(SetArgs),
    /// Queue a delivery of the period's report now (same content: not sent twice).
    ///
    /// Example: coso-hub upstream push --period 2026-H1
    Push {
        #[arg(long)]
        period: String,
    },
    /// Every delivery and every attempt, oldest first.
    Log,
    /// Reports this hub received from ward hubs (a city-level hub).
    Received,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// https://… (http:// only to this machine).
    #[arg(long)]
    pub url: String,
    /// The upstream's bearer token, or set COSO_UPSTREAM_TOKEN. (On this
    /// machine `--token TOKEN` works too; with --hub, --token is the hub's
    /// admin token.)
    #[arg(
        long,
        env = "COSO_UPSTREAM_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub upstream_token: Option<String>,
    /// PEM file of a CA to trust besides the system's (for a private CA).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

/// The attempt's detail, with what to do about a refused token in Vietnamese.
fn attempt_detail(a: &pb::UpstreamAttempt, lang: Lang) -> String {
    match (lang, a.http_status) {
        (Lang::Vi, 401 | 403) => format!(
            "cấp trên từ chối mã xác thực (token); đặt lại bằng coso-hub upstream set --token — {}",
            a.detail
        ),
        (Lang::Vi, 0) if a.outcome == "retry" => {
            format!("không kết nối được cấp trên — {}", a.detail)
        }
        _ => a.detail.clone(),
    }
}

/// Runs an upstream command against the hub.
pub(super) async fn run(
    ctx: &Ctx,
    out: &mut dyn Write,
    cmd: UpstreamCommand,
) -> Result<(), CliError> {
    let (lang, json_out) = (ctx.lang, ctx.json);
    let mut admin = ctx.admin()?;
    match cmd {
        UpstreamCommand::Set(a) => {
            // On this machine a typed `--token` is the upstream's token too.
            let token = a
                .upstream_token
                .or_else(|| ctx.local_token.clone())
                .unwrap_or_default();
            let ca_pem = match &a.ca_file {
                Some(p) => std::fs::read_to_string(p).map_err(|source| CliError::Io {
                    path: p.clone(),
                    source,
                })?,
                None => String::new(),
            };
            let (token_set, ca_set) = (!token.trim().is_empty(), !ca_pem.is_empty());
            let r = admin
                .set_upstream(pb::SetUpstreamRequest {
                    url: a.url.clone(),
                    token,
                    ca_pem,
                })
                .await?
                .into_inner();
            if json_out {
                w!(
                    out,
                    "{}",
                    json!({"url": a.url.trim(), "token_set": token_set, "ca_set": ca_set,
                           "requeued": r.requeued})
                );
            } else {
                let with = match (lang, token_set, ca_set) {
                    (Lang::Vi, true, true) => " (có mã xác thực, có CA riêng)",
                    (Lang::Vi, true, false) => " (có mã xác thực)",
                    (Lang::Vi, false, true) => " (không có mã xác thực, có CA riêng)",
                    (Lang::Vi, false, false) => " (không có mã xác thực)",
                    (Lang::En, true, true) => " (with a token and a private CA)",
                    (Lang::En, true, false) => " (with a token)",
                    (Lang::En, false, true) => " (no token, with a private CA)",
                    (Lang::En, false, false) => " (no token)",
                };
                w!(
                    out,
                    "{} {}{with}",
                    lang.pick("Đã đặt nơi nhận báo cáo cấp trên:", "Upstream set:"),
                    a.url.trim()
                );
                if r.requeued > 0 {
                    match lang {
                        Lang::Vi => w!(
                            out,
                            "{} lần gửi bị từ chối trước đây được xếp hàng gửi lại.",
                            r.requeued
                        ),
                        Lang::En => w!(
                            out,
                            "{} previously refused deliveries are queued again.",
                            r.requeued
                        ),
                    }
                }
            }
        }
        UpstreamCommand::Push { period } => {
            let code = input::period_code(&period)?;
            let r = admin
                .push_upstream(pb::PushUpstreamRequest {
                    period: code.to_string(),
                })
                .await?
                .into_inner();
            if json_out {
                w!(
                    out,
                    "{}",
                    json!({"period": code.to_string(), "revision": r.revision,
                           "idempotency_key": r.idempotency_key, "state": r.state,
                           "unchanged": r.unchanged})
                );
                return Ok(());
            }
            let n = r.revision;
            match (lang, r.state.as_str(), r.unchanged) {
                (Lang::Vi, "delivered", _) => w!(
                    out,
                    "Báo cáo kỳ {code} không thay đổi so với lần gửi số {n}, đã được cấp trên nhận; không gửi lại."
                ),
                (Lang::Vi, _, true) => w!(
                    out,
                    "Báo cáo kỳ {code} không thay đổi; lần gửi số {n} đang chờ gửi. Xem: coso-hub upstream log"
                ),
                (Lang::Vi, _, false) => w!(
                    out,
                    "Đã xếp hàng gửi báo cáo kỳ {code} lên cấp trên (lần gửi số {n}). Xem kết quả: coso-hub upstream log"
                ),
                (Lang::En, "delivered", _) => w!(
                    out,
                    "The {code} report is unchanged since revision {n}, which the upstream has; not sent again."
                ),
                (Lang::En, _, true) => w!(
                    out,
                    "The {code} report is unchanged; revision {n} is waiting to be sent. See coso-hub upstream log"
                ),
                (Lang::En, _, false) => w!(
                    out,
                    "Queued the {code} report for delivery (revision {n}). See coso-hub upstream log"
                ),
            }
            w!(out, "Idempotency-Key: {}", r.idempotency_key);
        }
        UpstreamCommand::Log => {
            let r = admin
                .upstream_log(pb::UpstreamLogRequest {})
                .await?
                .into_inner();
            if json_out {
                let deliveries: Vec<_> = r
                    .deliveries
                    .iter()
                    .map(|d| {
                        json!({"period": d.period, "revision": d.revision,
                               "idempotency_key": d.idempotency_key, "state": d.state,
                               "trigger": d.trigger, "queued_at": fmt::json_time(&d.queued_at),
                               "attempts": d.attempts,
                               "next_attempt_at": fmt::json_time(&d.next_attempt_at),
                               "content_sha256": d.content_sha256})
                    })
                    .collect();
                let attempts: Vec<_> = r
                    .attempts
                    .iter()
                    .map(|a| {
                        json!({"period": a.period, "revision": a.revision,
                               "idempotency_key": a.idempotency_key, "at": fmt::json_time(&a.at),
                               "outcome": a.outcome, "http_status": a.http_status,
                               "detail": a.detail})
                    })
                    .collect();
                w!(
                    out,
                    "{}",
                    json!({"url": if r.url.is_empty() { serde_json::Value::Null } else { json!(r.url) },
                           "token_set": r.token_set, "ca_set": r.ca_set,
                           "deliveries": deliveries, "attempts": attempts})
                );
                return Ok(());
            }
            if r.url.is_empty() {
                w!(
                    out,
                    "{}",
                    lang.pick(
                        "Chưa đặt nơi nhận báo cáo cấp trên (coso-hub upstream set --url URL).",
                        "No upstream set (coso-hub upstream set --url URL)."
                    )
                );
            } else {
                w!(out, "{} {}", lang.pick("Nơi nhận:", "Upstream:"), r.url);
            }
            if r.deliveries.is_empty() {
                w!(
                    out,
                    "{}",
                    lang.pick("Chưa có lần gửi nào.", "Nothing delivered yet.")
                );
                return Ok(());
            }
            w!(out);
            let mut rows = vec![
                [
                    lang.pick("KỲ", "PERIOD"),
                    lang.pick("LẦN GỬI", "REVISION"),
                    lang.pick("TRẠNG THÁI", "STATE"),
                    lang.pick("LÝ DO GỬI", "TRIGGER"),
                    lang.pick("SỐ LẦN THỬ", "ATTEMPTS"),
                    lang.pick("THỬ LẠI LÚC", "NEXT ATTEMPT"),
                ]
                .map(String::from)
                .to_vec(),
            ];
            for d in &r.deliveries {
                rows.push(vec![
                    d.period.clone(),
                    d.revision.to_string(),
                    fmt::word(&d.state, lang).to_string(),
                    fmt::word(&d.trigger, lang).to_string(),
                    d.attempts.to_string(),
                    fmt::vn_time(&d.next_attempt_at),
                ]);
            }
            fmt::table(out, &rows)?;
            if r.attempts.is_empty() {
                return Ok(());
            }
            w!(out);
            let mut rows = vec![
                [
                    lang.pick("LÚC", "AT"),
                    lang.pick("KỲ", "PERIOD"),
                    lang.pick("LẦN GỬI", "REVISION"),
                    lang.pick("KẾT QUẢ", "OUTCOME"),
                    "HTTP",
                    lang.pick("CHI TIẾT", "DETAIL"),
                ]
                .map(String::from)
                .to_vec(),
            ];
            for a in &r.attempts {
                rows.push(vec![
                    fmt::vn_time(&a.at),
                    a.period.clone(),
                    a.revision.to_string(),
                    fmt::word(&a.outcome, lang).to_string(),
                    if a.http_status == 0 {
                        "-".into()
                    } else {
                        a.http_status.to_string()
                    },
                    attempt_detail(a, lang),
                ]);
            }
            fmt::table(out, &rows)?;
        }
        UpstreamCommand::Received => {
            let r = admin
                .upstream_log(pb::UpstreamLogRequest {})
                .await?
                .into_inner();
            if json_out {
                let received: Vec<_> = r
                    .received
                    .iter()
                    .map(|x| {
                        json!({"ward": x.ward, "period": x.period, "revision": x.revision,
                               "idempotency_key": x.idempotency_key,
                               "received_at": fmt::json_time(&x.received_at),
                               "content_sha256": x.content_sha256, "bytes": x.bytes})
                    })
                    .collect();
                w!(out, "{}", json!({"received": received}));
                return Ok(());
            }
            if r.received.is_empty() {
                w!(
                    out,
                    "{}",
                    lang.pick(
                        "Chưa nhận báo cáo nào từ cấp dưới.",
                        "No reports received from ward hubs."
                    )
                );
                return Ok(());
            }
            let mut rows = vec![
                [
                    lang.pick("PHƯỜNG", "WARD"),
                    lang.pick("KỲ", "PERIOD"),
                    lang.pick("LẦN GỬI", "REVISION"),
                    lang.pick("NHẬN LÚC", "RECEIVED"),
                    "IDEMPOTENCY-KEY",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for x in &r.received {
                rows.push(vec![
                    x.ward.clone(),
                    x.period.clone(),
                    x.revision.to_string(),
                    fmt::vn_time(&x.received_at),
                    x.idempotency_key.clone(),
                ]);
            }
            fmt::table(out, &rows)?;
        }
    }
    Ok(())
}
