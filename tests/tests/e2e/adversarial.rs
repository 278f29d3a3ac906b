//! Hostile pushes (issue 13, defects 2, 3 and 7): a hand-made gRPC client
//! speaks the real sync protocol with a real credential and pushes entries
//! the agent would never record. The hub refuses each batch with
//! `InvalidArgument` naming the seq, field and reason, writes nothing, and
//! the ward's report still compiles.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use coso_domain::change::{NoteSet, ValuesSet};
use coso_domain::{Activity, ActivityId, Change, Entry, Form, Section, Value};
use coso_proto::link::EnrolmentLink;
use coso_proto::pb;
use coso_tests::Hub;
use coso_tests::bench::client::{SimAgent, channel, enroll, target};
use tonic::Code;

const PERIOD: &str = "2026-H1";

fn values(v: &[(&str, Value)]) -> Change {
    Change::ValuesSet(ValuesSet {
        period: PERIOD.parse().unwrap(),
        values: v
            .iter()
            .map(|(c, v)| (c.to_string(), Some(v.clone())))
            .collect(),
    })
}

fn activity(date: NaiveDate, title: &str) -> Change {
    Change::ActivityUpsert(Activity {
        id: ActivityId::from_counter(1),
        date,
        form: Form::Conference,
        title: title.into(),
        participants: Some(10),
        note: String::new(),
    })
}

fn push(change: &Change) -> pb::PushRequest {
    pb::PushRequest {
        entries: vec![pb::ChangeEntry::from(&Entry::new(1, change, Utc::now()))],
        receipts: Vec::new(),
    }
}

/// A residential group's frozen report as a well-behaved agent makes it, to
/// be spoiled one field at a time.
fn submission() -> coso_domain::SubmittedReport {
    let cal = coso_domain::Calendar::builtin();
    let period = cal.period(&PERIOD.parse().unwrap()).unwrap();
    coso_domain::UnitState::default().freeze(
        &coso_domain::Catalog::builtin(),
        coso_domain::UnitKind::ResidentialGroup,
        &period,
        Utc::now(),
    )
}

