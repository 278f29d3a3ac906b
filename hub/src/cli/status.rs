//! `coso-hub status --period P`: who has reported, on time or late (or, at
//! a city-level hub, which wards delivered).

use std::io::Write;

use clap::Args;
use coso_domain::Lang;
use coso_domain::{PeriodCode, Timeliness, words};
use coso_proto::pb;
use coso_report::city::{WardCompleteness, WardRow, WardTotals, WardsStatus};
use coso_report::{Completeness, Status, StatusRow, UnitStatus};
use serde_json::json;

use super::{CliError, Ctx, fmt};
use coso_ward::input;
use coso_ward::scheduled_backup::{BackupStanding, Schedule};

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

/// What the hub said, as the report crate's own types: rebuilt from the
/// typed fields, or read from the JSON document a hub before 0.2 sends
/// instead.
enum Said {
    Units(Status),
    Wards(WardsStatus),
}

fn bad(what: impl std::fmt::Display) -> CliError {
    CliError::BadReply(what.to_string())
}

fn said(r: &pb::StatusResponse) -> Result<Said, CliError> {
    let Some(t) = &r.totals else {
        let d: serde_json::Value = serde_json::from_str(&r.status_json).map_err(bad)?;
        return Ok(
            if d.get("scope").and_then(|s| s.as_str()) == Some(coso_report::city::SCOPE) {
                Said::Wards(serde_json::from_value(d).map_err(bad)?)
            } else {
                Said::Units(serde_json::from_value(d).map_err(bad)?)
            },
        );
    };
    let p = r.period.clone().unwrap_or_default();
    let period: PeriodCode = p.code.parse().map_err(bad)?;
    if let Some(w) = &r.wards {
        let wt = w.totals.unwrap_or_default();
        return Ok(Said::Wards(WardsStatus {
            scope: coso_report::city::SCOPE.into(),
            period,
            title: p.title,
            due: r.due.clone(),
            summary: r.summary.clone(),
            summary_en: r.summary_en.clone(),
            totals: WardTotals {
                wards: wt.wards,
                units_expected: wt.units_expected,
                units_reported: wt.units_reported,
                on_time: wt.on_time,
                late: wt.late,
                missing: wt.missing,
            },
            wards: w
                .wards
                .iter()
                .map(|row| WardRow {
                    ward: row.ward.clone(),
                    revision: row.revision,
                    received_at: row.received_at.clone(),
                    content_sha256: row.content_sha256.clone(),
                    completeness: WardCompleteness {
                        expected: row.expected,
                        reported: row.reported,
                        on_time: row.on_time,
                        late: row.late,
                        missing: row.missing,
                    },
                })
                .collect(),
            units: Vec::new(),
        }));
    }
    let n = |v: u32| v as usize;
    let mut units = Vec::with_capacity(r.units.len());
    for u in &r.units {
        let unit = u.unit.clone().unwrap_or_default();
        let optional = |s: &str| (!s.is_empty()).then(|| s.to_string());
        units.push(StatusRow {
            unit: unit.code.parse().map_err(bad)?,
            name: unit.name,
            kind: unit.kind.parse().map_err(bad)?,
            state: UnitStatus::parse(&u.state)
                .ok_or_else(|| bad(format!("unknown state {:?}", u.state)))?,
            submitted_at: optional(&u.submitted_at),
            timeliness: Timeliness::parse(&u.timeliness)
                .ok_or_else(|| bad(format!("unknown timeliness {:?}", u.timeliness)))?,
            counted: u.counted,
            activities: u.activities,
            review_reason: optional(&u.review_reason),
            diverged: u.diverged,
        });
    }
    Ok(Said::Units(Status {
        period,
        title: p.title,
        due: r.due.clone(),
        summary: r.summary.clone(),
        summary_en: r.summary_en.clone(),
        totals: Completeness {
            expected: n(t.expected),
            reported: n(t.reported),
            on_time: n(t.on_time),
            late: n(t.late),
            missing: n(t.missing),
            submitted: n(t.submitted),
            accepted: n(t.accepted),
            returned: n(t.returned),
            draft: n(t.draft),
            not_received: n(t.not_received),
        },
        units,
    }))
}

