//! The hub's reporting, end to end: totals against an independent count over
//! the same generated ward, missing versus zero, the deadline boundary, a
//! review round trip through real agents, and the documents themselves
//! (LibreOffice for the DOCX, calamine for the XLSX).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use coso_tests::ward::{self, Fate, UnitPlan};
use coso_tests::{Agent, Hub};
use serde_json::Value;

const PERIOD: &str = "2026-Y";
const BEFORE_DUE: &str = "2026-11-05T09:00:00+07:00";

/// A small ward, recorded through real agents, most units submitted.
struct World {
    hub: Hub,
    plans: Vec<UnitPlan>,
    agents: Vec<Agent>,
}

fn world(groups: usize) -> World {
    world_seeded(7, groups)
}

fn world_seeded(seed: u64, groups: usize) -> World {
    let plans = ward::generate(seed, groups, NaiveDate::from_ymd_opt(2026, 11, 4).unwrap());
    let mut hub = Hub::start();
    hub.stop();
    hub.env.push(("COSO_NOW".into(), BEFORE_DUE.into()));
    hub.serve();
    let mut agents = Vec::new();
    for p in &plans {
        let link = hub.add_unit(&p.code, &p.name, p.kind.as_str());
        let mut a = Agent::new();
        a.env.push(("COSO_NOW".into(), BEFORE_DUE.into()));
        a.enroll(&link);
        if p.fate != Fate::Missing {
            ward::record(&a, p, PERIOD).unwrap_or_else(|r| panic!("{}", r.context()));
            // Late units are treated like on-time ones here; lateness has its own test.
            if p.fate != Fate::Draft {
                a.cmd(&["submit", "--period", PERIOD]).ok();
            }
            a.cmd(&["sync"]).ok();
        }
        agents.push(a);
    }
    World { hub, plans, agents }
}

/// The totals computed by hand from the plans: only units that submitted count.
fn expected_totals(plans: &[UnitPlan]) -> BTreeMap<String, f64> {
    let mut t: BTreeMap<String, f64> = BTreeMap::new();
    let forms = coso_domain::Form::ALL;
    for p in plans
        .iter()
        .filter(|p| !matches!(p.fate, Fate::Missing | Fate::Draft))
    {
        for (i, form) in forms.iter().enumerate() {
            let n = p.activities.iter().filter(|a| a.form == *form).count() as f64;
            *t.entry(format!("TT{:02}", i + 1)).or_default() += n;
        }
        *t.entry("TT09".into()).or_default() += p.activities.len() as f64;
        *t.entry("TT10".into()).or_default() += p
            .activities
            .iter()
            .map(|a| f64::from(a.participants))
            .sum::<f64>();
        for code in ["CK01", "DT02", "DT03", "YK02"] {
            if let Some(v) = p.values.get(code) {
                *t.entry(code.into()).or_default() += v.parse::<f64>().unwrap();
            }
        }
        if let Some(v) = p.values.get("CQ01") {
            *t.entry("CQ01".into()).or_default() += if v == "có" { 1.0 } else { 0.0 };
        }
    }
    t
}

fn indicator<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["indicators"]
        .as_array()
        .expect("indicators array")
        .iter()
        .find(|i| i["code"] == code)
        .unwrap_or_else(|| panic!("no indicator {code} in the report"))
}

