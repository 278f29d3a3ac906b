//! Durable ingest: simulated agents push `ValuesSet` batches at the same
//! time over their own TLS channels, and the rate of indicator values the hub
//! acknowledged (each reply comes after the hub's flush) is set beside raw
//! sled doing `apply_batch` + `flush` with the same writers, batch size and
//! bytes per entry.

use std::time::{Duration, Instant};

use chrono::Utc;
use coso_domain::{Catalog, Entry};
use coso_proto::pb;
use tokio::runtime::Runtime;

use super::client::{Enrolled, SimAgent, channel};
use super::{data, measure, storage};

/// The shape of one ingest run.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Concurrent agents (and raw writers).
    pub agents: usize,
    /// Entries per push (and per raw batch).
    pub batch: usize,
    /// Pushes per agent.
    pub pushes: usize,
    /// Values per `ValuesSet` entry.
    pub values_per_entry: usize,
}

pub struct Outcome {
    pub shape: Shape,
    pub entries: u64,
    pub values: u64,
    /// Bytes of one entry as the hub stores it (what the raw run writes).
    pub entry_bytes: usize,
    pub hub: Duration,
    pub raw: Duration,
    /// The same on an empty database with sled's default cache (the
    /// baseline until 2026-12-02).
    pub raw_empty: Duration,
    /// Each push's round trip (request to durable acknowledgement).
    pub push_latency: Vec<Duration>,
    pub hub_peak_kb: u64,
    /// CPU time the hub and this process (the agents' side) used meanwhile.
    pub hub_cpu: Duration,
    pub agents_cpu: Duration,
}

impl Outcome {
    pub fn hub_rate(&self) -> f64 {
        self.values as f64 / self.hub.as_secs_f64()
    }
    pub fn raw_rate(&self) -> f64 {
        self.values as f64 / self.raw.as_secs_f64()
    }
    pub fn raw_empty_rate(&self) -> f64 {
        self.values as f64 / self.raw_empty.as_secs_f64()
    }
}

/// The batches each agent will push, built before any clock starts.
struct Plan {
    requests: Vec<Vec<pb::PushRequest>>,
    stored: Vec<Vec<Vec<u8>>>,
    values: u64,
    entries: u64,
    entry_bytes: usize,
}

fn plan(units: &[Enrolled], shape: Shape) -> Plan {
    let catalog = Catalog::builtin();
    let period = data::period().code;
    let now = Utc::now();
    let mut requests = Vec::new();
    let mut stored = Vec::new();
    let (mut values, mut entries, mut bytes) = (0u64, 0u64, 0usize);
    for (a, unit) in units.iter().take(shape.agents).enumerate() {
        let codes = data::numeric_codes(&catalog, unit.kind);
        let log: Vec<Entry> = (0..(shape.pushes * shape.batch) as u64)
            .map(|i| {
                data::values_entry(
                    unit.next_seq + i,
                    &codes,
                    shape.values_per_entry,
                    &period,
                    a as u64,
                    now,
                )
            })
            .collect();
        for e in &log {
            values += data::values_in(e) as u64;
        }
        entries += log.len() as u64;
        // The hub stores each entry as its JSON record; the raw run writes
        // exactly those bytes.
        let recs: Vec<Vec<u8>> = log
            .iter()
            .map(|e| serde_json::to_vec(e).expect("entry serialises"))
            .collect();
        bytes += recs.iter().map(Vec::len).sum::<usize>();
        stored.push(recs);
        requests.push(log.chunks(shape.batch).map(data::push_request).collect());
    }
    Plan {
        requests,
        stored,
        values,
        entries,
        entry_bytes: bytes / entries.max(1) as usize,
    }
}

/// Runs the raw baseline (on `raw`, which grows beside the hub) and the
/// earlier one (an empty sled with its defaults), then one shape against the hub at `addr` (pid `hub_pid`) with the first
/// `shape.agents` of `units`. Advances the units' seqs.
pub fn run(
    rt: &Runtime,
    raw: &mut storage::RawSled,
    addr: &str,
    fp: [u8; 32],
    hub_pid: u32,
    units: &mut [Enrolled],
    shape: Shape,
) -> Outcome {
    assert!(units.len() >= shape.agents, "not enough enrolled units");
    let Plan {
        requests,
        stored,
        values,
        entries,
        entry_bytes,
    } = plan(units, shape);

    let raw = raw.ingest(shape.agents, shape.pushes, &stored);
    let raw_empty =
        storage::RawSled::empty_with_defaults().ingest(shape.agents, shape.pushes, &stored);

    measure::reset_peak(hub_pid);
    let me = std::process::id();
    let (hub_cpu0, me_cpu0) = (measure::cpu_time(hub_pid), measure::cpu_time(me));
    let start = Instant::now();
    let latencies = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (unit, batches) in units.iter().zip(requests) {
            let ch = channel(addr, fp);
            let mut agent = SimAgent::new(ch, unit);
            let head = unit.next_seq - 1 + (shape.pushes * shape.batch) as u64;
            let expected = unit.next_seq - 1;
            let code = unit.code.clone();
            set.spawn(async move {
                let hello = agent
                    .hello(head)
                    .await
                    .unwrap_or_else(|e| panic!("{code}: Hello failed: {e}"));
                assert_eq!(hello.acked_seq, expected, "{code}: hub cursor");
                let mut lat = Vec::with_capacity(batches.len());
                for b in batches {
                    let t = Instant::now();
                    agent
                        .push(b)
                        .await
                        .unwrap_or_else(|e| panic!("{code}: Push failed: {e}"));
                    lat.push(t.elapsed());
                }
                lat
            });
        }
        let mut all = Vec::new();
        while let Some(r) = set.join_next().await {
            all.extend(r.expect("agent task"));
        }
        all
    });
    let hub = start.elapsed();
    let hub_cpu = measure::cpu_time(hub_pid).saturating_sub(hub_cpu0);
    let agents_cpu = measure::cpu_time(me).saturating_sub(me_cpu0);
    let hub_peak_kb = measure::peak_kb(hub_pid);
    for u in units.iter_mut().take(shape.agents) {
        u.next_seq += (shape.pushes * shape.batch) as u64;
    }
    Outcome {
        shape,
        entries,
        values,
        entry_bytes,
        hub,
        raw,
        raw_empty,
        push_latency: latencies,
        hub_peak_kb,
        hub_cpu,
        agents_cpu,
    }
}
