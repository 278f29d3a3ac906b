//! The roll-up over two wards with known totals.

use chrono::NaiveDate;
use coso_domain::{Calendar, Catalog, Lang, Period, PeriodCode, Value};
use serde_json::json;

use super::Received;
use super::*;
use crate::report_json::IndicatorJson;
use crate::{Format, Letterhead};

fn h1() -> Period {
    Calendar::builtin()
        .period(&"2026-H1".parse().unwrap())
        .unwrap()
}

fn received(ward: &str, revision: u64, minute: u32) -> Received {
    Received {
        idempotency_key: format!("{ward}-{revision}"),
        ward: ward.into(),
        period: "2026-H1".parse().unwrap(),
        revision,
        content_sha256: format!("c{revision}"),
        received_at: format!("2026-06-01T08:{minute:02}:00Z").parse().unwrap(),
        bytes: 1,
    }
}

fn ind(code: &str, total: serde_json::Value, units: u64) -> serde_json::Value {
    json!({"code": code, "group": "x", "name": "x", "unit": "x", "type": "count",
           "aggregate": "sum", "total": total, "units_reporting": units, "by_kind": {},
           "by_unit": {}})
}

/// A whole ward report (every field the schema requires).
fn report(
    expected: u64,
    [reported, on_time, late]: [u64; 3],
    indicators: Vec<serde_json::Value>,
    narratives: serde_json::Value,
) -> serde_json::Value {
    json!({
        "period": "2026-H1", "title": "6 tháng", "subject": "s",
        "due": "2026-06-05T00:00:00+07:00", "report_date": "2026-06-04", "catalog_version": 1,
        "units_expected": expected, "units_reported": reported, "summary": "",
        "completeness": {"expected": expected, "reported": reported, "on_time": on_time,
            "late": late, "missing": expected - reported, "submitted": reported,
            "accepted": 0, "returned": 0, "draft": 0, "not_received": expected - reported},
        "units": [],
        "indicators": indicators,
        "narratives": narratives,
    })
}

/// Two wards with known totals: Gia Viên (3 of 4 units reported) and
/// Lê Lợi (2 of 2, one late), which left CK01/CK02 empty.
fn wards() -> Vec<Ward> {
    let gia_vien = report(
        4,
        [3, 3, 0],
        vec![
            ind("TT01", json!(10), 3),
            ind("CK01", json!(40), 2),
            ind("CK02", json!(30), 2),
            ind("CK03", json!(75), 2),
            ind("DG01", json!(8), 3),
            ind("GS01", json!(2), 3),
            ind("DG03", json!(null), 0),
        ],
        json!([{"unit": "TDP1", "name": "Tổ 1", "section": "proposals", "text": "Xin kinh phí"},
               {"unit": "TDP2", "name": "Tổ 2", "section": "results", "text": "Tốt"}]),
    );
    let le_loi = report(
        2,
        [2, 1, 1],
        vec![
            ind("TT01", json!(5), 2),
            ind("CK01", json!(null), 0),
            ind("CK03", json!(null), 0),
            ind("DG01", json!(5), 1),
            ind("GS01", json!(1), 2),
        ],
        json!([{"unit": "VP", "name": "Văn phòng", "section": "results", "text": "Đạt"}]),
    );
    vec![
        Ward::parse(
            &received("Phường Gia Viên", 2, 5),
            gia_vien.to_string().as_bytes(),
        )
        .unwrap(),
        Ward::parse(
            &received("Phường Lê Lợi", 1, 7),
            le_loi.to_string().as_bytes(),
        )
        .unwrap(),
    ]
}

fn rolled(r: &Rollup, code: &str) -> RolledIndicator {
    r.indicators
        .iter()
        .find(|i| i.code == code)
        .unwrap()
        .clone()
}

