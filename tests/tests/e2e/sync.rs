//! Sync end to end (issue 4), with the real binaries: enrolment, exactly-once
//! push through cut connections and SIGKILLs of either side, a hub restored
//! from an older copy, and the refusals that must leave nothing written.
//!
//! Most scenarios put the fault proxy (`coso_tests::proxy`) between agent and hub. It gives the
//! agent one address that survives hub restarts, counts the bytes on the
//! wire, and can cut the connection or kill a process after N bytes from the
//! agent, which lands the fault in the middle of a batch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::{Duration as Days, NaiveDate};
use coso_agent::sync::SyncError;
use coso_agent::sync::client::HubClient;
use coso_domain::{Activity, ActivityId, Change, Entry, Form, Lang};
use coso_proto::link::EnrolmentLink;
use coso_proto::pb;
use coso_tests::proxy::{Proxy, Trip};
use coso_tests::{Agent, Hub, Run, wait_until};
use serde_json::Value;

/// Agents record as of this instant: the whole 2026 window is in the past.
const NOW: &str = "2026-11-05T09:00:00+07:00";
const PERIODS: [&str; 3] = ["2026-H1", "2026-M9", "2026-Y"];
/// Batches of this many entries in the fault scenarios, so a sync of the
/// year log is ~20 batches and every kill point falls inside one.
const SMALL_BATCH: &str = "25";

fn sigkill(pid: u32) {
    // SAFETY: plain libc call on a pid this test spawned.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
}

// ------------------------------------------------------------- helpers --

fn agent() -> Agent {
    let mut a = Agent::new();
    a.env.push(("COSO_NOW".into(), NOW.into()));
    a
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy file");
        }
    }
}

fn sync_json(a: &Agent) -> Value {
    a.cmd(&["sync", "--json"]).ok().json()
}

fn sync_env(a: &Agent, env: &[(&str, &str)]) -> Run {
    a.cmd_env(&["sync", "--json"], env)
}

fn status(a: &Agent) -> Value {
    a.cmd(&["status", "--json"]).ok().json()
}

fn unit_show(hub: &Hub, code: &str) -> Value {
    hub.cmd(&["unit", "show", code, "--json"]).ok().json()
}

/// Numbers compare by value (3 == 3.0); everything else exactly.
fn same_values(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_values(v, w)))
        }
        _ => a == b,
    }
}

