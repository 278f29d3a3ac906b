//! A sync with nothing to send (`COSO_BENCH_ONLY=nochange`): a residential
//! group holding a year (activities imported, every value, the narratives),
//! enrolled with a real hub through a counting TCP proxy, synced once. Then,
//! in the same run and on the same store:
//! - the baseline, `coso-agent status` (a process), wall time;
//! - a one-shot `coso-agent sync` with nothing to send (a process), wall
//!   and CPU time (user + system, from `wait4`);
//! - rounds of `coso_agent::sync::Session` (what `sync --watch` and the web
//!   app's background sync run) on one kept connection: the time of each
//!   round and the bytes it moved on the wire (TLS records, both ways, as
//!   the proxy counted them).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{Duration as Days, NaiveDate};
use coso_domain::Form;

use super::{data, measure};
use crate::{Agent, Hub};

/// Counts the bytes between the agent and the hub.
struct CountingProxy {
    addr: String,
    bytes: Arc<AtomicU64>,
}

impl CountingProxy {
    fn start(target: &str) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address").to_string();
        let bytes = Arc::new(AtomicU64::new(0));
        let count = bytes.clone();
        let target = target.to_string();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                let (a, b) = (count.clone(), count.clone());
                std::thread::spawn(move || pump(client, server, &a));
                std::thread::spawn(move || pump(s2, c2, &b));
            }
        });
        CountingProxy { addr, bytes }
    }

    fn total(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }

    /// The enrolment link with the hub's address replaced by the proxy's.
    fn link(&self, link: &str) -> String {
        let start = link.find("://").map_or(0, |i| i + 3);
        let end = link[start..].find('/').map_or(link.len(), |i| start + i);
        format!("{}{}{}", &link[..start], self.addr, &link[end..])
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, count: &AtomicU64) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        count.fetch_add(n as u64, Ordering::SeqCst);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

pub struct Outcome {
    pub activities: usize,
    pub status: Vec<Duration>,
    pub sync_wall: Vec<Duration>,
    pub sync_cpu: Vec<Duration>,
    /// The first round of a session: TLS handshake and HTTP/2 set-up.
    pub first_round: Duration,
    pub first_round_bytes: u64,
    pub rounds: Vec<Duration>,
    pub round_bytes: Vec<u64>,
    pub round_trips: u32,
}

/// A CSV of `n` activities through the year, for `activity import`.
fn activities_csv(n: usize) -> String {
    let first = NaiveDate::from_ymd_opt(2026, 1, 2).expect("valid date");
    let span = (data::last_day() - first).num_days().max(1) as usize;
    let mut csv = String::from("ngày,hình thức,tên hoạt động,số người\n");
    for i in 0..n {
        let date = first + Days::days((i * 7919 % span) as i64);
        let form = Form::ALL[i % Form::ALL.len()];
        csv.push_str(&format!(
            "{date},{},\"Hội nghị tuyên truyền Luật Thực hiện dân chủ ở cơ sở, đợt {i}\",{}\n",
            form.as_str(),
            20 + i % 80
        ));
    }
    csv
}

pub fn run(hub: &Hub, activities: usize, reps: usize, rounds: usize) -> Outcome {
    let proxy = CountingProxy::start(&hub.grpc);
    let link = hub.add_unit("BENCH-IDLE", "Tổ dân phố đo đồng bộ", "residential-group");
    let agent = Agent::new();
    measure::agent_run(&agent, &["enroll", &proxy.link(&link)]);
    let csv = agent
        .dir
        .parent()
        .unwrap_or(&agent.dir)
        .join("hoat-dong.csv");
    std::fs::write(&csv, activities_csv(activities)).expect("write the activities file");
    measure::agent_run(
        &agent,
        &["activity", "import", csv.to_str().expect("utf-8 path")],
    );
    // The year's values and narratives as the ward generator plans them;
    // its activities are the ones imported above.
    let mut plan = crate::ward::generate(11, 1, data::last_day()).swap_remove(7);
    plan.activities.clear();
    crate::ward::record(&agent, &plan, data::PERIOD)
        .unwrap_or_else(|r| panic!("record the year: {}", r.context()));
    measure::agent_run(&agent, &["sync"]);

    // Status and sync alternate, so both see the same machine.
    let (mut status, mut sync_wall, mut sync_cpu) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..reps + 2 {
        let s = measure::agent_run(&agent, &["status"]);
        let y = measure::agent_run(&agent, &["sync"]);
        if i >= 2 {
            status.push(s.wall);
            sync_wall.push(y.wall);
            sync_cpu.push(y.cpu);
        }
    }

    // Kept connection: rounds after the first reuse what it read from the
    // store, since no other process opens it in between (`OpenMark`).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut opts = coso_agent::sync::SyncOptions::new(coso_domain::Lang::Vi);
    opts.progress = false;
    let mut session = coso_agent::sync::Session::new();
    let sync = |session: &mut coso_agent::sync::Session| {
        let b0 = proxy.total();
        let t = Instant::now();
        let r = rt
            .block_on(session.sync(&agent.dir, &opts))
            .unwrap_or_else(|e| panic!("session sync: {e}"));
        let took = t.elapsed();
        assert_eq!(r.pushed, 0, "nothing to send");
        // The proxy counts on its own threads; let the last record land.
        std::thread::sleep(Duration::from_millis(5));
        (took, proxy.total() - b0, r.round_trips)
    };
    let (first_round, first_round_bytes, _) = sync(&mut session);
    let (mut times, mut sizes, mut trips) = (Vec::new(), Vec::new(), 0);
    for _ in 0..rounds {
        let (t, b, r) = sync(&mut session);
        times.push(t);
        sizes.push(b);
        trips = trips.max(r);
    }
    Outcome {
        activities,
        status,
        sync_wall,
        sync_cpu,
        first_round,
        first_round_bytes,
        rounds: times,
        round_bytes: sizes,
        round_trips: trips,
    }
}