#[test]
fn totals_match_an_independent_count_and_documents_agree() {
    let w = world(5);
    let out = tempfile::tempdir().unwrap();
    let json_path = out.path().join("r.json");
    let j = json_path.display().to_string();
    w.hub
        .cmd(&[
            "report", "--period", PERIOD, "--format", "json", "--out", &j,
        ])
        .ok();
    let report: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();

    let expected = expected_totals(&w.plans);
    for (code, want) in &expected {
        let got = indicator(&report, code)["total"].as_f64();
        assert_eq!(got, Some(*want), "total of {code}");
    }
    assert_eq!(report["units_expected"], w.plans.len());
    let reported = w
        .plans
        .iter()
        .filter(|p| !matches!(p.fate, Fate::Missing | Fate::Draft))
        .count();
    assert_eq!(report["units_reported"], reported);

    // A unit that did not report is missing from by_unit, never a zero.
    let missing = w.plans.iter().find(|p| p.fate == Fate::Missing).unwrap();
    let tt09 = indicator(&report, "TT09");
    assert!(
        tt09["by_unit"]
            .get(&missing.code)
            .is_none_or(Value::is_null),
        "{tt09}"
    );

    // The same compile twice gives byte-identical JSON and CSV.
    for format in ["json", "csv"] {
        let a = out.path().join(format!("a.{format}"));
        let b = out.path().join(format!("b.{format}"));
        for f in [&a, &b] {
            let f = f.display().to_string();
            w.hub
                .cmd(&[
                    "report", "--period", PERIOD, "--format", format, "--out", &f,
                ])
                .ok();
        }
        assert_eq!(
            std::fs::read(&a).unwrap(),
            std::fs::read(&b).unwrap(),
            "{format} is not deterministic"
        );
    }

    // The XLSX, read back with calamine, holds the same totals as numbers.
    let xlsx = out.path().join("r.xlsx");
    let x = xlsx.display().to_string();
    w.hub
        .cmd(&[
            "report", "--period", PERIOD, "--format", "xlsx", "--out", &x,
        ])
        .ok();
    let cells = xlsx_numbers_by_code(&xlsx);
    for (code, want) in &expected {
        let row = cells
            .get(code)
            .unwrap_or_else(|| panic!("no row for {code} in the XLSX totals sheet"));
        assert!(
            row.contains(want),
            "XLSX row of {code} {row:?} lacks the total {want}"
        );
    }

    // LibreOffice opens the DOCX; its text has the header, the title and a total.
    let docx = out.path().join("r.docx");
    let d = docx.display().to_string();
    w.hub
        .cmd(&[
            "report", "--period", PERIOD, "--format", "docx", "--out", &d,
        ])
        .ok();
    let text = docx_text(&docx, out.path());
    for needle in [
        "ỦY BAN NHÂN DÂN",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "BÁO CÁO",
        "Kính gửi",
        "Nơi nhận",
    ] {
        assert!(text.contains(needle), "DOCX text lacks {needle:?}:\n{text}");
    }
    let participants = coso_domain::value::format_vi(expected["TT10"], 2);
    assert!(
        text.contains(&participants),
        "DOCX text lacks the participants total {participants}:\n{text}"
    );
}

/// Every numeric cell of the first sheet, keyed by the indicator code found in the same row.
fn xlsx_numbers_by_code(path: &Path) -> BTreeMap<String, Vec<f64>> {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let mut wb: Xlsx<_> = open_workbook(path).expect("open xlsx");
    let first = wb.sheet_names().first().cloned().expect("a sheet");
    let range = wb.worksheet_range(&first).expect("sheet range");
    let mut out = BTreeMap::new();
    for row in range.rows() {
        let code = row.iter().find_map(|c| match c {
            Data::String(s) if s.len() == 4 && s.chars().all(|ch| ch.is_ascii_alphanumeric()) => {
                Some(s.clone())
            }
            _ => None,
        });
        if let Some(code) = code {
            let nums = row
                .iter()
                .filter_map(|c| match c {
                    Data::Float(f) => Some(*f),
                    Data::Int(i) => Some(*i as f64),
                    _ => None,
                })
                .collect();
            out.insert(code, nums);
        }
    }
    out
}