#[test]
fn totals_follow_each_aggregation_and_missing_stays_null() {
    let catalog = Catalog::builtin();
    let day = NaiveDate::from_ymd_opt(2026, 6, 4).unwrap();
    let r = rollup(&Letterhead::default(), &catalog, &h1(), &wards(), day);

    // sum: the ward totals added.
    let tt = rolled(&r, "TT01");
    assert_eq!(tt.total, Some(Value::Number(15.0)));
    assert_eq!((tt.wards_reporting, tt.units_reporting), (2, 5));
    assert_eq!(tt.by_ward["Phường Lê Lợi"], Some(Value::Number(5.0)));
    // One ward left it empty: null there, the total over the other.
    let ck = rolled(&r, "CK01");
    assert_eq!(ck.total, Some(Value::Number(40.0)));
    assert_eq!(ck.by_ward["Phường Lê Lợi"], None);
    assert_eq!(ck.wards_reporting, 1);
    // rate: recomputed from the numerator and denominator totals.
    assert_eq!(rolled(&r, "CK03").total, Some(Value::Number(75.0)));
    // mean: weighted by units reporting, (8×3 + 5×1) / 4.
    assert_eq!(rolled(&r, "DG01").total, Some(Value::Number(7.25)));
    // count-yes: the yes counts added.
    assert_eq!(rolled(&r, "GS01").total, Some(Value::Number(3.0)));
    // Nobody gave it: null, never zero; every ward listed as null.
    let none = rolled(&r, "YK04");
    assert_eq!(none.total, None);
    assert_eq!(none.wards_reporting, 0);
    assert_eq!(none.by_ward.len(), 2);
    assert!(none.by_ward.values().all(Option::is_none));
    // Text indicators (aggregate none) are left out.
    assert!(r.indicators.iter().all(|i| i.code != "DG03"));

    assert_eq!(
        r.totals,
        WardTotals {
            wards: 2,
            units_expected: 6,
            units_reported: 5,
            on_time: 4,
            late: 1,
            missing: 1
        }
    );
    // Narratives by section, then ward.
    let n: Vec<_> = r
        .narratives
        .iter()
        .map(|n| (n.section.as_str(), n.ward.as_str(), n.unit.as_str()))
        .collect();
    assert_eq!(
        n,
        vec![
            ("results", "Phường Gia Viên", "TDP2"),
            ("results", "Phường Lê Lợi", "VP"),
            ("proposals", "Phường Gia Viên", "TDP1"),
        ]
    );
}

#[test]
fn a_rate_needs_both_parts_from_the_same_ward() {
    let catalog = Catalog::builtin();
    let ck03 = catalog.indicator("CK03").unwrap();
    let mut w = wards();
    // Lê Lợi now gives 10 of 10: (30 + 10) / (40 + 10).
    let given = |code: &str| IndicatorJson {
        code: code.into(),
        group: "x".into(),
        name: "x".into(),
        unit: "x".into(),
        value_type: "count".into(),
        aggregate: "sum".into(),
        total: Some(Value::Number(10.0)),
        units_reporting: 1,
        by_kind: Default::default(),
        by_unit: Default::default(),
    };
    w[1].report.indicators = vec![given("CK01"), given("CK02")];
    assert_eq!(combine(ck03, &w), Some(80.0));
    // A numerator without its denominator does not count.
    w[1].report.indicators.remove(0);
    assert_eq!(combine(ck03, &w), Some(75.0));
    w.remove(0);
    assert_eq!(combine(ck03, &w), None);
}

#[test]
fn only_the_latest_revision_of_each_ward_counts() {
    let period: PeriodCode = "2026-H1".parse().unwrap();
    let mut other = received("Phường Gia Viên", 9, 0);
    other.period = "2026-M9".parse().unwrap();
    let all = vec![
        received("Phường Lê Lợi", 1, 1),
        received("Phường Gia Viên", 2, 3),
        received("Phường Gia Viên", 1, 2),
        other,
    ];
    let got: Vec<_> = latest(&all, &period)
        .into_iter()
        .map(|r| (r.ward, r.revision))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Phường Gia Viên".to_string(), 2),
            ("Phường Lê Lợi".to_string(), 1)
        ]
    );
    // A report whose JSON names another period is refused.
    let mut m9 = report(1, [0, 0, 0], vec![], json!([]));
    m9["period"] = json!("2026-M9");
    let e = Ward::parse(&received("X", 1, 0), m9.to_string().as_bytes()).unwrap_err();
    assert!(matches!(e, CityError::BadReport { .. }), "{e}");
    // A field renamed or missing is refused by name, never read as null.
    let mut renamed = report(1, [1, 1, 0], vec![ind("TT01", json!(3), 1)], json!([]));
    let i = renamed["indicators"][0].as_object_mut().unwrap();
    let total = i.remove("total").unwrap();
    i.insert("ward_total".into(), total);
    let e = Ward::parse(&received("X", 1, 0), renamed.to_string().as_bytes()).unwrap_err();
    assert!(e.to_string().contains("missing field `total`"), "{e}");
    assert!(Ward::parse(&received("X", 1, 0), b"[1]").is_err());
}

