//! Tests of the consolidated report: totals against a computation written
//! here by hand, missing versus zero, the deadline boundary, determinism, and
//! each file format read back.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use coso_domain::catalog::{Aggregation, ValueType};
use coso_domain::value::format_vi;
use coso_domain::{
    Calendar, Catalog, Lang, Period, ReportState, Section, SubmittedReport, Timeliness, Unit,
    UnitKind, Value,
};

use super::*;

/// What happened to one unit in the generated ward.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Scenario {
    /// Submitted (or accepted) this long before the deadline (negative: after).
    Reported {
        accepted: bool,
        before_due_secs: i64,
    },
    Returned,
    Draft,
    Missing,
}

const HOSTILE_LONG: &str = "ab<>";

fn hostile_text() -> String {
    format!(
        "Kết quả <w:p><w:r><w:t>chèn</w:t></w:r></w:p> </script><script>alert(1)</script> &amp; \
         R&D \"quoted\" 'single' | pipe | **bold** # not a heading\u{0}NUL\u{7}BEL\u{1b}[31mESC\u{b}\u{c}\r\n\
         dòng thứ hai\tcó tab\n{}\nkết thúc",
        HOSTILE_LONG.repeat(25_000)
    )
}

fn ward() -> Vec<(&'static str, &'static str, UnitKind, Scenario)> {
    use Scenario::*;
    use UnitKind::*;
    let on_time = |days: i64| Reported {
        accepted: false,
        before_due_secs: days * 86_400,
    };
    vec![
        (
            "TTHCC",
            "Trung tâm Phục vụ hành chính công phường",
            Centre,
            Reported {
                accepted: true,
                before_due_secs: 5 * 86_400,
            },
        ),
        ("PVHXH", "Phòng Văn hóa - Xã hội", Department, on_time(3)),
        (
            "PKT",
            "Phòng Kinh tế, Hạ tầng và Đô thị",
            Department,
            on_time(-2),
        ),
        ("VPUB", "Văn phòng HĐND và UBND phường", Department, Missing),
        // The last second before the deadline is on time; the deadline itself is late.
        (
            "THCS-GV",
            "Trường THCS Gia Viên",
            School,
            Reported {
                accepted: true,
                before_due_secs: 1,
            },
        ),
        (
            "TH-GV",
            "Trường Tiểu học Gia Viên",
            School,
            Reported {
                accepted: false,
                before_due_secs: 0,
            },
        ),
        ("MN-GV", "Trường Mầm non Gia Viên", School, Draft),
        ("TDP1", "Tổ dân phố số 1", ResidentialGroup, on_time(1)),
        ("TDP2", "Tổ dân phố số 2", ResidentialGroup, on_time(2)),
        ("TDP10", "Tổ dân phố số 10", ResidentialGroup, on_time(4)),
        ("TDP3", "Tổ dân phố số 3", ResidentialGroup, on_time(6)),
        ("TDP4", "Tổ dân phố số 4", ResidentialGroup, on_time(2)),
        ("TDP5", "Tổ dân phố số 5", ResidentialGroup, Returned),
        ("TDP6", "Tổ dân phố số 6", ResidentialGroup, Missing),
        ("TDP7", "Tổ dân phố số 7", ResidentialGroup, on_time(-1)),
        ("HCCB", "Hội Cựu chiến binh phường", Other, on_time(3)),
    ]
}

fn counts(s: Scenario) -> bool {
    matches!(s, Scenario::Reported { .. })
}

/// A small deterministic generator (no dependency on any randomness crate).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn period() -> Period {
    Calendar::builtin()
        .period(&"2026-H1".parse().unwrap())
        .unwrap()
}

fn due_utc(p: &Period) -> DateTime<Utc> {
    p.due.with_timezone(&Utc)
}

/// Values a unit reports. GS08 is left to the test (explicit zero), DB03 is
/// never reported (missing everywhere). A returned report carries absurd
/// numbers so that counting it by mistake shows.
fn values_for(
    cat: &Catalog,
    kind: UnitKind,
    rng: &mut Lcg,
    returned: bool,
) -> BTreeMap<String, Value> {
    let mut v = BTreeMap::new();
    for ind in cat.indicators.iter().filter(|i| i.applies_to(kind)) {
        if ind.code == "GS08" || ind.code == "DB03" || ind.rate.is_some() {
            continue;
        }
        // Some entered values are left empty: not every unit fills everything.
        if ind.is_entered() && rng.next(7) == 0 {
            continue;
        }
        let x = match ind.value_type {
            ValueType::Count if returned => Value::Number(1_000_000.0),
            ValueType::Count => Value::Number(rng.next(60) as f64),
            ValueType::Number => Value::Number(rng.next(1000) as f64 / 10.0),
            ValueType::YesNo => Value::Bool(rng.next(3) != 0),
            ValueType::Text => Value::Text(format!("Tự đánh giá số {}", rng.next(100))),
            ValueType::Percent => unreachable!("rates are computed below"),
        };
        v.insert(ind.code.clone(), x);
    }
    for ind in cat.indicators.iter().filter(|i| i.applies_to(kind)) {
        if let Some(rate) = &ind.rate {
            let n = v.get(&rate.numerator).and_then(Value::as_number);
            let d = v.get(&rate.denominator).and_then(Value::as_number);
            if let (Some(n), Some(d)) = (n, d)
                && d > 0.0
            {
                v.insert(
                    ind.code.clone(),
                    Value::Number((10000.0 * n / d).round() / 100.0),
                );
            }
        }
    }
    v
}

