//! Sync integrity (#13): diverged copies of an agent are stopped and
//! recovered without dropping anything, and backups of hub and agent come
//! back without losing an entry or a review decision.

use std::path::Path;

use coso_tests::web::Session;
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

/// The unit's row of `coso-hub status --period P --json`.
fn status_row(hub: &Hub, period: &str, code: &str) -> Value {
    let s = hub
        .cmd(&["status", "--period", period, "--json"])
        .ok()
        .json();
    s["units"]
        .as_array()
        .expect("units")
        .iter()
        .find(|u| u["unit"] == code)
        .cloned()
        .unwrap_or_else(|| panic!("{code} not in status: {s:#}"))
}

/// Whether the element for `code` on a dashboard page carries the
/// diverged badge.
fn badge(page: &str, code: &str) -> bool {
    let Some(at) = page.find(&format!("data-unit=\"{code}\"")) else {
        return false;
    };
    let rest = &page[at..];
    let end = rest[1..].find("data-unit=").map_or(rest.len(), |e| e + 1);
    rest[..end].contains("data-diverged")
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
    // `status` marks it too, in JSON and in words, and so does the dashboard.
    assert_eq!(status_row(&hub, "2026-H1", "TDP31")["diverged"], true);
    let text = hub.cmd(&["status", "--period", "2026-H1"]).ok();
    assert!(
        text.stdout().contains("LỆCH DỮ LIỆU") && text.stdout().contains("coso-hub unit reissue"),
        "{}",
        text.context()
    );
    let text = hub
        .cmd(&["status", "--period", "2026-H1", "--lang", "en"])
        .ok();
    assert!(text.stdout().contains("DIVERGED"), "{}", text.context());
    let viewer = Session::sign_in(&hub, "xem", "viewer");
    let grid = viewer.page("/periods/2026-H1");
    assert!(badge(&grid, "TDP31"), "no badge on the grid:\n{grid}");
    let page = viewer.page("/periods/2026-H1/units/TDP31");
    assert!(
        page.contains("data-diverged"),
        "no badge on the unit page:\n{page}"
    );

    // VH-XH reissues; B recovers: the hub's log, then B's own changes.
    let relink = hub.cmd(&["unit", "reissue", "TDP31"]).ok().last_line();
    let r = b.cmd(&["recover", &relink, "--json"]).ok().json();
    assert_eq!(r["hub_head"], 3, "{r:#}");
    assert_eq!(r["common"], 2, "{r:#}");
    assert_eq!(r["rebased"], 2, "{r:#}");
    let s = show(&hub, "TDP31");
    assert_eq!(s["diverged"], false, "{s:#}");
    assert_eq!(s["acked_seq"], 5, "{s:#}");
    assert_eq!(status_row(&hub, "2026-H1", "TDP31")["diverged"], false);
    let text = hub.cmd(&["status", "--period", "2026-H1"]).ok();
    assert!(
        !text.stdout().contains("LỆCH DỮ LIỆU"),
        "{}",
        text.context()
    );
    let grid = viewer.page("/periods/2026-H1");
    assert!(!badge(&grid, "TDP31"), "{grid}");
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

#[test]
fn a_report_submitted_on_a_diverged_copy_is_frozen_again_by_recover_and_accepted() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP34", "Tổ dân phố số 34", "residential-group");
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = agent_at(&tmp.path().join("a"));
    a.enroll(&link);
    a.add_activity("2026-02-01", "briefing", "Giao ban chung", 10);
    a.cmd(&["sync"]).ok();
    let b = agent_at(&tmp.path().join("b"));
    copy_dir(&a.dir, &b.dir);
    a.add_activity("2026-03-01", "conference", "Hội nghị máy A", 30);
    a.cmd(&["sync"]).ok();
    // B, not knowing A's meeting, submits a report of one activity.
    b.cmd(&["value", "set", "--period", "2026-H1", "DB01=2"])
        .ok();
    b.cmd(&["submit", "--period", "2026-H1"]).ok();
    sync_fails(&b, None);
    let relink = hub.cmd(&["unit", "reissue", "TDP34"]).ok().last_line();
    b.cmd(&["recover", &relink, "--json"]).ok();
    // The ward has the report, covering both meetings as its log does.
    let s = show(&hub, "TDP34");
    let h1 = s["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == "2026-H1")
        .cloned()
        .unwrap_or_else(|| panic!("no 2026-H1: {s:#}"));
    assert_eq!(h1["state"], "submitted", "{s:#}");
    assert_eq!(h1["values"]["TT09"], 2, "{s:#}");
    assert_eq!(h1["values"]["TT10"], 40, "{s:#}");
}

#[test]
fn a_replacement_laptop_takes_the_units_log_over_with_one_link() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP33", "Tổ dân phố số 33", "residential-group");
    let tmp = tempfile::tempdir().expect("tempdir");
    let old = agent_at(&tmp.path().join("old"));
    old.enroll(&link);
    old.add_activity("2026-02-01", "briefing", "Giao ban tháng 2", 10);
    old.add_activity("2026-03-01", "conference", "Hội nghị tháng 3", 30);
    old.cmd(&["sync"]).ok();
    // The old laptop is lost; the ward issues one new link.
    let relink = hub.cmd(&["unit", "reissue", "TDP33"]).ok().last_line();
    let new = agent_at(&tmp.path().join("new"));
    let run = new.cmd(&["enroll", &relink, "--json"]).ok().json();
    assert_eq!(run["taken_over"], 2, "{run:#}");
    // The first sync is an ordinary one: the unit is not diverged.
    new.cmd(&["sync"]).ok();
    assert_eq!(status(&new)["activities"], 2);
    new.add_activity("2026-04-01", "training", "Tập huấn tháng 4", 20);
    new.cmd(&["sync"]).ok();
    let s = show(&hub, "TDP33");
    assert_eq!(s["activities"], 3, "{s:#}");
    assert!(s["diverged"].is_null() || s["diverged"] == false, "{s:#}");
    let audit = hub.cmd(&["audit", "--unit", "TDP33", "--json"]).ok().json();
    assert!(
        audit["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] != "diverged"),
        "{audit:#}"
    );
}

/// The audit trail's records as (actor, action, unit, detail).
fn audit_rows(hub: &Hub) -> Vec<(String, String, String, String)> {
    let audit = hub.cmd(&["audit", "--json"]).ok().json();
    let field = |r: &Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
    audit["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                field(r, "actor"),
                field(r, "action"),
                field(r, "unit"),
                field(r, "detail"),
            )
        })
        .collect()
}