/// The hub holds exactly the agent's log: same cursor, same activities, and
/// per period the same state and the same values the agent's report shows.
fn assert_hub_matches(hub: &Hub, a: &Agent, code: &str) {
    let st = status(a);
    let show = unit_show(hub, code);
    assert_eq!(
        show["acked_seq"], st["head_seq"],
        "hub cursor vs agent head\nhub: {show:#}\nagent: {st:#}"
    );
    assert_eq!(st["acked_seq"], st["head_seq"], "agent cursor: {st:#}");
    assert_eq!(
        show["activities"], st["activities"],
        "activity count\nhub: {show:#}"
    );
    let hub_periods: BTreeMap<String, Value> = show["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .map(|p| (p["period"].as_str().unwrap().to_string(), p.clone()))
        .collect();
    for period in PERIODS {
        let rep = a.cmd(&["report", "--period", period, "--json"]).ok().json();
        let Some(h) = hub_periods.get(period) else {
            panic!("the hub shows no {period} for {code}: {show:#}");
        };
        assert_eq!(h["state"], rep["state"], "{period} state");
        assert!(
            same_values(&h["values"], &rep["values"]),
            "{period} values differ\nhub: {:#}\nagent: {:#}",
            h["values"],
            rep["values"]
        );
    }
}

// ------------------------------------------------------------ the year --

const TITLES: [(&str, Form); 8] = [
    (
        "Ban hành kế hoạch thực hiện dân chủ ở cơ sở",
        Form::Document,
    ),
    (
        "Hội nghị quán triệt Luật Thực hiện dân chủ ở cơ sở",
        Form::Conference,
    ),
    ("Tập huấn kỹ năng cho cán bộ tiếp công dân", Form::Training),
    (
        "Đăng tin trên nhóm Zalo về phương châm \"Dân biết, dân bàn\"",
        Form::SocialNetwork,
    ),
    (
        "Công khai thủ tục hành chính trên cổng thông tin",
        Form::WebPortal,
    ),
    (
        "Sinh hoạt chi bộ chuyên đề dân chủ ở cơ sở",
        Form::PartyCell,
    ),
    ("Giao ban tháng về công tác dân vận", Form::Briefing),
    ("Tuyên truyền qua hệ thống loa truyền thanh", Form::Other),
];

const UNIT: &str = "TTPVHCC";
const UNIT_NAME: &str = "Trung tâm Phục vụ hành chính công phường";

/// A centre's full year, recorded offline through the real CLI once per
/// test run: 500 activities, values and the four narratives for each of the
/// three periods, and the three submissions (each freezing its activities).
struct Year {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    head: u64,
    recorded_in: Duration,
}

fn year() -> &'static Year {
    static YEAR: OnceLock<Year> = OnceLock::new();
    YEAR.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("year");
        let mut a = Agent::at(&dir);
        a.env.push(("COSO_NOW".into(), NOW.into()));
        let started = Instant::now();
        a.init_unit(UNIT, UNIT_NAME, "centre");
        let first = NaiveDate::from_ymd_opt(2025, 12, 15).unwrap();
        // The 500 activities come from the officer's spreadsheet: one
        // `activity import`, one log entry per activity (HD-1..HD-500).
        let activities: Vec<coso_tests::ward::PlannedActivity> = (0..500u32)
            .map(|i| {
                let (title, form) = TITLES[i as usize % TITLES.len()];
                coso_tests::ward::PlannedActivity {
                    date: first + Days::days(i64::from(i * 325 / 500)),
                    form,
                    title: format!("{title} (đợt {})", i / 8 + 1),
                    participants: 15 + (i * 37) % 120,
                }
            })
            .collect();
        let csv = tmp.path().join("hoat-dong.csv");
        std::fs::write(&csv, coso_tests::ward::activities_csv(&activities)).unwrap();
        a.cmd(&["activity", "import", csv.to_str().unwrap()]).ok();
        let plan = coso_tests::ward::generate(11, 0, NaiveDate::from_ymd_opt(2026, 11, 4).unwrap())
            .into_iter()
            .find(|p| p.code == UNIT)
            .expect("the centre is in every generated ward");
        for period in PERIODS {
            let pairs: Vec<String> = plan
                .values
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let mut args = vec!["value", "set", "--period", period];
            args.extend(pairs.iter().map(String::as_str));
            a.cmd(&args).ok();
            for (section, text) in &plan.notes {
                a.cmd(&[
                    "note",
                    "set",
                    "--period",
                    period,
                    "--section",
                    section.as_str(),
                    "--text",
                    text,
                ])
                .ok();
            }
        }
        for period in PERIODS {
            a.cmd(&["submit", "--period", period]).ok();
        }
        let head = status(&a)["head_seq"].as_u64().expect("head_seq");
        Year {
            _tmp: tmp,
            dir,
            head,
            recorded_in: started.elapsed(),
        }
    })
}

/// A fresh agent holding a copy of the year, not yet enrolled.
fn year_agent() -> Agent {
    let a = agent();
    copy_dir(&year().dir, &a.dir);
    a
}

/// A hub behind a proxy, with the year agent enrolled through the proxy.
fn year_world() -> (Hub, Proxy, Agent) {
    let hub = Hub::start();
    let proxy = Proxy::start(&hub.grpc);
    let link = hub.add_unit(UNIT, UNIT_NAME, "centre");
    let a = year_agent();
    a.cmd(&["enroll", &proxy.link(&link)]).ok();
    (hub, proxy, a)
}

/// The bytes the agent sends for the whole year in `SMALL_BATCH` batches,
/// measured once, so fault points are fractions of a real sync.
fn year_upload() -> u64 {
    static BYTES: OnceLock<u64> = OnceLock::new();
    *BYTES.get_or_init(|| {
        let (hub, proxy, a) = year_world();
        let (up0, _) = proxy.bytes();
        let r = sync_env(&a, &[("COSO_SYNC_BATCH_ENTRIES", SMALL_BATCH)])
            .ok()
            .json();
        assert_eq!(r["acked_seq"].as_u64(), Some(year().head), "{r:#}");
        drop(hub);
        proxy.bytes().0 - up0
    })
}

