//! Any screen, any person (issue 24): every page of both web faces, in
//! headless Chromium, at 1280 and at 360 CSS pixels (a phone): axe-core's
//! WCAG 2.1 A and AA rules find nothing, and at 360 px the page never
//! scrolls sideways (wide tables scroll inside their own focusable region).
//! Every GET route of both routers is among the pages looked at. An
//! activity is recorded in the agent's app, and a report accepted in the
//! dashboard after signing in, with the keyboard alone, the focus drawn
//! visibly at each step. The dashboard's unit and appendix pages
//! print on A4 without the navigation, the forms or the buttons.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use coso_tests::browser::{Browser, Violation};
use coso_tests::pages::{self, Face, PERIOD, SUBMITTED, Sample};
use coso_tests::ward;
use coso_tests::{Agent, AgentUi, Hub};
use fantoccini::key::Key;

const WAIT: Duration = Duration::from_secs(30);
const WIDTHS: [u32; 2] = [1280, 360];
/// The height of a control a finger hits: 44 CSS pixels (WCAG 2.5.5, and
/// the platforms' own guides), above WCAG 2.2's minimum of 24.
const TAP: u32 = 44;

fn describe(v: &Violation) -> String {
    format!(
        "{} ({}, {}): {}",
        v.rule,
        v.impact,
        v.help,
        v.targets.join(" | ")
    )
}

/// Looks at the page the browser shows at `width`: what axe-core finds,
/// and at phone width any sideways scrolling. Each problem names the rule,
/// the page, the width and the element.
fn look(b: &Browser, what: &str, width: u32, problems: &mut Vec<String>) {
    for v in b.axe() {
        problems.push(format!(
            "{what} at {width} px ({}): {}",
            b.url(),
            describe(&v)
        ));
    }
    if width < 400
        && let Some(o) = b.overflow()
    {
        problems.push(format!(
            "{what} at {width} px ({}): scrolls sideways: {o}",
            b.url()
        ));
    }
    if width < 400 {
        for t in b.small_targets(TAP) {
            problems.push(format!(
                "{what} at {width} px ({}): a tap target under {TAP} px: {t}",
                b.url()
            ));
        }
    }
}

/// Whether a title is an HTTP status ("404 Not Found"), as the
/// dashboard's error page has.
fn is_status_line(title: &str) -> bool {
    let b = title.as_bytes();
    b.len() > 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b' '
}

