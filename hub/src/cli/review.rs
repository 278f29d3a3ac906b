//! `coso-hub review --unit U --period P (--accept | --return R | --reopen R)`:
//! VH-XH's decision on a unit's report; the unit sees it on its next sync.

use std::io::Write;

use clap::{ArgGroup, Args};
use coso_domain::Lang;
use coso_proto::pb;
use serde_json::json;

use super::status::status_json;
use super::{CliError, Ctx};
use coso_ward::Verdict;
use coso_ward::input;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("decision").required(true).args(["accept", "return_reason", "reopen_reason"])))]
pub struct ReviewArgs {
    #[arg(long)]
    pub unit: String,
    #[arg(long)]
    pub period: String,
    /// Accept a submitted report.
    #[arg(long)]
    pub accept: bool,
    /// Return a submitted report with this reason.
    #[arg(long = "return", value_name = "REASON")]
    pub return_reason: Option<String>,
    /// Reopen an accepted report with this reason: the unit sees it returned.
    #[arg(long = "reopen", value_name = "REASON")]
    pub reopen_reason: Option<String>,
}

pub(super) async fn run(ctx: &Ctx, out: &mut dyn Write, a: ReviewArgs) -> Result<(), CliError> {
    let unit = input::unit_code(&a.unit)?;
    let period = input::period_code(&a.period)?;
    // The same check the hub runs, so a bad reason is refused before the
    // call (and the hub checks again for any other client).
    let (decision, reason) = match (a.return_reason, a.reopen_reason) {
        (Some(r), _) => ("return", r),
        (None, Some(r)) => ("reopen", r),
        (None, None) => ("accept", String::new()),
    };
    let verdict = Verdict::parse(decision, &reason)?;
    let reason = match &verdict {
        Verdict::Accept => String::new(),
        Verdict::Return(r) | Verdict::Reopen(r) => r.clone(),
    };
    let r = ctx
        .admin()?
        .review(pb::ReviewRequest {
            unit: unit.to_string(),
            period: period.to_string(),
            decision: decision.into(),
            reason: reason.clone(),
        })
        .await?
        .into_inner();
    let s = r.status.unwrap_or_default();
    if ctx.json {
        let mut v = status_json(&s);
        v["period"] = json!(period.to_string());
        w!(out, "{v}");
        return Ok(());
    }
    match (ctx.lang, &verdict) {
        (Lang::Vi, Verdict::Accept) => w!(out, "Đã chấp nhận báo cáo kỳ {period} của {unit}."),
        (Lang::Vi, Verdict::Return(_)) => w!(
            out,
            "Đã trả lại báo cáo kỳ {period} của {unit} với lý do: {reason}. Đơn vị nhận được ở lần đồng bộ tới."
        ),
        (Lang::Vi, Verdict::Reopen(_)) => w!(
            out,
            "Đã mở lại báo cáo kỳ {period} của {unit} với lý do: {reason}. Đơn vị nhận được ở lần đồng bộ tới và có thể sửa, gửi lại."
        ),
        (Lang::En, Verdict::Accept) => w!(out, "Accepted the {period} report of {unit}."),
        (Lang::En, Verdict::Return(_)) => w!(
            out,
            "Returned the {period} report of {unit} with the reason: {reason}. The unit sees it on its next sync."
        ),
        (Lang::En, Verdict::Reopen(_)) => w!(
            out,
            "Reopened the {period} report of {unit} with the reason: {reason}. The unit sees it on its next sync and can correct and resubmit it."
        ),
    }
    Ok(())
}
