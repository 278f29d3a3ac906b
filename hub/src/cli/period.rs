//! `coso-hub period list|add`: the reporting calendar and ad-hoc requests.

use std::io::Write;

use clap::Subcommand;
use coso_domain::Lang;
use coso_domain::calendar::vietnam;
use coso_proto::pb;
use serde_json::json;

use super::{CliError, Ctx, fmt};
use coso_ward::input;

#[derive(Debug, Subcommand)]
pub enum PeriodCommand {
    List,
    /// Create an ad-hoc reporting request; agents receive it on their next sync.
    Add {
        code: String,
        #[arg(long)]
        title: String,
        /// The report is due before 00:00 of this day, Vietnam time (YYYY-MM-DD).
        #[arg(long, value_name = "YYYY-MM-DD")]
        due: String,
        /// Indicator codes asked for (default: all).
        #[arg(long, value_delimiter = ',', value_name = "CODE,CODE")]
        indicators: Vec<String>,
    },
}

fn period_json(p: &pb::Period) -> serde_json::Value {
    let due_day = chrono::DateTime::parse_from_rfc3339(&p.due)
        .map(|t| t.with_timezone(&vietnam()).date_naive().to_string())
        .unwrap_or_default();
    json!({"code": p.code, "title": p.title, "kind": p.kind, "window_start": p.window_start,
           "window_end": p.window_end, "due": fmt::json_time(&p.due), "due_day": due_day, "indicators": p.indicators})
}

pub(super) async fn run(
    ctx: &Ctx,
    out: &mut dyn Write,
    cmd: PeriodCommand,
) -> Result<(), CliError> {
    match cmd {
        PeriodCommand::List => {
            let r = ctx
                .admin()?
                .list_periods(pb::ListPeriodsRequest {})
                .await?
                .into_inner();
            if ctx.json {
                let ps: Vec<_> = r.periods.iter().map(period_json).collect();
                w!(out, "{}", json!({"periods": ps}));
            } else {
                let mut rows = vec![
                    [
                        ctx.t("MÃ", "CODE"),
                        ctx.t("TIÊU ĐỀ", "TITLE"),
                        ctx.t("SỐ LIỆU", "WINDOW"),
                        ctx.t("HẠN (TRƯỚC NGÀY)", "DUE (BEFORE)"),
                        ctx.t("CHỈ TIÊU", "INDICATORS"),
                    ]
                    .map(String::from)
                    .to_vec(),
                ];
                for p in &r.periods {
                    rows.push(vec![
                        p.code.clone(),
                        p.title.clone(),
                        format!("{} – {}", p.window_start, p.window_end),
                        fmt::vn_day(&p.due),
                        if p.indicators.is_empty() {
                            ctx.t("tất cả", "all").to_string()
                        } else {
                            p.indicators.join(",")
                        },
                    ]);
                }
                fmt::table(out, &rows)?;
            }
        }
        PeriodCommand::Add {
            code,
            title,
            due,
            indicators,
        } => {
            let code = input::period_code(&code)?;
            let title = input::title(&title)?;
            let due = input::date("due", &due)?;
            let p = ctx
                .admin()?
                .add_period(pb::AddPeriodRequest {
                    code: code.to_string(),
                    title,
                    due: due.to_string(),
                    indicators,
                })
                .await?
                .into_inner();
            if ctx.json {
                w!(out, "{}", period_json(&p));
            } else {
                match ctx.lang {
                    Lang::Vi => w!(
                        out,
                        "Đã tạo yêu cầu báo cáo đột xuất {} «{}», hạn trước ngày {}. Các đơn vị nhận được ở lần đồng bộ tới.",
                        p.code,
                        p.title,
                        fmt::vn_day(&p.due)
                    ),
                    Lang::En => w!(
                        out,
                        "Created the ad-hoc request {} \"{}\", due before {}. Units receive it on their next sync.",
                        p.code,
                        p.title,
                        fmt::vn_day(&p.due)
                    ),
                }
            }
        }
    }
    Ok(())
}
