//! The benchmark run by `cargo bench -p coso-tests` (tests/benches/coso.rs):
//! durable ingest, fan-in, compile, footprint and growth against the real
//! release binaries over loopback TLS, each figure beside a baseline measured
//! in the same run. Prints every table as it is measured and writes them all
//! as Markdown (see BENCHMARKS.md for the knobs and the notes).

pub mod cityscale;
pub mod client;
pub mod compile;
pub mod data;
pub mod fanin;
pub mod footprint;
pub mod growth;
pub mod ingest;
pub mod measure;
pub mod nochange;
pub mod storage;
pub mod ui;
pub mod web;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use measure::{bytes, dur, mib, pct, percentile, thousands};

use crate::Hub;

/// Scaling knobs, from the environment (see [`Knobs::from_env`]).
#[derive(Debug, Clone)]
pub struct Knobs {
    pub quick: bool,
    /// Which parts run: ingest, fanin, compile, footprint, growth, cityscale, ui, web.
    pub only: Vec<String>,
    pub agents: usize,
    pub batches: Vec<usize>,
    pub values_per_entry: usize,
    /// Entries each agent pushes in one ingest run.
    pub entries_per_agent: usize,
    pub fanin: usize,
    pub ward_groups: usize,
    pub stages: Vec<usize>,
    pub activities: usize,
    /// Runs of each ingest shape; the best counts (the machine is shared).
    pub reps: usize,
    /// Concurrent syncs while loading hubs (and enrolments).
    pub workers: usize,
    /// Wards delivering to the city hub of `cityscale` (Hải Phòng: 114).
    pub city_wards: usize,
    pub out: PathBuf,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|x| x.trim().replace('_', "").parse().ok())
                .collect::<Vec<usize>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