/// `percent` of the year's upload, in bytes.
fn at_percent(percent: u64) -> u64 {
    year_upload() * percent / 100
}

// --------------------------------------------------------------- tests --

#[test]
fn three_units_enrol_and_sync_and_a_quiet_sync_sends_almost_nothing() {
    let hub = Hub::start();
    let proxy = Proxy::start(&hub.grpc);
    let units = [
        ("TDP01", "Tổ dân phố số 1", "residential-group"),
        ("TDP02", "Tổ dân phố số 2", "residential-group"),
        ("TH-GV", "Trường Tiểu học Gia Viên", "school"),
    ];
    let mut agents = Vec::new();
    for (i, (code, name, kind)) in units.iter().enumerate() {
        let link = hub.add_unit(code, name, kind);
        let a = agent();
        let out = a.cmd(&["enroll", &proxy.link(&link)]).ok();
        assert!(out.stdout().contains(code), "{}", out.context());
        let st = status(&a);
        assert_eq!(st["unit"]["code"], *code);
        assert!(st["hub"]["addr"].is_string());
        for k in 0..(3 + i) {
            a.add_activity(
                &format!("2026-0{}-1{k}", 3 + k),
                "conference",
                &format!("Hội nghị {name} lần {k}"),
                20 + k as u32,
            );
        }
        a.cmd(&[
            "note",
            "set",
            "--period",
            "2026-Y",
            "--section",
            "results",
            "--text",
            "Hoàn thành kế hoạch năm.",
        ])
        .ok();
        let r = sync_json(&a);
        assert_eq!(r["pushed"].as_u64(), Some(4 + i as u64), "{r:#}");
        assert_eq!(r["skipped"], 0);
        agents.push(a);
    }
    for ((code, _, _), a) in units.iter().zip(&agents) {
        let show = unit_show(&hub, code);
        let st = status(a);
        assert_eq!(show["acked_seq"], st["head_seq"], "{code}: {show:#}");
        assert_eq!(show["activities"], st["activities"], "{code}");
        assert!(show["last_sync"].is_string(), "{code}: {show:#}");
    }

    // Nothing changed: one Hello, no push, a few hundred bytes of messages.
    let (up0, down0) = proxy.bytes();
    let started = Instant::now();
    let quiet = sync_json(&agents[0]);
    let wall = started.elapsed();
    let (up1, down1) = proxy.bytes();
    assert_eq!(quiet["pushed"], 0, "{quiet:#}");
    assert_eq!(quiet["skipped"], 0);
    assert_eq!(quiet["round_trips"], 1, "{quiet:#}");
    let approx = quiet["bytes_sent_approx"].as_u64().unwrap();
    assert!(approx < 512, "a quiet sync sent ~{approx} bytes: {quiet:#}");
    // On the wire that is the TLS handshake plus one small exchange.
    let wire = (up1 - up0) + (down1 - down0);
    assert!(wire < 12_000, "a quiet sync moved {wire} bytes on the wire");
    eprintln!(
        "quiet sync: {approx} B of messages sent (~{} B received), {} B agent->hub and {} B hub->agent on the wire (TLS included), {} ms in the agent, {} ms wall including process start",
        quiet["bytes_received_approx"],
        up1 - up0,
        down1 - down0,
        quiet["elapsed_ms"],
        wall.as_millis()
    );
    // And running it again changes nothing on the hub.
    let before = unit_show(&hub, units[0].0);
    sync_json(&agents[0]);
    let after = unit_show(&hub, units[0].0);
    assert_eq!(before["acked_seq"], after["acked_seq"]);
    assert_eq!(before["activities"], after["activities"]);
}

