//! Agents and hubs of different releases (issue 25): the agent names its
//! release in `Hello` and the hub shows it; a hub can refuse agents below a
//! minimum, and such an agent is told what to install and keeps its queue;
//! an agent of an earlier release (a raw client that sends none of the new
//! fields) keeps syncing; a decision read again after a resubmission does
//! not return the report a second time.

use std::path::Path;

use coso_domain::{Activity, ActivityId, Change, Entry, Form};
use coso_proto::link::EnrolmentLink;
use coso_tests::bench::client::{SimAgent, channel, enroll, target};
use coso_tests::{Agent, Hub};
use serde_json::Value;
use tonic::Code;

const NOW: &str = "2026-11-05T09:00:00+07:00";
const RELEASE: &str = env!("CARGO_PKG_VERSION");

fn agent_at(dir: &Path) -> Agent {
    let mut a = Agent::at(dir);
    a.env.push(("COSO_NOW".into(), NOW.into()));
    a
}

fn show(hub: &Hub, code: &str) -> Value {
    hub.cmd(&["unit", "show", code, "--json"]).ok().json()
}

fn status(a: &Agent) -> Value {
    a.cmd(&["status", "--json"]).ok().json()
}

fn h1_state(a: &Agent) -> String {
    status(a)["submissions"]
        .as_array()
        .expect("submissions")
        .iter()
        .find(|s| s["period"] == "2026-H1")
        .map(|s| s["state"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// Rewrites the hub's `[sync]` section and restarts it.
fn set_minimum(hub: &mut Hub, min: Option<&str>) {
    hub.stop();
    let path = hub.dir.join("hub.toml");
    let text = std::fs::read_to_string(&path).expect("hub.toml");
    let mut text = match text.find("\n[sync]") {
        Some(at) => text[..at + 1].to_string(),
        None => text,
    };
    if let Some(m) = min {
        text.push_str(&format!("\n[sync]\nmin_agent_version = \"{m}\"\n"));
    }
    std::fs::write(&path, text).expect("write hub.toml");
    hub.serve();
}

fn activity(seq: u64, n: u64) -> Entry {
    Entry::new(
        seq,
        &Change::ActivityUpsert(Activity {
            id: ActivityId::from_counter(n),
            date: chrono::NaiveDate::from_ymd_opt(2026, 5, 2).unwrap(),
            form: Form::Conference,
            title: format!("Hội nghị {n}"),
            participants: Some(20),
            note: String::new(),
        }),
        chrono::Utc::now(),
    )
}

#[test]
fn the_hub_shows_each_agents_release_and_an_earlier_agent_keeps_syncing() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP01", "Tổ dân phố số 1", "residential-group");
    let old_link: EnrolmentLink = hub
        .add_unit("TDP02", "Tổ dân phố số 2", "residential-group")
        .parse()
        .unwrap();
    assert_eq!(show(&hub, "TDP01")["agent_version"], Value::Null);

    let tmp = tempfile::tempdir().unwrap();
    let a = agent_at(&tmp.path().join("a"));
    a.enroll(&link);
    a.add_activity("2026-05-01", "conference", "Hội nghị", 30);
    a.cmd(&["sync"]).ok();
    let s = show(&hub, "TDP01");
    assert_eq!(s["agent_version"], RELEASE, "{s:#}");
    let text = hub.cmd(&["unit", "show", "TDP01"]).ok().stdout();
    assert!(
        text.contains(&format!("Phiên bản phần mềm đơn vị: {RELEASE}")),
        "{text}"
    );

    // An agent of an earlier release sends none of the new fields: it
    // syncs as before, and its release stays unknown.
    let (addr, fp) = target(&hub);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ch = channel(&addr, fp);
        let unit = enroll(ch.clone(), &old_link).await.expect("enrol");
        let mut old = SimAgent::new(ch, &unit);
        let log = vec![activity(1, 1), activity(2, 2)];
        assert_eq!(old.sync(&log).await.expect("an earlier agent syncs"), 2);
    });
    let s = show(&hub, "TDP02");
    assert_eq!(s["acked_seq"], 2, "{s:#}");
    assert_eq!(s["activities"], 2, "{s:#}");
    assert_eq!(s["agent_version"], Value::Null, "{s:#}");
    let text = hub
        .cmd(&["unit", "show", "TDP02", "--lang", "en"])
        .ok()
        .stdout();
    assert!(text.contains("Agent release: unknown"), "{text}");
}

