//! The hub's web dashboard in a real browser (headless Chromium over
//! WebDriver): a user made with `coso-hub user add` signs in with the
//! one-time password and must choose their own; the completeness grid of a
//! generated ward agrees with `coso-hub status --json`; a report returned in
//! the browser with a reason (after an empty reason is refused) reaches the
//! real agent on its next sync; the start page's chart across periods has a
//! data table that agrees with `coso-hub status` for two periods; the
//! appendix page's totals are the JSON report's; and the downloads, in every
//! format, are the same bytes as `coso-hub report`, fetched over HTTPS
//! trusting the CA `coso-hub web-ca` wrote. With `COSO_SCREENSHOTS=DIR` it
//! saves the main pages as PNGs.

use std::time::Duration;

use chrono::NaiveDate;
use coso_tests::browser::Browser;
use coso_tests::ward::{self, Fate, UnitPlan};
use coso_tests::web::Session;
use coso_tests::{Agent, Hub};

const PERIOD: &str = "2026-Y";
/// A second period, past its deadline: half the reporting units send it late.
const EARLIER: &str = "2026-M9";
const BEFORE_DUE: &str = "2026-11-05T09:00:00+07:00";
const NEW_PASSWORD: &str = "mật khẩu của Lan 2026";
const WAIT: Duration = Duration::from_secs(20);

struct World {
    hub: Hub,
    plans: Vec<UnitPlan>,
    agents: Vec<Agent>,
}

/// A small generated ward, recorded through real agents: most units submit,
/// some stay drafts, some send nothing; every other reporting unit also
/// sends the 9-month report, after its deadline.
fn world(groups: usize) -> World {
    let plans = ward::generate(11, groups, NaiveDate::from_ymd_opt(2026, 11, 4).unwrap());
    let mut hub = Hub::start();
    hub.stop();
    hub.env.push(("COSO_NOW".into(), BEFORE_DUE.into()));
    hub.serve();
    let mut agents = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        let link = hub.add_unit(&p.code, &p.name, p.kind.as_str());
        let mut a = Agent::new();
        a.env.push(("COSO_NOW".into(), BEFORE_DUE.into()));
        a.enroll(&link);
        if p.fate != Fate::Missing {
            ward::record(&a, p, PERIOD).unwrap_or_else(|r| panic!("{}", r.context()));
            if p.fate != Fate::Draft {
                a.cmd(&["submit", "--period", PERIOD]).ok();
                if i % 2 == 0 {
                    let mut args = vec!["value", "set", "--period", EARLIER];
                    let pairs: Vec<String> =
                        p.values.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    args.extend(pairs.iter().map(String::as_str));
                    if !p.values.is_empty() {
                        a.cmd(&args).ok();
                    }
                    a.cmd(&["submit", "--period", EARLIER]).ok();
                }
            }
            a.cmd(&["sync"]).ok();
        }
        agents.push(a);
    }
    World { hub, plans, agents }
}