#[test]
fn every_change_of_who_may_act_is_audited_with_who_did_it() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP32", "Tổ dân phố số 32", "residential-group");
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = agent_at(&tmp.path().join("a"));
    a.enroll(&link);
    hub.cmd(&["user", "add", "lan", "--role", "reviewer"]).ok();
    hub.cmd(&["user", "passwd", "lan"]).ok();
    let run = hub.cmd(&["user", "unlock", "lan"]).ok();
    assert!(run.stdout().contains("Đã mở khóa lan"), "{}", run.context());
    hub.cmd(&["user", "unlock", "khong-co"]).expect_code(2);
    hub.cmd(&["user", "remove", "lan"]).ok();
    hub.cmd(&["unit", "reissue", "TDP32"]).ok();
    hub.cmd(&["unit", "revoke", "TDP32"]).ok();
    let rows = audit_rows(&hub);
    let has = |actor: &str, action: &str, detail: &str| {
        rows.iter()
            .any(|r| r.0 == actor && r.1 == action && r.3.starts_with(detail))
    };
    assert!(has("unit:TDP32", "unit-enrol", ""), "{rows:#?}");
    assert!(has("admin-token", "user-add", "lan reviewer"), "{rows:#?}");
    assert!(
        has("admin-token", "user-password", "lan one-time"),
        "{rows:#?}"
    );
    assert!(has("admin-token", "user-unlock", "lan"), "{rows:#?}");
    assert!(has("admin-token", "user-remove", "lan"), "{rows:#?}");
    assert!(has("admin-token", "unit-reissue", ""), "{rows:#?}");
    assert!(has("admin-token", "unit-revoke", ""), "{rows:#?}");
    hub.cmd(&["audit", "--verify"]).ok();
}

fn plan_head(a: &Agent) -> u64 {
    status(a)["head_seq"].as_u64().expect("head_seq")
}

#[test]
fn a_report_received_on_time_stays_on_time_after_the_hub_is_restored() {
    let mut hub = Hub::start();
    hub.cmd(&[
        "period",
        "add",
        "2026-A01",
        "--title",
        "Báo cáo đột xuất",
        "--due",
        "2026-12-01",
    ])
    .ok();
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = Agent::at(&tmp.path().join("a"));
    a.enroll(&hub.add_unit("TDP01", "Tổ dân phố số 1", "residential-group"));
    a.cmd(&["sync"]).ok();
    let file = tmp.path().join("hub.coso-backup");
    let file_s = file.to_str().unwrap();
    hub.cmd(&["backup", "--out", file_s]).ok();

    // Submitted and received one second before the deadline.
    a.cmd(&["value", "set", "--period", "2026-A01", "DB01=2"])
        .ok();
    a.cmd(&["submit", "--period", "2026-A01"]).ok();
    hub.stop();
    hub.env = vec![("COSO_NOW".into(), "2026-11-30T23:59:59+07:00".into())];
    hub.serve();
    a.cmd(&["sync"]).ok();
    assert_eq!(
        status_row(&hub, "2026-A01", "TDP01")["timeliness"],
        "on_time"
    );

    // The older backup is restored after the deadline; the agent resends.
    hub.stop();
    std::fs::rename(&hub.dir, tmp.path().join("old-hub")).expect("move the old hub away");
    hub.cmd(&["restore", file_s]).ok();
    hub.env = vec![("COSO_NOW".into(), "2026-12-02T09:00:00+07:00".into())];
    hub.serve();
    let r = a.cmd(&["sync", "--json"]).ok().json();
    assert_eq!(r["hub_behind"], true, "{r:#}");
    let row = status_row(&hub, "2026-A01", "TDP01");
    assert_eq!(row["state"], "submitted", "{row:#}");
    assert_eq!(row["timeliness"], "on_time", "{row:#}");
}