#[test]
fn hostile_pushes_are_refused_and_the_report_still_compiles() {
    let hub = Hub::start();
    let link: EnrolmentLink = hub
        .add_unit("TDP01", "Tổ dân phố số 1", "residential-group")
        .parse()
        .unwrap();
    let (addr, fp) = target(&hub);
    let rt = tokio::runtime::Runtime::new().unwrap();

    let huge_note = {
        let mut s = submission();
        s.notes.insert(Section::Results, "x".repeat(3_900_000));
        Change::Submit(Box::new(s))
    };
    let negative_total = {
        let mut s = submission();
        s.values.insert("TT01".into(), Value::Number(-1e308));
        Change::Submit(Box::new(s))
    };
    let bad_period = {
        let mut s = submission();
        s.period = "2100-ZZZ".parse().unwrap();
        Change::Submit(Box::new(s))
    };
    let hostile: Vec<(&str, Change)> = vec![
        ("negative count", values(&[("DB01", Value::Number(-5.0))])),
        ("1e308", values(&[("DB01", Value::Number(1e308))])),
        ("-1e308", values(&[("DB01", Value::Number(-1e308))])),
        ("unknown code", values(&[("ZZ99", Value::Number(1.0))])),
        (
            "text for a count",
            values(&[("DB01", Value::Text("năm".into()))]),
        ),
        ("not for this kind", values(&[("CQ01", Value::Bool(true))])),
        (
            "unknown period",
            Change::ValuesSet(ValuesSet {
                period: "2100-ZZZ".parse().unwrap(),
                values: BTreeMap::from([("DB01".to_string(), Some(Value::Number(1.0)))]),
            }),
        ),
        ("far-future date", activity(NaiveDate::MAX, "Hội nghị")),
        (
            "date before 2000",
            activity(NaiveDate::from_ymd_opt(1999, 6, 1).unwrap(), "Hội nghị"),
        ),
        (
            "escape in a title",
            activity(
                NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
                "Hội nghị\u{1b}[2J",
            ),
        ),
        (
            "bidi override in a note",
            Change::NoteSet(NoteSet {
                period: PERIOD.parse().unwrap(),
                section: Section::Results,
                text: "kết quả \u{202E}gnp.exe".into(),
            }),
        ),
        ("3.9 MB of notes in a submission", huge_note),
        ("-1e308 in a submission", negative_total),
        ("a submission for 2100-ZZZ", bad_period),
    ];

    rt.block_on(async {
        let ch = channel(&addr, fp);
        let unit = enroll(ch.clone(), &link).await.expect("enrol");
        let mut agent = SimAgent::new(ch, &unit);
        for (what, change) in &hostile {
            let status = agent
                .push(push(change))
                .await
                .expect_err(&format!("{what}: accepted"));
            assert_eq!(
                status.code(),
                Code::InvalidArgument,
                "{what}: {}",
                status.message()
            );
            assert!(
                status.message().contains("số thứ tự 1"),
                "{what}: the message names the seq: {}",
                status.message()
            );
        }
        // The refusal names the field and why, in the caller's language
        // (Vietnamese by default).
        let status = agent
            .push(push(&values(&[("DB01", Value::Number(-5.0))])))
            .await
            .unwrap_err();
        assert!(
            status.message().contains("DB01") && status.message().contains("ngoài khoảng"),
            "{}",
            status.message()
        );

        // Nothing was written: the cursor is still 0, and a proper entry
        // at seq 1 is accepted.
        assert_eq!(agent.hello(0).await.unwrap().acked_seq, 0);
        let good = values(&[("DB01", Value::Number(3.0))]);
        assert_eq!(agent.push(push(&good)).await.unwrap().acked_seq, 1);

        // A message above the hub's 4 MiB limit is "too large", not "out of range".
        let mut big = push(&values(&[("DB01", Value::Number(4.0))]));
        big.entries[0].payload = vec![b' '; 5 * 1024 * 1024];
        let status = agent.push(big).await.unwrap_err();
        assert_eq!(
            status.code(),
            Code::ResourceExhausted,
            "{}",
            status.message()
        );
    });

    // The unit and the ward's report are fine.
    let show = hub.cmd(&["unit", "show", "TDP01", "--json"]).ok().json();
    assert_eq!(show["acked_seq"], 1, "{show}");
    let report: serde_json::Value = hub.report_json(PERIOD);
    for ind in report["indicators"].as_array().unwrap() {
        if let Some(total) = ind["total"].as_f64() {
            assert!(total.abs() < 1e12, "{ind}");
        }
    }
    let docx = hub.dir.parent().unwrap().join("report.docx");
    hub.cmd(&[
        "report",
        "--period",
        PERIOD,
        "--format",
        "docx",
        "--out",
        docx.to_str().unwrap(),
    ])
    .ok();
}

fn entry(seq: u64, change: &Change) -> pb::ChangeEntry {
    pb::ChangeEntry::from(&Entry::new(seq, change, Utc::now()))
}