impl Knobs {
    /// `COSO_BENCH_QUICK=1` for a smoke run of a minute or so; every figure
    /// can be set on its own:
    /// `COSO_BENCH_ONLY=ingest,fanin,compile,footprint,growth`,
    /// `COSO_BENCH_AGENTS` (32), `COSO_BENCH_BATCHES` (10,100,500),
    /// `COSO_BENCH_VALUES` (values per entry, 10), `COSO_BENCH_ENTRIES`
    /// (entries per agent per ingest run, 2000), `COSO_BENCH_FANIN` (1000),
    /// `COSO_BENCH_WARD_GROUPS` (53: with the 7 fixed units, 60),
    /// `COSO_BENCH_STAGES` (10,100,1000,10000), `COSO_BENCH_ACTIVITIES` (500),
    /// `COSO_BENCH_WORKERS` (32), `COSO_BENCH_CITY_WARDS` (114, for
    /// `cityscale`), `COSO_BENCH_REPS` (runs of each ingest
    /// shape, best counts: 3), `COSO_BENCH_OUT` (target/coso-bench.md).
    pub fn from_env() -> Knobs {
        let quick = std::env::var("COSO_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let only = std::env::var("COSO_BENCH_ONLY")
            .ok()
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        Knobs {
            quick,
            only,
            agents: env_usize("COSO_BENCH_AGENTS", if quick { 8 } else { 32 }),
            batches: env_list("COSO_BENCH_BATCHES", &[10, 100, 500]),
            values_per_entry: env_usize("COSO_BENCH_VALUES", 10),
            entries_per_agent: env_usize("COSO_BENCH_ENTRIES", if quick { 200 } else { 2000 }),
            fanin: env_usize("COSO_BENCH_FANIN", if quick { 100 } else { 1000 }),
            ward_groups: env_usize("COSO_BENCH_WARD_GROUPS", 53),
            stages: env_list(
                "COSO_BENCH_STAGES",
                if quick {
                    &[10, 100, 1000]
                } else {
                    &[10, 100, 1000, 10000]
                },
            ),
            activities: env_usize("COSO_BENCH_ACTIVITIES", if quick { 50 } else { 500 }),
            reps: env_usize("COSO_BENCH_REPS", if quick { 1 } else { 3 }),
            workers: env_usize("COSO_BENCH_WORKERS", 32),
            city_wards: env_usize("COSO_BENCH_CITY_WARDS", if quick { 10 } else { 114 }),
            out: std::env::var("COSO_BENCH_OUT")
                .map(PathBuf::from)
                .unwrap_or_else(|_| workspace.join("target/coso-bench.md")),
        }
    }

    fn runs(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

/// A Markdown table.
pub(crate) struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(head: &[&str]) -> Table {
        Table {
            head: head.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    pub(crate) fn render(&self) -> String {
        let mut s = format!("| {} |\n", self.head.join(" | "));
        s += &format!("|{}\n", "---|".repeat(self.head.len()));
        for r in &self.rows {
            s += &format!("| {} |\n", r.join(" | "));
        }
        s
    }
}

/// The whole report, section by section; each is printed when it is done.
struct Report {
    text: String,
}

impl Report {
    fn section(&mut self, title: &str, body: &str) {
        let s = format!("\n## {title}\n\n{body}");
        println!("{s}");
        self.text += &s;
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cpu}, {cores} cores, {:.1} GiB RAM, Linux {}",
        mem_kb as f64 / 1024.0 / 1024.0,
        kernel.trim()
    )
}

/// The 1, 5 and 15 minute load averages: how busy the shared machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Entry point of the bench executable.
pub fn main() {
    if let Some(report) = std::env::var_os(measure::SPAWN_ENV) {
        let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
        std::process::exit(measure::spawn_child(std::path::Path::new(&report), &args));
    }
    if let Some(db) = std::env::var_os(storage::SCAN_ENV) {
        storage::scan_child(std::path::Path::new(&db));
        return;
    }
    if let Some(db) = std::env::var_os(cityscale::INBOX_ENV) {
        cityscale::scan_inbox_child(std::path::Path::new(&db));
        return;
    }
    let knobs = Knobs::from_env();
    let started = Instant::now();
    let load_start = load_average();
    let mut report = Report {
        text: format!(
            "# coso benchmark results\n\n- Date: {}\n- Machine: {}\n- Command: `{}cargo bench -p coso-tests`\n- Knobs: {knobs:?}\n",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
            machine(),
            if knobs.quick {
                "COSO_BENCH_QUICK=1 "
            } else {
                ""
            },
        ),
    };
    println!("{}", report.text);
    let build = Instant::now();
    let bins = crate::bins();
    println!(
        "binaries ready in {} ({}, {})",
        dur(build.elapsed()),
        bins.hub.display(),
        bins.agent.display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    let mut hub_rss = Table::new(&["hub state", "RSS"]);
    if knobs.runs("ingest") {
        ingest_hub(&rt, &knobs, &mut report, &mut hub_rss);
    }
    if knobs.runs("fanin") {
        fanin_hub(&rt, &knobs, &mut report, &mut hub_rss);
    }
    if knobs.runs("compile") || knobs.runs("footprint") {
        ward_hub(&rt, &knobs, &mut report, &mut hub_rss);
    }
    if knobs.runs("growth") {
        growth(&rt, &knobs, &mut report);
    }
    if knobs.runs("cityscale") {
        let stages = cityscale::stages(&rt, &knobs.stages, knobs.workers);
        let city = cityscale::city(&rt, knobs.city_wards, knobs.ward_groups, knobs.workers);
        report.section(
            "3c. Compile at city scale, default limits",
            &cityscale::table(&stages, Some(&city)),
        );
    }
    if knobs.runs("ui") {
        agent_ui(&knobs, &mut report);
    }
    if knobs.runs("nochange") {
        no_change_sync(&knobs, &mut report);
    }
    if knobs.runs("web") {
        let o = web::run(if knobs.quick { 20 } else { 200 });
        report.section("5. The web dashboard", &web::table(&o));
    }
    let mut bin = Table::new(&["binary (release, stripped)", "size"]);
    for (name, size) in footprint::binaries() {
        bin.row(vec![format!("`{name}`"), bytes(size)]);
    }
    report.section(
        "4c. Footprint: hub memory and binaries",
        &format!("{}\n{}", hub_rss.render(), bin.render()),
    );
    report.text += &format!(
        "\nTotal run time: {}. Load average at the start: {load_start}; at the end: {}.\n",
        dur(started.elapsed()),
        load_average()
    );
    println!("\nTotal run time: {}", dur(started.elapsed()));
    if let Some(dir) = knobs.out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&knobs.out, &report.text) {
        Ok(()) => println!("Markdown written to {}", knobs.out.display()),
        Err(e) => eprintln!("cannot write {}: {e}", knobs.out.display()),
    }
}

/// A fresh hub with `n` enrolled units named by `code`; returns it and them.
fn hub_with_units(
    rt: &tokio::runtime::Runtime,
    knobs: &Knobs,
    n: usize,
    code: impl Fn(usize) -> String,
) -> (Hub, Vec<client::Enrolled>, std::time::Duration) {
    let hub = Hub::start();
    let (addr, fp) = client::target(&hub);
    let units: Vec<_> = (1..=n)
        .map(|i| {
            (
                code(i),
                format!("Đơn vị số {i}"),
                coso_domain::UnitKind::ResidentialGroup,
            )
        })
        .collect();
    let (links, _) = client::register(&hub, &units);
    let (enrolled, took) = rt.block_on(client::enroll_all(&addr, fp, links, knobs.workers));
    (hub, enrolled, took)
}

/// Durable ingest, each shape `reps` times (raw and hub interleaved), best of each.
fn ingest_hub(rt: &tokio::runtime::Runtime, knobs: &Knobs, report: &mut Report, rss: &mut Table) {
    let agents = knobs.agents.max(1);
    let (mut hub, mut enrolled, _) = hub_with_units(rt, knobs, agents, |i| format!("TDP{i:02}"));
    let pid = hub.pid().expect("hub running");
    let (addr, fp) = client::target(&hub);
    rss.row(vec![
        format!("idle, just started, {agents} units enrolled"),
        mib(measure::rss_kb(pid)),
    ]);
    let mut t = Table::new(&[
        "entries/push",
        "values/entry",
        "agents",
        "values acked per run",
        "hub: values/s (durable)",
        "raw sled: values/s",
        "hub / raw",
        "raw sled, empty, 1 GiB cache (the baseline until 12-02)",
        "hub / that",
        "push p50",
        "push p99",
        "entry bytes",
        "hub CPU / agents CPU",
        "hub peak RSS (budget 256 MiB)",
        "load average (1 min)",
    ]);
    // The baseline's database grows with the hub's, run by run.
    let mut raw_sled = storage::RawSled::open();
    for &batch in &knobs.batches {
        let shape = ingest::Shape {
            agents,
            batch,
            pushes: (knobs.entries_per_agent / batch).max(1),
            values_per_entry: knobs.values_per_entry,
        };
        let runs: Vec<ingest::Outcome> = (0..knobs.reps.max(1))
            .map(|_| ingest::run(rt, &mut raw_sled, &addr, fp, pid, &mut enrolled, shape))
            .collect();
        let o = runs
            .iter()
            .max_by(|a, b| a.hub_rate().total_cmp(&b.hub_rate()))
            .expect("at least one run");
        let raw = runs.iter().map(|r| r.raw_rate()).fold(0.0, f64::max);
        let raw_empty = runs.iter().map(|r| r.raw_empty_rate()).fold(0.0, f64::max);
        let all: Vec<String> = runs
            .iter()
            .map(|r| format!("{}/{}", thousands(r.hub_rate()), thousands(r.raw_rate())))
            .collect();
        println!(
            "ingest batch {batch}: hub {} values/s vs raw sled {} values/s ({}; empty raw sled with 1 GiB cache {}, {}); every run hub/raw: {}; hub peak RSS {} (budget 256 MiB); load {}",
            thousands(o.hub_rate()),
            thousands(raw),
            pct(o.hub_rate(), raw),
            thousands(raw_empty),
            pct(o.hub_rate(), raw_empty),
            all.join(", "),
            mib(runs.iter().map(|r| r.hub_peak_kb).max().unwrap_or(0)),
            load_average(),
        );
        t.row(vec![
            batch.to_string(),
            knobs.values_per_entry.to_string(),
            agents.to_string(),
            thousands(o.values as f64),
            thousands(o.hub_rate()),
            thousands(raw),
            pct(o.hub_rate(), raw),
            thousands(raw_empty),
            pct(o.hub_rate(), raw_empty),
            dur(percentile(&o.push_latency, 50.0)),
            dur(percentile(&o.push_latency, 99.0)),
            o.entry_bytes.to_string(),
            format!(
                "{} / {} ({} of {} cores)",
                dur(o.hub_cpu),
                dur(o.agents_cpu),
                pct(
                    (o.hub_cpu + o.agents_cpu).as_secs_f64(),
                    o.hub.as_secs_f64() * cores() as f64
                ),
                cores()
            ),
            mib(runs.iter().map(|r| r.hub_peak_kb).max().unwrap_or(0)),
            load_average()
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string(),
        ]);
        rss.row(vec![
            format!("peak under ingest ({agents} agents, {batch} entries/push)"),
            mib(runs.iter().map(|r| r.hub_peak_kb).max().unwrap_or(0)),
        ]);
    }
    rss.row(vec![
        "idle after the ingest runs".into(),
        mib(measure::rss_kb(pid)),
    ]);
    report.section(
        "1. Durable ingest at the hub",
        &format!(
            "{}\nBest of {} runs each (hub and raw interleaved; the machine is shared). Each agent: its own TLS connection and credential, Hello, then back-to-back Pushes; a push counts once the hub replied (after its flush). Raw sled: the same number of threads, each `apply_batch` of the same entries (the hub's stored JSON form) + `flush()`, into one database with the hub's cache capacity that every run adds to, as the hub's runs add to the hub's (until 2026-12-02: an empty database with sled's 1 GiB default cache for each run). CPU: of the best hub run, hub process / this process (the agents). Target: hub ≥ 50% of raw.\n",
            t.render(),
            knobs.reps.max(1),
        ),
    );
    hub.stop();
}

/// Fan-in against a fresh hub holding only the fan-in units.
fn fanin_hub(rt: &tokio::runtime::Runtime, knobs: &Knobs, report: &mut Report, rss: &mut Table) {
    let (mut hub, mut many, enrol) =
        hub_with_units(rt, knobs, knobs.fanin.max(1), |i| format!("F{i:05}"));
    let pid = hub.pid().expect("hub running");
    let (addr, fp) = client::target(&hub);
    println!("enrolled {} fan-in units in {}", many.len(), dur(enrol));
    let solo_n = many.len().min(20);
    let solo = fanin::solo(rt, &addr, fp, &mut many[..solo_n]);
    rss.row(vec![
        format!("idle, {} units enrolled", many.len()),
        mib(measure::rss_kb(pid)),
    ]);
    let o = fanin::run(rt, &addr, fp, pid, &mut many);
    let mut t = Table::new(&[
        "agents at once",
        "entries each",
        "succeeded",
        "p50",
        "p90",
        "p99",
        "max",
        "all done in",
        "baseline: one agent alone, p50 (p99)",
        "hub RSS before",
        "hub peak RSS",
    ]);
    t.row(vec![
        o.agents.to_string(),
        o.entries_per_agent.to_string(),
        format!("{} / {}", o.ok, o.agents),
        dur(percentile(&o.latency, 50.0)),
        dur(percentile(&o.latency, 90.0)),
        dur(percentile(&o.latency, 99.0)),
        dur(percentile(&o.latency, 100.0)),
        dur(o.wall),
        format!(
            "{} ({})",
            dur(percentile(&solo, 50.0)),
            dur(percentile(&solo, 99.0))
        ),
        mib(o.hub_rss_before_kb),
        mib(o.hub_peak_kb),
    ]);
    rss.row(vec![
        format!("peak under fan-in ({} agents at once)", o.agents),
        mib(o.hub_peak_kb),
    ]);
    let mut body = t.render();
    let _ = write!(
        body,
        "\nA fresh hub. Each agent: a new TLS connection (handshake inside the timed sync), Hello, one Push of {} entries (3 activities, a `value set` of 10 values, a narrative). Baseline: the same sync by {} agents one after another. Enrolling the {} units beforehand took {} ({}/s).\n",
        o.entries_per_agent,
        solo.len(),
        o.agents,
        dur(enrol),
        thousands(o.agents as f64 / enrol.as_secs_f64()),
    );
    if !o.errors.is_empty() {
        let _ = writeln!(
            body,
            "\n**{} syncs failed**, first: {}",
            o.errors.len(),
            o.errors[0]
        );
    }
    report.section("2. Fan-in", &body);
    assert!(
        o.errors.is_empty(),
        "{} of {} fan-in syncs failed: {:?}",
        o.errors.len(),
        o.agents,
        &o.errors[..o.errors.len().min(5)]
    );
    hub.stop();
}

/// The ward (60 units × the full catalog): every format, then the agent's footprint.
fn ward_hub(rt: &tokio::runtime::Runtime, knobs: &Knobs, report: &mut Report, rss: &mut Table) {
    let mut hub = Hub::start();
    let plans = crate::ward::generate(2026, knobs.ward_groups, data::last_day());
    if knobs.runs("compile") {
        let load = compile::load(rt, &hub, &plans, knobs.workers);
        println!(
            "ward: {} units, {} entries, {} values synced in {}",
            load.units,
            load.entries,
            load.values,
            dur(load.sync)
        );
        let pid = hub.pid().expect("hub running");
        rss.row(vec![
            format!("idle, ward of {} units loaded", load.units),
            mib(measure::rss_kb(pid)),
        ]);
        let mut results = Vec::new();
        for format in ["docx", "xlsx", "json", "csv", "md"] {
            let c = compile::compile(rt, &hub, format, 3);
            let (cli, cli_size) = compile::compile_cli(&hub, format);
            println!(
                "compile ward {format}: {} (CLI {}), peak {}",
                dur(c.time),
                dur(cli),
                mib(c.peak_kb)
            );
            results.push((c, cli, cli_size));
        }
        hub.stop();
        let scan = storage::scan_hub(&hub.dir);
        hub.serve();
        let mut t = Table::new(&[
            "format",
            "compile (RPC, median of 3)",
            "`coso-hub report` CLI",
            "size",
            "hub peak RSS (idle before)",
            "baseline: read inputs",
            "baseline: scan whole DB",
            "compile / read",
        ]);
        for (c, cli, size) in &results {
            t.row(vec![
                c.format.clone(),
                dur(c.time),
                dur(*cli),
                bytes(*size),
                format!("{} ({})", mib(c.peak_kb), mib(c.rss_before_kb)),
                dur(scan.inputs),
                dur(scan.full),
                format!("{:.1}×", c.time.as_secs_f64() / scan.inputs.as_secs_f64()),
            ]);
        }
        report.section(
            &format!("3a. Compile: the ward's report ({} units × the full catalog)", load.units),
            &format!(
                "{}\nEvery unit synced a year ({} entries, {} values) ending in a submission frozen with `UnitState::freeze` (every applicable indicator, derived ones included). Baselines, from the stopped hub's sled directory in a fresh process: *read inputs* = every unit record, folded state and receive time decoded into their types (what the compile reads, best of 3 passes); *scan whole DB* = every key and value of every tree ({} keys, {}). The reading process peaked at {}; opening sled took {}.\n",
                t.render(),
                thousands(load.entries as f64),
                thousands(load.values as f64),
                thousands(scan.full_keys as f64),
                bytes(scan.full_bytes),
                mib(scan.max_rss_kb),
                dur(scan.open),
            ),
        );
    }
    if knobs.runs("footprint") {
        let reps = if knobs.quick { 3 } else { 5 };
        let o = footprint::agent(&hub, knobs.activities, reps);
        let mut t = Table::new(&[
            "`coso-agent` command",
            "runs",
            "median wall",
            "max wall",
            "peak RSS",
        ]);
        for s in &o.samples {
            t.row(vec![
                s.what.clone(),
                s.runs.len().to_string(),
                dur(measure::median(&s.runs)),
                dur(percentile(&s.runs, 100.0)),
                mib(s.max_rss_kb),
            ]);
        }
        report.section(
            "4a. Footprint: the agent",
            &format!(
                "{}\nA residential group with {} activities, every value and the narratives of 2026 (store: {}). `activity add` is measured over its last runs (store already full); wall time includes process start; peak RSS is the process's `ru_maxrss` from `wait4`.\n",
                t.render(),
                o.activities,
                bytes(o.store_bytes),
            ),
        );
    }
    hub.stop();
}

/// A sync with nothing to send: one-shot beside `status`, and rounds on a
/// kept connection (see `nochange.rs`).
fn no_change_sync(knobs: &Knobs, report: &mut Report) {
    let mut hub = Hub::start();
    let reps = if knobs.quick { 5 } else { 20 };
    let rounds = if knobs.quick { 50 } else { 500 };
    let load = load_average();
    let o = nochange::run(&hub, knobs.activities, reps, rounds);
    hub.stop();
    let cell = |v: &[Duration]| {
        format!(
            "{} ({} – {})",
            dur(measure::median(v)),
            dur(percentile(v, 0.0)),
            dur(percentile(v, 100.0))
        )
    };
    let mut sizes = o.round_bytes.clone();
    sizes.sort_unstable();
    let median_bytes = sizes.get(sizes.len() / 2).copied().unwrap_or(0);
    let max_bytes = sizes.last().copied().unwrap_or(0);
    let mut t = Table::new(&["measure", "runs", "median (min – max)", "target"]);
    t.row(vec![
        "baseline: `coso-agent status`, wall (a process)".into(),
        o.status.len().to_string(),
        cell(&o.status),
        String::new(),
    ]);
    t.row(vec![
        "`coso-agent sync`, nothing to send, wall (a process)".into(),
        o.sync_wall.len().to_string(),
        cell(&o.sync_wall),
        format!("≤ 2× status = {}", dur(measure::median(&o.status) * 2)),
    ]);
    t.row(vec![
        "`coso-agent sync`, nothing to send, CPU (user + system)".into(),
        o.sync_cpu.len().to_string(),
        cell(&o.sync_cpu),
        String::new(),
    ]);
    t.row(vec![
        "kept connection: first round (TLS handshake, store read)".into(),
        "1".into(),
        format!("{} ({})", dur(o.first_round), bytes(o.first_round_bytes)),
        String::new(),
    ]);
    t.row(vec![
        format!(
            "kept connection: a no-change round ({} call(s)), time",
            o.round_trips
        ),
        o.rounds.len().to_string(),
        cell(&o.rounds),
        "< 2 ms".into(),
    ]);
    t.row(vec![
        "kept connection: a no-change round, bytes on the wire (both ways)".into(),
        o.round_bytes.len().to_string(),
        format!("{} (max {})", bytes(median_bytes), bytes(max_bytes)),
        "< 2 KB".into(),
    ]);
    report.section(
        "7. A sync with nothing to send",
        &format!(
            "{}\nA residential group with {} activities (imported), every value and the narratives of 2026, synced once. Processes are timed by a spawner with `wait4`; rounds run `coso_agent::sync::Session` in the bench process through a counting TCP proxy. Load average before: {load}; after: {}.\n",
            t.render(),
            o.activities,
            load_average()
        ),
    );
}

/// The agent's web app: page times and memory (see `ui.rs`).
fn agent_ui(knobs: &Knobs, report: &mut Report) {
    let mut hub = Hub::start();
    let reps = if knobs.quick { 10 } else { 30 };
    let o = ui::run(&hub, knobs.activities, reps);
    hub.stop();
    let mut t = Table::new(&["page", "requests", "median", "p95", "max", "HTML size"]);
    for p in &o.pages {
        t.row(vec![
            format!("`GET {}`", p.path),
            p.times.len().to_string(),
            dur(measure::median(&p.times)),
            dur(percentile(&p.times, 95.0)),
            dur(percentile(&p.times, 100.0)),
            bytes(p.bytes as u64),
        ]);
    }
    t.row(vec![
        "baseline: `coso-agent activity list --period 2026-H1` (a process)".into(),
        o.baseline.len().to_string(),
        dur(measure::median(&o.baseline)),
        dur(percentile(&o.baseline, 95.0)),
        dur(percentile(&o.baseline, 100.0)),
        "".into(),
    ]);
    t.row(vec![
        "`POST /sync` (sync now, nothing new)".into(),
        o.sync_now.len().to_string(),
        dur(measure::median(&o.sync_now)),
        dur(percentile(&o.sync_now, 95.0)),
        dur(percentile(&o.sync_now, 100.0)),
        "".into(),
    ]);
    let mut m = Table::new(&["`coso-agent ui` process", "RSS"]);
    m.row(vec!["just started".into(), mib(o.rss_start_kb)]);
    m.row(vec![
        format!(
            "peak from start through the first sync ({} entries, {})",
            o.activities,
            dur(o.first_sync)
        ),
        mib(o.peak_first_sync_kb),
    ]);
    m.row(vec!["idle after it".into(), mib(o.rss_idle_kb)]);
    m.row(vec![
        "peak while serving the pages above".into(),
        mib(o.peak_pages_kb),
    ]);
    m.row(vec![
        "peak during the sync-now requests".into(),
        mib(o.peak_sync_now_kb),
    ]);
    report.section(
        "6. The agent's web app",
        &format!(
            "{}\n{}\nA residential group with {} activities in 2026-H1, enrolled, its log already at the hub. Each request is a new loopback connection with the session cookie; the time is from connect to the last byte, and includes opening the store (the app holds it only per request). Targets: a page under 20 ms; the process under 64 MiB RSS idle and while syncing.\n",
            t.render(),
            m.render(),
            o.activities,
        ),
    );
}

fn growth(rt: &tokio::runtime::Runtime, knobs: &Knobs, report: &mut Report) {
    let probe = ingest::Shape {
        agents: knobs.agents.max(1),
        batch: 100,
        pushes: if knobs.quick { 2 } else { 5 },
        values_per_entry: knobs.values_per_entry,
    };
    let stages = growth::run(rt, &knobs.stages, probe, knobs.workers);
    let mut t = Table::new(&[
        "units",
        "year sync of new units: entries/s",
        "ingest probe: values/s",
        "raw sled: values/s",
        "probe / raw",
        "compile JSON",
        "baseline: read inputs",
        "compile / read",
        "hub peak RSS (compile)",
        "JSON size",
        "DB size",
    ]);
    let mut setup = Table::new(&[
        "units",
        "new units",
        "unit import",
        "enrolment",
        "year sync",
        "entries",
    ]);
    for s in &stages {
        t.row(vec![
            thousands(s.units as f64),
            thousands(s.sync_entries as f64 / s.sync.as_secs_f64()),
            thousands(s.probe.hub_rate()),
            thousands(s.probe.raw_rate()),
            pct(s.probe.hub_rate(), s.probe.raw_rate()),
            dur(s.compiled.time),
            dur(s.scan.inputs),
            format!(
                "{:.1}×",
                s.compiled.time.as_secs_f64() / s.scan.inputs.as_secs_f64()
            ),
            format!("{} ({})", mib(s.compiled.peak_kb), mib(s.hub_rss_kb)),
            bytes(s.compiled.size),
            bytes(s.db_bytes),
        ]);
        setup.row(vec![
            thousands(s.units as f64),
            thousands(s.new_units as f64),
            dur(s.register),
            dur(s.enrol),
            dur(s.sync),
            thousands(s.sync_entries as f64),
        ]);
    }
    if let Some(city) = stages.last() {
        let mut c = Table::new(&[
            "report",
            "units",
            "compile JSON (median of 3)",
            "size",
            "hub peak RSS (idle before)",
            "baseline: read inputs",
            "baseline: scan whole DB",
            "reader peak RSS",
        ]);
        c.row(vec![
            "city-scale hub".into(),
            thousands(city.units as f64),
            dur(city.compiled.time),
            bytes(city.compiled.size),
            format!(
                "{} ({})",
                mib(city.compiled.peak_kb),
                mib(city.compiled.rss_before_kb)
            ),
            dur(city.scan.inputs),
            dur(city.scan.full),
            mib(city.scan.max_rss_kb),
        ]);
        report.section("3b. Compile: a city-scale hub", &c.render());
    }
    report.section(
        "5. Growth",
        &format!(
            "{}\nOne hub grows through the stages; the new units of each stage sync a year ending in a submission ({} at a time over shared connections). The probe: min(units, {}) agents, spread over the units, push {} batches of 100 `ValuesSet` entries × {} values; raw sled runs the same shape. Compile: the annual report in JSON over the Admin RPC; baseline as in 3a.\n\n{}",
            t.render(),
            knobs.workers,
            probe.agents,
            probe.pushes,
            probe.values_per_entry,
            setup.render(),
        ),
    );
}