/// `sync --watch` keeps its connection and what it read from the store
/// between rounds; what another process records meanwhile still goes out
/// on the next round, on the same connection.
#[test]
fn sync_watch_sends_what_other_commands_record_on_one_connection() {
    let hub = Hub::start();
    let proxy = Proxy::start(&hub.grpc);
    let code = "TDP05";
    let link = hub.add_unit(code, "Tổ dân phố số 5", "residential-group");
    let a = agent();
    a.cmd(&["enroll", &proxy.link(&link)]).ok();
    a.add_activity("2026-03-10", "conference", "Hội nghị lần 1", 30);
    let (conns0, _) = proxy.connections();
    let mut watch = a.spawn(&["sync", "--watch", "--every", "1s"]);
    let acked = |n: u64| unit_show(&hub, code)["acked_seq"].as_u64() == Some(n);
    wait_until(
        Duration::from_secs(30),
        "the first round to push seq 1",
        || acked(1),
    );
    // Written by other processes between rounds, each opening the store.
    a.add_activity("2026-04-10", "conference", "Hội nghị lần 2", 31);
    wait_until(
        Duration::from_secs(30),
        "a later round to push seq 2",
        || acked(2),
    );
    a.cmd(&["value", "set", "--period", "2026-Y", "DB01=4"])
        .ok();
    wait_until(
        Duration::from_secs(30),
        "a later round to push seq 3",
        || acked(3),
    );
    // The hub answers before the agent records the answer, and the watch
    // holds the store only while it records: wait for the agent's own
    // cursor too, or the kill below may land between the two.
    wait_until(
        Duration::from_secs(30),
        "the agent to record that seq 3 was acknowledged",
        || status(&a)["acked_seq"].as_u64() == Some(3),
    );
    let (conns1, _) = proxy.connections();
    let _ = watch.kill();
    let _ = watch.wait();
    assert_eq!(conns1 - conns0, 1, "one kept connection for every round");
    assert_hub_matches(&hub, &a, code);
}

#[test]
fn a_full_year_syncs_whole_in_a_few_round_trips() {
    let y = year();
    let (hub, proxy, a) = year_world();
    assert_eq!(status(&a)["pending_changes"].as_u64(), Some(y.head));
    let (up0, down0) = proxy.bytes();
    let started = Instant::now();
    let r = sync_json(&a);
    let wall = started.elapsed();
    let (up1, down1) = proxy.bytes();
    assert_eq!(r["pushed"].as_u64(), Some(y.head), "{r:#}");
    assert_eq!(r["acked_seq"].as_u64(), Some(y.head));
    assert_hub_matches(&hub, &a, UNIT);
    eprintln!(
        "full-year first sync: {} entries, {} round trips, {} ms in the agent ({} ms wall), {} kB agent->hub, {} kB hub->agent on the wire; recording the year offline took {} s",
        y.head,
        r["round_trips"],
        r["elapsed_ms"],
        wall.as_millis(),
        (up1 - up0) / 1024,
        (down1 - down0) / 1024,
        y.recorded_in.as_secs()
    );
    // Once more: nothing to send.
    let again = sync_json(&a);
    assert_eq!(again["pushed"], 0);
    assert_eq!(again["round_trips"], 1);
}

#[test]
fn a_connection_cut_mid_batch_resumes() {
    let (hub, proxy, a) = year_world();
    let small = [("COSO_SYNC_BATCH_ENTRIES", SMALL_BATCH)];
    for cut_at in [at_percent(10), at_percent(40)] {
        proxy.arm(cut_at, Trip::Cut);
        let cut = sync_env(&a, &small).expect_code(1);
        assert!(
            cut.stderr().contains("máy chủ"),
            "the failure is explained\n{}",
            cut.context()
        );
        proxy.disarm();
        let show = unit_show(&hub, UNIT);
        let held = show["acked_seq"].as_u64().unwrap();
        assert!(
            held < year().head,
            "the cut landed before the end: {show:#}"
        );
        // Whatever landed is what the agent knows or less.
        assert!(status(&a)["acked_seq"].as_u64().unwrap() <= held);
    }
    let r = sync_env(&a, &small).ok().json();
    assert_eq!(r["acked_seq"].as_u64(), Some(year().head), "{r:#}");
    assert_hub_matches(&hub, &a, UNIT);
}