#[test]
fn a_reviewer_reads_the_grid_returns_a_report_and_downloads_it_in_a_browser() {
    let w = world(3);
    let hub = &w.hub;
    assert!(!hub.web.is_empty(), "serve printed no web= address");
    let base = format!("https://{}", hub.web);
    let otp = hub
        .cmd(&["user", "add", "lan", "--role", "reviewer"])
        .ok()
        .last_line();
    let listed = hub.cmd(&["user", "list", "--json"]).ok().json();
    assert_eq!(listed["users"][0]["name"], "lan", "{listed}");
    assert_eq!(listed["users"][0]["role"], "reviewer", "{listed}");

    let b = Browser::start();
    // Without a session every page leads to the login form.
    b.goto(&format!("{base}/periods/{PERIOD}"));
    b.wait_for("the login page", WAIT, |b| b.path() == "/login");
    b.screenshot_to_env("hub-login");
    // A wrong password is refused on the page.
    b.sign_in(&base, "lan", "not the password at all");
    b.wait_for("the refusal", WAIT, |b| b.count(".error") == 1);
    // The one-time password works once, to choose one's own.
    b.sign_in(&base, "lan", &otp);
    b.wait_for("the password page", WAIT, |b| b.path() == "/password");
    b.fill(
        "#password",
        &[
            ("current", &otp),
            ("new", NEW_PASSWORD),
            ("confirm", NEW_PASSWORD),
        ],
    );
    b.click("#password button[type=submit]");
    b.wait_for("the start page", WAIT, |b| b.path() == "/");

    // The start page charts the rate across periods; the table beside the
    // chart holds what `status` says for each period.
    assert_eq!(
        b.count("svg[aria-describedby=\"period-rates\"] title"),
        1,
        "the chart has a title and points to its table"
    );
    for period in [PERIOD, EARLIER] {
        let totals = hub
            .cmd(&["status", "--period", period, "--json"])
            .ok()
            .json()["totals"]
            .clone();
        let row = format!("#period-rates [data-rate-period=\"{period}\"]");
        for (cell, field) in [
            ("data-expected", "expected"),
            ("data-reported", "reported"),
            ("data-on-time", "on_time"),
            ("data-late", "late"),
        ] {
            assert_eq!(
                b.text(&format!("{row} [{cell}]")),
                totals[field].to_string(),
                "{period} {field}: {totals}"
            );
        }
    }
    let earlier = hub
        .cmd(&["status", "--period", EARLIER, "--json"])
        .ok()
        .json();
    assert!(
        earlier["totals"]["late"].as_u64().unwrap() > 0,
        "the 9-month reports arrived late: {earlier}"
    );
    b.screenshot_to_env("hub-home");

    // The grid says what `status --json` says, unit by unit.
    b.goto(&format!("{base}/periods/{PERIOD}"));
    let status = hub
        .cmd(&["status", "--period", PERIOD, "--json"])
        .ok()
        .json();
    let units = status["units"].as_array().unwrap();
    assert_eq!(units.len(), w.plans.len());
    assert_eq!(b.count(".grid [data-unit]"), units.len());
    for u in units {
        let code = u["unit"].as_str().unwrap();
        let cell = format!(".grid [data-unit=\"{code}\"]");
        assert_eq!(
            b.attr(&cell, "data-state").as_deref(),
            u["state"].as_str(),
            "{code}"
        );
        assert_eq!(
            b.attr(&cell, "data-timeliness").as_deref(),
            u["timeliness"].as_str(),
            "{code}"
        );
    }
    let summary = b.text("[data-summary]");
    assert_eq!(summary, status["summary"].as_str().unwrap());
    b.screenshot_to_env("hub-grid");
    // Filters by state keep only those units.
    b.goto(&format!("{base}/periods/{PERIOD}?state=missing"));
    let missing = units.iter().filter(|u| u["state"] == "missing").count();
    assert_eq!(b.count(".grid [data-unit]"), missing);

    // Return a submitted report: first with no reason (refused, nothing
    // changes), then with one.
    let (i, plan) = w
        .plans
        .iter()
        .enumerate()
        .find(|(_, p)| {
            units
                .iter()
                .any(|u| u["unit"] == p.code.as_str() && u["state"] == "submitted")
        })
        .expect("a submitted unit");
    let unit_url = format!("{base}/periods/{PERIOD}/units/{}", plan.code);
    b.goto(&unit_url);
    b.screenshot_to_env("hub-unit");
    b.click("#review button[value=\"return\"]");
    b.wait_for("the reason's message", WAIT, |b| {
        b.count("[data-error-for=\"reason\"]") == 1
    });
    let st = hub
        .cmd(&["status", "--period", PERIOD, "--json"])
        .ok()
        .json();
    let row = |st: &serde_json::Value| {
        st["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"] == plan.code.as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(row(&st)["state"], "submitted");
    let reason = "Bổ sung số liệu đối thoại <DT01> & kiến nghị \"gấp\"";
    b.fill("#review", &[("reason", reason)]);
    b.click("#review button[value=\"return\"]");
    b.wait_for("the decision recorded", WAIT, |b| {
        b.url().contains("done=return")
    });
    assert!(
        b.source()
            .contains("Bổ sung số liệu đối thoại &lt;DT01&gt; &amp; kiến nghị")
    );
    let st = hub
        .cmd(&["status", "--period", PERIOD, "--json"])
        .ok()
        .json();
    assert_eq!(row(&st)["state"], "returned");
    // It reaches the real agent on its next sync.
    let agent = &w.agents[i];
    agent.cmd(&["sync"]).ok();
    let r = agent
        .cmd(&["report", "--period", PERIOD, "--json"])
        .ok()
        .json();
    assert_eq!(r["state"], "returned", "{r}");
    assert_eq!(r["review_comment"], reason, "{r}");

    b.goto(&format!("{base}/periods/{PERIOD}/calls"));
    b.screenshot_to_env("hub-calls");
    b.goto(&format!("{base}/periods/{PERIOD}/narrative"));
    b.screenshot_to_env("hub-narrative");
    // The grid offers the downloads.
    b.goto(&format!("{base}/periods/{PERIOD}"));
    assert_eq!(
        b.attr("a[href$=\"report.docx\"]", "href").unwrap(),
        format!("/periods/{PERIOD}/report.docx")
    );

    // The downloads are what `coso-hub report` writes, byte for byte, in
    // every format (the DOCX and XLSX are dated by the report, not the clock).
    let lan = Session::open(hub, "lan", NEW_PASSWORD);
    for format in ["docx", "xlsx", "json", "csv", "md"] {
        let (status, _, got) = lan.download(&format!("/periods/{PERIOD}/report.{format}"));
        assert_eq!(status, 200, "{format}");
        let out = hub.dir.parent().unwrap().join(format!("cli.{format}"));
        hub.cmd(&[
            "report",
            "--period",
            PERIOD,
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
        ])
        .ok();
        let cli = std::fs::read(&out).unwrap();
        assert!(cli == got, "report.{format} differs from coso-hub report");
    }

    // The appendix page: its totals are the JSON report's, a missing value
    // is "—" (never 0), and its completeness line is the report's.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(hub.dir.parent().unwrap().join("cli.json")).unwrap())
            .unwrap();
    b.goto(&format!("{base}/periods/{PERIOD}"));
    b.click("a[href$=\"/appendix\"]");
    b.wait_for("the appendix page", WAIT, |b| {
        b.path() == format!("/periods/{PERIOD}/appendix")
    });
    let mut checked = 0;
    for ind in report["indicators"].as_array().unwrap() {
        if ind["type"] == "text" {
            continue;
        }
        let code = ind["code"].as_str().unwrap();
        let row = format!("#appendix [data-indicator=\"{code}\"]");
        let shown = b.attr(&row, "data-total").unwrap_or_default();
        match ind["total"].as_f64() {
            Some(total) => {
                let shown: f64 = shown
                    .parse()
                    .unwrap_or_else(|_| panic!("{code}: {shown:?}"));
                assert!((shown - total).abs() < 1e-9, "{code}: {shown} vs {total}");
            }
            None => {
                assert_eq!(shown, "", "{code}");
                assert_eq!(b.text(&format!("{row} td:last-child")), "—", "{code}");
            }
        }
        for (kind, v) in ind["by_kind"].as_object().unwrap() {
            if v.is_null() {
                let cell = format!("{row} [data-column=\"{kind}\"]");
                assert_eq!(b.text(&cell), "—", "{code} {kind}");
            }
        }
        checked += 1;
    }
    assert!(checked > 10, "only {checked} indicators on the page");
    assert_eq!(
        b.text("#appendix [data-completeness] td:last-child"),
        format!("{}/{}", report["units_reported"], report["units_expected"])
    );
    b.screenshot_to_env("hub-appendix");
}

#[test]
fn an_admin_adds_a_unit_and_sees_its_enrolment_link_as_a_qr_code() {
    let hub = Hub::start();
    let password = "quản trị viên phường 1";
    coso_tests::web::add_user(&hub, "admin", "admin", password);

    let b = Browser::start();
    let base = format!("https://{}", hub.web);
    b.sign_in(&base, "admin", password);
    b.wait_for("the start page", WAIT, |b| b.path() == "/");
    b.goto(&format!("{base}/admin/units"));
    b.fill(
        "#unit",
        &[
            ("code", "TDP09"),
            ("name", "Tổ dân phố số 9 <b>"),
            ("kind", "residential-group"),
            ("contact", "Bà Nguyễn Thị Hoa"),
            ("phone", "0912 345 678"),
        ],
    );
    b.click("#unit button[type=submit]");
    b.wait_for("the enrolment link", WAIT, |b| {
        b.count("[data-invite=\"TDP09\"]") == 1
    });
    let link = b.text("[data-enrolment-link]");
    assert!(
        link.starts_with("coso://") && link.contains("unit=TDP09"),
        "{link}"
    );
    assert_eq!(b.count("[data-invite=\"TDP09\"] svg"), 1);
    b.screenshot_to_env("hub-admin-units");
    // The link enrols a real agent.
    let agent = Agent::new();
    agent.enroll(&link);
    let units = hub.cmd(&["unit", "list", "--json"]).ok().json();
    let u = units["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "TDP09")
        .unwrap()
        .clone();
    assert_eq!(u["name"], "Tổ dân phố số 9 <b>", "{units}");
}
