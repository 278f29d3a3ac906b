//! The demo: a whole ward on this machine. Starts a hub, enrols the Centre,
//! departments, schools and two dozen residential groups, records a year of
//! their work through real agents, syncs, reviews, and writes the
//! consolidated report in every format. Each step prints one line as it
//! finishes, with its counts and the time since the start.
//!
//! Every step is the real binaries doing what an officer would: each unit
//! imports its year from a spreadsheet (`activity import`), sets its values
//! in one `value set`, writes its narratives, submits and syncs. The units
//! are independent machines in real life, so they run side by side here
//! (`COSO_DEMO_WORKERS` at a time, 16 by default).
//!
//! Usage: `cargo run --release -p coso-tests --bin coso-demo [-- OUT_DIR]`

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use coso_tests::ward::{self, Fate, UnitPlan};
use coso_tests::{Agent, Hub, Run, bins_with_progress};

/// The annual report: due before 00:00 on 10/11/2026 (Vietnam time).
const PERIOD: &str = "2026-Y";
/// The demo's clock: most units send on 5 November, the stragglers on the 12th.
const ON_TIME_NOW: &str = "2026-11-05T09:00:00+07:00";
const LATE_NOW: &str = "2026-11-12T08:30:00+07:00";
const REVIEW_NOW: &str = "2026-11-12T10:00:00+07:00";
const RETURN_REASON: &str =
    "Đề nghị bổ sung số liệu đối thoại (DT01) và làm rõ kết quả giải quyết kiến nghị.";

fn ok(run: Run) -> Result<Run> {
    if run.output.status.success() {
        Ok(run)
    } else {
        bail!("a step of the demo failed\n{}", run.context())
    }
}

/// Prints one finished step: time since the start, the step's own time.
struct Steps {
    started: Instant,
    last: Instant,
}

impl Steps {
    fn done(&mut self, text: impl AsRef<str>) {
        let now = Instant::now();
        println!(
            "[{:>5.1} s] {} (+{:.1} s)",
            (now - self.started).as_secs_f64(),
            text.as_ref(),
            (now - self.last).as_secs_f64()
        );
        self.last = now;
    }
}

/// Runs `f` for every item on up to `workers` threads; the first error wins.
fn each<T: Sync>(workers: usize, items: &[T], f: impl Fn(&T) -> Result<()> + Sync) -> Result<()> {
    let next = AtomicUsize::new(0);
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers.clamp(1, items.len().max(1)))
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(item) = items.get(i) else {
                            return Ok(());
                        };
                        f(item)?;
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a worker panicked")))
            })
            .collect()
    });
    results.into_iter().collect()
}

