//! A small ward with a report in every state, and every page of both web
//! faces over it, for the tests that look at all pages (accessibility, phone
//! width, print) and for `coso-screens`, which photographs them.
//!
//! The hub holds five units for the annual report: one accepted, one
//! submitted, one returned (whose 9-month report is submitted and locked),
//! one draft and one that sent nothing, and a unit kept at the ward; an upstream delivery was refused. The returned unit's agent runs
//! `coso-agent ui`; a second agent, never enrolled, runs it too for the
//! enrolment page. Every table of both faces has rows.

use chrono::NaiveDate;

use std::time::Duration;

use crate::browser::Browser;
use crate::ward::{self, Fate};
use crate::{Agent, AgentUi, Hub};

/// The annual report, open on [`NOW`].
pub const PERIOD: &str = "2026-Y";
/// The 9-month report, past its deadline on [`NOW`].
pub const EARLIER: &str = "2026-M9";
pub const NOW: &str = "2026-11-05T09:00:00+07:00";
const WAIT: Duration = Duration::from_secs(30);
/// The dashboard's admin and their password.
pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "quản trị viên phường 1";
/// The units and what became of their annual report.
pub const ACCEPTED: &str = "TTPVHCC";
pub const SUBMITTED: &str = "VP";
pub const RETURNED: &str = "PKT";
pub const DRAFT: &str = "PVHXH";
pub const MISSING: &str = "TDP01";
/// A unit without a computer, kept at the ward (its pages are the dashboard's).
pub const KEPT: &str = "TDP99";

/// Which web face a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// The hub's dashboard (HTTPS).
    Hub,
    /// The agent's local web app.
    Agent,
}

/// One page to look at: its face, the route pattern it comes from (as the
/// router spells it), its address, and what it shows.
#[derive(Debug, Clone)]
pub struct Page {
    pub face: Face,
    pub route: &'static str,
    pub url: String,
    pub what: &'static str,
}

/// The sample ward, with both faces serving it.
pub struct Sample {
    pub hub: Hub,
    /// The returned unit's agent, behind [`Sample::ui`].
    pub agent: Agent,
    pub ui: AgentUi,
    /// An agent never enrolled, whose app shows the enrolment page.
    _fresh: Agent,
    pub fresh_ui: AgentUi,
    _others: Vec<Agent>,
}

