//! Sync integrity (#13): diverged copies of an agent are stopped and
//! recovered without dropping anything, and backups of hub and agent come
//! back without losing an entry or a review decision.

use std::path::Path;

use coso_tests::{Agent, Hub, Run};
use serde_json::Value;

const NOW: &str = "2026-11-05T09:00:00+07:00";

fn agent_at(dir: &Path) -> Agent {
    let mut a = Agent::at(dir);
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

fn status(a: &Agent) -> Value {
    a.cmd(&["status", "--json"]).ok().json()
}

fn show(hub: &Hub, code: &str) -> Value {
    hub.cmd(&["unit", "show", code, "--json"]).ok().json()
}

fn titles(a: &Agent) -> Vec<String> {
    let list = a.cmd(&["activity", "list", "--json"]).ok().json();
    let mut t: Vec<String> = list["activities"]
        .as_array()
        .expect("activities")
        .iter()
        .map(|x| x["title"].as_str().unwrap_or_default().to_string())
        .collect();
    t.sort();
    t
}

fn sync_fails(a: &Agent, lang: Option<&str>) -> Run {
    let mut args = vec!["sync"];
    if let Some(l) = lang {
        args.extend(["--lang", l]);
    }
    a.cmd(&args).expect_code(1)
}

#[test]
fn two_copies_of_an_agent_are_stopped_and_recover_keeps_every_entry() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP31", "Tổ dân phố số 31", "residential-group");
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = agent_at(&tmp.path().join("a"));
    a.enroll(&link);
    a.add_activity("2026-02-01", "briefing", "Giao ban chung 1", 10);
    a.add_activity("2026-02-02", "briefing", "Giao ban chung 2", 11);
    a.cmd(&["sync"]).ok();
    // A second laptop: the same data dir, copied.
    let b = agent_at(&tmp.path().join("b"));
    copy_dir(&a.dir, &b.dir);
    a.add_activity("2026-03-01", "conference", "Hội nghị máy A", 30);
    b.add_activity("2026-03-02", "training", "Tập huấn máy B", 20);
    b.add_activity("2026-03-03", "training", "Tập huấn máy B lần 2", 21);
    a.cmd(&["sync"]).ok();

    // B never reports success, says what happened and how to recover.
    let run = sync_fails(&b, None);
    assert!(run.stderr().contains("hai bản sao"), "{}", run.context());
    assert!(
        run.stderr().contains("coso-agent recover"),
        "{}",
        run.context()
    );
    let run = sync_fails(&b, Some("en"));
    assert!(run.stderr().contains("two copies"), "{}", run.context());
    let st = status(&b);
    assert_ne!(
        st["acked_seq"], 4,
        "B recorded no cursor of A's log: {st:#}"
    );
    // The hub marks the unit and stops it, for both copies.
    let s = show(&hub, "TDP31");
    assert_eq!(s["diverged"], true, "{s:#}");
    assert_eq!(s["divergence"]["kind"], "forked", "{s:#}");
    assert_eq!(s["acked_seq"], 3, "nothing of B's was mixed in: {s:#}");
    a.add_activity("2026-03-04", "conference", "Hội nghị máy A lần 2", 31);
    sync_fails(&a, None);
    let text = hub.cmd(&["unit", "show", "TDP31"]).ok();
    assert!(text.stdout().contains("CẢNH BÁO"), "{}", text.context());

    // VH-XH reissues; B recovers: the hub's log, then B's own changes.
    let relink = hub.cmd(&["unit", "reissue", "TDP31"]).ok().last_line();
    let r = b.cmd(&["recover", &relink, "--json"]).ok().json();
    assert_eq!(r["hub_head"], 3, "{r:#}");
    assert_eq!(r["common"], 2, "{r:#}");
    assert_eq!(r["rebased"], 2, "{r:#}");
    let s = show(&hub, "TDP31");
    assert_eq!(s["diverged"], false, "{s:#}");
    assert_eq!(s["acked_seq"], 5, "{s:#}");
    assert_eq!(s["activities"], 5, "A's and B's activities all kept: {s:#}");
    let st = status(&b);
    assert_eq!(
        (st["head_seq"].clone(), st["acked_seq"].clone()),
        (5.into(), 5.into())
    );
    assert_eq!(st["activities"], 5, "{st:#}");
    b.cmd(&["sync"]).ok();

    // A's credential was replaced; A recovers too with its own new link,
    // and its unsent change joins the same log.
    let run = sync_fails(&a, Some("en"));
    assert!(run.stderr().contains("credential"), "{}", run.context());
    let relink = hub.cmd(&["unit", "reissue", "TDP31"]).ok().last_line();
    let r = a.cmd(&["recover", &relink, "--json"]).ok().json();
    assert_eq!(r["rebased"], 1, "only A's unsent change: {r:#}");
    let s = show(&hub, "TDP31");
    assert_eq!(s["activities"], 6, "{s:#}");
    assert_eq!(status(&a)["activities"], 6);
    assert_eq!(titles(&a).len(), 6);
    // The audit trail names the divergence.
    let audit = hub.cmd(&["audit", "--unit", "TDP31", "--json"]).ok().json();
    let actions: Vec<&str> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"diverged"), "{audit:#}");
    hub.cmd(&["audit", "--verify"]).ok();
}