/// Kills the hub when the agent has sent `at` bytes of the year, restarts
/// it, syncs again and compares.
fn hub_killed_at(at: u64) {
    let (mut hub, proxy, a) = year_world();
    let pid = hub.pid().expect("hub pid");
    proxy.arm(at, Trip::Call(Box::new(move || sigkill(pid))));
    let first = sync_env(&a, &[("COSO_SYNC_BATCH_ENTRIES", SMALL_BATCH)]);
    assert_eq!(
        first.code(),
        1,
        "the hub died under the sync\n{}",
        first.context()
    );
    hub.kill9();
    hub.serve();
    proxy.retarget(&hub.grpc);
    let held = unit_show(&hub, UNIT)["acked_seq"].as_u64().unwrap();
    assert!(
        held < year().head,
        "killed at {at}: the hub already held everything"
    );
    assert!(
        status(&a)["acked_seq"].as_u64().unwrap() <= held,
        "the agent never believes more than the hub holds"
    );
    let r = sync_env(&a, &[("COSO_SYNC_BATCH_ENTRIES", SMALL_BATCH)])
        .ok()
        .json();
    assert_eq!(r["acked_seq"].as_u64(), Some(year().head), "{r:#}");
    assert_eq!(
        r["pushed"].as_u64().unwrap(),
        year().head - held,
        "exactly what the hub lacked was applied: {r:#}"
    );
    assert_hub_matches(&hub, &a, UNIT);
}

#[test]
fn the_hub_killed_early_in_a_large_sync() {
    hub_killed_at(at_percent(3));
}

#[test]
fn the_hub_killed_midway_through_a_large_sync() {
    hub_killed_at(at_percent(45));
}

#[test]
fn the_hub_killed_late_in_a_large_sync() {
    hub_killed_at(at_percent(90));
}

#[test]
fn the_agent_killed_mid_sync_resumes_without_loss_or_duplicates() {
    let (hub, proxy, a) = year_world();
    let mut held = 0;
    for at in [at_percent(10), at_percent(50)] {
        let mut child = a.spawn_env(
            &["sync"],
            &[("COSO_NOW", NOW), ("COSO_SYNC_BATCH_ENTRIES", SMALL_BATCH)],
        );
        let pid = child.id();
        proxy.arm(at, Trip::Call(Box::new(move || sigkill(pid))));
        let status_code = child.wait().expect("wait for agent");
        proxy.disarm();
        assert!(!status_code.success(), "the agent was killed at {at}");
        held = unit_show(&hub, UNIT)["acked_seq"].as_u64().unwrap();
        assert!(held < year().head);
        assert!(status(&a)["acked_seq"].as_u64().unwrap() <= held);
    }
    let r = sync_env(&a, &[("COSO_SYNC_BATCH_ENTRIES", SMALL_BATCH)])
        .ok()
        .json();
    assert_eq!(r["acked_seq"].as_u64(), Some(year().head), "{r:#}");
    // Entries the hub took whose reply the killed agent never recorded are
    // resent and skipped, never applied twice.
    assert_eq!(r["pushed"].as_u64(), Some(year().head - held), "{r:#}");
    assert_hub_matches(&hub, &a, UNIT);
}

#[test]
fn a_hub_restored_from_an_older_copy_gets_everything_again() {
    let mut hub = Hub::start();
    let proxy = Proxy::start(&hub.grpc);
    let link = hub.add_unit("TDP07", "Tổ dân phố số 7", "residential-group");
    let a = agent();
    a.cmd(&["enroll", &proxy.link(&link)]).ok();
    for k in 0..4 {
        a.add_activity(
            &format!("2026-02-0{}", k + 1),
            "briefing",
            "Giao ban tháng",
            12 + k,
        );
    }
    sync_json(&a);
    let backup = tempfile::tempdir().expect("tempdir");
    hub.stop();
    copy_dir(&hub.dir, backup.path());
    hub.serve();
    proxy.retarget(&hub.grpc);
    for k in 0..6 {
        a.add_activity(
            &format!("2026-04-0{}", k + 1),
            "training",
            "Tập huấn",
            30 + k,
        );
    }
    a.cmd(&["value", "set", "--period", "2026-Y", "DB01=2"])
        .ok();
    let r = sync_json(&a);
    assert_eq!(r["acked_seq"], status(&a)["head_seq"]);

    hub.stop();
    std::fs::remove_dir_all(&hub.dir).expect("remove hub dir");
    copy_dir(backup.path(), &hub.dir);
    hub.serve();
    proxy.retarget(&hub.grpc);
    assert_eq!(
        unit_show(&hub, "TDP07")["acked_seq"],
        4,
        "the old copy is back"
    );
    let r = sync_json(&a);
    assert_eq!(r["hub_behind"], true, "{r:#}");
    assert_eq!(
        r["pushed"].as_u64(),
        Some(status(&a)["head_seq"].as_u64().unwrap() - 4)
    );
    let st = status(&a);
    let show = unit_show(&hub, "TDP07");
    assert_eq!(show["acked_seq"], st["head_seq"]);
    assert_eq!(show["activities"], st["activities"]);
    assert_eq!(show["activities"], 10);
}