/// The period's report the hub compiles, as JSON: each indicator's total.
fn totals(hub: &Hub, period: &str) -> BTreeMap<String, serde_json::Value> {
    let report: serde_json::Value = hub.report_json(period);
    report["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["code"].as_str().unwrap().to_string(), i["total"].clone()))
        .collect()
}

#[test]
fn a_submission_that_contradicts_its_activities_or_comes_before_its_window_is_refused() {
    let hub = Hub::start();
    let link: EnrolmentLink = hub
        .add_unit("TDP02", "Tổ dân phố số 2", "residential-group")
        .parse()
        .unwrap();
    let (addr, fp) = target(&hub);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let catalog = coso_domain::Catalog::builtin();
    let calendar = coso_domain::Calendar::builtin();
    let kind = coso_domain::UnitKind::ResidentialGroup;
    let period = calendar.period(&PERIOD.parse().unwrap()).unwrap();
    let conference = Change::ActivityUpsert(Activity {
        id: ActivityId::from_counter(1),
        date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        form: Form::Conference,
        title: "Hội nghị phổ biến pháp luật".into(),
        participants: Some(45),
        note: String::new(),
    });
    let mut state = coso_domain::UnitState::default();
    state.apply(&conference);
    let honest = state.freeze(&catalog, kind, &period, Utc::now());
    assert_eq!(honest.values["TT10"], Value::Number(45.0));
    let spoilt = |f: &dyn Fn(&mut coso_domain::SubmittedReport)| {
        let mut s = honest.clone();
        f(&mut s);
        Change::Submit(Box::new(s))
    };
    let forged = spoilt(&|s| {
        s.values.insert("TT09".into(), Value::Number(500.0));
        s.values.insert("TT10".into(), Value::Number(999_999.0));
        s.activities = 77;
        s.activities_hash = "0".repeat(64);
    });
    let cases: Vec<(&str, Change, &str)> = vec![
        ("the forged report", forged.clone(), "activities"),
        ("a count", spoilt(&|s| s.activities = 77), "activities"),
        (
            "a hash",
            spoilt(&|s| s.activities_hash = "0".repeat(64)),
            "activities_hash",
        ),
        (
            "a participants total",
            spoilt(&|s| {
                s.values.insert("TT10".into(), Value::Number(999_999.0));
            }),
            "TT10",
        ),
        (
            "an activity count",
            spoilt(&|s| {
                s.values.insert("TT09".into(), Value::Number(500.0));
            }),
            "TT09",
        ),
    ];
    // 2027-H1 opens on 15/12/2026: frozen before then, it covers nothing.
    let next = calendar.period(&"2027-H1".parse().unwrap()).unwrap();
    let early_at = next.opens_at() - chrono::TimeDelta::days(9);
    let early = Change::Submit(Box::new(
        coso_domain::UnitState::default().freeze(&catalog, kind, &next, early_at),
    ));

    rt.block_on(async {
        let ch = channel(&addr, fp);
        let unit = enroll(ch.clone(), &link).await.expect("enrol");
        let mut agent = SimAgent::new(ch, &unit);
        // In one batch with the activity it contradicts: the whole batch
        // is refused, the activity too.
        let status = agent
            .push(pb::PushRequest {
                entries: vec![entry(1, &conference), entry(2, &forged)],
                receipts: Vec::new(),
            })
            .await
            .expect_err("the forged report was accepted");
        assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
        assert!(
            status.message().contains("số thứ tự 2"),
            "{}",
            status.message()
        );
        assert_eq!(agent.hello(0).await.unwrap().acked_seq, 0);
        // In its own batch after the activity: refused, field by field.
        let pushed = agent
            .push(pb::PushRequest {
                entries: vec![entry(1, &conference)],
                receipts: Vec::new(),
            })
            .await
            .unwrap();
        assert_eq!(pushed.acked_seq, 1);
        for (what, change, field) in &cases {
            let status = agent
                .push(pb::PushRequest {
                    entries: vec![entry(2, change)],
                    receipts: Vec::new(),
                })
                .await
                .expect_err(&format!("{what}: accepted"));
            assert_eq!(
                status.code(),
                Code::InvalidArgument,
                "{what}: {}",
                status.message()
            );
            let m = status.message();
            assert!(
                m.contains("số thứ tự 2") && m.contains(field),
                "{what}: {m}"
            );
        }
        // A report for a period whose window has not opened.
        let status = agent
            .push(pb::PushRequest {
                entries: vec![entry(2, &early)],
                receipts: Vec::new(),
            })
            .await
            .expect_err("an early report was accepted");
        assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
        assert!(
            status.message().contains("2027-H1") && status.message().contains("15/12/2026"),
            "{}",
            status.message()
        );
        assert_eq!(agent.hello(0).await.unwrap().acked_seq, 1);
        // The honest report is taken.
        let pushed = agent
            .push(pb::PushRequest {
                entries: vec![entry(2, &Change::Submit(Box::new(honest.clone())))],
                receipts: Vec::new(),
            })
            .await
            .unwrap();
        assert_eq!(pushed.acked_seq, 2);
    });
    let totals = totals(&hub, PERIOD);
    assert_eq!(totals["TT10"], 45.0, "{totals:?}");
    assert_eq!(totals["TT09"], 1.0, "{totals:?}");
    let show = hub.cmd(&["unit", "show", "TDP02", "--json"]).ok().json();
    let h2027 = show["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == "2027-H1");
    assert!(h2027.is_none_or(|p| p["state"] != "submitted"), "{show:#}");
}
