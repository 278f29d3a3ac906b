//! The agent's web app (`coso-agent ui`, release binary): how long each page
//! takes to answer for a unit with a year's activities, and the process's
//! memory idle, while serving pages, and while syncing. Baseline: the same
//! data read by the CLI (`coso-agent activity list`, a whole process).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{Duration as Days, NaiveDate, Utc};
use coso_agent::store::Store;
use coso_domain::{Activity, ActivityId, Change, Form};

use super::measure;
use crate::{Agent, AgentUi, Hub, wait_until};

/// 20 May 2026: the 6-month report is open and every activity counts in it.
const NOW: &str = "2026-05-20T09:00:00+07:00";

pub struct Page {
    pub path: &'static str,
    pub times: Vec<Duration>,
    pub bytes: usize,
}

pub struct Outcome {
    pub activities: usize,
    pub pages: Vec<Page>,
    pub baseline: Vec<Duration>,
    pub rss_start_kb: u64,
    pub peak_first_sync_kb: u64,
    pub first_sync: Duration,
    pub rss_idle_kb: u64,
    pub peak_pages_kb: u64,
    pub peak_sync_now_kb: u64,
    pub sync_now: Vec<Duration>,
}

/// One HTTP/1.1 request over a fresh connection; returns the status, the
/// `Set-Cookie` value if any, and the body length.
fn http(
    host: &str,
    method: &str,
    path: &str,
    cookie: &str,
    body: &str,
) -> (u16, Option<String>, usize) {
    let mut s = TcpStream::connect(host).expect("connect to the ui");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("send");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read");
    let text = String::from_utf8_lossy(&buf);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let cookie = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("set-cookie")
            .then(|| v.trim().split(';').next().unwrap_or("").to_string())
    });
    (status, cookie, rest.len())
}

fn activity(i: usize) -> Activity {
    let first = NaiveDate::from_ymd_opt(2026, 1, 2).expect("valid date");
    Activity {
        id: ActivityId::from_counter(i as u64),
        date: first + Days::days((i * 7 % 130) as i64),
        form: Form::ALL[i % Form::ALL.len()],
        title: format!("Hội nghị tuyên truyền Luật Thực hiện dân chủ ở cơ sở, đợt {i}"),
        participants: Some(20 + (i % 80) as u32),
        note: "Tại nhà văn hóa tổ dân phố".into(),
    }
}

/// Enrols a unit, records `activities` activities straight into its store,
/// then starts the app and measures it.
pub fn run(hub: &Hub, activities: usize, reps: usize) -> Outcome {
    let link = hub.add_unit("BENCH-UI", "Tổ dân phố đo giao diện", "residential-group");
    let mut agent = Agent::new();
    agent.env.push(("COSO_NOW".into(), NOW.into()));
    agent.cmd(&["enroll", &link]).ok();
    {
        let store = Store::open(&agent.dir, Duration::from_secs(10)).expect("open the agent store");
        for i in 1..=activities {
            store
                .append(
                    &Change::ActivityUpsert(activity(i)),
                    Utc::now(),
                    Some(i as u64),
                )
                .expect("append");
        }
        store.flush_blocking().expect("flush");
    }

    // The first background sync sends the whole log.
    let started = Instant::now();
    let ui = AgentUi::start(&agent, &["--sync-every", "1h"]);
    let pid = ui.pid().expect("ui running");
    let rss_start_kb = measure::rss_kb(pid);
    wait_until(
        Duration::from_secs(300),
        "the hub to hold the unit's log",
        || {
            hub.cmd(&["unit", "show", "BENCH-UI", "--json"]).json()["acked_seq"]
                .as_u64()
                .unwrap_or(0)
                >= activities as u64
        },
    );
    let first_sync = started.elapsed();
    let peak_first_sync_kb = measure::peak_kb(pid);

    let host = ui.base.trim_start_matches("http://").to_string();
    let code_path = ui.url.trim_start_matches(&ui.base).to_string();
    let (status, cookie, _) = http(&host, "GET", &code_path, "", "");
    assert_eq!(status, 303, "the one-time code opens a session");
    let cookie = cookie.expect("a session cookie");

    std::thread::sleep(Duration::from_millis(200));
    let rss_idle_kb = measure::rss_kb(pid);
    measure::reset_peak(pid);
    let mut pages = Vec::new();
    for path in ["/", "/activities", "/periods/2026-H1", "/sync"] {
        let mut times = Vec::new();
        let mut bytes = 0;
        for i in 0..reps + 2 {
            let t = Instant::now();
            let (status, _, len) = http(&host, "GET", path, &cookie, "");
            let took = t.elapsed();
            assert_eq!(status, 200, "GET {path}");
            bytes = len;
            if i >= 2 {
                times.push(took);
            }
        }
        pages.push(Page { path, times, bytes });
    }
    let peak_pages_kb = measure::peak_kb(pid);

    measure::reset_peak(pid);
    let mut sync_now = Vec::new();
    for _ in 0..reps.clamp(1, 5) {
        let t = Instant::now();
        let (status, _, _) = http(&host, "POST", "/sync", &cookie, "back=%2Fsync");
        assert_eq!(status, 303, "POST /sync");
        sync_now.push(t.elapsed());
    }
    let peak_sync_now_kb = measure::peak_kb(pid);

    let mut baseline = Vec::new();
    for _ in 0..reps.clamp(1, 10) {
        let mut cmd = Command::new(&crate::bins().agent);
        cmd.args(["activity", "list", "--period", "2026-H1", "--data-dir"])
            .arg(&agent.dir)
            .env("COSO_NOW", NOW)
            .env_remove("COSO_LANG");
        let r = measure::run_measured(&mut cmd);
        assert!(r.success, "activity list while the app runs: {}", r.stderr);
        baseline.push(r.wall);
    }
    drop(ui);
    Outcome {
        activities,
        pages,
        baseline,
        rss_start_kb,
        peak_first_sync_kb,
        first_sync,
        rss_idle_kb,
        peak_pages_kb,
        peak_sync_now_kb,
        sync_now,
    }
}