#[test]
fn an_agent_restored_from_an_old_backup_gets_the_rest_back() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP32", "Tổ dân phố số 32", "residential-group");
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = agent_at(&tmp.path().join("a"));
    a.enroll(&link);
    a.add_activity("2026-02-01", "briefing", "Giao ban 1", 10);
    a.cmd(&["sync"]).ok();
    let file = tmp.path().join("tdp32.coso-backup");
    let file_s = file.to_str().unwrap();
    a.cmd(&["backup", "--out", file_s]).ok();
    // An existing file is never replaced.
    a.cmd(&["backup", "--out", file_s]).expect_code(2);
    a.add_activity("2026-02-02", "briefing", "Giao ban 2", 11);
    a.add_activity("2026-02-03", "briefing", "Giao ban 3", 12);
    a.cmd(&["sync"]).ok();

    // The laptop is lost; the backup comes back on a new one.
    let b = agent_at(&tmp.path().join("b"));
    b.cmd(&["restore", file_s]).ok();
    b.cmd(&["restore", file_s]).expect_code(2);
    let bogus = tmp.path().join("bogus");
    std::fs::write(&bogus, b"not a backup").unwrap();
    agent_at(&tmp.path().join("c"))
        .cmd(&["restore", bogus.to_str().unwrap()])
        .expect_code(2);
    assert!(!tmp.path().join("c").exists(), "nothing written");
    assert_eq!(status(&b)["activities"], 1);
    b.add_activity("2026-04-01", "training", "Tập huấn sau khôi phục", 25);
    let run = sync_fails(&b, None);
    assert!(run.stderr().contains("cũ hơn"), "{}", run.context());
    let s = show(&hub, "TDP32");
    assert_eq!(s["divergence"]["kind"], "behind", "{s:#}");
    let relink = hub.cmd(&["unit", "reissue", "TDP32"]).ok().last_line();
    let r = b.cmd(&["recover", &relink, "--json"]).ok().json();
    assert_eq!(
        (r["hub_head"].clone(), r["rebased"].clone()),
        (3.into(), 1.into()),
        "{r:#}"
    );
    assert_eq!(status(&b)["activities"], 4, "the lost changes came back");
    assert_eq!(show(&hub, "TDP32")["activities"], 4);
}