impl Sample {
    /// Builds the ward through the real binaries (a few seconds).
    pub fn build() -> Sample {
        let plans = ward::generate(7, 1, NaiveDate::from_ymd_opt(2026, 11, 4).expect("date"));
        let mut hub = Hub::start();
        hub.stop();
        hub.env.push(("COSO_NOW".into(), NOW.into()));
        hub.serve();
        add_admin(&hub);
        let mut others = Vec::new();
        let mut returned = None;
        for code in [ACCEPTED, SUBMITTED, RETURNED, DRAFT, MISSING] {
            let p = plans
                .iter()
                .find(|p| p.code == code)
                .unwrap_or_else(|| panic!("the generated ward has no {code}"));
            let link = hub.add_unit(&p.code, &p.name, p.kind.as_str());
            if code == MISSING {
                continue;
            }
            let mut a = Agent::new();
            a.env.push(("COSO_NOW".into(), NOW.into()));
            a.enroll(&link);
            let mut plan = p.clone();
            plan.fate = Fate::OnTime;
            ward::record(&a, &plan, PERIOD).unwrap_or_else(|r| panic!("{}", r.context()));
            if code != DRAFT {
                a.cmd(&["submit", "--period", PERIOD]).ok();
            }
            if code == RETURNED {
                let pairs: Vec<String> = p.values.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let mut args = vec!["value", "set", "--period", EARLIER];
                args.extend(pairs.iter().map(String::as_str));
                a.cmd(&args).ok();
                a.cmd(&["submit", "--period", EARLIER]).ok();
            }
            a.cmd(&["sync"]).ok();
            if code == RETURNED {
                returned = Some(a);
            } else {
                others.push(a);
            }
        }
        hub.cmd(&[
            "unit",
            "add",
            KEPT,
            "--name",
            "Tổ dân phố số 99",
            "--kind",
            "residential-group",
            "--kept-at-ward",
        ])
        .ok();
        hub.cmd(&["review", "--unit", ACCEPTED, "--period", PERIOD, "--accept"])
            .ok();
        hub.cmd(&[
            "review",
            "--unit",
            RETURNED,
            "--period",
            PERIOD,
            "--return",
            "Đề nghị bổ sung số liệu đối thoại (DT01).",
        ])
        .ok();
        hub.cmd(&[
            "note",
            "set",
            "--period",
            PERIOD,
            "--section",
            "results",
            "--text",
            "Các đơn vị đã triển khai đầy đủ Luật Thực hiện dân chủ ở cơ sở.",
        ])
        .ok();
        // A delivery upstream to a closed port: the upstream page's tables
        // have a delivery and a refused attempt.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        hub.cmd(&[
            "upstream",
            "set",
            "--url",
            &format!("http://127.0.0.1:{closed}/api/v1/reports"),
            "--token",
            "thu-nghiem",
        ])
        .ok();
        let _refused = hub.cmd(&["upstream", "push", "--period", PERIOD]);
        crate::wait_until(WAIT, "a refused attempt in the upstream log", || {
            hub.cmd(&["upstream", "log", "--json"]).ok().json()["attempts"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        });
        let agent = returned.expect("the returned unit's agent");
        agent.cmd(&["sync"]).ok();
        let ui = AgentUi::start(&agent, &["--sync-every", "600s"]);
        let mut fresh = Agent::new();
        fresh.env.push(("COSO_NOW".into(), NOW.into()));
        let fresh_ui = AgentUi::start(&fresh, &[]);
        Sample {
            hub,
            agent,
            ui,
            _fresh: fresh,
            fresh_ui,
            _others: others,
        }
    }

    /// The dashboard's address, `https://IP:PORT`.
    pub fn hub_base(&self) -> String {
        format!("https://{}", self.hub.web)
    }

    /// The never-enrolled app's address. It is reached as `localhost`, so its
    /// session cookie is not the other app's (cookies ignore the port).
    pub fn fresh_base(&self) -> String {
        self.fresh_ui.base.replace("127.0.0.1", "localhost")
    }

    /// Opens a session on every face: signs in to the dashboard as the
    /// admin and trades each app's one-time code for its cookie.
    pub fn open_sessions(&self, b: &Browser) {
        b.sign_in(&self.hub_base(), ADMIN, PASSWORD);
        b.wait_for("the dashboard's start page", WAIT, |b| b.path() == "/");
        // The kept unit's first activity, typed at the ward, so its table
        // is looked at too (once: sessions may be opened again).
        b.goto(&format!("{}/units/{KEPT}/activities", self.hub_base()));
        if b.count("[data-activity]") == 0 {
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
                    ("note", "Nhập tại phường từ báo cáo giấy của tổ trưởng."),
                ],
            );
            b.click("#activity button[type=submit]");
            b.wait_for("the kept unit's activity listed", WAIT, |b| {
                b.count("[data-activity]") == 1
            });
        }
        b.goto(&self.fresh_ui.url.replace("127.0.0.1", "localhost"));
        b.wait_for("the enrolment page", WAIT, |b| b.path() == "/enroll");
        b.goto(&self.ui.url);
        b.wait_for("the agent's home page", WAIT, |b| b.path() == "/");
    }

    /// Every page of both faces over this ward (see [`pages`]).
    pub fn pages(&self) -> Vec<Page> {
        pages(&self.hub_base(), &self.ui.base, &self.fresh_base())
    }
}

