//! The demo: a whole ward on this machine. Starts a hub, enrols the Centre,
//! departments, schools and two dozen residential groups, records a year of
//! their work through real agents, syncs, reviews, and writes the
//! consolidated report in every format.
//!
//! Usage: `cargo run --release -p coso-tests --bin coso-demo [-- OUT_DIR]`

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use coso_tests::ward::{self, Fate, UnitPlan};
use coso_tests::{Agent, Hub, Run, bins};

/// The annual report: due before 00:00 on 10/11/2026 (Vietnam time).
const PERIOD: &str = "2026-Y";
/// The demo's clock: most units send on 5 November, the stragglers on the 12th.
const ON_TIME_NOW: &str = "2026-11-05T09:00:00+07:00";
const LATE_NOW: &str = "2026-11-12T08:30:00+07:00";
const REVIEW_NOW: &str = "2026-11-12T10:00:00+07:00";

fn ok(run: Run) -> Result<Run> {
    if run.output.status.success() {
        Ok(run)
    } else {
        bail!("a step of the demo failed\n{}", run.context())
    }
}

fn main() -> Result<()> {
    let started = Instant::now();
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("coso-demo-{}", std::process::id())));
    if out.exists() {
        bail!("{} already exists; give a new directory", out.display());
    }
    std::fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
    println!("coso demo: phường Gia Viên, báo cáo năm 2026 (kỳ {PERIOD})");
    println!("thư mục: {}", out.display());
    let b = bins();
    println!("binaries: {} , {}", b.hub.display(), b.agent.display());

    let last_day = NaiveDate::from_ymd_opt(2026, 11, 4).context("date")?;
    let plans = ward::generate(2026, 24, last_day);

    // 1. The hub.
    let mut hub = Hub::init_in(
        &out.join("hub"),
        &["--ward", "Phường Gia Viên", "--city", "Thành phố Hải Phòng"],
    );
    hub.env.push(("COSO_NOW".into(), ON_TIME_NOW.into()));
    hub.serve();
    println!("hub: grpc={} http={}", hub.grpc, hub.http);

    // 2. The unit registry from a CSV, with every enrolment link in one file.
    let csv_path = out.join("units.csv");
    let mut csv = String::from("code,name,kind\n");
    for p in &plans {
        csv.push_str(&format!("{},\"{}\",{}\n", p.code, p.name, p.kind));
    }
    std::fs::write(&csv_path, csv)?;
    let links_path = out.join("enrolment-links.txt");
    let csv_arg = csv_path.display().to_string();
    let links_arg = links_path.display().to_string();
    ok(hub.cmd(&["unit", "import", &csv_arg, "--links-out", &links_arg]))?;
    let links = std::fs::read_to_string(&links_path)?;
    println!(
        "{} đơn vị đã đăng ký; đường dẫn kích hoạt: {}",
        plans.len(),
        links_path.display()
    );

    // 3. Every unit enrols and records its year; most submit on time.
    let agents: Vec<Agent> = plans
        .iter()
        .map(|p| {
            let mut a = Agent::at(&out.join("agents").join(&p.code));
            a.env.push(("COSO_NOW".into(), ON_TIME_NOW.into()));
            a
        })
        .collect();
    let link_for = |code: &str| -> Result<String> {
        links
            .lines()
            .find(|l| l.contains(&format!("unit={code}&")))
            .and_then(|l| {
                l.split(|c: char| c == ',' || c == '"' || c.is_whitespace())
                    .find(|t| t.starts_with("coso://"))
            })
            .map(str::to_string)
            .with_context(|| format!("no enrolment link for {code}"))
    };
    let work: Vec<(&UnitPlan, &Agent)> = plans.iter().zip(&agents).collect();
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let chunks: Vec<_> = work.chunks(work.len().div_ceil(4)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let link_for = &link_for;
                s.spawn(move || -> Result<()> {
                    for (plan, agent) in chunk {
                        ok(agent.cmd(&["enroll", &link_for(&plan.code)?]))?;
                        if plan.fate == Fate::Missing {
                            continue;
                        }
                        ward::record(agent, plan, PERIOD)
                            .map_err(|r| anyhow::anyhow!("{}", r.context()))?;
                        if matches!(plan.fate, Fate::OnTime | Fate::Returned) {
                            ok(agent.cmd(&["submit", "--period", PERIOD]))?;
                        }
                        ok(agent.cmd(&["sync"]))?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker thread"))
            .collect()
    });
    for r in results {
        r?;
    }
    println!("các đơn vị đã ghi nhận hoạt động, số liệu và đồng bộ với hub");

    // 4. A week later: the stragglers submit late.
    hub.stop();
    hub.env = vec![("COSO_NOW".into(), LATE_NOW.into())];
    hub.serve();
    for (plan, agent) in &work {
        if plan.fate == Fate::Late {
            ok(agent.cmd_env(&["submit", "--period", PERIOD], &[("COSO_NOW", LATE_NOW)]))?;
            ok(agent.cmd_env(&["sync"], &[("COSO_NOW", LATE_NOW)]))?;
        }
    }

    // 5. VH-XH reviews: one report goes back with a reason, the rest are accepted.
    hub.stop();
    hub.env = vec![("COSO_NOW".into(), REVIEW_NOW.into())];
    hub.serve();
    for (plan, agent) in &work {
        match plan.fate {
            Fate::Returned => {
                ok(hub.cmd(&[
                    "review",
                    "--unit",
                    &plan.code,
                    "--period",
                    PERIOD,
                    "--return",
                    "Đề nghị bổ sung số liệu đối thoại (DT01) và làm rõ kết quả giải quyết kiến nghị.",
                ]))?;
                let env = [("COSO_NOW", REVIEW_NOW)];
                ok(agent.cmd_env(&["sync"], &env))?;
                let report = ok(agent.cmd_env(&["report", "--period", PERIOD], &env))?;
                println!(
                    "\n{} nhận lại báo cáo bị trả lại:\n{}",
                    plan.code,
                    report.stdout()
                );
                ok(agent.cmd_env(&["value", "set", "--period", PERIOD, "DT01=4"], &env))?;
                ok(agent.cmd_env(&["submit", "--period", PERIOD], &env))?;
                ok(agent.cmd_env(&["sync"], &env))?;
                ok(hub.cmd(&[
                    "review", "--unit", &plan.code, "--period", PERIOD, "--accept",
                ]))?;
            }
            Fate::OnTime | Fate::Late => {
                ok(hub.cmd(&[
                    "review", "--unit", &plan.code, "--period", PERIOD, "--accept",
                ]))?;
            }
            Fate::Draft | Fate::Missing => {}
        }
    }
    for (plan, agent) in &work {
        if plan.fate != Fate::Missing {
            ok(agent.cmd_env(&["sync"], &[("COSO_NOW", REVIEW_NOW)]))?;
        }
    }

    // 6. Who has reported, and the consolidated report in every format.
    let status = ok(hub.cmd(&["status", "--period", PERIOD]))?;
    println!("\n{}", status.stdout());
    let reports = out.join("reports");
    std::fs::create_dir_all(&reports)?;
    println!("báo cáo tổng hợp:");
    for format in ["docx", "xlsx", "json", "csv", "md"] {
        let file = reports.join(format!("bao-cao-{PERIOD}.{format}"));
        let f = file.display().to_string();
        let t = Instant::now();
        ok(hub.cmd(&[
            "report", "--period", PERIOD, "--format", format, "--out", &f, "--force",
        ]))?;
        println!("  {f}  ({} ms)", t.elapsed().as_millis());
    }
    hub.stop();
    println!(
        "\nxong trong {:.1} s. Dữ liệu hub: {}",
        started.elapsed().as_secs_f64(),
        hub.dir.display()
    );
    Ok(())
}