#[test]
fn a_hub_with_another_certificate_is_refused_and_nothing_is_written() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP08", "Tổ dân phố số 8", "residential-group");
    let (head, fp) = link.split_once("fp=sha256:").expect("fingerprint in link");
    let flipped: String = fp
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                if c == '0' { '1' } else { '0' }
            } else {
                c
            }
        })
        .collect();
    let bad = format!("{head}fp=sha256:{flipped}");
    let a = agent();
    let run = a.cmd(&["enroll", &bad, "--lang", "en"]).expect_code(2);
    assert!(
        run.stderr().contains("certificate does not match"),
        "{}",
        run.context()
    );
    let vi = a.cmd(&["enroll", &bad]).expect_code(2);
    assert!(vi.stderr().contains("Chứng chỉ"), "{}", vi.context());
    assert!(!a.dir.exists(), "nothing was written for a refused hub");
    // The code was never used: the real link still works.
    a.cmd(&["enroll", &link]).ok();
    assert_eq!(status(&a)["unit"]["code"], "TDP08");
}

#[test]
fn a_used_code_is_refused_and_nothing_is_written() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP09", "Tổ dân phố số 9", "residential-group");
    let first = agent();
    first.cmd(&["enroll", &link]).ok();
    let second = agent();
    let run = second
        .cmd(&["enroll", &link, "--lang", "en"])
        .expect_code(2);
    assert!(run.stderr().contains("enrolment code"), "{}", run.context());
    assert!(!second.dir.exists(), "nothing was written");
    // The first enrolment is unharmed.
    first.add_activity("2026-05-05", "conference", "Hội nghị", 40);
    assert_eq!(sync_json(&first)["pushed"], 1);
}

#[test]
fn an_offline_unit_keeps_its_data_and_another_unit_is_refused() {
    let hub = Hub::start();
    let a = agent();
    a.init_unit("TDP10", "Tổ dân phố số 10", "residential-group");
    a.add_activity("2026-01-20", "party-cell", "Sinh hoạt chi bộ", 25);
    a.add_activity("2026-02-20", "briefing", "Giao ban", 15);
    // A link for a different unit is refused before the hub is asked.
    let other = hub.add_unit("TDP11", "Tổ dân phố số 11", "residential-group");
    let run = a.cmd(&["enroll", &other]).expect_code(2);
    assert!(run.stderr().contains("TDP11"), "{}", run.context());
    let link = hub.add_unit("TDP10", "Tổ dân phố số 10", "residential-group");
    let out = a.cmd(&["enroll", &link]).ok();
    assert!(
        out.stdout().contains("2 thay đổi"),
        "pending changes are announced\n{}",
        out.context()
    );
    assert_eq!(status(&a)["activities"], 2);
    assert_eq!(sync_json(&a)["pushed"], 2);
    assert_eq!(unit_show(&hub, "TDP10")["activities"], 2);
    // The other unit's code was never used.
    let b = agent();
    b.cmd(&["enroll", &other]).ok();
}

#[test]
fn a_revoked_unit_is_refused_and_nothing_is_written() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP12", "Tổ dân phố số 12", "residential-group");
    let a = agent();
    a.cmd(&["enroll", &link]).ok();
    a.add_activity("2026-03-03", "conference", "Hội nghị", 33);
    sync_json(&a);
    hub.cmd(&["unit", "revoke", "TDP12"]).ok();
    a.add_activity("2026-03-04", "conference", "Hội nghị", 34);
    let run = a.cmd(&["sync", "--lang", "en"]).expect_code(1);
    assert!(run.stderr().contains("revoked"), "{}", run.context());
    let show = unit_show(&hub, "TDP12");
    assert_eq!(show["acked_seq"], 1, "{show:#}");
    assert_eq!(show["activities"], 1);
    let st = status(&a);
    assert_eq!(st["acked_seq"], 1);
    assert!(
        st["last_error"].is_string(),
        "the failure is kept for status: {st:#}"
    );
}

