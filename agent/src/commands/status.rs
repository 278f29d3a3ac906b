//! `status`: the unit, the hub, the last sync, the changes waiting to be sent,
//! and the periods open now with their deadlines.

use std::fmt::Write as _;

use chrono::Datelike;
use coso_domain::calendar::{Period, vietnam};
use coso_domain::{Lang, ReportState};
use serde_json::json;

use super::Ctx;
use crate::error::AgentError;
use crate::messages::{day_vn, state_name, time_vn};
use crate::output::write_json;

pub(crate) fn status(ctx: &mut Ctx<'_>) -> Result<(), AgentError> {
    let lang = ctx.lang;
    let identity = ctx.store.identity()?;
    let head = ctx.store.head_seq()?;
    let sync = ctx.store.sync_state()?;
    let (catalog_version, _) = ctx.store.catalog()?;
    let (calendar_version, calendar) = ctx.store.calendar()?;
    let state = ctx.state()?;
    let now = ctx.now;
    let pending = head.saturating_sub(sync.acked_seq);
    let open = calendar.open_periods(now);
    // When nothing is open (between the annual deadline and the next
    // window), show the next period so the officer knows what comes.
    let next: Option<Period> = if open.is_empty() {
        let year = now.with_timezone(&vietnam()).year();
        let mut all: Vec<Period> = [year, year + 1]
            .into_iter()
            .flat_map(|y| calendar.periods_of_year(y))
            .filter(|p| p.due > now)
            .collect();
        all.sort_by_key(|p| p.due);
        all.into_iter().next()
    } else {
        None
    };
    let period_json = |p: &Period| {
        json!({
            "period": p.code,
            "title": p.title,
            "due": p.due.to_rfc3339(),
            "due_day": p.due_day(),
            "days_left": p.days_left(now),
            "window": {"start": p.window_start, "end": p.window_end},
            "state": state.state(&p.code).as_str(),
        })
    };
    let submissions: Vec<serde_json::Value> = state
        .submissions
        .iter()
        .map(|(code, s)| {
            json!({
                "period": code,
                "state": state.state(code).as_str(),
                "submitted_at": s.submitted_at.to_rfc3339(),
                "review_comment": state.reviews.get(code).map(|r| r.reason.clone()).filter(|r| !r.is_empty()),
            })
        })
        .collect();
    if ctx.json {
        let doc = json!({
            "initialised": identity.is_some(),
            "unit": identity.as_ref().map(|i| json!({
                "code": i.unit.code, "name": i.unit.name, "kind": i.unit.kind,
            })),
            "hub": identity.as_ref().and_then(|i| i.hub.as_ref()).map(|h| json!({
                "addr": h.addr,
                "fingerprint": hex::encode(h.fingerprint),
                "enrolled_at": h.enrolled_at.to_rfc3339(),
            })),
            "ward": identity.as_ref().and_then(|i| i.ward.clone()),
            "data_dir": ctx.data_dir,
            "head_seq": head,
            "acked_seq": sync.acked_seq,
            "pending_changes": pending,
            "last_sync": sync.last_sync.map(|t| t.to_rfc3339()),
            "last_error": sync.last_error,
            "activities": state.activities.len(),
            "catalog_version": catalog_version,
            "calendar_version": calendar_version,
            "open_periods": open.iter().map(period_json).collect::<Vec<_>>(),
            "next_period": next.as_ref().map(period_json),
            "submissions": submissions,
        });
        write_json(ctx.out, &doc)?;
        return Ok(());
    }
    let mut s = String::new();
    match &identity {
        None => {
            let _ = writeln!(
                s,
                "{}",
                lang.pick(
                    "Đơn vị: chưa thiết lập. Chạy `coso-agent enroll LINK` hoặc `coso-agent init`.",
                    "Unit: not set up. Run `coso-agent enroll LINK` or `coso-agent init`."
                )
            );
        }
        Some(i) => {
            let kind = match lang {
                Lang::Vi => i.unit.kind.name_vi().to_string(),
                Lang::En => i.unit.kind.to_string(),
            };
            let _ = writeln!(
                s,
                "{}: {} ({}, {kind})",
                lang.pick("Đơn vị", "Unit"),
                i.unit.name,
                i.unit.code
            );
            let hub = match &i.hub {
                Some(h) => format!(
                    "{} ({} {})",
                    h.addr,
                    lang.pick("ghi danh lúc", "enrolled at"),
                    time_vn(h.enrolled_at)
                ),
                None => lang
                    .pick(
                        "chưa ghi danh (làm việc không cần mạng)",
                        "not enrolled (working offline)",
                    )
                    .to_string(),
            };
            let _ = writeln!(s, "{}: {hub}", lang.pick("Máy chủ phường", "Ward hub"));
        }
    }
    let last = match sync.last_sync {
        Some(t) => time_vn(t),
        None => lang.pick("chưa lần nào", "never").to_string(),
    };
    let _ = writeln!(
        s,
        "{}: {last}",
        lang.pick("Đồng bộ thành công lần cuối", "Last successful sync")
    );
    if let Some(e) = &sync.last_error {
        let _ = writeln!(
            s,
            "{}: {e}",
            lang.pick("Lỗi đồng bộ gần nhất", "Last sync error")
        );
    }
    let _ = match lang {
        Lang::Vi => writeln!(
            s,
            "Thay đổi chờ gửi: {pending} (đã ghi {head}, phường đã nhận {})",
            sync.acked_seq
        ),
        Lang::En => writeln!(
            s,
            "Changes waiting to be sent: {pending} (recorded {head}, acknowledged {})",
            sync.acked_seq
        ),
    };
    let _ = writeln!(
        s,
        "{}: {}",
        lang.pick("Số hoạt động đã ghi", "Activities recorded"),
        state.activities.len()
    );
    let describe = |p: &Period| {
        let left = p.days_left(now);
        let when = match lang {
            Lang::Vi => format!("trước 00:00 ngày {} (còn {left} ngày)", day_vn(p.due_day())),
            Lang::En => format!("before 00:00 on {} ({left} days left)", day_vn(p.due_day())),
        };
        format!(
            "  {}  {}: {when}; {}",
            p.code,
            p.title,
            state_name(state.state(&p.code), lang)
        )
    };
    if open.is_empty() {
        let _ = writeln!(
            s,
            "{}",
            lang.pick(
                "Không có kỳ báo cáo nào đang mở.",
                "No reporting period is open."
            )
        );
        if let Some(p) = &next {
            let _ = writeln!(
                s,
                "{}:\n{}",
                lang.pick("Kỳ tiếp theo", "Next period"),
                describe(p)
            );
        }
    } else {
        let _ = writeln!(s, "{}:", lang.pick("Kỳ báo cáo đang mở", "Open periods"));
        for p in &open {
            let _ = writeln!(s, "{}", describe(p));
        }
    }
    let returned: Vec<String> = state
        .submissions
        .keys()
        .filter(|c| state.state(c) == ReportState::Returned)
        .map(|c| c.to_string())
        .collect();
    if !returned.is_empty() {
        let _ = writeln!(
            s,
            "{}: {}",
            lang.pick(
                "Báo cáo bị phường trả lại, cần sửa và nộp lại",
                "Reports returned by the ward, to fix and submit again"
            ),
            returned.join(", ")
        );
    }
    let text = s.trim_end().to_string();
    ctx.say(&text, &text)
}