fn entries(cat: &Catalog, p: &Period) -> Vec<UnitEntry> {
    let mut rng = Lcg(20260604);
    let due = due_utc(p);
    ward()
        .into_iter()
        .map(|(code, name, kind, s)| {
            let unit = Unit::new(code.parse().unwrap(), name, kind).unwrap();
            let (state, at) = match s {
                Scenario::Reported {
                    accepted,
                    before_due_secs,
                } => (
                    Some(if accepted {
                        ReportState::Accepted
                    } else {
                        ReportState::Submitted
                    }),
                    Some(due - Duration::seconds(before_due_secs)),
                ),
                Scenario::Returned => (Some(ReportState::Returned), Some(due - Duration::days(3))),
                Scenario::Draft | Scenario::Missing => (None, None),
            };
            let report = at.map(|at| {
                let mut values = values_for(cat, kind, &mut rng, s == Scenario::Returned);
                if code == "TDP1" {
                    values.insert("GS08".into(), Value::Number(0.0));
                }
                let mut notes = BTreeMap::new();
                notes.insert(
                    Section::Results,
                    format!("{name} đã triển khai đầy đủ các nội dung.\nTổ chức 3 hội nghị."),
                );
                if code.starts_with("TDP") {
                    notes.insert(
                        Section::Difficulties,
                        "Kinh phí cho hoạt động còn hạn chế.".into(),
                    );
                }
                if code == "TDP7" {
                    notes.insert(Section::Results, hostile_text());
                    notes.insert(Section::Proposals, "  \n ".into());
                }
                SubmittedReport {
                    period: p.code.clone(),
                    // The agent's clock is off; the hub's receive time rules.
                    submitted_at: at - Duration::hours(30),
                    values,
                    notes,
                    activities_hash: String::new(),
                    activities: 7,
                }
            });
            UnitEntry {
                unit,
                state,
                has_data: s == Scenario::Draft,
                submitted_at: at,
                report,
                review_reason: (s == Scenario::Returned).then(|| "Thiếu số liệu mục 3".into()),
                diverged: false,
            }
        })
        .collect()
}

struct Fixture {
    lh: Letterhead,
    cat: Catalog,
    period: Period,
    units: Vec<UnitEntry>,
}

impl Fixture {
    fn new() -> Fixture {
        let cat = Catalog::builtin();
        let period = period();
        let units = entries(&cat, &period);
        Fixture {
            lh: Letterhead::default(),
            cat,
            period,
            units,
        }
    }
    fn input(&self) -> CompileInput<'_> {
        CompileInput {
            letterhead: &self.lh,
            catalog: &self.cat,
            period: &self.period,
            units: &self.units,
            report_date: NaiveDate::from_ymd_opt(2026, 6, 4).unwrap(),
            ward_notes: &NO_WARD_NOTES,
        }
    }
    /// The counted units' values, by the scenario table (not by the model).
    fn counted(&self) -> Vec<(&UnitEntry, &BTreeMap<String, Value>)> {
        let scenario: BTreeMap<&str, Scenario> =
            ward().into_iter().map(|(c, _, _, s)| (c, s)).collect();
        self.units
            .iter()
            .filter(|e| counts(scenario[e.unit.code.as_str()]))
            .map(|e| (e, &e.report.as_ref().unwrap().values))
            .collect()
    }
}

/// The ward's total for one indicator, computed by hand.
fn expected_total(cat: &Catalog, code: &str, reports: &[&BTreeMap<String, Value>]) -> Option<f64> {
    let ind = cat.indicator(code).unwrap();
    let nums: Vec<f64> = reports
        .iter()
        .filter_map(|r| match r.get(code) {
            Some(Value::Number(n)) => Some(*n),
            _ => None,
        })
        .collect();
    match ind.aggregate {
        Aggregation::Sum => {
            if nums.is_empty() {
                None
            } else {
                let mut s = 0.0;
                for n in &nums {
                    s += n;
                }
                Some(s)
            }
        }
        Aggregation::Mean => {
            if nums.is_empty() {
                None
            } else {
                let s: f64 = nums.iter().sum();
                Some((s / nums.len() as f64 * 100.0).round() / 100.0)
            }
        }
        Aggregation::CountYes => {
            let answers: Vec<bool> = reports
                .iter()
                .filter_map(|r| match r.get(code) {
                    Some(Value::Bool(b)) => Some(*b),
                    _ => None,
                })
                .collect();
            if answers.is_empty() {
                None
            } else {
                Some(answers.iter().filter(|b| **b).count() as f64)
            }
        }
        Aggregation::Rate => {
            let rate = ind.rate.as_ref().unwrap();
            let (mut n, mut d) = (0.0, 0.0);
            for r in reports {
                if let (Some(Value::Number(a)), Some(Value::Number(b))) =
                    (r.get(&rate.numerator), r.get(&rate.denominator))
                {
                    n += a;
                    d += b;
                }
            }
            (d > 0.0).then(|| ((100.0 * n / d) * 100.0).round() / 100.0)
        }
        Aggregation::None => None,
    }
}