/// Every page of both faces, each state that renders differently: the
/// dashboard at `hub`, the enrolled app at `ui`, the app not enrolled at
/// `fresh`.
pub fn pages(hub: &str, ui: &str, fresh: &str) -> Vec<Page> {
    let h = |route, path: String, what| Page {
        face: Face::Hub,
        route,
        url: format!("{hub}{path}"),
        what,
    };
    let a = |route, path: String, what| Page {
        face: Face::Agent,
        route,
        url: format!("{ui}{path}"),
        what,
    };
    let unit = |code: &str| format!("/periods/{PERIOD}/units/{code}");
    vec![
        h("/login", "/login".into(), "sign-in"),
        h("/", "/".into(), "start page, rates across periods"),
        h(
            "/periods/{p}",
            format!("/periods/{PERIOD}"),
            "completeness grid",
        ),
        h(
            "/periods/{p}",
            format!("/periods/{EARLIER}?state=missing"),
            "grid of a past period, filtered",
        ),
        h(
            "/periods/{p}/units/{code}",
            unit(SUBMITTED),
            "a submitted report with the review form",
        ),
        h(
            "/periods/{p}/units/{code}",
            unit(ACCEPTED),
            "an accepted report (reopen)",
        ),
        h(
            "/periods/{p}/units/{code}",
            unit(RETURNED),
            "a returned report",
        ),
        h("/periods/{p}/units/{code}", unit(DRAFT), "a draft"),
        h(
            "/periods/{p}/units/{code}",
            unit(MISSING),
            "a unit that sent nothing",
        ),
        h(
            "/units/{code}/activities",
            format!("/units/{KEPT}/activities"),
            "a kept unit's activities, entered at the ward",
        ),
        h(
            "/units/{code}/activities/{id}",
            format!("/units/{KEPT}/activities/HD-1"),
            "a kept unit's activity, corrected at the ward",
        ),
        h(
            "/periods/{period}/units/{code}/entry",
            format!("/periods/{PERIOD}/units/{KEPT}/entry"),
            "a kept unit's report, entered at the ward",
        ),
        h(
            "/periods/{p}/calls",
            format!("/periods/{PERIOD}/calls"),
            "whom to call",
        ),
        h(
            "/periods/{p}/narrative",
            format!("/periods/{PERIOD}/narrative"),
            "the ward's narrative",
        ),
        h(
            "/periods/{p}/appendix",
            format!("/periods/{PERIOD}/appendix"),
            "the appendix table",
        ),
        h("/admin/units", "/admin/units".into(), "units"),
        h("/admin/periods", "/admin/periods".into(), "periods"),
        h("/admin/users", "/admin/users".into(), "users"),
        h(
            "/admin/upstream",
            "/admin/upstream".into(),
            "upstream delivery",
        ),
        h("/password", "/password".into(), "password change"),
        h("(fallback)", "/no-such-page".into(), "not found"),
        Page {
            face: Face::Agent,
            route: "/enroll",
            url: format!("{fresh}/enroll"),
            what: "enrolment (an agent not enrolled)",
        },
        a("/", "/".into(), "home, the periods as cards"),
        a(
            "/activities",
            "/activities".into(),
            "activities, form and list",
        ),
        a(
            "/activities/{id}",
            "/activities/HD-1".into(),
            "editing an activity",
        ),
        a(
            "/periods/{period}",
            format!("/periods/{PERIOD}"),
            "an annual report, returned, editable",
        ),
        a(
            "/periods/{period}",
            format!("/periods/{EARLIER}"),
            "a submitted report, locked",
        ),
        a("/sync", "/sync".into(), "sync"),
        a("(fallback)", "/no-such-page".into(), "not found"),
    ]
}

/// `coso-hub user add admin --role admin --password-stdin`.
pub fn add_admin(hub: &Hub) {
    crate::web::add_user(hub, ADMIN, "admin", PASSWORD);
}