#[test]
fn every_page_of_both_faces_passes_axe_and_fits_a_phone() {
    let sample = Sample::build();
    let b = Browser::start();
    sample.open_sessions(&b);
    let mut problems = Vec::new();
    for width in WIDTHS {
        b.set_width(width);
        for page in sample.pages() {
            b.goto(&page.url);
            // The page meant, not an error page in its place; and laid out
            // at the phone's width on a phone (no desktop-width fallback).
            let head = b.script(
                "read the head",
                "const v = document.querySelector('meta[name=viewport]');\
                 return [document.title, v ? v.content : ''];",
                vec![],
            );
            let title = head[0].as_str().unwrap_or_default();
            if page.route != "(fallback)" {
                assert!(
                    !is_status_line(title) && !title.contains("Không có trang này"),
                    "{} shows an error page: {title}",
                    page.url
                );
            }
            if !head[1]
                .as_str()
                .unwrap_or_default()
                .contains("width=device-width")
            {
                problems.push(format!(
                    "{} ({}): no <meta name=viewport content=\"width=device-width\">",
                    page.route, page.url
                ));
            }
            let face = match page.face {
                Face::Hub => "dashboard",
                Face::Agent => "agent app",
            };
            look(
                &b,
                &format!("{face} {} [{}]", page.route, page.what),
                width,
                &mut problems,
            );
        }
        // The states a POST renders: a refused value beside its field.
        b.goto(&format!("{}/periods/{PERIOD}", sample.ui.base));
        b.fill("#values", &[("TT11", "ba")]);
        b.click("#values button[name=action][value=save]");
        b.wait_for("the refusal", WAIT, |b| {
            b.count("[data-error-for=\"TT11\"]") == 1
        });
        look(
            &b,
            "agent app /periods/{period} [a refused value]",
            width,
            &mut problems,
        );
        b.goto(&format!(
            "{}/periods/{PERIOD}/units/{SUBMITTED}",
            sample.hub_base()
        ));
        b.click("#review button[value=\"return\"]");
        b.wait_for("the reason's refusal", WAIT, |b| {
            b.count("[data-error-for=\"reason\"]") == 1
        });
        look(
            &b,
            "dashboard review [a refused return]",
            width,
            &mut problems,
        );
    }
    assert!(
        problems.is_empty(),
        "{} accessibility or width problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The GET routes a router file declares, in the order written.
fn get_routes(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in src.split(".route(").skip(1) {
        let Some(start) = part.find('"') else {
            continue;
        };
        let rest = &part[start + 1..];
        let Some(end) = rest.find('"') else { continue };
        let handlers = rest[end..]
            .split([';'])
            .next()
            .unwrap_or_default()
            .split(".merge(")
            .next()
            .unwrap_or_default();
        if handlers.contains("get(") {
            out.push(rest[..end].to_string());
        }
    }
    out
}

fn routes_under(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs") {
            out.extend(get_routes(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

#[test]
fn every_get_route_of_both_faces_is_looked_at() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Files, not pages: stylesheets and downloads.
    let hub_files = [
        "/static/style.css",
        "/periods/{p}/calls.csv",
        "/periods/{p}/{file}",
        "/periods/{period}/units/{code}/paper/{seq}",
    ];
    let agent_files = ["/app.css"];
    let covered = pages::pages("https://hub", "http://ui", "http://fresh");
    for (face, dir, files) in [
        (Face::Hub, root.join("hub/src/web"), &hub_files[..]),
        (Face::Agent, root.join("agent/src/ui"), &agent_files[..]),
    ] {
        let routes = routes_under(&dir);
        assert!(routes.len() > 3, "no routes read from {}", dir.display());
        let seen: BTreeSet<&str> = covered
            .iter()
            .filter(|p| p.face == face)
            .map(|p| p.route)
            .collect();
        let missing: Vec<&String> = routes
            .iter()
            .filter(|r| !seen.contains(r.as_str()) && !files.contains(&r.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{face:?} GET routes no accessibility check looks at (add them to \
             coso_tests::pages::pages): {missing:?}"
        );
        for p in covered.iter().filter(|p| p.face == face) {
            assert!(
                p.route == "(fallback)" || routes.contains(p.route),
                "{face:?}: {} is no route of {}",
                p.route,
                dir.display()
            );
        }
    }
}

#[test]
fn an_officer_records_an_activity_with_the_keyboard_alone() {
    let agent = Agent::new();
    agent.init_unit("TDP05", "Tổ dân phố số 5", "residential-group");
    let mut ui = AgentUi::start(&agent, &[]);
    let b = Browser::start();
    b.goto(&ui.url);
    b.wait_for("the home page", WAIT, |b| b.path() == "/");
    b.goto(&format!("{}/activities", ui.base));
    // Tab through the page to the date; every stop is drawn visibly.
    tab_to(&b, "input#date[name=date]");
    // A date field is typed in the order of the browser's locale.
    let order = b.script(
        "the locale's date order",
        "return new Intl.DateTimeFormat(navigator.language).formatToParts(new Date(2026, 2, 2))\
         .filter(p => p.type !== 'literal').map(p => p.type);",
        vec![],
    );
    let typed: String = order
        .as_array()
        .unwrap()
        .iter()
        .map(|p| match p.as_str().unwrap() {
            "day" => "02",
            "month" => "03",
            _ => "2026",
        })
        .collect();
    b.type_text(&typed);
    let date = b.script(
        "read the date",
        "return document.getElementById('date').value;",
        vec![],
    );
    assert_eq!(date, "2026-03-02", "the date typed at the keyboard");
    // Tab walks a date field's parts (day, month, year) before leaving it.
    for _ in 0..3 {
        b.press(Key::Tab);
        if b.focused().0 != "input#date[name=date]" {
            break;
        }
    }
    assert_eq!(b.focused().0, "select#form[name=form]");
    // The first letters of an option choose it, as on any select.
    b.type_text("Hội");
    b.press(Key::Tab);
    assert_eq!(b.focused().0, "input#title[name=title]");
    b.type_text("Hội nghị quán triệt Luật Thực hiện dân chủ ở cơ sở");
    // Shift+Tab goes back a field, and Tab forward again.
    b.press_shifted(Key::Tab);
    assert_eq!(b.focused().0, "select#form[name=form]");
    b.press(Key::Tab);
    b.press(Key::Tab);
    assert_eq!(b.focused().0, "input#participants[name=participants]");
    b.type_text("45");
    b.press(Key::Tab);
    assert_eq!(b.focused().0, "textarea#note[name=note]");
    b.type_text("Tại nhà văn hóa tổ");
    b.press(Key::Tab);
    let (button, visible) = b.focused();
    assert!(button.starts_with("button"), "{button}");
    assert!(visible, "the focus on the button is not drawn");
    b.press(Key::Enter);
    b.wait_for("the activity in the list", WAIT, |b| {
        b.count("[data-activity=\"HD-1\"]") == 1
    });
    let listed = agent.cmd(&["activity", "list", "--json"]).ok().json();
    let a = &listed["activities"][0];
    assert_eq!(a["date"], "2026-03-02", "{listed}");
    assert_eq!(a["form"], "conference", "{listed}");
    assert_eq!(a["participants"], 45, "{listed}");
    assert_eq!(a["note"], "Tại nhà văn hóa tổ", "{listed}");
    drop(b);
    ui.stop();
}

/// The text of a PDF, through `pdftotext` (poppler-utils; .ci/run installs it).
fn pdf_text(pdf: &[u8], dir: &Path, name: &str) -> String {
    let file = dir.join(format!("{name}.pdf"));
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!("pdftotext: {e}: install poppler-utils (apt-get install poppler-utils; .ci/run does)")
        });
    assert!(out.status.success(), "pdftotext failed on {name}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_unit_and_appendix_pages_print_on_a4_without_navigation() {
    let sample = Sample::build();
    let b = Browser::start();
    sample.open_sessions(&b);
    let dir = tempfile::tempdir().unwrap();
    let base = sample.hub_base();
    let nav = ["Người dùng", "Gửi cấp trên", "Đăng xuất", "English"];
    for (name, path, table, gone) in [
        (
            "unit",
            format!("/periods/{PERIOD}/units/{SUBMITTED}"),
            "#values-table",
            &["Chấp nhận", "Lý do (bắt buộc"][..],
        ),
        (
            "appendix",
            format!("/periods/{PERIOD}/appendix"),
            "#appendix",
            &["DOCX", "Về bảng theo dõi"][..],
        ),
    ] {
        b.goto(&format!("{base}{path}"));
        // The table's first and last rows, by their indicator codes.
        let rows = b.find_all(&format!("{table} tr[data-indicator]"));
        assert!(rows.len() > 5, "{name}: {} rows", rows.len());
        let code = |i: usize| {
            b.script(
                "a row's code",
                "return arguments[0].getAttribute('data-indicator');",
                vec![serde_json::to_value(&rows[i]).unwrap()],
            )
            .as_str()
            .unwrap()
            .to_string()
        };
        let (first, last) = (code(0), code(rows.len() - 1));
        let pdf = b.print_pdf();
        assert!(pdf.starts_with(b"%PDF"), "{name}: not a PDF");
        let text = pdf_text(&pdf, dir.path(), name);
        let pages: Vec<&str> = text
            .split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .collect();
        let at = |code: &str| {
            pages
                .iter()
                .position(|p| p.contains(code))
                .unwrap_or_else(|| panic!("{name}: row {code} is not printed:\n{text}"))
        };
        // The whole table is printed, and its header ("Chỉ tiêu" column)
        // heads each page it runs over.
        for page in &pages[at(&first)..=at(&last)] {
            assert!(
                page.contains("Chỉ tiêu"),
                "{name}: a page of the table without its header:\n{page}"
            );
        }
        for word in nav.iter().chain(gone) {
            assert!(
                !text.contains(word),
                "{name}: {word:?} is printed ({} pages):\n{text}",
                pages.len()
            );
        }
    }
}

/// Tabs forward until the focus is on `target` (as [`Browser::focused`]
/// names it), checking that every stop on the way is drawn visibly.
fn tab_to(b: &Browser, target: &str) {
    let mut stops = Vec::new();
    loop {
        b.press(Key::Tab);
        let (at, visible) = b.focused();
        assert!(
            visible,
            "the focus on {at} is not drawn (stops so far: {stops:?})"
        );
        if at == target {
            return;
        }
        stops.push(at);
        assert!(stops.len() < 40, "Tab never reached {target}: {stops:?}");
    }
}

#[test]
fn a_reviewer_signs_in_and_accepts_a_report_with_the_keyboard_alone() {
    let plans = ward::generate(7, 1, NaiveDate::from_ymd_opt(2026, 11, 4).unwrap());
    let plan = plans.iter().find(|p| p.code == SUBMITTED).unwrap();
    let mut hub = Hub::start();
    hub.stop();
    hub.env.push(("COSO_NOW".into(), pages::NOW.into()));
    hub.serve();
    pages::add_admin(&hub);
    let link = hub.add_unit(&plan.code, &plan.name, plan.kind.as_str());
    let mut agent = Agent::new();
    agent.env.push(("COSO_NOW".into(), pages::NOW.into()));
    agent.enroll(&link);
    ward::record(&agent, plan, PERIOD).unwrap_or_else(|r| panic!("{}", r.context()));
    agent.cmd(&["submit", "--period", PERIOD]).ok();
    agent.cmd(&["sync"]).ok();

    let b = Browser::start();
    let base = format!("https://{}", hub.web);
    b.goto(&format!("{base}/login"));
    // The user name field has the focus when the page opens.
    assert_eq!(b.focused().0, "input[name=username]");
    b.type_text(pages::ADMIN);
    tab_to(&b, "input[name=password]");
    b.type_text(pages::PASSWORD);
    b.press(Key::Enter);
    b.wait_for("the start page", WAIT, |b| b.path() == "/");
    // From the start page to the period, and from the grid to the unit,
    // by Tab and Enter on the links.
    tab_to(&b, &format!("a[href=/periods/{PERIOD}]"));
    b.press(Key::Enter);
    b.wait_for("the grid", WAIT, |b| {
        b.path() == format!("/periods/{PERIOD}")
    });
    tab_to(&b, &format!("a[href=/periods/{PERIOD}/units/{SUBMITTED}]"));
    b.press(Key::Enter);
    b.wait_for("the unit's page", WAIT, |b| b.count("#review") == 1);
    // Shift+Tab comes back from the reason to the element before it.
    tab_to(&b, "textarea[name=reason]");
    b.press_shifted(Key::Tab);
    assert_ne!(b.focused().0, "textarea[name=reason]");
    tab_to(&b, "button[name=decision][value=accept]");
    b.press(Key::Space);
    b.wait_for("the decision recorded", WAIT, |b| {
        b.url().contains("done=accept")
    });
    let status = hub
        .cmd(&["status", "--period", PERIOD, "--json"])
        .ok()
        .json();
    assert_eq!(status["units"][0]["state"], "accepted", "{status}");
}
