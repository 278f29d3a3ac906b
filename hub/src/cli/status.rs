//! `coso-hub status --period P`: who has reported, on time or late (or, at
//! a city-level hub, which wards delivered).

use std::io::Write;

use clap::Args;
use coso_domain::Lang;
use coso_proto::pb;
use serde_json::json;

use super::{CliError, Ctx, fmt};
use coso_ward::input;

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub period: String,
    /// Roll up the reports received from ward hubs (a city-level hub);
    /// automatic on a hub without units of its own.
    #[arg(long)]
    pub wards: bool,
}

pub(super) fn status_json(s: &pb::UnitStatus) -> serde_json::Value {
    let (code, name, kind) = fmt::unit_fields(&s.unit);
    json!({"unit": code, "name": name, "kind": kind, "state": s.state,
           "submitted_at": fmt::json_time(&s.submitted_at), "timeliness": s.timeliness,
           "review_reason": if s.review_reason.is_empty() { serde_json::Value::Null } else { json!(s.review_reason) },
           "diverged": s.diverged})
}

pub(super) async fn run(ctx: &Ctx, out: &mut dyn Write, a: StatusArgs) -> Result<(), CliError> {
    let (period, wards) = (a.period, a.wards);
    let code = input::period_code(&period)?;
    let r = ctx
        .admin()?
        .status(pb::StatusRequest {
            period: code.to_string(),
            wards,
        })
        .await?
        .into_inner();
    let p = r.period.clone().unwrap_or_default();
    // The hub sends the status document the reporting engine built; the
    // fields of the message are the fallback for an older hub.
    let doc: Option<serde_json::Value> = serde_json::from_str(&r.status_json).ok();
    if !ctx.json
        && let Some(d) = &doc
        && d.get("scope").and_then(|s| s.as_str()) == Some(coso_report::city::SCOPE)
        && let Ok(rolled) = serde_json::from_value::<coso_report::city::WardsStatus>(d.clone())
    {
        write!(out, "{}", rolled.to_text(ctx.lang)).map_err(CliError::Output)?;
        return Ok(());
    }
    if ctx.json {
        match &doc {
            Some(d) => w!(out, "{d}"),
            None => {
                let units: Vec<_> = r.units.iter().map(status_json).collect();
                w!(
                    out,
                    "{}",
                    json!({"period": p.code, "title": p.title, "due": fmt::json_time(&p.due),
                           "expected": r.expected, "reported": r.reported, "on_time": r.on_time,
                           "late": r.late, "missing": r.missing, "units": units})
                );
            }
        }
        return Ok(());
    }
    let summary = doc.as_ref().and_then(|d| {
        d.get(ctx.t("summary", "summary_en"))?
            .as_str()
            .map(str::to_string)
    });
    match ctx.lang {
        Lang::Vi => {
            w!(
                out,
                "{} — {} (hạn trước ngày {})",
                p.code,
                p.title,
                fmt::vn_day(&p.due)
            );
            w!(
                out,
                "{}",
                summary.unwrap_or_else(|| format!(
                    "{}/{} đơn vị đã báo cáo, {} đúng hạn, {} muộn, {} chưa báo cáo",
                    r.reported, r.expected, r.on_time, r.late, r.missing
                ))
            );
        }
        Lang::En => {
            w!(
                out,
                "{} — {} (due before {})",
                p.code,
                p.title,
                fmt::vn_day(&p.due)
            );
            w!(
                out,
                "{}",
                summary.unwrap_or_else(|| format!(
                    "{}/{} units reported, {} on time, {} late, {} missing",
                    r.reported, r.expected, r.on_time, r.late, r.missing
                ))
            );
        }
    }
    if r.units.is_empty() {
        return Ok(());
    }
    w!(out);
    let mut rows = vec![
        [
            ctx.t("MÃ", "CODE"),
            ctx.t("TÊN", "NAME"),
            ctx.t("TRẠNG THÁI", "STATE"),
            ctx.t("NHẬN LÚC", "RECEIVED"),
            ctx.t("THỜI HẠN", "TIMELINESS"),
            ctx.t("LÝ DO TRẢ LẠI", "RETURN REASON"),
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut diverged = Vec::new();
    for s in &r.units {
        let (code, name, _) = fmt::unit_fields(&s.unit);
        // A diverged unit's row says so beside its state: what the hub
        // holds for it may be incomplete until it recovers.
        let state = fmt::word(&s.state, ctx.lang);
        let state = if s.diverged {
            diverged.push(code.clone());
            format!("{state} ({})", ctx.t("LỆCH DỮ LIỆU", "DIVERGED"))
        } else {
            state.to_string()
        };
        rows.push(vec![
            code,
            name,
            state,
            fmt::vn_time(&s.submitted_at),
            fmt::word(&s.timeliness, ctx.lang).to_string(),
            s.review_reason.clone(),
        ]);
    }
    fmt::table(out, &rows)?;
    if !diverged.is_empty() {
        w!(out);
        let list = diverged.join(", ");
        match ctx.lang {
            Lang::Vi => w!(
                out,
                "CẢNH BÁO: dữ liệu của {list} trên máy đơn vị đã lệch với dữ liệu phường đã nhận (hai bản sao phần mềm dùng chung khóa truy cập, hoặc một bản sao cũ); đồng bộ của các đơn vị này đã tạm dừng. Xem coso-hub unit show MÃ; cấp liên kết mới: coso-hub unit reissue MÃ, rồi đơn vị chạy coso-agent recover LIÊN_KẾT."
            ),
            Lang::En => w!(
                out,
                "WARNING: the log of {list} diverged from what the ward holds (two copies of one agent sharing its credential, or an older copy); their syncs are stopped. See coso-hub unit show CODE; reissue the link (coso-hub unit reissue CODE), then the unit runs coso-agent recover LINK."
            ),
        }
    }
    Ok(())
}