fn activity_entry(seq: u64, n: u64) -> Entry {
    let a = Activity {
        id: ActivityId::from_counter(n),
        date: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        form: Form::Conference,
        title: format!("Hội nghị số {n}"),
        participants: Some(10),
        note: String::new(),
    };
    Entry::new(seq, &Change::ActivityUpsert(a), chrono::Utc::now())
}

fn push(entries: &[Entry]) -> pb::PushRequest {
    pb::PushRequest {
        entries: entries.iter().map(pb::ChangeEntry::from).collect(),
        receipts: Vec::new(),
    }
}

/// The raw protocol: only a unit's own credential moves its cursor, and
/// malformed or oversized batches change nothing.
#[test]
fn credentials_only_write_their_own_unit_and_bad_batches_change_nothing() {
    let hub = Hub::start();
    let link_a: EnrolmentLink = hub
        .add_unit("TDP21", "Tổ dân phố số 21", "residential-group")
        .parse()
        .unwrap();
    let link_b = hub.add_unit("TDP22", "Tổ dân phố số 22", "residential-group");
    let b = agent();
    b.cmd(&["enroll", &link_b]).ok();
    b.add_activity("2026-06-01", "document", "Ban hành quy chế", 0);
    sync_json(&b);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let timeout = Duration::from_secs(20);
    let addr = link_a.addr.clone();
    let fp = link_a.fingerprint;
    let connect = |cred: Option<&str>| {
        HubClient::connect(&addr, fp, cred, Lang::En, timeout).expect("client")
    };
    rt.block_on(async {
        let mut anon = connect(None);
        let enrolled = anon
            .enroll(&link_a.unit, &link_a.code)
            .await
            .expect("enroll A");
        let cred_a = enrolled.credential;
        let secret_a = cred_a.split_once('.').unwrap().1.to_string();

        let mut as_a = connect(Some(&cred_a));
        let hello = as_a
            .hello(pb::HelloRequest::default())
            .await
            .expect("hello A");
        assert_eq!(hello.acked_seq, 0, "A starts empty, whatever B holds");
        let entries: Vec<Entry> = (1..=3).map(|s| activity_entry(s, s)).collect();
        let r = as_a.push(push(&entries)).await.expect("push A");
        assert_eq!((r.acked_seq, r.applied), (3, 3));

        // A's secret under B's name, and no credential at all.
        let mut forged = connect(Some(&format!("TDP22.{secret_a}")));
        let e = forged
            .push(push(&[activity_entry(2, 9)]))
            .await
            .unwrap_err();
        assert!(matches!(e, SyncError::CredentialRefused { .. }), "{e:?}");
        let e = anon.push(push(&[activity_entry(2, 9)])).await.unwrap_err();
        assert!(matches!(e, SyncError::CredentialRefused { .. }), "{e:?}");

        // A replay is skipped; different content under a held seq is refused.
        let r = as_a.push(push(&entries[1..])).await.expect("replay");
        assert_eq!((r.acked_seq, r.applied), (3, 0));
        let e = as_a.push(push(&[activity_entry(3, 7)])).await.unwrap_err();
        assert!(matches!(e, SyncError::Corrupt { seq: 3, .. }), "{e:?}");
        // A gap names the expected seq.
        let e = as_a.push(push(&[activity_entry(9, 9)])).await.unwrap_err();
        assert!(
            matches!(
                e,
                SyncError::OutOfStep {
                    expected: Some(4),
                    ..
                }
            ),
            "{e:?}"
        );
        // Too many entries for one batch.
        let max = hello.max_batch_entries as u64;
        let many: Vec<Entry> = (4..=4 + max).map(|s| activity_entry(s, s)).collect();
        let e = as_a.push(push(&many)).await.unwrap_err();
        assert!(matches!(e, SyncError::TooLarge { .. }), "{e:?}");
        // A message beyond the hub's message limit.
        let mut huge = activity_entry(4, 4);
        huge.payload = vec![b' '; 6 << 20];
        let e = as_a.push(push(&[huge])).await.unwrap_err();
        assert!(matches!(e, SyncError::TooLarge { .. }), "{e:?}");
        // A tampered entry (payload no longer matches its hash).
        let mut bad = activity_entry(4, 4);
        bad.payload = activity_entry(4, 5).payload;
        // The hub refuses it as a record (INVALID_ARGUMENT with
        // `coso-refused-seq`), and the agent names the change.
        let e = as_a.push(push(&[bad])).await.unwrap_err();
        assert!(matches!(e, SyncError::EntryRefused { seq: 4, .. }), "{e:?}");

        // Other content under a held seq (seq 3 above) means two copies of
        // A's agent: the hub stopped the unit until VH-XH reissues its link.
        let e = as_a.hello(pb::HelloRequest::default()).await.unwrap_err();
        assert!(matches!(e, SyncError::Diverged { .. }), "{e:?}");
    });
    assert_eq!(unit_show(&hub, "TDP21")["acked_seq"], 3);
    assert_eq!(unit_show(&hub, "TDP21")["activities"], 3);
    let show_b = unit_show(&hub, "TDP22");
    assert_eq!(
        show_b["acked_seq"], 1,
        "B's cursor only moved by B: {show_b:#}"
    );
    assert_eq!(show_b["activities"], 1);
    // B's agent is unaffected.
    b.add_activity("2026-06-02", "document", "Quy chế", 0);
    assert_eq!(sync_json(&b)["pushed"], 1);
    assert_eq!(unit_show(&hub, "TDP22")["acked_seq"], 2);
}

