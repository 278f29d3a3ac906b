//! `COSO_BENCH_ONLY=cityscale`: compiling at city scale with the default
//! limits (`limits.max_message_bytes` 4 MiB; the report streams). One hub
//! grows through 10 → 100 → 1,000 → 10,000 units (each a year ending in a
//! submission); at each stage the JSON report is compiled over the Admin
//! RPC (streamed) with the hub's peak RSS, and the stopped hub's store is
//! read directly as the baseline. Then a city hub receives 114 ward reports
//! of 60 units each (Hải Phòng has 114 wards) over its real receiving
//! endpoint and rolls them up (`--wards`), beside the baseline of reading
//! and parsing the same 114 received reports from its store.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::runtime::Runtime;

use super::compile::{self, Compiled};
use super::storage::{self, Scan};
use super::{data, measure};
use crate::Hub;

/// When set, the benchmark executable only reads the received reports in
/// the sled database at this path and prints one JSON line.
pub const INBOX_ENV: &str = "COSO_BENCH_SCAN_INBOX";

pub struct Stage {
    pub units: usize,
    pub compiled: Compiled,
    pub scan: Scan,
    pub hub_rss_kb: u64,
}

pub struct City {
    pub wards: usize,
    pub units_per_ward: usize,
    /// The ward's report compiled by a real ward hub, as delivered.
    pub ward_json_bytes: u64,
    pub deliver: Duration,
    pub compiled: Compiled,
    /// Reading and parsing the 114 received reports from the stopped hub.
    pub baseline: Duration,
    pub baseline_rss_kb: u64,
    pub hub_rss_kb: u64,
}

/// The unit stages (see the module's comment).
pub fn stages(rt: &Runtime, stages: &[usize], workers: usize) -> Vec<Stage> {
    let max = stages.iter().copied().max().unwrap_or(0);
    let plans = crate::ward::generate(2026, max.saturating_sub(7).max(1), data::last_day());
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut hub = Hub::init_in(&tmp.path().join("units"), &[]);
    hub.serve();
    let mut have = 0;
    let mut out = Vec::new();
    for &n in stages {
        if n <= have {
            continue;
        }
        compile::load(rt, &hub, &plans[have..n], workers);
        have = n;
        let pid = hub.pid().expect("hub running");
        let hub_rss_kb = measure::rss_kb(pid);
        let compiled = compile::compile(rt, &hub, "json", 3);
        // The hub's own split of each compile (its log): reading the units
        // against compiling and writing the document.
        let log = hub.log();
        let split: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("report compiled"))
            .collect();
        for line in &split[split.len().saturating_sub(3)..] {
            println!("  hub log: {}", line.trim());
        }
        hub.stop();
        let scan = storage::scan_hub(&hub.dir);
        hub.serve();
        println!(
            "cityscale {n:>6} units: compile json {} (peak {}), read inputs {}",
            measure::dur(compiled.time),
            measure::mib(compiled.peak_kb),
            measure::dur(scan.inputs)
        );
        out.push(Stage {
            units: n,
            compiled,
            scan,
            hub_rss_kb,
        });
    }
    hub.stop();
    out
}

fn token(i: usize) -> String {
    format!("bench-ward-token-{i:03}")
}

fn ward_name(i: usize) -> String {
    format!("Phường Số {i}")
}

/// The city roll-up of `wards` wards of `groups + 7` units each.
pub fn city(rt: &Runtime, wards: usize, groups: usize, workers: usize) -> City {
    let tmp = tempfile::tempdir().expect("tempdir");
    // One real ward hub compiles the report every ward delivers.
    let mut ward = Hub::init_in(&tmp.path().join("ward"), &[]);
    ward.serve();
    let plans = crate::ward::generate(2026, groups, data::last_day());
    compile::load(rt, &ward, &plans, workers);
    let parts: Vec<Vec<u8>> = ["json", "docx", "xlsx"]
        .iter()
        .map(|f| {
            let out = tmp.path().join(format!("ward.{f}"));
            let path = out.display().to_string();
            ward.cmd(&[
                "report",
                "--period",
                data::PERIOD,
                "--format",
                f,
                "--out",
                &path,
            ])
            .ok();
            std::fs::read(&out).expect("the ward's report")
        })
        .collect();
    ward.stop();

    // The city hub: every ward bound to its own token, the default limits.
    let city_dir = tmp.path().join("city");
    let mut city = Hub::init_in(&city_dir, &[]);
    let cfg = city_dir.join("hub.toml");
    let text = std::fs::read_to_string(&cfg).expect("read hub.toml");
    let mut bound = String::from("[receive.wards]\n");
    for i in 1..=wards {
        let h = hex::encode(Sha256::digest(token(i).as_bytes()));
        bound.push_str(&format!("\"{}\" = \"{h}\"\n", ward_name(i)));
    }
    bound.push_str("\n[receive]\n");
    assert!(
        text.contains("[receive]\n"),
        "hub.toml has no [receive]:\n{text}"
    );
    std::fs::write(&cfg, text.replacen("[receive]\n", &bound, 1)).expect("write hub.toml");
    city.serve();
    let url = format!("http://{}/api/v1/reports", city.http);
    let http = reqwest::blocking::Client::new();
    let start = Instant::now();
    for i in 1..=wards {
        let name = ward_name(i);
        let key = hex::encode(Sha256::digest(format!("{name}\0{}", data::PERIOD)));
        let form = reqwest::blocking::multipart::Form::new()
            .part(
                "report",
                reqwest::blocking::multipart::Part::bytes(parts[0].clone())
                    .mime_str("application/json")
                    .expect("mime"),
            )
            .part(
                "docx",
                reqwest::blocking::multipart::Part::bytes(parts[1].clone()),
            )
            .part(
                "xlsx",
                reqwest::blocking::multipart::Part::bytes(parts[2].clone()),
            );
        let encoded: String = name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let r = http
            .post(&url)
            .bearer_auth(token(i))
            .header("Idempotency-Key", key)
            .header("X-Coso-Ward", encoded)
            .header("X-Coso-Period", data::PERIOD)
            .header("X-Coso-Revision", "1")
            .multipart(form)
            .send()
            .unwrap_or_else(|e| panic!("deliver {name}: {e}"));
        assert!(
            r.status().is_success(),
            "deliver {name}: {} {}",
            r.status(),
            r.text().unwrap_or_default()
        );
    }
    let deliver = start.elapsed();
    let pid = city.pid().expect("city hub running");
    let hub_rss_kb = measure::rss_kb(pid);
    let compiled = compile::compile_scope(rt, &city, "json", 3, true);
    city.stop();
    let (baseline, baseline_rss_kb) = scan_inbox(&city.dir, wards);
    println!(
        "cityscale roll-up of {wards} wards: compile json {} (peak {}), read inputs {}",
        measure::dur(compiled.time),
        measure::mib(compiled.peak_kb),
        measure::dur(baseline)
    );
    City {
        wards,
        units_per_ward: plans.len(),
        ward_json_bytes: parts[0].len() as u64,
        deliver,
        compiled,
        baseline,
        baseline_rss_kb,
        hub_rss_kb,
    }
}