#[test]
fn a_hub_backup_taken_while_serving_restores_with_nothing_lost() {
    let mut hub = Hub::start();
    hub.env.push(("COSO_NOW".into(), NOW.into()));
    let plan =
        coso_tests::ward::generate(5, 1, chrono::NaiveDate::from_ymd_opt(2026, 11, 4).unwrap())
            .into_iter()
            .find(|p| p.code == "TDP01")
            .expect("one residential group");
    let link = hub.add_unit(&plan.code, &plan.name, plan.kind.as_str());
    let link_b = hub.add_unit("TDP33", "Tổ dân phố số 33", "residential-group");
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = agent_at(&tmp.path().join("a"));
    a.enroll(&link);
    coso_tests::ward::record(&a, &plan, "2026-H1").unwrap_or_else(|r| panic!("{}", r.context()));
    a.cmd(&["submit", "--period", "2026-H1"]).ok();
    a.cmd(&["sync"]).ok();
    let b = agent_at(&tmp.path().join("b"));
    b.enroll(&link_b);
    b.add_activity("2026-05-01", "document", "Văn bản 1", 0);
    b.cmd(&["sync"]).ok();

    let file = tmp.path().join("hub.coso-backup");
    let file_s = file.to_str().unwrap();
    hub.cmd(&["backup", "--out", file_s]).ok();
    hub.cmd(&["backup", "--out", file_s]).expect_code(2);

    // Work goes on after the backup: a decision, more entries.
    let reason = "Đề nghị bổ sung số liệu";
    hub.cmd(&[
        "review", "--unit", "TDP01", "--period", "2026-H1", "--return", reason,
    ])
    .ok();
    a.cmd(&["sync"]).ok();
    a.add_activity("2026-06-01", "conference", "Hội nghị sau sao lưu", 40);
    a.cmd(&["sync"]).ok();
    b.add_activity("2026-06-02", "document", "Văn bản 2", 0);
    b.cmd(&["sync"]).ok();
    let h1 = |a: &Agent| {
        status(a)["submissions"]
            .as_array()
            .expect("submissions")
            .iter()
            .find(|s| s["period"] == "2026-H1")
            .cloned()
            .expect("H1")
    };
    assert_eq!(h1(&a)["state"], "returned");
    // The decision is audited, naming who made it.
    let audit = hub.cmd(&["audit", "--unit", "TDP01", "--json"]).ok().json();
    let review = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "review")
        .cloned()
        .unwrap_or_else(|| panic!("no review record: {audit:#}"));
    assert_eq!(review["actor"], "admin-token", "{review:#}");
    assert!(review["detail"].as_str().unwrap().contains(reason));

    // The machine is lost; the backup is restored into a fresh dir.
    hub.stop();
    let old = tmp.path().join("old-hub");
    std::fs::rename(&hub.dir, &old).expect("move the old hub away");
    let run = hub.cmd(&["restore", file_s]).ok();
    assert!(run.stdout().contains("coso-hub serve"), "{}", run.context());
    hub.cmd(&["restore", file_s]).expect_code(2);
    hub.serve();
    assert_eq!(
        show(&hub, "TDP01")["acked_seq"].as_u64(),
        Some(plan_head(&a) - 1)
    );
    // A new decision on the restored hub takes the outbound seq the agent
    // already applied: the agent must still see it.
    hub.cmd(&[
        "review", "--unit", "TDP01", "--period", "2026-H1", "--accept",
    ])
    .ok();
    let r = a.cmd(&["sync", "--json"]).ok().json();
    assert_eq!(r["hub_behind"], true, "{r:#}");
    assert_eq!(h1(&a)["state"], "accepted", "no decision lost");
    b.cmd(&["sync"]).ok();
    for (agent, code) in [(&a, "TDP01"), (&b, "TDP33")] {
        let st = status(agent);
        let s = show(&hub, code);
        assert_eq!(s["acked_seq"], st["head_seq"], "{code}: {s:#}");
        assert_eq!(s["activities"], st["activities"], "{code}: {s:#}");
    }
    hub.cmd(&["audit", "--verify"]).ok();
}

fn plan_head(a: &Agent) -> u64 {
    status(a)["head_seq"].as_u64().expect("head_seq")
}