/// The hub's scheduled backups as the ward's own type (whose sentence the
/// dashboard shows too); `None` from a hub that does not say.
fn backups(r: &pb::StatusResponse) -> Option<BackupStanding> {
    let b = r.backup.as_ref()?;
    let schedule = b.scheduled.then(|| Schedule {
        every_hours: b.every_hours,
        keep: b.keep,
        dir: b.dir.clone().into(),
    });
    let last = chrono::DateTime::parse_from_rfc3339(&b.last_at)
        .ok()
        .map(|at| (at.with_timezone(&chrono::Utc), b.last_file.clone().into()));
    Some(BackupStanding {
        dir: schedule.as_ref().map(|s| s.dir.clone()),
        schedule,
        last,
        failures: b.failures,
        last_error: (!b.last_error.is_empty()).then(|| b.last_error.clone()),
    })
}

/// `"backup"` of `status --json`.
fn backup_json(b: &BackupStanding, now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    let s = b.schedule.as_ref();
    json!({
        "scheduled": s.is_some(),
        "every_hours": s.map(|s| s.every_hours),
        "keep": s.map(|s| s.keep),
        "dir": b.dir.as_ref().map(|d| d.display().to_string()),
        "last_at": b.last.as_ref().map(|(at, _)| at.to_rfc3339()),
        "last_file": b.last.as_ref().map(|(_, f)| f.display().to_string()),
        "age_seconds": b.age_secs(now),
        "failures": b.failures,
        "last_error": b.last_error,
    })
}

/// The backup lines under `status`: the sentence, where they go, and why
/// the latest attempt failed.
fn backup_text(out: &mut dyn Write, b: &BackupStanding, ctx: &Ctx) -> Result<(), CliError> {
    w!(out);
    w!(out, "{}", b.sentence(chrono::Utc::now(), ctx.lang));
    if let Some(d) = &b.dir {
        w!(
            out,
            "{} {}",
            ctx.t("Thư mục sao lưu:", "Backup directory:"),
            d.display()
        );
    }
    if let Some(e) = &b.last_error {
        w!(
            out,
            "{} {e}",
            ctx.t(
                "Lần sao lưu gần nhất thất bại:",
                "The latest backup failed:"
            )
        );
    }
    Ok(())
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
    let said = said(&r)?;
    if ctx.json {
        // Printed as a `Value`, keys in order, as `status --json` always was.
        let mut doc = match &said {
            Said::Units(s) => serde_json::to_value(s),
            Said::Wards(s) => serde_json::to_value(s),
        }
        .map_err(bad)?;
        if let (Some(b), Some(o)) = (backups(&r), doc.as_object_mut()) {
            o.insert("backup".into(), backup_json(&b, chrono::Utc::now()));
        }
        w!(out, "{doc}");
        return Ok(());
    }
    let s = match said {
        Said::Wards(rolled) => {
            write!(out, "{}", rolled.to_text(ctx.lang)).map_err(CliError::Output)?;
            if let Some(b) = backups(&r) {
                backup_text(out, &b, ctx)?;
            }
            return Ok(());
        }
        Said::Units(s) => s,
    };
    // The hub's own sentence; the same words from its counts otherwise.
    let summary = Some(match ctx.lang {
        Lang::Vi => s.summary.clone(),
        Lang::En => s.summary_en.clone(),
    })
    .filter(|t| !t.is_empty())
    .unwrap_or_else(|| s.totals.sentence(ctx.lang));
    match ctx.lang {
        Lang::Vi => {
            w!(
                out,
                "{} — {} (hạn trước ngày {})",
                p.code,
                p.title,
                fmt::vn_day(&p.due)
            );
            w!(out, "{summary}");
        }
        Lang::En => {
            w!(
                out,
                "{} — {} (due before {})",
                p.code,
                p.title,
                fmt::vn_day(&p.due)
            );
            w!(out, "{summary}");
        }
    }
    let backup = backups(&r);
    if s.units.is_empty() {
        if let Some(b) = &backup {
            backup_text(out, b, ctx)?;
        }
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
    for row in &s.units {
        let code = row.unit.to_string();
        // A diverged unit's row says so beside its state: what the hub
        // holds for it may be incomplete until it recovers.
        let state = words::state(row.state.report_state(), ctx.lang);
        let state = if row.diverged {
            diverged.push(code.clone());
            format!("{state} ({})", ctx.t("LỆCH DỮ LIỆU", "DIVERGED"))
        } else {
            state.to_string()
        };
        rows.push(vec![
            code,
            row.name.clone(),
            state,
            fmt::vn_time(row.submitted_at.as_deref().unwrap_or_default()),
            words::timeliness(row.timeliness, ctx.lang).to_string(),
            row.review_reason.clone().unwrap_or_default(),
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
    if let Some(b) = &backup {
        backup_text(out, b, ctx)?;
    }
    Ok(())
}
