//! `coso-agent ui` in a real browser (headless Chromium over WebDriver):
//! enrol through the page with a link from a real hub, record an activity,
//! have a wrong value refused next to its field, submit, see the ward receive
//! it, have the ward return it, and see the reason after a background sync.

use std::time::Duration;

use coso_tests::browser::Browser;
use coso_tests::{Agent, AgentUi, Hub, wait_until};

/// 20 May 2026: the 6-month report (due before 05/6) is open.
const MAY_2026: &str = "2026-05-20T09:00:00+07:00";
const REASON: &str = "Bổ sung số liệu đối thoại <b>ngay</b>";
const WAIT: Duration = Duration::from_secs(30);

fn hub_state(hub: &Hub, unit: &str) -> String {
    let doc = hub
        .cmd(&["status", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    doc["units"]
        .as_array()
        .and_then(|u| u.iter().find(|x| x["unit"] == unit))
        .and_then(|x| x["state"].as_str())
        .unwrap_or("")
        .to_string()
}

#[test]
fn an_officer_reports_through_the_browser() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP05", "Tổ dân phố số 5", "residential-group");
    let mut agent = Agent::new();
    agent.env.push(("COSO_NOW".into(), MAY_2026.into()));
    let mut ui = AgentUi::start(&agent, &["--sync-every", "1s"]);
    assert!(!agent.dir.exists(), "nothing is written before enrolment");
    let b = Browser::start();

    // The printed address trades its code for the session, drops the code
    // from the address bar, and sends an agent without a unit to /enroll.
    b.goto(&ui.url);
    b.wait_for("the enrolment page", WAIT, |b| b.path() == "/enroll");
    assert!(!b.url().contains("code="), "{}", b.url());
    b.screenshot_to_env("agent-enroll");
    b.fill("#enroll", &[("link", &link)]);
    b.click("#enroll button[type=submit]");
    b.wait_for("the home page after enrolment", WAIT, |b| {
        b.path() == "/" && b.count("[data-period=\"2026-H1\"]") == 1
    });
    assert_eq!(
        b.attr(
            "[data-period=\"2026-H1\"] [data-period-state]",
            "data-period-state"
        )
        .as_deref(),
        Some("draft")
    );
    assert!(b.text("[data-period=\"2026-H1\"]").contains("Nháp"));
    assert!(b.text("[data-period=\"2026-H1\"]").contains("còn 16 ngày"));
    assert!(b.text("[data-flash]").contains("Đã đăng ký đơn vị TDP05"));

    // An activity.
    b.goto(&format!("{}/activities", ui.base));
    b.fill(
        "#activity",
        &[
            ("date", "2026-03-02"),
            ("form", "conference"),
            (
                "title",
                "Hội nghị quán triệt Luật Thực hiện dân chủ ở cơ sở",
            ),
            ("participants", "45"),
            ("note", "Tại nhà văn hóa tổ"),
        ],
    );
    b.click("#activity button[type=submit]");
    b.wait_for("the activity in the list", WAIT, |b| {
        b.count("[data-activity=\"HD-1\"]") == 1
    });
    assert!(
        b.text("[data-activity=\"HD-1\"]")
            .contains("Hội nghị quán triệt")
    );
    assert!(b.text("[data-flash]").contains("HD-1"));
    b.screenshot_to_env("agent-activities");

    // A wrong value: refused next to its field, in Vietnamese, with the
    // focus on it; nothing written.
    b.goto(&format!("{}/periods/2026-H1", ui.base));
    assert_eq!(
        b.attr("[data-computed=\"TT02\"]", "data-computed")
            .as_deref(),
        Some("TT02")
    );
    assert_eq!(
        b.text("[data-computed=\"TT02\"]"),
        "1",
        "one conference, counted"
    );
    b.fill(
        "#values",
        &[
            ("DB01", "ba"),
            ("note-results", "Tổ đã tổ chức hội nghị quán triệt Luật."),
        ],
    );
    b.click("#values button[name=action][value=save]");
    b.wait_for("the refusal next to DB01", WAIT, |b| {
        b.count("[data-error-for=\"DB01\"]") == 1
    });
    let msg = b.text("[data-error-for=\"DB01\"]");
    assert!(
        msg.contains("không hợp lệ, cần một số nguyên không âm"),
        "{msg}"
    );
    assert_eq!(
        b.focused_id(),
        "DB01",
        "the focus goes to the first problem"
    );
    assert!(b.count("[data-error-summary] a[href=\"#DB01\"]") == 1);
    b.screenshot_to_env("agent-period-error");
    let status = agent
        .cmd(&["report", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    assert!(
        status["entered"].get("DB01").is_none(),
        "nothing was written"
    );

    // Fixed and submitted.
    b.fill("#values", &[("DB01", "3")]);
    b.click("#values button[name=action][value=submit]");
    b.wait_for("the submitted state", WAIT, |b| {
        b.count("[data-period-state=\"submitted\"]") == 1
    });
    assert!(b.count("[data-locked]") == 1);
    assert!(b.text("[data-preview]").contains("3"));

    // The background sync delivers it to the ward.
    wait_until(WAIT, "the hub to hold the submission", || {
        hub_state(&hub, "TDP05") == "submitted"
    });
    b.goto(&format!("{}/periods/2026-H1", ui.base));
    b.wait_for("Đã gửi", WAIT, |b| {
        b.reload();
        b.text("[data-period-state]").contains("Đã gửi")
    });
    b.screenshot_to_env("agent-submitted");

    // The ward returns it; the next background sync brings the reason home.
    hub.cmd(&[
        "review", "--unit", "TDP05", "--period", "2026-H1", "--return", REASON,
    ])
    .ok();
    b.goto(&format!("{}/", ui.base));
    b.wait_for("the ward's reason on the home page", WAIT, |b| {
        b.reload();
        b.count("[data-period=\"2026-H1\"] [data-review-reason]") == 1
    });
    assert_eq!(
        b.text("[data-period=\"2026-H1\"] [data-review-reason]"),
        REASON,
        "the reason, escaped, as the ward wrote it"
    );
    assert!(b.text("[data-period=\"2026-H1\"]").contains("Bị trả lại"));
    b.screenshot_to_env("agent-home");

    // The CLI works while the app runs (the store is held per request).
    let report = agent
        .cmd(&["report", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    assert_eq!(report["state"], "returned");
    drop(b);
    ui.stop();
}
