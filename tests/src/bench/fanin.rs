//! Fan-in: many agents sync against one hub at the same instant, each on its
//! own new TLS connection: Hello, then one Push of a few entries (three
//! activities, a `value set` and a narrative). Every sync must succeed; the
//! result is the latency distribution and the hub's peak RSS meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use coso_domain::change::NoteSet;
use coso_domain::{Activity, ActivityId, Catalog, Change, Entry, Form, Section};
use tokio::runtime::Runtime;

use super::client::{Enrolled, SimAgent, channel};
use super::{data, measure};

pub struct Outcome {
    pub agents: usize,
    pub entries_per_agent: usize,
    pub ok: usize,
    pub errors: Vec<String>,
    /// Each agent's sync, from its first byte to the durable acknowledgement.
    pub latency: Vec<Duration>,
    /// From the release of all agents to the last acknowledgement.
    pub wall: Duration,
    pub hub_rss_before_kb: u64,
    pub hub_peak_kb: u64,
}

/// A unit's few new changes since its last sync.
fn small_log(unit: &Enrolled, codes: &[String], salt: u64) -> Vec<Entry> {
    let now = Utc::now();
    let period = data::period().code;
    let s = unit.next_seq;
    let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("valid date");
    let mut log: Vec<Entry> = (0..3u64)
        .map(|i| {
            let a = Activity {
                id: ActivityId::from_counter(s + i),
                date: day + chrono::Duration::days((salt % 200) as i64),
                form: Form::Conference,
                title: "Hội nghị đại biểu cử tri và nhân dân".into(),
                participants: Some(40 + (salt % 60) as u32),
                note: String::new(),
            };
            Entry::new(s + i, &Change::ActivityUpsert(a), now)
        })
        .collect();
    log.push(data::values_entry(s + 3, codes, 10, &period, salt, now));
    let note = Change::NoteSet(NoteSet {
        period,
        section: Section::Results,
        text: "Nhân dân tích cực tham gia ý kiến vào các nội dung của phường.".into(),
    });
    log.push(Entry::new(s + 4, &note, now));
    log
}

pub fn run(
    rt: &Runtime,
    addr: &str,
    fp: [u8; 32],
    hub_pid: u32,
    units: &mut [Enrolled],
) -> Outcome {
    let catalog = Catalog::builtin();
    let logs: Vec<Vec<Entry>> = units
        .iter()
        .enumerate()
        .map(|(i, u)| small_log(u, &data::numeric_codes(&catalog, u.kind), i as u64))
        .collect();
    let entries_per_agent = logs.first().map(Vec::len).unwrap_or_default();
    let rss_before = measure::rss_kb(hub_pid);
    measure::reset_peak(hub_pid);
    let (results, wall) = rt.block_on(async {
        let (go_tx, go_rx) = tokio::sync::watch::channel(false);
        let go_rx = Arc::new(go_rx);
        let mut set = tokio::task::JoinSet::new();
        for (unit, log) in units.iter().zip(logs) {
            // The channel (client TLS config) is built now; the connection
            // and handshake happen inside the timed sync, as for a real agent.
            let mut agent = SimAgent::new(channel(addr, fp), unit);
            let mut rx = (*go_rx).clone();
            let code = unit.code.clone();
            set.spawn(async move {
                let _ = rx.wait_for(|go| *go).await;
                let t = Instant::now();
                let r = agent.sync(&log).await;
                let took = t.elapsed();
                match r {
                    Ok(acked) if Some(acked) == log.last().map(|e| e.seq) => Ok(took),
                    Ok(acked) => Err(format!("{code}: acknowledged {acked} only")),
                    Err(e) => Err(format!("{code}: {e}")),
                }
            });
        }
        let start = Instant::now();
        go_tx.send_replace(true);
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            out.push(r.unwrap_or_else(|e| Err(format!("task: {e}"))));
        }
        (out, start.elapsed())
    });
    let hub_peak_kb = measure::peak_kb(hub_pid);
    let mut latency = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(d) => latency.push(d),
            Err(e) => errors.push(e),
        }
    }
    for u in units.iter_mut() {
        u.next_seq += entries_per_agent as u64;
    }
    Outcome {
        agents: units.len(),
        entries_per_agent,
        ok: latency.len(),
        errors,
        latency,
        wall,
        hub_rss_before_kb: rss_before,
        hub_peak_kb,
    }
}

/// The baseline: the same sync by one agent at a time on an idle hub (each
/// on a new connection), for `units` in turn.
pub fn solo(rt: &Runtime, addr: &str, fp: [u8; 32], units: &mut [Enrolled]) -> Vec<Duration> {
    // Channels spawn their connection task on the runtime.
    let _rt = rt.enter();
    let catalog = Catalog::builtin();
    let mut out = Vec::new();
    for (i, unit) in units.iter_mut().enumerate() {
        let log = small_log(unit, &data::numeric_codes(&catalog, unit.kind), i as u64);
        let mut agent = SimAgent::new(channel(addr, fp), unit);
        let t = Instant::now();
        let acked = rt
            .block_on(agent.sync(&log))
            .unwrap_or_else(|e| panic!("{}: solo sync failed: {e}", unit.code));
        out.push(t.elapsed());
        assert_eq!(Some(acked), log.last().map(|e| e.seq), "{}", unit.code);
        unit.next_seq += log.len() as u64;
    }
    out
}
