//! `status`: the unit, the hub, the last sync, the changes waiting to be sent,
//! and the periods open now with their deadlines. What it shows is read by
//! [`crate::query::StatusView`], which the web app's home page shares; this
//! renders it for the CLI.

use std::fmt::Write as _;
use std::path::PathBuf;

use coso_domain::Lang;
use coso_domain::calendar::Period;
use serde_json::json;

use super::Ctx;
use crate::error::AgentError;
use crate::messages::{Label, due_in_list, kind_name, never, no_open_period, state_name, time_vn};
use crate::output::{Render, json_text};
use crate::query::StatusView;

/// What `status` shows: the shared view and the data dir it was read from.
#[derive(Debug, Clone)]
pub struct Status {
    pub view: StatusView,
    pub data_dir: PathBuf,
}

pub(crate) fn status(ctx: &Ctx<'_>) -> Result<Status, AgentError> {
    Ok(Status {
        view: StatusView::read(&ctx.store, ctx.now)?,
        data_dir: ctx.data_dir.to_path_buf(),
    })
}

impl Status {
    fn period_json(&self, p: &Period) -> serde_json::Value {
        json!({
            "period": p.code,
            "title": p.title,
            "due": p.due.to_rfc3339(),
            "due_day": p.due_day(),
            "days_left": p.days_left(self.view.now),
            "window": {"start": p.window_start, "end": p.window_end},
            "state": self.view.state.state(&p.code).as_str(),
        })
    }
}

impl Render for Status {
    fn json(&self, _lang: Lang) -> Option<String> {
        let v = &self.view;
        let (identity, state, sync) = (&v.identity, &v.state, &v.sync);
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
            "data_dir": self.data_dir,
            "head_seq": v.head,
            "acked_seq": sync.acked_seq,
            "pending_changes": v.pending(),
            "last_sync": sync.last_sync.map(|t| t.to_rfc3339()),
            "last_error": sync.last_error,
            "activities": state.activities.len(),
            "catalog_version": v.catalog_version,
            "calendar_version": v.calendar_version,
            "open_periods": v.open.iter().map(|p| self.period_json(p)).collect::<Vec<_>>(),
            "next_period": v.next.as_ref().map(|p| self.period_json(p)),
            "submissions": submissions,
        });
        Some(json_text(&doc))
    }

    fn text(&self, lang: Lang) -> String {
        let v = &self.view;
        let (state, sync, now, head) = (&v.state, &v.sync, v.now, v.head);
        let pending = v.pending();
        let mut s = String::new();
        match &v.identity {
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
                let kind = kind_name(i.unit.kind, lang);
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
                let _ = writeln!(s, "{}: {hub}", Label::WardHub.text(lang));
            }
        }
        let last = match sync.last_sync {
            Some(t) => time_vn(t),
            None => never(lang).to_string(),
        };
        let _ = writeln!(s, "{}: {last}", Label::LastSync.text(lang));
        if let Some(e) = &sync.last_error {
            let _ = writeln!(s, "{}: {e}", Label::LastSyncError.text(lang));
        }
        let acked = sync.acked_seq;
        let counts = match lang {
            Lang::Vi => format!("đã ghi {head}, phường đã nhận {acked}"),
            Lang::En => format!("recorded {head}, acknowledged {acked}"),
        };
        let _ = writeln!(
            s,
            "{}: {pending} ({counts})",
            Label::PendingChanges.text(lang)
        );
        let _ = writeln!(
            s,
            "{}: {}",
            lang.pick("Số hoạt động đã ghi", "Activities recorded"),
            state.activities.len()
        );
        let describe = |p: &Period| {
            let when = due_in_list(p, now, lang);
            format!(
                "  {}  {}: {when}; {}",
                p.code,
                p.title,
                state_name(state.state(&p.code), lang)
            )
        };
        if v.open.is_empty() {
            let _ = writeln!(s, "{}", no_open_period(lang));
            if let Some(p) = &v.next {
                let _ = writeln!(
                    s,
                    "{}:\n{}",
                    lang.pick("Kỳ tiếp theo", "Next period"),
                    describe(p)
                );
            }
        } else {
            let _ = writeln!(s, "{}:", lang.pick("Kỳ báo cáo đang mở", "Open periods"));
            for p in &v.open {
                let _ = writeln!(s, "{}", describe(p));
            }
        }
        let returned = v.returned();
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
        s.trim_end().to_string()
    }
}