fn main() -> Result<()> {
    let started = Instant::now();
    let mut steps = Steps {
        started,
        last: started,
    };
    let workers: usize = std::env::var("COSO_DEMO_WORKERS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(16);
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
    let b = bins_with_progress();
    steps.done(format!(
        "chương trình: {} , {}",
        b.hub.display(),
        b.agent.display()
    ));

    let last_day = NaiveDate::from_ymd_opt(2026, 11, 4).context("date")?;
    let plans = ward::generate(2026, 24, last_day);

    // 1. The hub.
    let mut hub = Hub::init_in(
        &out.join("hub"),
        &["--ward", "Phường Gia Viên", "--city", "Thành phố Hải Phòng"],
    );
    hub.env.push(("COSO_NOW".into(), ON_TIME_NOW.into()));
    hub.serve();
    steps.done(format!(
        "hub khởi tạo và đang chạy: grpc={} http={}",
        hub.grpc, hub.http
    ));

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
    steps.done(format!(
        "{} đơn vị đăng ký từ {}; đường dẫn kích hoạt: {}",
        plans.len(),
        csv_path.display(),
        links_path.display()
    ));

    // 3. Every unit enrols.
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
    each(workers, &work, |(plan, agent)| {
        ok(agent.cmd(&["enroll", &link_for(&plan.code)?])).map(drop)
    })?;
    steps.done(format!(
        "{} máy đơn vị kích hoạt với hub (coso-agent enroll)",
        work.len()
    ));

    // 4. Each unit records its year: activities from its spreadsheet, the
    //    appendix's values, the narratives. Two units never send anything.
    let active: Vec<(&UnitPlan, &Agent)> = work
        .iter()
        .copied()
        .filter(|(p, _)| p.fate != Fate::Missing)
        .collect();
    each(workers, &active, |(plan, agent)| {
        ward::record(agent, plan, PERIOD).map_err(|r| anyhow::anyhow!("{}", r.context()))
    })?;
    steps.done(format!(
        "{} đơn vị ghi {} hoạt động (activity import từ bảng tính), {} giá trị chỉ tiêu (value set), {} phần thuyết minh (note set)",
        active.len(),
        active.iter().map(|(p, _)| p.activities.len()).sum::<usize>(),
        active.iter().map(|(p, _)| p.values.len()).sum::<usize>(),
        active.iter().map(|(p, _)| p.notes.len()).sum::<usize>(),
    ));

    // 5. Most submit before the deadline.
    let on_time: Vec<(&UnitPlan, &Agent)> = active
        .iter()
        .copied()
        .filter(|(p, _)| matches!(p.fate, Fate::OnTime | Fate::Returned))
        .collect();
    each(workers, &on_time, |(_, agent)| {
        ok(agent.cmd(&["submit", "--period", PERIOD])).map(drop)
    })?;
    steps.done(format!(
        "{} đơn vị nộp báo cáo năm ngày 05/11, trước hạn 10/11 (submit)",
        on_time.len()
    ));

    // 6. They sync: the log goes to the hub.
    let pushed = AtomicUsize::new(0);
    each(workers, &active, |(_, agent)| {
        let r = ok(agent.cmd(&["sync", "--json"]))?;
        pushed.fetch_add(
            r.json()["pushed"].as_u64().unwrap_or(0) as usize,
            Ordering::SeqCst,
        );
        Ok(())
    })?;
    steps.done(format!(
        "{} đơn vị đồng bộ: {} thay đổi đã gửi lên hub (sync); {} đơn vị chưa gửi gì",
        active.len(),
        pushed.load(Ordering::SeqCst),
        work.len() - active.len()
    ));

    // 7. A week later: the stragglers submit late.
    hub.stop();
    hub.env = vec![("COSO_NOW".into(), LATE_NOW.into())];
    hub.serve();
    let late: Vec<(&UnitPlan, &Agent)> = active
        .iter()
        .copied()
        .filter(|(p, _)| p.fate == Fate::Late)
        .collect();
    each(workers, &late, |(_, agent)| {
        let env = [("COSO_NOW", LATE_NOW)];
        ok(agent.cmd_env(&["submit", "--period", PERIOD], &env))?;
        ok(agent.cmd_env(&["sync"], &env)).map(drop)
    })?;
    steps.done(format!(
        "ngày 12/11: {} đơn vị nộp muộn và đồng bộ ({})",
        late.len(),
        late.iter()
            .map(|(p, _)| p.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));

    // 8. VH-XH reviews: one report goes back with a reason, is corrected and
    //    accepted; the rest are accepted.
    hub.stop();
    hub.env = vec![("COSO_NOW".into(), REVIEW_NOW.into())];
    hub.serve();
    let env = [("COSO_NOW", REVIEW_NOW)];
    for (plan, agent) in active.iter().filter(|(p, _)| p.fate == Fate::Returned) {
        ok(hub.cmd(&[
            "review",
            "--unit",
            &plan.code,
            "--period",
            PERIOD,
            "--return",
            RETURN_REASON,
        ]))?;
        ok(agent.cmd_env(&["sync"], &env))?;
        let report = ok(agent.cmd_env(&["report", "--period", PERIOD, "--json"], &env))?.json();
        steps.done(format!(
            "VH-XH trả lại báo cáo của {}; máy đơn vị nhận được: trạng thái {}, lý do «{}»",
            plan.code,
            report["state"].as_str().unwrap_or("?"),
            report["review_comment"].as_str().unwrap_or("")
        ));
        ok(agent.cmd_env(&["value", "set", "--period", PERIOD, "DT01=4"], &env))?;
        ok(agent.cmd_env(&["submit", "--period", PERIOD], &env))?;
        ok(agent.cmd_env(&["sync"], &env))?;
        ok(hub.cmd(&[
            "review", "--unit", &plan.code, "--period", PERIOD, "--accept",
        ]))?;
        steps.done(format!(
            "{} bổ sung DT01=4, nộp lại, đồng bộ; VH-XH chấp nhận",
            plan.code
        ));
    }
    let accept: Vec<(&UnitPlan, &Agent)> = active
        .iter()
        .copied()
        .filter(|(p, _)| matches!(p.fate, Fate::OnTime | Fate::Late))
        .collect();
    each(workers, &accept, |(plan, _)| {
        ok(hub.cmd(&[
            "review", "--unit", &plan.code, "--period", PERIOD, "--accept",
        ]))
        .map(drop)
    })?;
    steps.done(format!(
        "VH-XH chấp nhận {} báo cáo (coso-hub review --accept)",
        accept.len()
    ));
    each(workers, &active, |(_, agent)| {
        ok(agent.cmd_env(&["sync"], &env)).map(drop)
    })?;
    steps.done(format!(
        "{} đơn vị nhận kết quả duyệt khi đồng bộ",
        active.len()
    ));

    // 9. Who has reported, and the consolidated report in every format.
    let status = ok(hub.cmd(&["status", "--period", PERIOD]))?;
    println!("\n{}", status.stdout());
    steps.done("tình hình báo cáo (coso-hub status)");
    let reports = out.join("reports");
    std::fs::create_dir_all(&reports)?;
    for format in ["docx", "xlsx", "json", "csv", "md"] {
        let file = reports.join(format!("bao-cao-{PERIOD}.{format}"));
        let f = file.display().to_string();
        ok(hub.cmd(&[
            "report", "--period", PERIOD, "--format", format, "--out", &f, "--force",
        ]))?;
        steps.done(format!("báo cáo tổng hợp: {f}"));
    }
    hub.stop();
    println!(
        "\nxong trong {:.1} s. Dữ liệu hub: {}",
        started.elapsed().as_secs_f64(),
        hub.dir.display()
    );
    Ok(())
}