/// The pull side: a review decision made at the hub reaches the agent once,
/// and survives the hub being restored to a copy from before it was made.
#[test]
fn review_decisions_are_pulled_once() {
    let mut hub = Hub::start();
    let proxy = Proxy::start(&hub.grpc);
    let plan = coso_tests::ward::generate(5, 1, NaiveDate::from_ymd_opt(2026, 11, 4).unwrap())
        .into_iter()
        .find(|p| p.code == "TDP01")
        .expect("one residential group");
    let link = hub.add_unit(&plan.code, &plan.name, plan.kind.as_str());
    let a = agent();
    a.cmd(&["enroll", &proxy.link(&link)]).ok();
    coso_tests::ward::record(&a, &plan, "2026-H1").unwrap_or_else(|r| panic!("{}", r.context()));
    a.cmd(&["submit", "--period", "2026-H1"]).ok();
    let first = sync_json(&a);
    assert_eq!(first["pulled_reviews"], 0);
    let backup = tempfile::tempdir().expect("tempdir");
    hub.stop();
    copy_dir(&hub.dir, backup.path());
    hub.serve();
    proxy.retarget(&hub.grpc);

    let reason = "Đề nghị bổ sung số liệu công khai";
    hub.cmd(&[
        "review", "--unit", "TDP01", "--period", "2026-H1", "--return", reason,
    ])
    .ok();
    let r = sync_json(&a);
    assert_eq!(r["pulled_reviews"], 1, "{r:#}");
    let returned = |a: &Agent| {
        status(a)["submissions"]
            .as_array()
            .expect("submissions")
            .iter()
            .find(|s| s["period"] == "2026-H1")
            .cloned()
            .expect("H1 submission")
    };
    let s = returned(&a);
    assert_eq!(s["state"], "returned", "{s:#}");
    assert_eq!(s["review_comment"], reason);
    assert_eq!(sync_json(&a)["pulled_reviews"], 0, "applied once");

    // The hub goes back to before the decision: its outbound log is shorter
    // than what the agent applied. The agent keeps its decision, and a new
    // decision made on the restored hub still reaches it.
    hub.stop();
    std::fs::remove_dir_all(&hub.dir).expect("remove hub dir");
    copy_dir(backup.path(), &hub.dir);
    hub.serve();
    proxy.retarget(&hub.grpc);
    sync_json(&a);
    hub.cmd(&[
        "review", "--unit", "TDP01", "--period", "2026-H1", "--accept",
    ])
    .ok();
    let r = sync_json(&a);
    assert_eq!(r["pulled_reviews"], 1, "{r:#}");
    assert_eq!(returned(&a)["state"], "accepted");
}
