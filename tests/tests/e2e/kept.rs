//! Units kept at the ward (issue 24): a unit without a computer is
//! registered with `--kept-at-ward` (or switched before it ever enrolled),
//! no agent can sync it, a reviewer enters its activities in the dashboard
//! (written to the unit's log as a push would be, marked with who entered
//! them), and `unit handover` gives it an enrolment link whose agent takes
//! the whole log over.

use coso_tests::web::{Session, password_of};
use coso_tests::{Agent, Hub};
use serde_json::Value;

fn unit_in_list(hub: &Hub, code: &str) -> Value {
    let list = hub.cmd(&["unit", "list", "--json"]).ok().json();
    list["units"]
        .as_array()
        .expect("units")
        .iter()
        .find(|u| u["unit"] == code)
        .cloned()
        .unwrap_or_else(|| panic!("{code} not listed: {list:#}"))
}

fn show(hub: &Hub, code: &str) -> Value {
    hub.cmd(&["unit", "show", code, "--json"]).ok().json()
}

fn audit_actions(hub: &Hub, code: &str) -> Vec<(String, String)> {
    let audit = hub.cmd(&["audit", "--unit", code, "--json"]).ok().json();
    audit["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["actor"].as_str().unwrap_or_default().to_string(),
                r["action"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_unit_is_kept_at_the_ward_from_the_start_or_switched_before_it_enrols() {
    let hub = Hub::start();
    let added = hub.cmd(&[
        "unit",
        "add",
        "TDP61",
        "--name",
        "Tổ dân phố số 61",
        "--kind",
        "residential-group",
        "--kept-at-ward",
    ]);
    let added = added.ok();
    assert!(!added.stdout().contains("coso://"), "{}", added.context());
    assert_eq!(unit_in_list(&hub, "TDP61")["kept_at_ward"], true);
    assert_eq!(show(&hub, "TDP61")["kept_at_ward"], true);

    // A unit registered the ordinary way is not kept; switched before it
    // enrolls, its link stops working.
    let link = hub.add_unit("TDP62", "Tổ dân phố số 62", "residential-group");
    assert_eq!(unit_in_list(&hub, "TDP62")["kept_at_ward"], false);
    hub.cmd(&["unit", "keep-at-ward", "TDP62"]).ok();
    assert_eq!(show(&hub, "TDP62")["kept_at_ward"], true);
    let agent = Agent::new();
    let enrol = agent.cmd(&["enroll", &link]);
    assert_ne!(enrol.code(), 0, "{}", enrol.context());
    assert!(
        audit_actions(&hub, "TDP62").contains(&("admin-token".into(), "unit-keep-at-ward".into())),
        "{:?}",
        audit_actions(&hub, "TDP62")
    );
    // A kept unit gets its link by a hand-over, not a reissue.
    let reissue = hub.cmd(&["unit", "reissue", "TDP62"]);
    assert_ne!(reissue.code(), 0, "{}", reissue.context());

    // A unit that enrolled cannot be switched: its agent keeps its log.
    let link = hub.add_unit("TDP63", "Tổ dân phố số 63", "residential-group");
    let enrolled = Agent::new();
    enrolled.enroll(&link);
    let refused = hub.cmd(&["unit", "keep-at-ward", "TDP63"]);
    assert_ne!(refused.code(), 0, "{}", refused.context());
    assert_eq!(show(&hub, "TDP63")["kept_at_ward"], false);
}

fn add_kept(hub: &Hub, code: &str) {
    hub.cmd(&[
        "unit",
        "add",
        code,
        "--name",
        &format!("Tổ dân phố {code}"),
        "--kind",
        "residential-group",
        "--kept-at-ward",
    ])
    .ok();
}

#[test]
fn a_reviewer_enters_a_kept_units_activities_checked_by_the_agents_rules() {
    let hub = Hub::start();
    add_kept(&hub, "TDP64");
    let lan = Session::sign_in(&hub, "lan", "reviewer");
    let (status, page) = lan.get("/units/TDP64/activities");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"id="activity""#), "{page}");

    // The agent's rule and wording: "4,5" is not a number of people.
    let typed = [
        ("date", "2026-03-02"),
        ("form", "conference"),
        ("title", "Hội nghị quán triệt Luật"),
        ("participants", "4,5"),
        ("note", ""),
    ];
    let (status, page) = lan.post("/units/TDP64/activities", &typed);
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains(r#"data-error-for="participants""#) && page.contains("lượt người"),
        "{page}"
    );
    assert!(
        !page.contains("data-activity="),
        "nothing was written: {page}"
    );
    assert_eq!(show(&hub, "TDP64")["acked_seq"], 0);
    let (status, page) = lan.post(
        "/units/TDP64/activities",
        &[
            ("date", "2026-13-02"),
            ("form", "conference"),
            ("title", "X"),
        ],
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains(r#"data-error-for="date""#), "{page}");

    let mut good = typed;
    good[3] = ("participants", "1.200");
    let (status, page) = lan.post("/units/TDP64/activities", &good);
    assert_eq!(status, 303, "{page}");
    let (_, page) = lan.get("/units/TDP64/activities");
    assert!(page.contains(r#"data-activity="HD-1""#), "{page}");
    assert!(page.contains("1200"), "{page}");

    // In the unit's log, as a push: counted, derived, marked and audited.
    let s = show(&hub, "TDP64");
    assert_eq!(s["activities"], 1, "{s:#}");
    assert_eq!(s["acked_seq"], 1, "{s:#}");
    let by = &s["entered_by"][0];
    assert_eq!(by["user"], "lan", "{s:#}");
    assert_eq!(by["kind"], "activity-upsert", "{s:#}");
    assert_eq!(by["entity"], "HD-1", "{s:#}");
    assert!(
        audit_actions(&hub, "TDP64").contains(&("lan".into(), "entry".into())),
        "{:?}",
        audit_actions(&hub, "TDP64")
    );
    let verify = hub.cmd(&["audit", "--verify"]);
    assert_eq!(verify.code(), 0, "{}", verify.context());

    // A unit with its own agent: the ward does not write to its log.
    hub.add_unit("TDP65", "Tổ dân phố số 65", "residential-group");
    let (status, page) = lan.post("/units/TDP65/activities", &good);
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("data-not-kept"), "{page}");
    assert_eq!(show(&hub, "TDP65")["acked_seq"], 0);

    // A viewer may not enter anything.
    let xem = Session::sign_in(&hub, "xem", "viewer");
    let (status, _) = xem.post("/units/TDP64/activities", &good);
    assert_eq!(status, 403);
    assert_eq!(show(&hub, "TDP64")["acked_seq"], 1);
}

#[test]
fn a_kept_unit_handed_over_continues_on_its_agent_with_nothing_lost_or_doubled() {
    let hub = Hub::start();
    add_kept(&hub, "TDP66");
    let lan = Session::sign_in(&hub, "lan", "reviewer");
    for (date, title) in [
        ("2026-02-01", "Giao ban tháng 2"),
        ("2026-03-01", "Hội nghị tháng 3"),
    ] {
        let form = [
            ("date", date),
            ("form", "briefing"),
            ("title", title),
            ("participants", "10"),
            ("note", ""),
        ];
        let (status, page) = lan.post("/units/TDP66/activities", &form);
        assert_eq!(status, 303, "{page}");
    }
    let handover = hub.cmd(&["unit", "handover", "TDP66"]).ok();
    let link = handover.last_line();
    assert!(link.starts_with("coso://"), "{}", handover.context());
    assert_eq!(show(&hub, "TDP66")["kept_at_ward"], false);

    // The ward no longer writes to the log, and says why.
    let late = [
        ("date", "2026-03-05"),
        ("form", "briefing"),
        ("title", "Nhập muộn"),
        ("participants", ""),
        ("note", ""),
    ];
    let (status, page) = lan.post("/units/TDP66/activities", &late);
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("data-not-kept"), "{page}");

    // The agent takes the whole log over, adds more, and syncs.
    let agent = Agent::new();
    let run = agent.cmd(&["enroll", &link, "--json"]).ok().json();
    assert_eq!(run["taken_over"], 2, "{run:#}");
    agent.cmd(&["sync"]).ok();
    let id = agent.add_activity("2026-04-01", "training", "Tập huấn tháng 4", 20);
    agent.cmd(&["sync"]).ok();
    let list = agent.cmd(&["activity", "list", "--json"]).ok().json();
    let ids: Vec<String> = list["activities"]
        .as_array()
        .unwrap_or_else(|| panic!("{list:#}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(ids.len(), 3, "{list:#}");
    assert!(ids.contains(&"HD-1".to_string()) && ids.contains(&"HD-2".to_string()));
    assert!(!["HD-1", "HD-2"].contains(&id.as_str()), "{id} reused");
    let s = show(&hub, "TDP66");
    assert_eq!(s["activities"], 3, "{s:#}");
    assert_eq!(s["acked_seq"], 3, "{s:#}");
    assert!(s["diverged"].is_null() || s["diverged"] == false, "{s:#}");
    // Who entered what stays: the ward's two entries, not the agent's.
    let by = s["entered_by"].as_array().expect("entered_by");
    assert_eq!(by.len(), 2, "{s:#}");
    assert!(by.iter().all(|e| e["user"] == "lan"), "{s:#}");
    assert!(
        audit_actions(&hub, "TDP66").contains(&("admin-token".into(), "unit-handover".into())),
        "{:?}",
        audit_actions(&hub, "TDP66")
    );
}

/// A hub on 5 November 2026 with one residential group of ward `seed`'s
/// plan (a year of activities and values to type) kept at the ward.
fn kept_ward(seed: u64) -> (Hub, coso_tests::ward::UnitPlan) {
    let mut hub = Hub::start();
    hub.stop();
    hub.env
        .push(("COSO_NOW".into(), "2026-11-05T09:00:00+07:00".into()));
    hub.serve();
    let plan = coso_tests::ward::generate(
        seed,
        3,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 4).expect("date"),
    )
    .into_iter()
    .find(|p| p.kind.as_str() == "residential-group" && !p.values.is_empty())
    .expect("a residential group");
    add_kept(&hub, &plan.code);
    (hub, plan)
}

/// The hidden `seen` of the review form on a unit's page.
fn seen(page: &str) -> String {
    let at = page.find(r#"name="seen" value=""#).expect("review form") + 19;
    page[at..].split('"').next().unwrap_or_default().to_string()
}

#[test]
fn a_kept_units_report_is_entered_submitted_reviewed_by_a_second_person_and_counted() {
    const PERIOD: &str = "2026-Y";
    let (hub, plan) = kept_ward(11);
    let code = plan.code.as_str();
    let lan = Session::sign_in(&hub, "lan", "reviewer");
    let entry = format!("/periods/{PERIOD}/units/{code}/entry");
    let (status, page) = lan.get(&entry);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"id="entry""#), "{page}");

    for a in &plan.activities {
        let date = a.date.to_string();
        let n = a.participants.to_string();
        let form = [
            ("date", date.as_str()),
            ("form", a.form.as_str()),
            ("title", a.title.as_str()),
            ("participants", n.as_str()),
            ("note", ""),
        ];
        let (status, page) = lan.post(&format!("/units/{code}/activities"), &form);
        assert_eq!(status, 303, "{page}");
    }

    // A refused value: its message at its field, and nothing written.
    let (first, _) = plan.values.iter().next().expect("a value");
    let before = show(&hub, code)["acked_seq"].clone();
    let (status, page) = lan.post(
        &entry,
        &[(first.as_str(), "không phải số"), ("action", "save")],
    );
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains(&format!(r#"data-error-for="{first}""#)),
        "{page}"
    );
    assert_eq!(show(&hub, code)["acked_seq"], before);

    let mut form: Vec<(&str, &str)> = plan
        .values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    form.push((
        "note-results",
        "Đã tổ chức quán triệt tại nhà văn hóa tổ dân phố.",
    ));
    form.push(("note-difficulties", ""));
    form.push(("note-proposals", ""));
    form.push(("note-next-tasks", ""));
    let mut save = form.clone();
    save.push(("action", "save"));
    let (status, page) = lan.post(&entry, &save);
    assert_eq!(status, 303, "{page}");
    let s = show(&hub, code);
    let p = s["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .find(|p| p["period"] == PERIOD)
        .cloned()
        .unwrap_or_else(|| panic!("{s:#}"));
    assert_eq!(p["state"], "draft", "{s:#}");
    let mut submit = form.clone();
    submit.push(("action", "submit"));
    let (status, page) = lan.post(&entry, &submit);
    assert_eq!(status, 303, "{page}");
    let status_json = hub
        .cmd(&["status", "--period", PERIOD, "--json"])
        .ok()
        .json();
    let row = status_json["units"]
        .as_array()
        .expect("units")
        .iter()
        .find(|u| u["unit"] == code)
        .cloned()
        .expect("row");
    assert_eq!(row["state"], "submitted", "{status_json:#}");
    // Frozen: the entry page refuses to change it.
    let (status, _) = lan.post(&entry, &save);
    assert_eq!(status, 409);

    // The reviewer who entered it does not accept it; a second one does.
    let unit_page = format!("/periods/{PERIOD}/units/{code}");
    let (_, page) = lan.get(&unit_page);
    assert!(
        page.contains("data-kept-at-ward") && page.contains(&entry),
        "{page}"
    );
    assert!(
        page.contains("data-entered-by") && page.contains("Nhập tại phường bởi: lan"),
        "the unit page names who entered the report: {page}"
    );
    let (status, page) = lan.post(
        &format!("{unit_page}/review"),
        &[
            ("seen", &seen(&page)),
            ("reason", ""),
            ("decision", "accept"),
        ],
    );
    assert_ne!(status, 303, "{page}");
    let (_, page) = lan.get(&unit_page);
    assert!(page.contains(r#"data-state="submitted""#), "{page}");
    let minh = Session::sign_in(&hub, "minh", "reviewer");
    let (_, page) = minh.get(&unit_page);
    let (status, page) = minh.post(
        &format!("{unit_page}/review"),
        &[
            ("seen", &seen(&page)),
            ("reason", ""),
            ("decision", "accept"),
        ],
    );
    assert_eq!(status, 303, "{page}");
    let (_, page) = minh.get(&unit_page);
    assert!(page.contains(r#"data-state="accepted""#), "{page}");

    // Counted in the consolidated report.
    let report: Value = hub.report_json(PERIOD);
    assert_eq!(report["units_reported"], 1, "{report:#}");
    let counted = report["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .any(|i| i["by_unit"].get(code).is_some());
    assert!(counted, "{report:#}");

    // The group leader's signed paper, scanned, kept with the submission.
    let paper = format!("/periods/{PERIOD}/units/{code}/paper");
    let (status, page) = lan.upload(&paper, b"MZ\x90\x00 not a scan".to_vec());
    assert_eq!(status, 422, "{page}");
    assert!(page.contains(r#"data-error-for="file""#), "{page}");
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend(std::iter::repeat_n(b'x', 3000));
    let (status, page) = lan.upload(&paper, pdf.clone());
    assert_eq!(status, 303, "{page}");
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(11 << 20, b'x');
    let (status, _) = lan.upload(&paper, big);
    assert_ne!(status, 303);
    let (_, page) = minh.get(&unit_page);
    assert_eq!(page.matches("data-paper=").count(), 1, "{page}");
    let at = page.find(&format!("{paper}/")).expect("download link");
    let link = page[at..].split('"').next().unwrap_or_default().to_string();
    let xem = Session::sign_in(&hub, "xem", "viewer");
    let (status, kind, bytes) = xem.download(&link);
    assert_eq!(status, 200);
    assert_eq!(kind, "application/pdf");
    assert_eq!(bytes, pdf);
}

/// Signs the browser in as `user` (made by [`Session::sign_in`]).
fn browser_sign_in(b: &coso_tests::browser::Browser, base: &str, user: &str) {
    b.sign_in(base, user, &password_of(user));
    b.wait_for("the start page", WAIT, |b| b.path() == "/");
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

#[test]
fn in_a_browser_a_kept_unit_is_entered_submitted_reviewed_counted_and_handed_over() {
    const PERIOD: &str = "2026-Y";
    let (hub, plan) = kept_ward(12);
    let code = plan.code.as_str();
    let lan = Session::sign_in(&hub, "lan", "reviewer");
    Session::sign_in(&hub, "minh", "reviewer");
    let base = format!("https://{}", hub.web);

    let b = coso_tests::browser::Browser::start();
    browser_sign_in(&b, &base, "lan");
    b.goto(&format!("{base}/units/{code}/activities"));
    b.fill(
        "#activity",
        &[
            ("date", "2026-03-02"),
            ("form", "conference"),
            ("title", "Hội nghị quán triệt Luật"),
            ("participants", "45"),
        ],
    );
    b.click("#activity button[type=submit]");
    b.wait_for("the activity listed", WAIT, |b| {
        b.count("[data-activity]") == 1
    });
    // The rest of the year's activities, typed by the same reviewer.
    for a in &plan.activities {
        let (date, n) = (a.date.to_string(), a.participants.to_string());
        let form = [
            ("date", date.as_str()),
            ("form", a.form.as_str()),
            ("title", a.title.as_str()),
            ("participants", n.as_str()),
            ("note", ""),
        ];
        assert_eq!(lan.post(&format!("/units/{code}/activities"), &form).0, 303);
    }

    b.goto(&format!("{base}/periods/{PERIOD}/units/{code}/entry"));
    let mut fields: Vec<(&str, &str)> = plan
        .values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    fields.push(("note-results", "Đã tổ chức quán triệt tại nhà văn hóa."));
    b.fill("#entry", &fields);
    b.screenshot_to_env("hub-kept-entry");
    b.click("#entry button[value=submit]");
    b.wait_for("the submitted report", WAIT, |b| {
        b.count("[data-state=\"submitted\"]") == 1
    });
    b.click("form[action=\"/logout\"] button");
    b.wait_for("the login page", WAIT, |b| b.path() == "/login");

    browser_sign_in(&b, &base, "minh");
    b.goto(&format!("{base}/periods/{PERIOD}/units/{code}"));
    b.click("#review button[value=accept]");
    b.wait_for("the accepted report", WAIT, |b| {
        b.count("[data-state=\"accepted\"]") == 1
    });

    let report: Value = hub.report_json(PERIOD);
    assert_eq!(report["units_reported"], 1, "{report:#}");

    // The unit gets a computer: an admin hands it over with the button, and
    // the agent enrolling with the link the page shows takes the log over.
    b.click("form[action=\"/logout\"] button");
    b.wait_for("the login page", WAIT, |b| b.path() == "/login");
    let _admin = Session::sign_in(&hub, "an", "admin");
    browser_sign_in(&b, &base, "an");
    b.goto(&format!("{base}/admin/units"));
    b.click(&format!("button[name=handover][value=\"{code}\"]"));
    b.wait_for("the hand-over's enrolment link", WAIT, |b| {
        b.count("[data-enrolment-link]") == 1
    });
    let link = b.text("[data-enrolment-link]");
    let at_ward = show(&hub, code)["activities"].as_u64().expect("activities");
    assert!(at_ward > 0, "{:#}", show(&hub, code));
    let agent = Agent::new();
    agent.enroll(link.trim());
    let status = agent.cmd(&["status", "--json"]).ok().json();
    assert_eq!(status["activities"].as_u64(), Some(at_ward), "{status:#}");
    agent.add_activity("2026-10-20", "conference", "Hội nghị sau bàn giao", 25);
    agent.cmd(&["sync"]).ok();
    let after = show(&hub, code);
    assert_eq!(after["activities"].as_u64(), Some(at_ward + 1), "{after:#}");
    assert_eq!(after["kept_at_ward"], false, "{after:#}");
    // The ward's page no longer takes entries for it.
    b.goto(&format!("{base}/units/{code}/activities"));
    assert_eq!(b.count("#activity"), 0, "{}", b.source());
    assert_eq!(b.count("[data-not-kept]"), 1, "{}", b.source());
}

/// The value of `code` in the unit's `period` as the hub derives it.
fn period_value(hub: &Hub, unit: &str, period: &str, code: &str) -> Value {
    let s = show(hub, unit);
    s["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .find(|p| p["period"] == period)
        .map(|p| p["values"][code].clone())
        .unwrap_or_else(|| panic!("no {period}: {s:#}"))
}

fn count_entries_by(hub: &Hub, code: &str, user: &str) -> usize {
    audit_actions(hub, code)
        .iter()
        .filter(|(a, action)| a == user && action == "entry")
        .count()
}

#[test]
fn a_reviewer_corrects_and_removes_a_kept_units_activity_and_the_agent_taking_over_sees_it() {
    let hub = Hub::start();
    add_kept(&hub, "TDP67");
    let lan = Session::sign_in(&hub, "lan", "reviewer");
    for (date, title, people) in [
        ("2026-03-02", "Hội nghị quán triệt Luật", "45"),
        ("2026-03-09", "Giao ban nhập nhầm", "10"),
    ] {
        let form = [
            ("date", date),
            ("form", "conference"),
            ("title", title),
            ("participants", people),
            ("note", ""),
        ];
        let (status, page) = lan.post("/units/TDP67/activities", &form);
        assert_eq!(status, 303, "{page}");
    }
    assert_eq!(period_value(&hub, "TDP67", "2026-H1", "TT10"), 55);

    // Each row links to its edit page, which shows the activity as recorded
    // in the agent's form, and a separate removal.
    let (_, page) = lan.get("/units/TDP67/activities");
    assert!(
        page.contains(r#"href="/units/TDP67/activities/HD-1""#),
        "{page}"
    );
    let (status, page) = lan.get("/units/TDP67/activities/HD-1");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"id="activity""#), "{page}");
    assert!(
        page.contains(r#"value="2026-03-02""#) && page.contains(r#"value="45""#),
        "{page}"
    );
    assert!(
        page.contains(r#"action="/units/TDP67/activities/HD-1/remove""#),
        "{page}"
    );

    // A refused edit: the agent's message next to the field, nothing written.
    let mut fix = [
        ("date", "2026-03-02"),
        ("form", "conference"),
        ("title", "Hội nghị quán triệt Luật"),
        ("participants", "4,5"),
        ("note", ""),
    ];
    let (status, page) = lan.post("/units/TDP67/activities/HD-1", &fix);
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains(r#"data-error-for="participants""#) && page.contains("lượt người"),
        "{page}"
    );
    assert!(page.contains(r#"value="4,5""#), "typed kept: {page}");
    assert_eq!(show(&hub, "TDP67")["acked_seq"], 2);

    // The correction: the same id, upserted, derived values follow.
    fix[3] = ("participants", "50");
    let (status, page) = lan.post("/units/TDP67/activities/HD-1", &fix);
    assert_eq!(status, 303, "{page}");
    let s = show(&hub, "TDP67");
    assert_eq!(s["acked_seq"], 3, "{s:#}");
    assert_eq!(s["activities"], 2, "{s:#}");
    let last = &s["entered_by"][2];
    assert_eq!(last["kind"], "activity-upsert", "{s:#}");
    assert_eq!(last["entity"], "HD-1", "{s:#}");
    assert_eq!(last["user"], "lan", "{s:#}");
    assert_eq!(period_value(&hub, "TDP67", "2026-H1", "TT10"), 60);
    assert_eq!(count_entries_by(&hub, "TDP67", "lan"), 3);
    // Saving it again unchanged writes nothing.
    let (status, _) = lan.post("/units/TDP67/activities/HD-1", &fix);
    assert_eq!(status, 303);
    assert_eq!(show(&hub, "TDP67")["acked_seq"], 3);

    // A viewer may neither see the edit page nor write.
    let xem = Session::sign_in(&hub, "xem", "viewer");
    assert_eq!(xem.get("/units/TDP67/activities/HD-2").0, 403);
    assert_eq!(xem.post("/units/TDP67/activities/HD-2", &fix).0, 403);
    assert_eq!(xem.post("/units/TDP67/activities/HD-2/remove", &[]).0, 403);
    assert_eq!(show(&hub, "TDP67")["acked_seq"], 3);

    // The removal: the agent's removal change, marked and audited.
    let (status, page) = lan.post("/units/TDP67/activities/HD-2/remove", &[]);
    assert_eq!(status, 303, "{page}");
    let s = show(&hub, "TDP67");
    assert_eq!(s["activities"], 1, "{s:#}");
    let last = &s["entered_by"][3];
    assert_eq!(last["kind"], "activity-remove", "{s:#}");
    assert_eq!(last["entity"], "HD-2", "{s:#}");
    assert_eq!(last["user"], "lan", "{s:#}");
    assert_eq!(period_value(&hub, "TDP67", "2026-H1", "TT10"), 50);
    assert_eq!(count_entries_by(&hub, "TDP67", "lan"), 4);
    assert_eq!(lan.get("/units/TDP67/activities/HD-2").0, 404);
    assert_eq!(lan.post("/units/TDP67/activities/HD-2/remove", &[]).0, 404);

    // A unit with its own agent: refused, with the reason.
    hub.add_unit("TDP68", "Tổ dân phố số 68", "residential-group");
    let (status, page) = lan.post("/units/TDP68/activities/HD-1", &fix);
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("data-not-kept"), "{page}");

    // Handed over: the ward writes no more, and says why.
    let link = hub.cmd(&["unit", "handover", "TDP67"]).ok().last_line();
    fix[3] = ("participants", "70");
    let (status, page) = lan.post("/units/TDP67/activities/HD-1", &fix);
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("data-not-kept"), "{page}");
    let (status, page) = lan.post("/units/TDP67/activities/HD-1/remove", &[]);
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("data-not-kept"), "{page}");
    assert_eq!(show(&hub, "TDP67")["acked_seq"], 4);

    // The agent takes the corrected log over: one activity, 50 people; a
    // removed id is never given again.
    let agent = Agent::new();
    let run = agent.cmd(&["enroll", &link, "--json"]).ok().json();
    assert_eq!(run["taken_over"], 4, "{run:#}");
    let list = agent.cmd(&["activity", "list", "--json"]).ok().json();
    let acts = list["activities"]
        .as_array()
        .unwrap_or_else(|| panic!("{list:#}"));
    assert_eq!(acts.len(), 1, "{list:#}");
    assert_eq!(acts[0]["id"], "HD-1", "{list:#}");
    assert_eq!(acts[0]["participants"], 50, "{list:#}");
    let id = agent.add_activity("2026-04-01", "training", "Tập huấn tháng 4", 20);
    assert!(!["HD-1", "HD-2"].contains(&id.as_str()), "{id} reused");
}
