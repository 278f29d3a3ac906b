//! Loading a hub with units' years (register, enrol, sync a full year that
//! ends in a submission) and compiling the consolidated report through the
//! Admin `CompileReport` RPC, timed, with the hub's peak RSS over the call.

use std::time::{Duration, Instant};

use chrono::Utc;
use coso_domain::{Catalog, Entry, Lang};
use coso_proto::pb;
use tokio::runtime::Runtime;

use super::client::{self, Enrolled, SimAgent, channel};
use super::{data, measure};
use crate::Hub;
use crate::ward::UnitPlan;

/// What loading units into a hub took.
pub struct Load {
    pub units: usize,
    pub register: Duration,
    pub enrol: Duration,
    /// Syncing every unit's year (one Hello and one Push each).
    pub sync: Duration,
    pub entries: u64,
    pub values: u64,
    pub enrolled: Vec<Enrolled>,
}

/// Registers, enrols and syncs `plans`, `workers` syncs at a time over as
/// many shared TLS connections (the handshake cost of separate machines is
/// what the fan-in measures; here the hub's storage path is the subject).
pub fn load(rt: &Runtime, hub: &Hub, plans: &[UnitPlan], workers: usize) -> Load {
    // Channels spawn their connection task on the runtime.
    let _rt = rt.enter();
    let (addr, fp) = client::target(hub);
    let units: Vec<_> = plans
        .iter()
        .map(|p| (p.code.clone(), p.name.clone(), p.kind))
        .collect();
    let (links, register) = client::register(hub, &units);
    let (mut enrolled, enrol) = rt.block_on(client::enroll_all(&addr, fp, links, workers));
    let catalog = Catalog::builtin();
    let period = data::period();
    let now = Utc::now();
    let logs: Vec<Vec<Entry>> = plans
        .iter()
        .map(|p| data::year_log(p, &catalog, &period, 1, now))
        .collect();
    let entries: u64 = logs.iter().map(|l| l.len() as u64).sum();
    let values: u64 = logs
        .iter()
        .flatten()
        .map(|e| data::values_in(e) as u64)
        .sum();
    let channels: Vec<_> = (0..workers.max(1)).map(|_| channel(&addr, fp)).collect();
    let start = Instant::now();
    let jobs: Vec<_> = enrolled
        .iter()
        .zip(logs.iter().cloned())
        .enumerate()
        .map(|(i, (u, log))| {
            let mut agent = SimAgent::new(channels[i % channels.len()].clone(), u);
            let code = u.code.clone();
            async move {
                let acked = agent
                    .sync(&log)
                    .await
                    .unwrap_or_else(|e| panic!("{code}: sync failed: {e}"));
                assert_eq!(Some(acked), log.last().map(|e| e.seq), "{code}");
            }
        })
        .collect();
    rt.block_on(client::run_limited(jobs, workers));
    let sync = start.elapsed();
    for (u, log) in enrolled.iter_mut().zip(&logs) {
        u.next_seq = log.len() as u64 + 1;
    }
    Load {
        units: plans.len(),
        register,
        enrol,
        sync,
        entries,
        values,
        enrolled,
    }
}

/// One compiled report.
pub struct Compiled {
    pub format: String,
    /// Median over the repetitions of the RPC round trip.
    pub time: Duration,
    pub reps: usize,
    pub size: u64,
    /// The hub's RSS before and its peak during the calls.
    pub rss_before_kb: u64,
    pub peak_kb: u64,
}

/// Compiles the period's report in `format` `reps` times over the Admin RPC,
/// with the admin credential from the hub's data dir (as the CLI does).
pub fn compile(rt: &Runtime, hub: &Hub, format: &str, reps: usize) -> Compiled {
    compile_scope(rt, hub, format, reps, false)
}

/// [`compile`], of the wards' roll-up when `wards` (a city-level hub).
pub fn compile_scope(rt: &Runtime, hub: &Hub, format: &str, reps: usize, wards: bool) -> Compiled {
    let _rt = rt.enter();
    let pid = hub.pid().expect("hub running");
    let target = coso_hub::client::Target::local(&hub.dir)
        .unwrap_or_else(|e| panic!("admin target for {}: {e}", hub.dir.display()));
    // The client's default message limit (4 MiB): the report streams in
    // chunks, so a city's report needs no raised limit on either side.
    let mut admin =
        coso_hub::client::admin(&target, Lang::En).unwrap_or_else(|e| panic!("admin client: {e}"));
    let rss_before_kb = measure::rss_kb(pid);
    let mut times = Vec::new();
    let mut peak_kb = 0;
    let mut size = 0;
    for _ in 0..reps.max(1) {
        measure::reset_peak(pid);
        let t = Instant::now();
        let (announced, got) = rt
            .block_on(async {
                let mut s = admin
                    .compile_report(pb::CompileReportRequest {
                        period: data::PERIOD.into(),
                        format: format.into(),
                        wards,
                    })
                    .await?
                    .into_inner();
                let announced = s.message().await?.map(|h| h.size).unwrap_or(0);
                let mut got = 0u64;
                while let Some(m) = s.message().await? {
                    got += m.content.len() as u64;
                }
                Ok::<_, tonic::Status>((announced, got))
            })
            .unwrap_or_else(|e| panic!("CompileReport {format}: {e}"));
        times.push(t.elapsed());
        peak_kb = peak_kb.max(measure::peak_kb(pid));
        assert_eq!(announced, got, "{format}: the stream's bytes");
        size = got;
        assert!(size > 0, "empty {format} report");
    }
    Compiled {
        format: format.into(),
        time: measure::median(&times),
        reps: times.len(),
        size,
        rss_before_kb,
        peak_kb,
    }
}

/// `coso-hub report --period P --format F --out FILE` once: the officer's
/// path, process start and all. Returns its wall time and the file's size.
pub fn compile_cli(hub: &Hub, format: &str) -> (Duration, u64) {
    let out = hub
        .dir
        .parent()
        .unwrap_or(&hub.dir)
        .join(format!("report.{format}"));
    let path = out.display().to_string();
    let mut cmd = std::process::Command::new(&crate::bins().hub);
    cmd.args([
        "report",
        "--period",
        data::PERIOD,
        "--format",
        format,
        "--out",
        &path,
        "--force",
    ])
    .arg("--data-dir")
    .arg(&hub.dir)
    .env_remove("COSO_LANG");
    let run = measure::run_measured(&mut cmd);
    assert!(run.success, "coso-hub report {format}: {}", run.stderr);
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    (run.wall, size)
}