/// Reads the stopped city hub's received reports in a child process.
fn scan_inbox(data_dir: &Path, wards: usize) -> (Duration, u64) {
    let exe = std::env::current_exe().expect("current exe");
    let db = data_dir.join(coso_ward::DB_DIR);
    let run = measure::run_measured(Command::new(exe).env(INBOX_ENV, &db));
    assert!(
        run.success,
        "inbox scan of {}: {}",
        db.display(),
        run.stderr
    );
    let line = run.stdout.lines().last().unwrap_or_default();
    let v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("inbox scan printed {line:?}: {e}"));
    assert_eq!(v["reports"].as_u64(), Some(wards as u64), "{line}");
    (
        Duration::from_secs_f64(v["secs"].as_f64().unwrap_or_default()),
        run.max_rss_kb,
    )
}

/// The child's side of [`scan_inbox`]: every received report's JSON part,
/// parsed with the ward report's schema (what the roll-up reads), best of 3.
pub fn scan_inbox_child(db_dir: &Path) {
    let db = sled::Config::new()
        .path(db_dir)
        .open()
        .unwrap_or_else(|e| panic!("open {}: {e}", db_dir.display()));
    let mut best = Duration::MAX;
    let mut reports = 0u64;
    for _ in 0..3 {
        let t = Instant::now();
        let mut n = 0u64;
        for name in db.tree_names() {
            let tree = db.open_tree(&name).expect("open tree");
            for kv in tree.iter() {
                let (k, v) = kv.expect("read record");
                // A received report's JSON part: its key ends in NUL 'j'
                // (store/outbox.rs `part_key`) and it parses as a ward report.
                if k.ends_with(&[0, b'j']) && v.first() == Some(&b'{') {
                    let r = coso_report::report_json::ReportJson::parse(&v)
                        .expect("a received ward report");
                    std::hint::black_box(&r);
                    n += 1;
                }
            }
        }
        best = best.min(t.elapsed());
        reports = n;
    }
    println!(
        "{}",
        serde_json::json!({"secs": best.as_secs_f64(), "reports": reports})
    );
}

pub fn table(stages: &[Stage], city: Option<&City>) -> String {
    let mut t = super::Table::new(&[
        "report",
        "compile JSON (RPC, streamed, median of 3)",
        "baseline: read inputs",
        "compile / read",
        "hub peak RSS (idle before)",
        "JSON size",
    ]);
    for s in stages {
        t.row(vec![
            format!("{} units", measure::thousands(s.units as f64)),
            measure::dur(s.compiled.time),
            measure::dur(s.scan.inputs),
            format!(
                "{:.1}×",
                s.compiled.time.as_secs_f64() / s.scan.inputs.as_secs_f64()
            ),
            format!(
                "{} ({})",
                measure::mib(s.compiled.peak_kb),
                measure::mib(s.hub_rss_kb)
            ),
            measure::bytes(s.compiled.size),
        ]);
    }
    if let Some(c) = city {
        t.row(vec![
            format!(
                "city roll-up: {} wards × {} units",
                c.wards, c.units_per_ward
            ),
            measure::dur(c.compiled.time),
            measure::dur(c.baseline),
            format!(
                "{:.1}×",
                c.compiled.time.as_secs_f64() / c.baseline.as_secs_f64()
            ),
            format!(
                "{} ({})",
                measure::mib(c.compiled.peak_kb),
                measure::mib(c.hub_rss_kb)
            ),
            measure::bytes(c.compiled.size),
        ]);
    }
    let mut s = t.render();
    if let Some(c) = city {
        s.push_str(&format!(
            "\nThe {} wards each delivered the report of one real 60-unit ward hub ({}, with its DOCX and XLSX) to the city hub's receiving endpoint in {}; the baseline reads and parses those {} JSON parts from the stopped city hub's store (a fresh process, best of 3, peak {}).\n",
            c.wards,
            measure::bytes(c.ward_json_bytes),
            measure::dur(c.deliver),
            c.wards,
            measure::mib(c.baseline_rss_kb),
        ));
    }
    s.push_str("\nDefault limits throughout (`limits.max_message_bytes` 4 MiB, the client's 4 MiB decoding limit): the report streams in 256 KiB chunks. Baseline for the units: the stopped hub's unit records, folded states and receive times decoded (as in 3a).\n");
    s
}