#[test]
fn status_and_outputs_are_deterministic() {
    let s = status(&h1(), &wards());
    assert_eq!(s.scope, "wards");
    assert!(
        s.summary
            .starts_with("2 phường/xã đã gửi báo cáo; 5/6 đơn vị đã báo cáo"),
        "{}",
        s.summary
    );
    assert_eq!(s.wards[0].ward, "Phường Gia Viên");
    assert_eq!(s.wards[0].revision, 2);
    assert_eq!(s.wards[1].completeness.late, 1);
    let text = s.to_text(Lang::Vi);
    assert!(
        text.contains("Phường Lê Lợi") && text.contains("2/2"),
        "{text}"
    );
    let back: WardsStatus = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);

    let catalog = Catalog::builtin();
    let day = NaiveDate::from_ymd_opt(2026, 6, 4).unwrap();
    let r = rollup(&Letterhead::default(), &catalog, &h1(), &wards(), day);
    let json = r.render(Format::Json).unwrap();
    assert_eq!(json, r.render(Format::Json).unwrap());
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["units_expected"], 6);
    assert_eq!(v["wards_reporting"], 2);
    let ck = v["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "CK01")
        .unwrap();
    assert_eq!(ck["total"], 40);
    assert_eq!(ck["by_ward"]["Phường Lê Lợi"], serde_json::Value::Null);
    assert_eq!(ck["by_unit"], ck["by_ward"]);

    let csv = String::from_utf8(r.render(Format::Csv).unwrap()).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",Phường Gia Viên,Phường Lê Lợi")
    );
    assert!(csv.contains("\r\nCK01,"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("CK01,") && l.ends_with(",40,1,2,40,")),
        "{csv}"
    );
    let md = String::from_utf8(r.render(Format::Md).unwrap()).unwrap();
    assert!(
        md.contains("| CK01 |") && md.contains("Xin kinh phí"),
        "{md}"
    );
    assert!(r.render(Format::Xlsx).unwrap().starts_with(b"PK"));
}

#[test]
fn the_roll_up_reads_back_and_exports_each_ward_to_dhis2() {
    let catalog = Catalog::builtin();
    let day = NaiveDate::from_ymd_opt(2026, 6, 4).unwrap();
    let r = rollup(&Letterhead::default(), &catalog, &h1(), &wards(), day);
    let bytes = r.render(Format::Json).unwrap();
    let doc = RollupJson::parse(&bytes).unwrap();
    assert_eq!(doc, r.to_json_doc());
    let m = crate::dhis2::Mapping::parse(
        "[org_units]\n\"Phường Gia Viên\" = \"DiszpKrYNg8\"\n\"Phường Lê Lợi\" = \"LeLoi000001\"\n\
         [data_elements]\nTT01 = \"fbfJHSPpUQD\"\nCK01 = \"cYeuwXTCPkU\"\n",
    )
    .unwrap();
    let e = doc.to_dhis2(&m).unwrap();
    assert_eq!(e.set.org_unit, None);
    assert_eq!(e.set.period, "2026S1");
    let got: Vec<(&str, &str, &str)> = e
        .set
        .data_values
        .iter()
        .map(|v| {
            (
                v.data_element.as_str(),
                v.org_unit.as_str(),
                v.value.as_str(),
            )
        })
        .collect();
    // Lê Lợi left CK01 empty: no value, never a zero.
    assert_eq!(
        got,
        vec![
            ("fbfJHSPpUQD", "DiszpKrYNg8", "10"),
            ("fbfJHSPpUQD", "LeLoi000001", "5"),
            ("cYeuwXTCPkU", "DiszpKrYNg8", "40"),
        ]
    );
    assert!(e.unmapped.contains(&"GS01".to_string()));
}