fn json_report(f: &Fixture) -> serde_json::Value {
    serde_json::from_slice(&compile(&f.input(), Format::Json).unwrap()).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn totals_match_an_independent_computation() {
    let f = Fixture::new();
    let json = json_report(&f);
    let counted = f.counted();
    let all: Vec<_> = counted.iter().map(|(_, v)| *v).collect();
    let indicators = json["indicators"].as_array().unwrap();
    assert_eq!(indicators.len(), f.cat.indicators.len());
    let mut checked = 0;
    for j in indicators {
        let code = j["code"].as_str().unwrap();
        let want = expected_total(&f.cat, code, &all);
        match want {
            Some(w) => {
                let got = j["total"].as_f64().unwrap_or_else(|| panic!("{code}: {j}"));
                assert!(close(got, w), "{code}: total {got}, expected {w}");
                checked += 1;
            }
            None => assert!(j["total"].is_null(), "{code}: {}", j["total"]),
        }
        // Per kind.
        for kind in UnitKind::ALL {
            let of_kind: Vec<_> = counted
                .iter()
                .filter(|(e, _)| e.unit.kind == kind)
                .map(|(_, v)| *v)
                .collect();
            let got = &j["by_kind"][kind.as_str()];
            if !f.cat.indicator(code).unwrap().applies_to(kind) {
                assert!(got.is_null(), "{code}/{kind}: not applicable, got {got}");
                continue;
            }
            match expected_total(&f.cat, code, &of_kind) {
                Some(w) => assert!(close(got.as_f64().unwrap(), w), "{code}/{kind}"),
                None => assert!(got.is_null(), "{code}/{kind}: {got}"),
            }
        }
        // Per unit: exactly the counted units that gave a value.
        let by_unit = j["by_unit"].as_object().unwrap();
        let want_units: BTreeSet<&str> = counted
            .iter()
            .filter(|(_, v)| v.contains_key(code))
            .map(|(e, _)| e.unit.code.as_str())
            .collect();
        let got_units: BTreeSet<&str> = by_unit.keys().map(String::as_str).collect();
        assert_eq!(got_units, want_units, "{code}");
        assert_eq!(j["units_reporting"], want_units.len(), "{code}");
    }
    assert!(checked > 40, "most indicators have a total ({checked})");
    // The derived activity counts are there and summed.
    let tt09 = indicators.iter().find(|j| j["code"] == "TT09").unwrap();
    let by_hand: f64 = all.iter().filter_map(|v| v.get("TT09")?.as_number()).sum();
    assert_eq!(tt09["total"].as_f64().unwrap(), by_hand);
    assert!(by_hand > 0.0);
    // The returned report (1,000,000 per count) is not in any total.
    for j in indicators {
        assert!(j["by_unit"].get("TDP5").is_none());
        if let Some(t) = j["total"].as_f64() {
            assert!(t < 1_000_000.0, "{}: {t}", j["code"]);
        }
    }
}

#[test]
fn missing_is_not_zero() {
    let f = Fixture::new();
    let json = json_report(&f);
    let ind = |code: &str| {
        json["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["code"] == code)
            .unwrap()
            .clone()
    };
    // One unit said 0: the total is a real zero, from one unit.
    let gs08 = ind("GS08");
    assert_eq!(gs08["total"], serde_json::json!(0));
    assert_eq!(gs08["units_reporting"], 1);
    assert_eq!(gs08["by_unit"], serde_json::json!({"TDP1": 0}));
    // Nobody reported DB03: no total, not zero.
    let db03 = ind("DB03");
    assert!(db03["total"].is_null());
    assert_eq!(db03["by_unit"], serde_json::json!({}));
    assert!(db03["by_kind"]["residential-group"].is_null());
    // Units that did not report are absent everywhere, never 0.
    for j in json["indicators"].as_array().unwrap() {
        for missing in ["VPUB", "TDP6", "MN-GV", "TDP5"] {
            assert!(j["by_unit"].get(missing).is_none(), "{missing} in {j}");
        }
    }

    // CSV: the explicit zero is "0", the missing unit's cell is empty.
    let csv = compile(&f.input(), Format::Csv).unwrap();
    let mut r = ::csv::Reader::from_reader(&csv[..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<::csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let row = |code: &str| rows.iter().find(|r| &r[0] == code).unwrap();
    assert_eq!(&row("GS08")[col("TDP1")], "0");
    assert_eq!(&row("GS08")[col("TDP2")], "");
    assert_eq!(&row("GS08")[col("total")], "0");
    assert_eq!(&row("DB03")[col("total")], "");
    assert_eq!(&row("TT09")[col("TDP6")], "", "a missing unit is empty");
    assert_ne!(&row("TT09")[col("TDP1")], "");
    // Yes/no as 1/0.
    assert!(matches!(&row("GS01")[col("TTHCC")], "1" | "0" | ""));
    // Every expected unit has a column, reported or not.
    for (code, ..) in ward() {
        col(code);
    }
}

#[test]
fn status_tells_on_time_from_late_at_the_deadline() {
    let f = Fixture::new();
    let s = status(&f.input());
    let row = |code: &str| s.units.iter().find(|r| r.unit.as_str() == code).unwrap();
    assert_eq!(
        row("THCS-GV").timeliness,
        Timeliness::OnTime,
        "one second early"
    );
    assert_eq!(row("TH-GV").timeliness, Timeliness::Late, "at the deadline");
    assert_eq!(row("PKT").timeliness, Timeliness::Late);
    assert_eq!(row("TTHCC").timeliness, Timeliness::OnTime);
    assert_eq!(row("VPUB").state, UnitStatus::Missing);
    assert_eq!(row("VPUB").timeliness, Timeliness::Missing);
    assert_eq!(row("VPUB").submitted_at, None);
    assert_eq!(row("MN-GV").state, UnitStatus::Draft);
    assert_eq!(row("TDP5").state, UnitStatus::Returned);
    assert_eq!(row("TDP5").timeliness, Timeliness::Missing);
    assert_eq!(
        row("TDP5").review_reason.as_deref(),
        Some("Thiếu số liệu mục 3")
    );
    assert!(row("TDP5").submitted_at.is_some());
    assert_eq!(row("THCS-GV").state, UnitStatus::Accepted);
    // The hub's receive time in Vietnam time, not the agent's clock.
    assert_eq!(
        row("TH-GV").submitted_at.as_deref(),
        Some("2026-06-05T00:00:00+07:00")
    );
    assert_eq!(s.due, "2026-06-05T00:00:00+07:00");

    // 16 units: 12 reported (9 on time, 3 late), 4 not (2 with nothing
    // received, 1 draft, 1 returned).
    assert_eq!(s.totals.expected, 16);
    assert_eq!(s.totals.reported, 12);
    assert_eq!(s.totals.on_time, 9);
    assert_eq!(s.totals.late, 3);
    assert_eq!(s.totals.missing, 4);
    assert_eq!(s.totals.returned, 1);
    assert_eq!(s.totals.draft, 1);
    assert_eq!(s.totals.not_received, 2);
    assert_eq!(
        s.summary,
        "12/16 đơn vị đã báo cáo, 9 đúng hạn, 3 muộn, 4 chưa báo cáo \
         (trong đó 1 báo cáo bị trả lại chờ hoàn thiện)"
    );
    assert!(
        s.summary_en
            .starts_with("12/16 units have reported, 9 on time, 3 late")
    );

    // The JSON shape of interface.md, totals before units.
    let text = serde_json::to_string(&s).unwrap();
    assert!(text.find("\"summary\"").unwrap() < text.find("\"units\"").unwrap());
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let u = &v["units"][0];
    assert_eq!(u["unit"], "TTHCC");
    assert_eq!(u["kind"], "centre");
    assert_eq!(u["state"], "accepted");
    assert_eq!(u["timeliness"], "on_time");
    let missing = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "VPUB")
        .unwrap();
    assert!(missing["submitted_at"].is_null());
    assert_eq!(missing["state"], "missing");
    assert_eq!(missing["timeliness"], "missing");
    // Units by kind, then natural code order.
    let order: Vec<&str> = s.units.iter().map(|r| r.unit.as_str()).collect();
    let tdp: Vec<&str> = order
        .iter()
        .copied()
        .filter(|c| c.starts_with("TDP"))
        .collect();
    assert_eq!(
        tdp,
        [
            "TDP1", "TDP2", "TDP3", "TDP4", "TDP5", "TDP6", "TDP7", "TDP10"
        ]
    );
    assert_eq!(*order.last().unwrap(), "HCCB");
}

/// A diverged unit is marked on its status row and in the JSON document
/// (`status --json`), and an older document without the field still reads.
#[test]
fn status_marks_a_diverged_unit() {
    let mut f = Fixture::new();
    f.units[0].diverged = true;
    let code = f.units[0].unit.code.clone();
    let s = status(&f.input());
    for row in &s.units {
        assert_eq!(row.diverged, row.unit == code, "{row:?}");
    }
    let doc = serde_json::to_value(&s).unwrap();
    let row = doc["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"] == code.to_string())
        .unwrap()
        .clone();
    assert_eq!(row["diverged"], true, "{row}");
    let mut old = row;
    old.as_object_mut().unwrap().remove("diverged");
    let back: StatusRow = serde_json::from_value(old).unwrap();
    assert!(!back.diverged);
}

#[test]
fn status_as_text_puts_totals_first() {
    let f = Fixture::new();
    let text = status(&f.input()).to_text(Lang::Vi);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "Kỳ 2026-H1 — Báo cáo 6 tháng đầu năm 2026 — hạn nộp: trước 00:00 ngày 05/6/2026"
    );
    assert!(lines[1].starts_with("12/16 đơn vị đã báo cáo"));
    assert!(lines[3].starts_with("MÃ"));
    let th = lines.iter().find(|l| l.starts_with("TH-GV ")).unwrap();
    assert!(
        th.contains("2026-06-05 00:00:00") && th.ends_with("muộn"),
        "{th}"
    );
    let returned = lines.iter().find(|l| l.starts_with("TDP5 ")).unwrap();
    assert!(
        returned.contains("Bị trả lại: Thiếu số liệu mục 3"),
        "{returned}"
    );
    let en = status(&f.input()).to_text(Lang::En);
    assert!(en.contains("due before 00:00 on 2026-06-05"), "{en}");
    assert!(
        en.lines()
            .any(|l| l.starts_with("VPUB ") && l.ends_with("missing"))
    );
}

#[test]
fn the_completeness_sentence_without_returns() {
    let c = Completeness {
        expected: 45,
        reported: 38,
        on_time: 35,
        late: 3,
        missing: 7,
        ..Completeness::default()
    };
    assert_eq!(
        c.sentence(Lang::Vi),
        "38/45 đơn vị đã báo cáo, 35 đúng hạn, 3 muộn, 7 chưa báo cáo"
    );
}

#[test]
fn the_report_json_reads_back_as_it_was_written() {
    // The one schema: what a ward writes, a city reads back equal, every
    // field (hostile text, nulls, returned units included).
    let f = Fixture::new();
    let bytes = compile(&f.input(), Format::Json).unwrap();
    let back = report_json::ReportJson::parse(&bytes).unwrap();
    assert_eq!(back.to_bytes().unwrap(), bytes);
    let model = Model::build(&f.input());
    assert_eq!(back, report_json::ReportJson::of(&model));
    // The writer serialises the model without the owned copy: same bytes.
    assert_eq!(
        bytes,
        report_json::ReportJson::of(&model).to_bytes().unwrap()
    );
    // Its buffer was allocated once, large enough (hostile text included).
    let bound = report_json::size_bound(&model);
    assert!(bytes.len() <= bound, "{} bytes, bound {bound}", bytes.len());
    assert!(back.indicators.iter().any(|i| i.total.is_none()));
    assert!(back.units.iter().any(|u| u.submitted_at.is_none()));

    // A renamed field is refused by name rather than read as null.
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let unit = v["units"][0].as_object_mut().unwrap();
    let at = unit.remove("submitted_at").unwrap();
    unit.insert("received_at".into(), at);
    let e = report_json::ReportJson::parse(v.to_string().as_bytes()).unwrap_err();
    assert!(
        e.to_string().contains("missing field `submitted_at`"),
        "{e}"
    );
}

#[test]
fn json_and_csv_are_byte_identical_across_compiles_and_input_order() {
    let f = Fixture::new();
    let mut g = Fixture::new();
    g.units.reverse();
    // DOCX is left out: docx-rs numbers paragraphs from a per-thread counter.
    for format in [Format::Json, Format::Csv, Format::Md, Format::Xlsx] {
        let a = compile(&f.input(), format).unwrap();
        let b = compile(&f.input(), format).unwrap();
        let c = compile(&g.input(), format).unwrap();
        assert!(a == b, "{format} differs between two compiles");
        assert!(a == c, "{format}: input order must not matter");
    }
}

#[test]
fn json_has_the_interface_fields_and_keeps_hostile_text_intact() {
    let f = Fixture::new();
    let j = json_report(&f);
    assert_eq!(j["period"], "2026-H1");
    assert_eq!(j["units_expected"], 16);
    assert_eq!(j["units_reported"], 12);
    assert_eq!(j["completeness"]["late"], 3);
    let tt10 = j["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "TT10")
        .unwrap();
    assert_eq!(tt10["unit"], "lượt người");
    assert_eq!(tt10["name"], "Tổng số lượt người tham gia");
    // Yes/no values are true/false per unit, their total a count.
    let gs01 = j["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "GS01")
        .unwrap();
    assert!(gs01["by_unit"]["TTHCC"].is_boolean() || gs01["by_unit"].get("TTHCC").is_none());
    assert!(gs01["total"].is_number());

    let narratives = j["narratives"].as_array().unwrap();
    let hostile = narratives
        .iter()
        .find(|n| n["unit"] == "TDP7" && n["section"] == "results")
        .unwrap();
    assert_eq!(hostile["text"].as_str().unwrap(), hostile_text());
    // Grouped by section, each attributed; blank notes and returned reports are left out.
    let sections: Vec<&str> = narratives
        .iter()
        .map(|n| n["section"].as_str().unwrap())
        .collect();
    let mut sorted = sections.clone();
    sorted.sort_by_key(|s| Section::ALL.iter().position(|x| x.as_str() == *s));
    assert_eq!(sections, sorted);
    assert!(!narratives.iter().any(|n| n["section"] == "proposals"));
    assert!(!narratives.iter().any(|n| n["unit"] == "TDP5"));
    assert_eq!(
        narratives
            .iter()
            .filter(|n| n["section"] == "results")
            .count(),
        12
    );
}

fn cell(range: &calamine::Range<calamine::Data>, r: u32, c: u32) -> calamine::Data {
    range
        .get_value((r, c))
        .cloned()
        .unwrap_or(calamine::Data::Empty)
}

fn find_row(range: &calamine::Range<calamine::Data>, code: &str) -> u32 {
    let (start, end) = (range.start().unwrap(), range.end().unwrap());
    (start.0..=end.0)
        .find(|&r| cell(range, r, 0) == calamine::Data::String(code.into()))
        .unwrap_or_else(|| panic!("no row {code}"))
}

#[test]
fn xlsx_reads_back_with_the_same_numbers() {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    let f = Fixture::new();
    let bytes = compile(&f.input(), Format::Xlsx).unwrap();
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(
        wb.sheet_names(),
        [
            "Tổng hợp",
            "Theo đơn vị",
            "Tình hình báo cáo",
            "Ý kiến đơn vị"
        ]
    );
    let counted = f.counted();
    let all: Vec<_> = counted.iter().map(|(_, v)| *v).collect();

    let totals = wb.worksheet_range("Tổng hợp").unwrap();
    assert_eq!(cell(&totals, 3, 8), Data::String("Tổng cộng".into()));
    for ind in &f.cat.indicators {
        let r = find_row(&totals, &ind.code);
        match expected_total(&f.cat, &ind.code, &all) {
            Some(w) => match cell(&totals, r, 8) {
                Data::Float(x) => assert!(close(x, w), "{}: {x} vs {w}", ind.code),
                other => panic!("{}: total is {other:?}, not a number", ind.code),
            },
            None => assert_eq!(cell(&totals, r, 8), Data::Empty, "{}", ind.code),
        }
    }

    let units = wb.worksheet_range("Theo đơn vị").unwrap();
    let col_of = |code: &str| {
        (3..40)
            .find(|&c| cell(&units, 3, c) == Data::String(code.into()))
            .unwrap_or_else(|| panic!("no column {code}"))
    };
    for (e, values) in &counted {
        let c = col_of(e.unit.code.as_str());
        for ind in &f.cat.indicators {
            let r = find_row(&units, &ind.code);
            let got = cell(&units, r, c);
            match values.get(&ind.code) {
                Some(Value::Number(n)) => assert_eq!(got, Data::Float(*n), "{}", ind.code),
                Some(Value::Bool(b)) => {
                    assert_eq!(got, Data::Float(if *b { 1.0 } else { 0.0 }), "{}", ind.code)
                }
                Some(Value::Text(t)) => assert_eq!(got, Data::String(t.clone())),
                None => assert_eq!(got, Data::Empty, "{} {}", e.unit.code, ind.code),
            }
        }
    }
    // A unit that did not report has an empty column, not zeros.
    let c = col_of("TDP6");
    for ind in &f.cat.indicators {
        assert_eq!(cell(&units, find_row(&units, &ind.code), c), Data::Empty);
    }

    let status = wb.worksheet_range("Tình hình báo cáo").unwrap();
    assert_eq!(
        cell(&status, 0, 0),
        Data::String(
            "12/16 đơn vị đã báo cáo, 9 đúng hạn, 3 muộn, 4 chưa báo cáo \
             (trong đó 1 báo cáo bị trả lại chờ hoàn thiện)"
                .into()
        )
    );
    let th = (4..4 + 16)
        .find(|&r| cell(&status, r, 1) == Data::String("TH-GV".into()))
        .unwrap();
    assert_eq!(cell(&status, th, 6), Data::String("Muộn".into()));
    assert!(matches!(cell(&status, th, 5), Data::DateTime(_)));

    // The 100 KB narrative is cut to Excel's limit, not refused.
    let notes = wb.worksheet_range("Ý kiến đơn vị").unwrap();
    let hostile = (1..40)
        .find(|&r| {
            cell(&notes, r, 2) == Data::String("TDP7".into())
                && cell(&notes, r, 1) == Data::String(Section::Results.heading_vi().into())
        })
        .unwrap();
    let Data::String(text) = cell(&notes, hostile, 4) else {
        panic!("no text")
    };
    assert!(text.starts_with("Kết quả <w:p>"));
    assert!(text.encode_utf16().count() <= 32_767);
    assert!(text.ends_with("toàn văn trong bản DOCX/JSON]"));
}

#[test]
fn docx_is_a_valid_package_with_the_layout_and_escaped_text() {
    let f = Fixture::new();
    let bytes = compile(&f.input(), Format::Docx).unwrap();
    assert_eq!(&bytes[..2], b"PK", "a zip file");
    docx_rs::read_docx(&bytes).expect("docx-rs reads it back");

    let model = Model::build(&f.input());
    let xml = String::from_utf8(docx::build(&model).build().document).unwrap();
    for words in [
        "ỦY BAN NHÂN DÂN",
        "PHƯỜNG GIA VIÊN",
        "Số:      /BC-UBND",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Gia Viên, ngày 04 tháng 6 năm 2026",
        "BÁO CÁO",
        "Kết quả thực hiện dân chủ ở cơ sở 6 tháng đầu năm 2026",
        "Kính gửi: Sở Nội vụ thành phố Hải Phòng.",
        "I. KẾT QUẢ THỰC HIỆN",
        "II. KHÓ KHĂN, VƯỚNG MẮC",
        "III. ĐỀ XUẤT, KIẾN NGHỊ",
        "IV. NHIỆM VỤ THỜI GIAN TỚI",
        "12/16 đơn vị đã báo cáo, 9 đúng hạn, 3 muộn, 4 chưa báo cáo",
        "Nơi nhận:",
        "- Lưu: VT, VHXH.",
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
        "Phụ lục",
        "(Kèm theo Báo cáo số      /BC-UBND ngày 04/6/2026 của UBND phường Gia Viên)",
        "Tổng cộng",
        "Tổ dân phố số 7: ",
        "Phụ lục I",
        "Phụ lục II",
        "Ý KIẾN CỦA CÁC ĐƠN VỊ",
    ] {
        assert!(xml.contains(words), "missing {words:?}");
    }
    // Times New Roman for every script, A4 portrait then a landscape appendix.
    assert!(xml.contains(
        r#"<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="Times New Roman" w:cs="Times New Roman" />"#
    ) || xml.contains(r#"w:eastAsia="Times New Roman""#));
    assert!(xml.contains(r#"w:orient="landscape""#));
    assert!(
        xml.contains(r#"<w:pgSz w:w="11906" w:h="16838" />"#),
        "portrait A4"
    );
    assert!(xml.contains(r#"w:top="1134""#) && xml.contains(r#"w:left="1701""#));
    assert!(xml.contains(r#"w:right="850""#));
    // A total from the data, written the Vietnamese way.
    let counted = f.counted();
    let all: Vec<_> = counted.iter().map(|(_, v)| *v).collect();
    let tt10 = expected_total(&f.cat, "TT10", &all).unwrap();
    assert!(xml.contains(&format!(
        "Tổng số lượt người tham gia: {} lượt người.",
        format_vi(tt10, 0)
    )));

    // Hostile text: markup escaped, control characters gone, the long line whole.
    assert!(xml.contains("Kết quả &lt;w:p&gt;&lt;w:r&gt;&lt;w:t&gt;chèn&lt;/w:t&gt;"));
    assert!(xml.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; R&amp;D"));
    assert!(!xml.contains("<w:t>chèn"));
    for c in ['\u{0}', '\u{7}', '\u{1b}', '\u{b}', '\u{c}', '\r'] {
        assert!(!xml.contains(c), "control character {:?} in the XML", c);
    }
    assert!(xml.contains("\u{FFFD}NUL\u{FFFD}BEL\u{FFFD}[31mESC"));
    // Once in the body's synthesis, once in Phụ lục II (the unit's full text).
    assert_eq!(xml.matches("ab&lt;&gt;").count(), 2 * 25_000);
    assert!(
        xml.contains("dòng thứ hai</w:t>"),
        "lines become paragraphs"
    );
    assert!(xml.contains("<w:tab />"), "tabs stay tabs");
}

#[test]
fn the_ward_narrative_is_the_body_and_unit_texts_go_to_the_annex() {
    let mut f = Fixture::new();
    // Two units wrote the same proposal, word for word but for case and commas.
    let same = [
        "Đề nghị bổ sung kinh phí, cho Ban Thanh tra nhân dân.",
        "đề nghị bổ sung kinh phí cho ban thanh tra nhân dân",
    ];
    let mut n = 0;
    for e in f.units.iter_mut() {
        if let Some(r) = e.report.as_mut()
            && n < 2
            && matches!(
                e.state,
                Some(ReportState::Submitted | ReportState::Accepted)
            )
        {
            r.notes.insert(Section::Proposals, same[n].to_string());
            n += 1;
        }
    }
    assert_eq!(n, 2);
    let mut ward = BTreeMap::new();
    ward.insert(
        Section::Difficulties,
        "Khó khăn chung của phường.\nDòng thứ hai.".to_string(),
    );
    let mut input = f.input();
    input.ward_notes = &ward;
    let model = Model::build(&input);
    let xml = String::from_utf8(docx::build(&model).build().document).unwrap();
    let body_end = xml.find("Phụ lục I<").expect("the appendix");
    let (body, annex) = xml.split_at(body_end);
    // II is the ward's text, line by line; the units' difficulties are only in the annex.
    assert!(body.contains("Khó khăn chung của phường.") && body.contains("Dòng thứ hai."));
    let unit_difficulty = model
        .narratives_of(Section::Difficulties)
        .next()
        .expect("a unit wrote difficulties")
        .text
        .to_string();
    let probe: String = unit_difficulty.chars().take(30).collect();
    assert!(!body.contains(&probe), "unit text in the body: {probe}");
    assert!(annex.contains(&probe));
    // III: the two near-identical proposals said once.
    assert_eq!(body.matches("ổ sung kinh phí").count(), 1, "said once");
    assert_eq!(annex.matches("ổ sung kinh phí").count(), 2, "each in full");
    // The closing sentence is kept with the signature block, which cannot split.
    let closing = body.find("Trên đây là báo cáo").unwrap();
    let before_close = &body[..closing];
    let para_start = before_close.rfind("</w:p>").unwrap();
    assert!(body[para_start..closing].contains("<w:keepNext />"));
    assert!(body[closing..].contains("<w:cantSplit />"));
}

#[test]
fn markdown_escapes_unit_text() {
    let f = Fixture::new();
    let md = String::from_utf8(compile(&f.input(), Format::Md).unwrap()).unwrap();
    assert!(md.contains("12/16 đơn vị đã báo cáo"));
    assert!(md.contains("&lt;w:p&gt;"));
    assert!(!md.contains("<w:p>"));
    assert!(!md.contains("</script>"));
    assert!(md.contains("&amp;amp;"));
    assert!(md.contains("\\| pipe \\|"));
    assert!(md.contains("\\*\\*bold\\*\\*"));
    assert!(!md.contains('\u{0}') && !md.contains('\u{1b}'));
    // Every table row has the same number of cells as its header.
    let table: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| Mã | Chỉ tiêu"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    assert!(table.len() > 40);
    assert!(table.iter().all(|l| cells(l) == cells(table[0])));
    assert_eq!(escape_line_for_test("1. đầu dòng"), "1\\. đầu dòng");
    assert_eq!(escape_line_for_test("# tiêu đề"), "\\# tiêu đề");
}

fn escape_line_for_test(s: &str) -> String {
    md::escape_line(s)
}

#[test]
fn dates_follow_decree_30() {
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert_eq!(
        place_date_line("Gia Viên", d(2026, 6, 4)),
        "Gia Viên, ngày 04 tháng 6 năm 2026"
    );
    assert_eq!(
        place_date_line("Gia Viên", d(2026, 2, 5)),
        "Gia Viên, ngày 05 tháng 02 năm 2026"
    );
    assert_eq!(
        place_date_line("Gia Viên", d(2026, 1, 15)),
        "Gia Viên, ngày 15 tháng 01 năm 2026"
    );
    assert_eq!(
        place_date_line("Gia Viên", d(2026, 11, 10)),
        "Gia Viên, ngày 10 tháng 11 năm 2026"
    );
    assert_eq!(short_date(d(2026, 6, 5)), "05/6/2026");
    assert_eq!(due_phrase(&period()), "trước 00:00 ngày 05/6/2026");
}

#[test]
fn subject_follows_the_period() {
    let cal = Calendar::builtin();
    let phrase = |c: &str| period_phrase(&cal.period(&c.parse().unwrap()).unwrap());
    assert_eq!(phrase("2026-H1"), "6 tháng đầu năm 2026");
    assert_eq!(phrase("2026-M9"), "9 tháng năm 2026");
    assert_eq!(phrase("2026-Y"), "năm 2026");
    let mut p = period();
    p.code = "2026-A01".parse().unwrap();
    p.title = "Báo cáo Đột xuất về công khai".into();
    assert_eq!(period_phrase(&p), "đột xuất về công khai");
}

#[test]
fn letterhead_defaults_fill_what_the_config_leaves_out() {
    let lh: Letterhead = toml::from_str("signatory_name = \"Nguyễn Văn A\"").unwrap();
    assert_eq!(lh.signatory_name, "Nguyễn Văn A");
    assert_eq!(lh.issuer, "PHƯỜNG GIA VIÊN");
    assert_eq!(lh.recipient, "Sở Nội vụ thành phố Hải Phòng");
    assert_eq!(lh.distribution.first().unwrap(), "Sở Nội vụ;");
    assert_eq!(lh.distribution.last().unwrap(), "Lưu: VT, VHXH.");
    let back: Letterhead = toml::from_str(&toml::to_string(&lh).unwrap()).unwrap();
    assert_eq!(back, lh);
    assert!(toml::from_str::<Letterhead>("recipent = \"typo\"").is_err());
}

#[test]
fn formats_parse() {
    for f in Format::ALL {
        assert_eq!(f.as_str().parse::<Format>().unwrap(), f);
    }
    assert_eq!("MD".parse::<Format>().unwrap(), Format::Md);
    assert!("pdf".parse::<Format>().is_err());
}

#[test]
fn inconsistent_input_is_refused() {
    let mut f = Fixture::new();
    let dup = f.units[0].clone();
    f.units.push(dup);
    assert!(matches!(
        compile(&f.input(), Format::Json),
        Err(CompileError::DuplicateUnit(_))
    ));
    let mut f = Fixture::new();
    f.units[0].report.as_mut().unwrap().period = "2026-M9".parse().unwrap();
    assert!(matches!(
        compile(&f.input(), Format::Csv),
        Err(CompileError::WrongPeriod { .. })
    ));
}

#[test]
fn an_empty_ward_still_compiles() {
    let lh = Letterhead::default();
    let cat = Catalog::builtin();
    let p = period();
    let input = CompileInput {
        letterhead: &lh,
        catalog: &cat,
        period: &p,
        units: &[],
        report_date: NaiveDate::from_ymd_opt(2026, 6, 4).unwrap(),
        ward_notes: &NO_WARD_NOTES,
    };
    for format in Format::ALL {
        let out = compile(&input, format).unwrap();
        assert!(!out.is_empty(), "{format}");
    }
    assert_eq!(
        status(&input).summary,
        "0/0 đơn vị đã báo cáo, 0 đúng hạn, 0 muộn, 0 chưa báo cáo"
    );
}

#[test]
fn natural_order_of_codes() {
    let mut v = vec!["TDP10", "TDP2", "TDP1", "A", "TDP02", "TDP"];
    v.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(v, ["A", "TDP", "TDP1", "TDP02", "TDP2", "TDP10"]);
}

/// Checks a document against DHIS2's `dataValueSets` import format, read as
/// plain JSON: the required fields, their shapes, values as strings.
fn check_dhis2_shape(doc: &serde_json::Value, org_unit_at_top: bool) {
    let uid = |v: &serde_json::Value| v.as_str().is_some_and(dhis2::is_uid);
    let o = doc.as_object().expect("an object");
    for k in o.keys() {
        assert!(
            ["dataSet", "completeDate", "period", "orgUnit", "dataValues"].contains(&k.as_str()),
            "unexpected field {k}"
        );
    }
    if let Some(ds) = o.get("dataSet") {
        assert!(uid(ds), "dataSet {ds}");
    }
    let date = doc["completeDate"].as_str().expect("completeDate");
    assert!(
        NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
        "{date}"
    );
    let period = doc["period"].as_str().expect("period");
    assert_eq!(o.contains_key("orgUnit"), org_unit_at_top);
    if org_unit_at_top {
        assert!(uid(&doc["orgUnit"]));
    }
    let values = doc["dataValues"].as_array().expect("dataValues");
    assert!(!values.is_empty());
    for v in values {
        let v = v.as_object().unwrap();
        assert_eq!(v.len(), 4, "{v:?}");
        assert!(uid(&v["dataElement"]) && uid(&v["orgUnit"]), "{v:?}");
        assert_eq!(v["period"], period);
        assert!(v["value"].is_string(), "value must be a string: {v:?}");
    }
}

const UIDS: [&str; 4] = ["fbfJHSPpUQD", "cYeuwXTCPkU", "Jtf34kNZhzP", "hfdmMSPBgLG"];

#[test]
fn the_dhis2_export_puts_every_mapped_total_where_it_belongs() {
    let f = Fixture::new();
    let report =
        report_json::ReportJson::parse(&compile(&f.input(), Format::Json).unwrap()).unwrap();
    let mapping = dhis2::Mapping::parse(&format!(
        r#"data_set = "pBOMPrpg1QX"
[org_units]
"Phường Gia Viên" = "DiszpKrYNg8"
[data_elements]
TT01 = "{}"
TT10 = "{}"
CK03 = "{}"
GS01 = "{}"
"#,
        UIDS[0], UIDS[1], UIDS[2], UIDS[3]
    ))
    .unwrap();
    let e = dhis2::ward(&report, Some("Phường Gia Viên"), &mapping).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&e.to_bytes()).unwrap();
    check_dhis2_shape(&doc, true);
    assert_eq!(doc["period"], "2026S1");
    assert_eq!(doc["completeDate"], "2026-06-04");
    assert_eq!(doc["orgUnit"], "DiszpKrYNg8");
    assert_eq!(doc["dataSet"], "pBOMPrpg1QX");
    // Every mapped indicator with a total, under its data element, as a string.
    let by_de: BTreeMap<&str, &str> = doc["dataValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["dataElement"].as_str().unwrap(),
                v["value"].as_str().unwrap(),
            )
        })
        .collect();
    for (code, de) in ["TT01", "TT10", "CK03", "GS01"].iter().zip(UIDS) {
        match report.total(code) {
            Some(Value::Number(n)) => assert_eq!(by_de[de], machine_number(*n), "{code}"),
            Some(other) => panic!("{code}: {other:?}"),
            None => assert!(!by_de.contains_key(de), "{code} is missing, not zero"),
        }
    }
    // Indicators with a total but no mapping are named.
    assert!(e.unmapped.contains(&"TT09".to_string()), "{:?}", e.unmapped);
    assert!(!e.unmapped.contains(&"TT01".to_string()));
    // Without the ward's name, the one [org_units] entry is the ward.
    assert_eq!(
        dhis2::ward(&report, None, &mapping)
            .unwrap()
            .set
            .org_unit
            .as_deref(),
        Some("DiszpKrYNg8")
    );
    assert!(matches!(
        dhis2::ward(&report, Some("Phường Lê Lợi"), &mapping),
        Err(dhis2::Dhis2Error::OrgUnit(_))
    ));
}

#[test]
fn dhis2_periods_and_uids_are_checked() {
    let base = "[org_units]\n\"P\" = \"DiszpKrYNg8\"\n[data_elements]\n";
    let m = dhis2::Mapping::parse(base).unwrap();
    let p = |s: &str| s.parse::<coso_domain::PeriodCode>().unwrap();
    assert_eq!(m.period(&p("2026-H1")).unwrap(), "2026S1");
    assert_eq!(m.period(&p("2026-Y")).unwrap(), "2026");
    let e = m.period(&p("2026-M9")).unwrap_err();
    assert!(matches!(e, dhis2::Dhis2Error::Period(_)));
    assert!(e.message(Lang::Vi).contains("[periods]"));
    assert!(m.period(&p("2026-A01")).is_err());
    let m9 =
        dhis2::Mapping::parse(&format!("{base}[periods]\n\"2026-M9\" = \"2026Q3\"\n")).unwrap();
    assert_eq!(m9.period(&p("2026-M9")).unwrap(), "2026Q3");
    for bad in [
        "fbfJHSPpUQ",
        "1bfJHSPpUQD",
        "fbfJHSPpUQD1",
        "fbfJHSP-UQD",
        "",
    ] {
        let e = dhis2::Mapping::parse(&format!("{base}TT01 = \"{bad}\"\n")).unwrap_err();
        assert_eq!(
            e,
            dhis2::Dhis2Error::Uid {
                field: "data_elements.TT01".into(),
                value: bad.into()
            }
        );
    }
    assert!(matches!(
        dhis2::Mapping::parse("[org_units]\n\"P\" = \"bad\"\n[data_elements]\n"),
        Err(dhis2::Dhis2Error::Uid { .. })
    ));
    assert!(matches!(
        dhis2::Mapping::parse(&format!("{base}[periods]\n\"2026-M9\" = \"2026 Q3\"\n")),
        Err(dhis2::Dhis2Error::PeriodId { .. })
    ));
    assert!(matches!(
        dhis2::Mapping::parse("x = ["),
        Err(dhis2::Dhis2Error::Syntax(_))
    ));
    assert!(matches!(
        dhis2::Mapping::parse("typo = 1\n[org_units]\n[data_elements]\n"),
        Err(dhis2::Dhis2Error::Syntax(_))
    ));
}

/// Text that a spreadsheet would run as a formula gets a leading `'`
/// (issue 23); numbers, negative ones too, stay numbers.
#[test]
fn spreadsheet_text_neutralises_formulas_and_keeps_numbers() {
    use crate::spreadsheet_text;
    for risky in [
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "@SUM(1+1)",
        "+1+2",
        "-2+3",
        "-A1",
        "\tx",
        "\rx",
        "-",
    ] {
        assert_eq!(spreadsheet_text(risky), format!("'{risky}"), "{risky:?}");
    }
    for kept in ["-5", "-1234.5", "+3", "1e3", "Tổ 5", "", "TDP-01", "a=b"] {
        assert_eq!(spreadsheet_text(kept), kept, "{kept:?}");
    }
}