#[test]
fn an_agent_below_the_minimum_is_told_what_to_install_and_keeps_its_queue() {
    let mut hub = Hub::start();
    let link = hub.add_unit("TDP01", "Tổ dân phố số 1", "residential-group");
    let old_link: EnrolmentLink = hub
        .add_unit("TDP02", "Tổ dân phố số 2", "residential-group")
        .parse()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let a = agent_at(&tmp.path().join("a"));
    a.enroll(&link);
    a.add_activity("2026-05-01", "conference", "Hội nghị", 30);
    a.cmd(&["sync"]).ok();

    // A minimum that is not a version stops the hub at load (exit 2).
    hub.stop();
    let toml = hub.dir.join("hub.toml");
    let good = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        format!("{good}\n[sync]\nmin_agent_version = \"mới nhất\"\n"),
    )
    .unwrap();
    let run = hub
        .cmd(&["serve", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .expect_code(2);
    assert!(
        run.stderr().contains("sync.min_agent_version"),
        "{}",
        run.context()
    );
    std::fs::write(&toml, &good).unwrap();

    hub.serve();
    set_minimum(&mut hub, Some("99.0.0"));
    a.add_activity("2026-05-02", "conference", "Hội nghị 2", 30);
    let run = a.cmd(&["sync"]).expect_code(1);
    assert!(
        run.stderr().contains("hãy cài coso-agent 99.0.0 trở lên"),
        "{}",
        run.context()
    );
    let run = a.cmd(&["sync", "--lang", "en"]).expect_code(1);
    assert!(
        run.stderr().contains("install coso-agent 99.0.0 or later"),
        "{}",
        run.context()
    );
    // Nothing is lost: the change still waits, and status says why.
    let st = status(&a);
    assert_eq!(st["pending_changes"], 1, "{st:#}");
    assert!(
        st["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("99.0.0"),
        "{st:#}"
    );
    assert_eq!(show(&hub, "TDP01")["acked_seq"], 1);
    assert!(hub.log().contains("below the minimum"), "{}", hub.log());

    // An agent of an earlier release gets a plain gRPC error: its words are
    // what it shows, so they are the officer's.
    let (addr, fp) = target(&hub);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ch = channel(&addr, fp);
        let unit = enroll(ch.clone(), &old_link).await.expect("enrol");
        let mut old = SimAgent::new(ch, &unit);
        let status = old.hello(0).await.expect_err("refused");
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(
            status
                .metadata()
                .get(coso_proto::meta::UPGRADE_REQUIRED)
                .and_then(|v| v.to_str().ok()),
            Some("99.0.0")
        );
        assert!(
            status.message().contains("trước 0.3.0")
                && status.message().contains("hãy cài coso-agent 99.0.0"),
            "{}",
            status.message()
        );
    });

    // The ward lowers the minimum to this release: the queue goes through.
    set_minimum(&mut hub, Some(RELEASE));
    a.cmd(&["sync"]).ok();
    assert_eq!(show(&hub, "TDP01")["acked_seq"], 2);
    assert_eq!(status(&a)["pending_changes"], 0);
}

