//! Growth: one hub grows through stages (10 → 100 → 1,000 → 10,000 units by
//! default). At each stage the new units sync a full year ending in a
//! submission; then a fixed ingest probe runs, the annual report is compiled
//! in JSON (the last stage is the city-scale report), and the stopped hub's
//! database is read directly as the baseline.

use std::time::Duration;

use tokio::runtime::Runtime;

use super::client::{self, Enrolled};
use super::compile::{self, Compiled, Load};
use super::ingest::{self, Shape};
use super::storage::{self, Scan};
use super::{data, measure};
use crate::Hub;

pub struct Stage {
    pub units: usize,
    pub new_units: usize,
    pub register: Duration,
    pub enrol: Duration,
    pub sync: Duration,
    pub sync_entries: u64,
    pub probe: ingest::Outcome,
    pub compiled: Compiled,
    pub scan: Scan,
    pub hub_rss_kb: u64,
    pub db_bytes: u64,
}

fn dir_size(p: &std::path::Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// A hub with the default limits (`limits.max_message_bytes` 4 MiB): the
/// city-scale report streams in chunks, so it needs no raised limit.
pub fn city_hub(dir: &std::path::Path) -> Hub {
    let mut hub = Hub::init_in(dir, &[]);
    hub.serve();
    hub
}

pub fn run(rt: &Runtime, stages: &[usize], probe: Shape, workers: usize) -> Vec<Stage> {
    let max = stages.iter().copied().max().unwrap_or(0);
    // The ward generator makes 7 fixed units and then residential groups.
    let plans = crate::ward::generate(2026, max.saturating_sub(7).max(1), data::last_day());
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut hub = city_hub(&tmp.path().join("city"));
    let mut units: Vec<Enrolled> = Vec::new();
    let mut out = Vec::new();
    let mut raw = storage::RawSled::open();
    for &n in stages {
        let have = units.len();
        if n <= have {
            continue;
        }
        let Load {
            register,
            enrol,
            sync,
            entries,
            enrolled,
            ..
        } = compile::load(rt, &hub, &plans[have..n], workers);
        units.extend(enrolled);
        let pid = hub.pid().expect("hub running");
        let hub_rss_kb = measure::rss_kb(pid);

        // The probe: the same ingest shape at every stage, spread over the units.
        let agents = probe.agents.min(n);
        let picks: Vec<usize> = (0..agents).map(|i| i * n / agents).collect();
        let mut chosen: Vec<Enrolled> = picks.iter().map(|&i| units[i].clone()).collect();
        let (addr, fp) = client::target(&hub);
        let probe_out = ingest::run(
            rt,
            &mut raw,
            &addr,
            fp,
            pid,
            &mut chosen,
            Shape { agents, ..probe },
        );
        for (&i, u) in picks.iter().zip(chosen) {
            units[i].next_seq = u.next_seq;
        }

        let compiled = compile::compile(rt, &hub, "json", 3);
        hub.stop();
        let db_bytes = dir_size(&hub.dir.join(coso_ward::DB_DIR));
        let scan = storage::scan_hub(&hub.dir);
        hub.serve();
        let stage = Stage {
            units: n,
            new_units: n - have,
            register,
            enrol,
            sync,
            sync_entries: entries,
            probe: probe_out,
            compiled,
            scan,
            hub_rss_kb,
            db_bytes,
        };
        println!(
            "growth {n:>6} units: year sync {} entries/s, probe {} values/s (raw {}), compile json {} vs read {}",
            measure::thousands(stage.sync_entries as f64 / stage.sync.as_secs_f64()),
            measure::thousands(stage.probe.hub_rate()),
            measure::thousands(stage.probe.raw_rate()),
            measure::dur(stage.compiled.time),
            measure::dur(stage.scan.inputs),
        );
        out.push(stage);
    }
    hub.stop();
    out
}