/// The DOCX as plain text, by LibreOffice.
pub(crate) fn docx_text(docx: &Path, out: &Path) -> String {
    let conv = out.join("lo");
    std::fs::create_dir_all(&conv).unwrap();
    let profile = format!(
        "-env:UserInstallation=file://{}",
        out.join("lo-profile").display()
    );
    let status = Command::new("soffice")
        .args([
            profile.as_str(),
            "--headless",
            "--convert-to",
            "txt:Text",
            "--outdir",
        ])
        .arg(&conv)
        .arg(docx)
        .output()
        .expect("LibreOffice (soffice) must be installed: .ci/run installs it");
    let txt = conv.join(docx.file_stem().unwrap()).with_extension("txt");
    std::fs::read_to_string(&txt).unwrap_or_else(|e| {
        panic!(
            "LibreOffice did not convert the DOCX ({e}): {}\n{}",
            String::from_utf8_lossy(&status.stdout),
            String::from_utf8_lossy(&status.stderr)
        )
    })
}

/// The DOCX as PDF pages of text (LibreOffice, then poppler's `pdftotext`).
fn docx_pages(docx: &Path, out: &Path) -> Vec<String> {
    let conv = out.join("pdf");
    std::fs::create_dir_all(&conv).unwrap();
    let profile = format!(
        "-env:UserInstallation=file://{}",
        out.join("lo-profile").display()
    );
    let status = Command::new("soffice")
        .args([
            profile.as_str(),
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(&conv)
        .arg(docx)
        .output()
        .expect("LibreOffice (soffice) must be installed: .ci/run installs it");
    let pdf = conv.join(docx.file_stem().unwrap()).with_extension("pdf");
    assert!(
        pdf.exists(),
        "LibreOffice did not convert the DOCX: {}\n{}",
        String::from_utf8_lossy(&status.stdout),
        String::from_utf8_lossy(&status.stderr)
    );
    let txt = conv.join("pages.txt");
    let run = Command::new("pdftotext")
        .arg(&pdf)
        .arg(&txt)
        .output()
        .expect("poppler-utils (pdftotext) must be installed: .ci/run installs it");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&txt).unwrap();
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// A DHIS2-shaped UID for an indicator code: 11 characters, a letter first.
fn uid_of(code: &str) -> String {
    format!("X{code:0>10}")
}

/// The demo ward's DHIS2 export: every mapped total under its data element,
/// as a string, in a document of DHIS2's `dataValueSets` shape; refused
/// mappings write nothing.
fn check_dhis2_export(w: &World, dir: &Path) {
    let json_path = dir.join("r.json");
    let j = json_path.display().to_string();
    w.hub
        .cmd(&[
            "report", "--period", PERIOD, "--format", "json", "--out", &j,
        ])
        .ok();
    let report: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let codes: Vec<String> = report["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .filter(|c| c != "TT09")
        .collect();
    let mut mapping = String::from(
        "data_set = \"pBOMPrpg1QX\"\n[org_units]\n\"Phường Gia Viên\" = \"DiszpKrYNg8\"\n\"Phường Lê Lợi\" = \"LeLoi000001\"\n[data_elements]\n",
    );
    for c in &codes {
        mapping.push_str(&format!("{c} = \"{}\"\n", uid_of(c)));
    }
    let map_path = dir.join("dhis2.toml");
    std::fs::write(&map_path, &mapping).unwrap();
    let m = map_path.display().to_string();
    let out = dir.join("dhis2.json");
    let o = out.display().to_string();
    let run = w
        .hub
        .cmd(&[
            "report",
            "--period",
            PERIOD,
            "--format",
            "dhis2",
            "--mapping",
            &m,
            "--out",
            &o,
        ])
        .ok();
    assert!(run.stderr().contains("TT09"), "{}", run.context());
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    // DHIS2's dataValueSets import format.
    let is_uid = |v: &Value| {
        v.as_str().is_some_and(|s| {
            s.len() == 11
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric())
        })
    };
    assert_eq!(doc["dataSet"], "pBOMPrpg1QX");
    assert_eq!(
        doc["period"], "2026",
        "the annual report is DHIS2's yearly period"
    );
    assert_eq!(doc["orgUnit"], "DiszpKrYNg8");
    assert!(NaiveDate::parse_from_str(doc["completeDate"].as_str().unwrap(), "%Y-%m-%d").is_ok());
    let values = doc["dataValues"].as_array().unwrap();
    let mut by_element = BTreeMap::new();
    for v in values {
        assert_eq!(v.as_object().unwrap().len(), 4, "{v}");
        assert!(is_uid(&v["dataElement"]) && is_uid(&v["orgUnit"]), "{v}");
        assert_eq!(v["period"], "2026");
        assert_eq!(v["orgUnit"], "DiszpKrYNg8");
        let value = v["value"]
            .as_str()
            .unwrap_or_else(|| panic!("value not a string: {v}"));
        by_element.insert(
            v["dataElement"].as_str().unwrap().to_string(),
            value.to_string(),
        );
    }
    // Every value where it belongs: each mapped indicator's total, and no
    // value for an indicator without a total (missing is not zero).
    for c in &codes {
        let total = &indicator(&report, c)["total"];
        let got = by_element.get(&uid_of(c));
        match total {
            Value::Null => assert!(got.is_none(), "{c} has no total but a value {got:?}"),
            Value::Number(n) => {
                let want = n.as_f64().unwrap();
                let got: f64 = got
                    .unwrap_or_else(|| panic!("{c} is missing"))
                    .parse()
                    .unwrap();
                assert_eq!(got, want, "{c}");
            }
            Value::Bool(b) => assert_eq!(
                got.map(String::as_str),
                Some(if *b { "true" } else { "false" })
            ),
            other => assert_eq!(got.map(String::as_str), other.as_str(), "{c}"),
        }
    }
    assert!(!by_element.contains_key(&uid_of("TT09")));
    assert_eq!(by_element.len(), values.len());

    // Refused: a malformed UID, a period DHIS2 has no type for; nothing written.
    std::fs::write(&map_path, mapping.replace("DiszpKrYNg8", "Diszp-KrYNg8")).unwrap();
    let refused = dir.join("refused.json");
    let r = refused.display().to_string();
    let run = w
        .hub
        .cmd(&[
            "report",
            "--period",
            PERIOD,
            "--format",
            "dhis2",
            "--mapping",
            &m,
            "--out",
            &r,
        ])
        .expect_code(2);
    assert!(run.stderr().contains("org_units"), "{}", run.context());
    std::fs::write(&map_path, &mapping).unwrap();
    let run = w
        .hub
        .cmd(&[
            "report",
            "--period",
            "2026-M9",
            "--format",
            "dhis2",
            "--mapping",
            &m,
            "--out",
            &r,
        ])
        .expect_code(2);
    assert!(run.stderr().contains("[periods]"), "{}", run.context());
    assert!(!refused.exists());
}

#[test]
fn the_demo_wards_signed_report_fits_and_keeps_its_blocks_together() {
    // The demo ward (coso-demo's seed and size): the Centre, departments,
    // schools and 24 residential groups.
    let w = world_seeded(2026, 24);
    let out = tempfile::tempdir().unwrap();
    let docx = out.path().join("bao-cao.docx");
    let d = docx.display().to_string();
    w.hub
        .cmd(&[
            "report", "--period", PERIOD, "--format", "docx", "--out", &d,
        ])
        .ok();
    let pages = docx_pages(&docx, out.path());
    let on = |needle: &str| -> Vec<usize> {
        pages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.contains(needle))
            .map(|(i, _)| i)
            .collect()
    };
    let dump = || {
        pages
            .iter()
            .enumerate()
            .map(|(i, p)| format!("--- page {} ---\n{p}", i + 1))
            .collect::<String>()
    };
    // The body: every page before the appendix (Phụ lục I), at most 5.
    let appendix = on("(Kèm theo Báo cáo số");
    assert_eq!(appendix.len(), 1, "{}", dump());
    let body_pages = appendix[0];
    assert!(
        body_pages <= 5,
        "the body runs to {body_pages} pages:\n{}",
        dump()
    );
    // The closing sentence, the recipients and the signature on one page.
    let sign = on("Nơi nhận:");
    assert_eq!(sign.len(), 1, "{}", dump());
    for needle in [
        "Trên đây là báo cáo",
        "- Lưu: VT, VHXH.",
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
    ] {
        assert!(
            on(needle).contains(&sign[0]),
            "{needle:?} is not on the signature page {}:\n{}",
            sign[0] + 1,
            dump()
        );
    }
    assert!(sign[0] < body_pages, "the signature is in the body");
    // The appendix's note stays with its table: its page has table rows too.
    let note = on("Ghi chú:");
    assert_eq!(note.len(), 1, "{}", dump());
    let lines = pages[note[0]]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert!(lines > 8, "the note's page is nearly empty:\n{}", dump());
    // Phụ lục II: every unit's full text, after the appendix table.
    let annex = on("Ý KIẾN CỦA CÁC ĐƠN VỊ");
    assert_eq!(annex.len(), 1, "{}", dump());
    assert!(annex[0] > note[0] || annex[0] == note[0] && note[0] > body_pages);
    assert!(annex[0] > body_pages);
    // The body says each unit sentence once: a residential group's results
    // text appears once before the appendix and again in the annex.
    let body: String = pages[..body_pages].concat();
    let annex_text: String = pages[annex[0]..].concat();
    assert!(body.contains("Tổ dân phố số"), "{}", dump());
    let reported = w
        .plans
        .iter()
        .filter(|p| !matches!(p.fate, Fate::Missing | Fate::Draft))
        .count();
    assert!(reported > 20);
    let first_results = w
        .plans
        .iter()
        .filter(|p| !matches!(p.fate, Fate::Missing | Fate::Draft))
        .find_map(|p| {
            p.notes
                .iter()
                .find(|(s, _)| *s == coso_domain::Section::Results)
                .map(|(_, t)| t.clone())
        })
        .unwrap();
    let probe: String = first_results.chars().take(25).collect();
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(flat(&body).matches(&flat(&probe)).count(), 1, "{}", dump());
    assert!(flat(&annex_text).matches(&flat(&probe)).count() > 1);

    // The same ward, exported for DHIS2 (one world for both: it is slow to build).
    check_dhis2_export(&w, out.path());
}

#[test]
fn late_is_told_from_on_time_at_the_deadline_boundary() {
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
    let early = Agent::new();
    let late = Agent::new();
    early.enroll(&hub.add_unit("TDP01", "Tổ dân phố số 1", "residential-group"));
    late.enroll(&hub.add_unit("TDP02", "Tổ dân phố số 2", "residential-group"));
    for a in [&early, &late] {
        a.cmd(&["sync"]).ok();
        a.cmd(&["value", "set", "--period", "2026-A01", "DB01=2"])
            .ok();
        a.cmd(&["submit", "--period", "2026-A01"]).ok();
    }
    // One second before 00:00 on 1 December in Vietnam, and exactly at it.
    for (agent, now) in [
        (&early, "2026-11-30T23:59:59+07:00"),
        (&late, "2026-12-01T00:00:00+07:00"),
    ] {
        hub.stop();
        hub.env = vec![("COSO_NOW".into(), now.into())];
        hub.serve();
        agent.cmd(&["sync"]).ok();
    }
    let status = hub
        .cmd(&["status", "--period", "2026-A01", "--json"])
        .ok()
        .json();
    let row = |code: &str| {
        status["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("no {code} in {status}"))
    };
    assert_eq!(row("TDP01")["timeliness"], "on_time", "{status}");
    assert_eq!(row("TDP02")["timeliness"], "late", "{status}");
    assert_eq!(row("TDP01")["state"], "submitted");
}

#[test]
fn review_round_trip_through_real_agents() {
    // The report reaches the ward before the deadline; the ward returns it
    // after the deadline, and the correction arrives later still.
    let mut hub = Hub::start();
    hub.stop();
    hub.env = vec![("COSO_NOW".into(), BEFORE_DUE.into())];
    hub.serve();
    let agent = Agent::new();
    agent.enroll(&hub.add_unit("TDP05", "Tổ dân phố số 5", "residential-group"));
    agent
        .cmd(&[
            "value", "set", "--period", "2026-Y", "DB01=3", "DT02=5", "DT03=4",
        ])
        .ok();
    agent.cmd(&["submit", "--period", "2026-Y"]).ok();
    agent.cmd(&["sync"]).ok();

    hub.stop();
    hub.env = vec![("COSO_NOW".into(), "2026-11-12T10:00:00+07:00".into())];
    hub.serve();
    let reason = "Đề nghị bổ sung số liệu đối thoại <DT01> & kiến nghị";
    hub.cmd(&[
        "review", "--unit", "TDP05", "--period", "2026-Y", "--return", reason,
    ])
    .ok();
    agent.cmd(&["sync"]).ok();
    let r = agent
        .cmd(&["report", "--period", "2026-Y", "--json"])
        .ok()
        .json();
    assert_eq!(r["state"], "returned", "{r}");
    assert_eq!(r["review_comment"], reason, "{r}");

    // A returned report can be fixed and resubmitted.
    agent
        .cmd(&["value", "set", "--period", "2026-Y", "DT01=2"])
        .ok();
    agent.cmd(&["submit", "--period", "2026-Y"]).ok();
    agent.cmd(&["sync"]).ok();
    let st = hub
        .cmd(&["status", "--period", "2026-Y", "--json"])
        .ok()
        .json();
    assert_eq!(st["units"][0]["state"], "submitted", "{st}");

    hub.cmd(&[
        "review", "--unit", "TDP05", "--period", "2026-Y", "--accept",
    ])
    .ok();
    agent.cmd(&["sync"]).ok();
    let r = agent
        .cmd(&["report", "--period", "2026-Y", "--json"])
        .ok()
        .json();
    assert_eq!(r["state"], "accepted", "{r}");
    // An accepted report is locked, and the agent says why.
    let refused = agent
        .cmd(&["value", "set", "--period", "2026-Y", "DT01=3"])
        .expect_code(2);
    assert!(!refused.stderr().trim().is_empty(), "{}", refused.context());
    let shown = hub.cmd(&["unit", "show", "TDP05", "--json"]).ok().json();
    let period = shown["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == "2026-Y")
        .unwrap();
    assert_eq!(period["values"]["DT01"], 2, "{shown}");
    // Returned and corrected after the deadline, it still reached the ward on time.
    let st = hub
        .cmd(&["status", "--period", "2026-Y", "--json"])
        .ok()
        .json();
    assert_eq!(st["units"][0]["state"], "accepted", "{st}");
    assert_eq!(st["units"][0]["timeliness"], "on_time", "{st}");
}

#[test]
fn hostile_narratives_come_out_escaped_and_intact() {
    let hub = Hub::start();
    let agent = Agent::new();
    agent.enroll(&hub.add_unit("TDP09", "Tổ dân phố số 9 <b>&amp;</b>", "residential-group"));
    let long = "Dân biết, dân bàn, dân làm, dân kiểm tra. ".repeat(800);
    let markup = "<w:p><w:r><w:t>tiêm</w:t></w:r></w:p> </script><script>alert(1)</script> & \"quote\" | cột |";
    let control = "chuông\u{7}xóa\u{1b}[31m hết";
    agent
        .cmd(&["value", "set", "--period", PERIOD, "DB01=1"])
        .ok();
    agent
        .cmd(&[
            "note",
            "set",
            "--period",
            PERIOD,
            "--section",
            "results",
            "--text",
            markup,
        ])
        .ok();
    agent
        .cmd(&[
            "note",
            "set",
            "--period",
            PERIOD,
            "--section",
            "difficulties",
            "--text",
            &long,
        ])
        .ok();
    agent
        .cmd(&[
            "note",
            "set",
            "--period",
            PERIOD,
            "--section",
            "proposals",
            "--text",
            control,
        ])
        // Control characters are refused on input (issue 13, defect 7),
        // naming the field and the character.
        .expect_code(2);
    let refused = agent.cmd(&[
        "--lang",
        "en",
        "note",
        "set",
        "--period",
        PERIOD,
        "--section",
        "proposals",
        "--text",
        control,
    ]);
    assert!(
        refused.code() == 2 && refused.stderr().contains("U+0007"),
        "{}",
        refused.context()
    );
    agent.cmd(&["submit", "--period", PERIOD]).ok();
    agent.cmd(&["sync"]).ok();

    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("r.json");
    let j = json.display().to_string();
    hub.cmd(&[
        "report", "--period", PERIOD, "--format", "json", "--out", &j,
    ])
    .ok();
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let texts: Vec<&str> = report["narratives"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["text"].as_str())
        .collect();
    assert!(
        texts.contains(&markup),
        "JSON keeps the text exactly: {texts:?}"
    );
    assert!(texts.contains(&long.trim_end()) || texts.contains(&long.as_str()));

    // The ward's own narrative (coso-hub note set) is the section's body,
    // escaped like everything else.
    let ward_text = "<i>Phường</i> đề nghị bổ sung kinh phí & \"tập huấn\" </w:t>";
    hub.cmd(&[
        "note",
        "set",
        "--period",
        PERIOD,
        "--section",
        "proposals",
        "--text",
        ward_text,
    ])
    .ok();

    let docx = out.path().join("r.docx");
    let d = docx.display().to_string();
    hub.cmd(&[
        "report", "--period", PERIOD, "--format", "docx", "--out", &d,
    ])
    .ok();
    let text = docx_text(&docx, out.path());
    assert!(text.contains(ward_text), "the ward's narrative:\n{text}");
    assert!(
        text.contains("<w:p><w:r><w:t>tiêm</w:t></w:r></w:p>"),
        "markup shows as text:\n{text}"
    );
    assert!(
        text.contains("</script><script>alert(1)</script> & \"quote\""),
        "{text}"
    );
    assert!(
        text.contains("Tổ dân phố số 9 <b>&amp;</b>"),
        "unit name shows as text"
    );
    assert!(
        text.contains("dân kiểm tra. Dân biết"),
        "the long line survives"
    );

    let md = out.path().join("r.md");
    let m = md.display().to_string();
    hub.cmd(&["report", "--period", PERIOD, "--format", "md", "--out", &m])
        .ok();
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(!md.contains("<script>"), "Markdown escapes markup");
}

#[test]
fn status_counts_every_expected_unit() {
    let w = world(3);
    let st = w
        .hub
        .cmd(&["status", "--period", PERIOD, "--json"])
        .ok()
        .json();
    let units = st["units"].as_array().unwrap();
    assert_eq!(units.len(), w.plans.len());
    for (p, _) in w.plans.iter().zip(&w.agents) {
        let row = units.iter().find(|u| u["unit"] == p.code.as_str()).unwrap();
        let want = match p.fate {
            Fate::Missing => "missing",
            Fate::Draft => "draft",
            _ => "submitted",
        };
        assert_eq!(row["state"], want, "{}: {row}", p.code);
        assert_eq!(
            row["timeliness"],
            if want == "submitted" {
                "on_time"
            } else {
                "missing"
            }
        );
    }
    let human = w.hub.cmd(&["status", "--period", PERIOD]).ok().stdout();
    let reported = w
        .plans
        .iter()
        .filter(|p| !matches!(p.fate, Fate::Missing | Fate::Draft))
        .count();
    assert!(
        human.contains(&format!("{reported}/{} đơn vị đã báo cáo", w.plans.len())),
        "the completeness line comes first:\n{human}"
    );
}