#[test]
fn a_decision_read_again_after_a_resubmission_does_not_return_the_report() {
    let mut hub = Hub::start();
    hub.env.push(("COSO_NOW".into(), NOW.into()));
    let link = hub.add_unit("TDP01", "Tổ dân phố số 1", "residential-group");
    let tmp = tempfile::tempdir().unwrap();
    let a = agent_at(&tmp.path().join("a"));
    a.enroll(&link);
    a.add_activity("2026-05-01", "conference", "Hội nghị", 30);
    a.cmd(&[
        "value", "set", "--period", "2026-H1", "DB01=3", "DT02=12", "DT03=10", "GS07=có",
    ])
    .ok();
    a.cmd(&["submit", "--period", "2026-H1"]).ok();
    a.cmd(&["sync"]).ok();
    hub.cmd(&[
        "review",
        "--unit",
        "TDP01",
        "--period",
        "2026-H1",
        "--return",
        "Bổ sung số liệu",
    ])
    .ok();
    a.cmd(&["sync"]).ok();
    assert_eq!(h1_state(&a), "returned");
    a.add_activity("2026-05-02", "conference", "Hội nghị bổ sung", 30);
    a.cmd(&["submit", "--period", "2026-H1"]).ok();
    a.cmd(&["sync"]).ok();
    assert_eq!(h1_state(&a), "submitted");

    // The hub's outbound log gets a new identity (a restore): the agent
    // reads every decision again from the start, the old return included,
    // exactly as an agent without an epoch (an older store) does.
    let file = tmp.path().join("hub.coso-backup");
    let file_s = file.to_str().unwrap();
    hub.cmd(&["backup", "--out", file_s]).ok();
    hub.stop();
    std::fs::rename(&hub.dir, tmp.path().join("old-hub")).unwrap();
    hub.cmd(&["restore", file_s]).ok();
    hub.serve();
    a.cmd(&["sync"]).ok();
    assert_eq!(h1_state(&a), "submitted", "the old return came back");
    let row = hub
        .cmd(&["status", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    assert_eq!(row["units"][0]["state"], "submitted", "{row:#}");

    // A decision on the resubmission still applies.
    hub.cmd(&[
        "review", "--unit", "TDP01", "--period", "2026-H1", "--accept",
    ])
    .ok();
    a.cmd(&["sync"]).ok();
    assert_eq!(h1_state(&a), "accepted");
}

/// Issue 25: the release of 2026-11-26 let a unit record a note holding a
/// vertical tab and an activity dated 2206-08-20. Today's hub must take
/// them (the entry rules are for typing; the hub checks records), or the
/// unit can never send anything after them. What acts on a terminal is
/// still refused, and a refusal is logged with the unit. (The report
/// writers neutralise control characters: `coso-report`'s tests.)
#[test]
fn what_an_earlier_release_recorded_keeps_flowing() {
    let hub = Hub::start();
    let link: EnrolmentLink = hub
        .add_unit("TDP01", "Tổ dân phố số 1", "residential-group")
        .parse()
        .unwrap();
    let note = Change::NoteSet(coso_domain::change::NoteSet {
        period: "2026-H1".parse().unwrap(),
        section: coso_domain::Section::Results,
        text: "Kết quả\u{0B}tốt".into(),
    });
    let far = Change::ActivityUpsert(Activity {
        id: ActivityId::from_counter(2),
        date: chrono::NaiveDate::from_ymd_opt(2206, 8, 20).unwrap(),
        form: Form::Conference,
        title: "Hội nghị\u{0B}tương lai".into(),
        participants: Some(5),
        note: String::new(),
    });
    let escape = Change::ActivityUpsert(Activity {
        id: ActivityId::from_counter(3),
        date: chrono::NaiveDate::from_ymd_opt(2026, 5, 3).unwrap(),
        form: Form::Conference,
        title: "Hội nghị\u{1b}[2J".into(),
        participants: Some(5),
        note: String::new(),
    });
    let now = chrono::Utc::now();
    let log = vec![
        activity(1, 1),
        Entry::new(2, &note, now),
        Entry::new(3, &far, now),
    ];
    let (addr, fp) = target(&hub);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut old = rt.block_on(async {
        let ch = channel(&addr, fp);
        let unit = enroll(ch.clone(), &link).await.expect("enrol");
        let mut old = SimAgent::new(ch, &unit);
        assert_eq!(old.sync(&log).await.expect("the records flow"), 3);
        let status = old
            .push(coso_proto::pb::PushRequest {
                entries: vec![coso_proto::pb::ChangeEntry::from(&Entry::new(
                    4, &escape, now,
                ))],
                receipts: Vec::new(),
            })
            .await
            .expect_err("an escape sequence is refused");
        assert_eq!(status.code(), Code::InvalidArgument);
        // The message names the field, and that this release's agent
        // cleans what an earlier one recorded (an agent of release 0.1.0
        // shows it as it is).
        let message = status.message();
        assert!(
            message.contains("trường title") && message.contains("cài coso-agent phiên bản"),
            "{message}"
        );
        old
    });
    let s = show(&hub, "TDP01");
    assert_eq!(s["acked_seq"], 3, "{s:#}");
    assert_eq!(s["activities"], 2, "{s:#}");
    // A text value with a vertical tab, as release 0.1.0 recorded it, flows
    // too: values get the record rules, like notes and activities.
    let value = Change::ValuesSet(coso_domain::change::ValuesSet {
        period: "2026-Y".parse().unwrap(),
        values: [(
            "DG03".to_string(),
            Some(coso_domain::Value::Text("Tốt\u{0B}đạt yêu cầu".into())),
        )]
        .into(),
    });
    let pushed = rt.block_on(old.push(coso_proto::pb::PushRequest {
        entries: vec![coso_proto::pb::ChangeEntry::from(&Entry::new(
            4, &value, now,
        ))],
        receipts: Vec::new(),
    }));
    assert_eq!(
        pushed
            .expect("a text value with a vertical tab flows")
            .acked_seq,
        4
    );
    let log = hub.log();
    assert!(
        log.contains("push refused") && log.contains("TDP01") && log.contains("U+001B"),
        "{log}"
    );
}

/// A record the hub refuses holds back every change after it: the agent
/// says which one and what to do, in `sync` and in `status`.
#[test]
fn a_refused_record_is_named_to_the_officer() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP01", "Tổ dân phố số 1", "residential-group");
    let tmp = tempfile::tempdir().unwrap();
    let a = agent_at(&tmp.path().join("a"));
    a.enroll(&link);
    a.add_activity("2026-05-01", "conference", "Hội nghị", 30);
    {
        // Only a damaged or hand-edited store holds such a record: the
        // agent's own commands refuse it at entry.
        let store = coso_agent::store::Store::open(&a.dir, std::time::Duration::from_secs(5))
            .expect("open the agent's store");
        let bad = Change::ActivityUpsert(Activity {
            id: ActivityId::from_counter(7),
            date: chrono::NaiveDate::from_ymd_opt(2026, 5, 3).unwrap(),
            form: Form::Conference,
            title: "Hội nghị\u{1b}[2J".into(),
            participants: Some(5),
            note: String::new(),
        });
        store.append(&bad, chrono::Utc::now(), Some(7)).unwrap();
        store.flush_blocking().unwrap();
    }
    a.add_activity("2026-05-04", "conference", "Hội nghị sau", 30);
    let run = a.cmd(&["sync"]).expect_code(1);
    assert!(
        run.stderr().contains("từ chối thay đổi số 2") && run.stderr().contains("VH-XH"),
        "{}",
        run.context()
    );
    let st = status(&a);
    assert!(
        st["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("thay đổi số 2"),
        "{st:#}"
    );
    // One bad entry refuses its whole batch: nothing was taken.
    assert_eq!(st["pending_changes"], 3, "{st:#}");
    assert!(hub.log().contains("push refused"), "{}", hub.log());
}
