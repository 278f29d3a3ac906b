//! Ward use-case tests: the review rules (accept, return, reopen) with who
//! decided, the ward's narrative, contacts, and refusals that change nothing.

use chrono::Utc;
use coso_domain::change::ValuesSet;
use coso_domain::{Change, Entry, ReportState, Section, Unit, UnitKind, UnitState, Value};

use super::*;
use crate::store::{Contact, Incoming};
use crate::testing as testutil;

async fn ward_with_submission(dir: &std::path::Path) -> (Ward, UnitCode, coso_domain::Period) {
    let hub = testutil::hub(dir, |_| {}).await;
    let ward = Ward::new(hub.clone());
    let code: UnitCode = "TDP01".parse().unwrap();
    let unit = Unit::new(code.clone(), "Tổ dân phố số 1", UnitKind::ResidentialGroup).unwrap();
    let contact = crate::input::contact("Nguyễn Văn A", "0912 345 678").unwrap();
    let invites = ward
        .add_units(&Actor::admin_token(), vec![NewUnit { unit, contact }])
        .await
        .unwrap();
    assert!(
        invites[0].link.starts_with("coso://"),
        "{}",
        invites[0].link
    );
    let period = ward.period(&"2026-H1".parse().unwrap()).unwrap();
    let set = Change::ValuesSet(ValuesSet {
        period: period.code.clone(),
        values: [("DB01".to_string(), Some(Value::Number(3.0)))].into(),
    });
    let mut st = UnitState::default();
    st.apply(&set);
    let frozen = st.freeze(
        &hub.docs.catalog(),
        UnitKind::ResidentialGroup,
        &period,
        Utc::now(),
    );
    let submit = Change::Submit(Box::new(frozen));
    let batch = [
        Incoming::new(Entry::new(1, &set, Utc::now())).unwrap(),
        Incoming::new(Entry::new(2, &submit, Utc::now())).unwrap(),
    ];
    let g = hub.store.lock_unit(&code).await;
    hub.store.push(&g, &batch, Utc::now()).await.unwrap();
    (ward, code, period)
}

#[tokio::test]
async fn review_accepts_returns_and_reopens_with_who_decided() {
    let dir = tempfile::tempdir().unwrap();
    let (ward, code, period) = ward_with_submission(dir.path()).await;
    let vhxh = Actor::user("vhxh");

    // Reopening a report that was never accepted is refused, nothing written.
    let e = ward
        .review(&vhxh, &code, &period, Verdict::Reopen("sai số liệu".into()))
        .await
        .unwrap_err();
    assert!(matches!(e, WardError::NotReviewable { .. }), "{e}");
    assert_eq!(e.field(), Some("decision"));
    assert!(ward.review_history(&code).unwrap().is_empty());

    let row = ward
        .review(&vhxh, &code, &period, Verdict::Accept)
        .await
        .unwrap();
    assert_eq!(row.state.as_str(), "accepted");
    // An accepted report can no longer be returned, only reopened.
    let e = ward
        .review(&vhxh, &code, &period, Verdict::Return("x".into()))
        .await
        .unwrap_err();
    assert!(
        e.message(Lang::Vi).contains("mở lại"),
        "{}",
        e.message(Lang::Vi)
    );

    let row = ward
        .review(
            &Actor::user("truong-phong"),
            &code,
            &period,
            Verdict::Reopen("Sai số hộ gia đình".into()),
        )
        .await
        .unwrap();
    assert_eq!(row.state.as_str(), "returned");
    assert_eq!(row.review_reason.as_deref(), Some("Sai số hộ gia đình"));
    assert_eq!(
        ward.unit_state(&code).unwrap().state(&period.code),
        ReportState::Returned
    );
    let history = ward.review_history(&code).unwrap();
    let who: Vec<_> = history.iter().map(|r| r.by.as_str()).collect();
    assert_eq!(who, ["vhxh", "truong-phong"]);
    // The trail names the verdict: the reopen is not recorded as a return.
    let trail = ward.audit_page(0, 100).unwrap();
    let reviews: Vec<_> = trail
        .iter()
        .filter(|r| r.action == "review")
        .map(|r| (r.actor.as_str(), r.detail.as_str()))
        .collect();
    assert_eq!(
        reviews,
        [
            ("vhxh", "2026-H1 accepted"),
            ("truong-phong", "2026-H1 reopened Sai số hộ gia đình"),
        ]
    );
}

#[tokio::test]
async fn every_user_change_is_audited_naming_who_made_it() {
    let dir = tempfile::tempdir().unwrap();
    let hub = crate::testing::hub(dir.path(), |_| {}).await;
    let ward = Ward::new(hub);
    let admin = Actor::admin_token();
    let an = Actor::user("an");
    ward.add_user(&admin, "an", Role::Admin, Some("mật khẩu đủ dài".into()))
        .await
        .unwrap();
    ward.add_user(&an, "lan", Role::Viewer, None).await.unwrap();
    ward.set_role(&an, "lan", Role::Reviewer).await.unwrap();
    ward.set_password(&an, "lan", None).await.unwrap();
    ward.unlock_user(&an, "lan").await.unwrap();
    let lan = ward.user("lan").unwrap().unwrap();
    let hash = crate::users::hash_password("mật khẩu của lan").unwrap();
    ward.change_own_password(&lan, hash).await.unwrap();
    ward.remove_user(&an, "lan").await.unwrap();
    let trail: Vec<_> = ward
        .audit_page(0, 100)
        .unwrap()
        .into_iter()
        .map(|r| (r.actor, r.action, r.detail))
        .collect();
    let expected = [
        ("admin-token", "user-add", "an admin"),
        ("an", "user-add", "lan viewer"),
        ("an", "user-role", "lan reviewer"),
        ("an", "user-password", "lan one-time"),
        ("an", "user-unlock", "lan"),
        ("lan", "user-password", "lan own"),
        ("an", "user-remove", "lan"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(trail, expected);
    assert!(ward.verify_audit().unwrap().broken.is_none());
}

#[tokio::test]
async fn verdicts_need_a_reason_to_return_or_reopen() {
    assert_eq!(Verdict::parse("accept", "").unwrap(), Verdict::Accept);
    assert_eq!(
        Verdict::parse("reopen", " lý do ").unwrap(),
        Verdict::Reopen("lý do".into())
    );
    assert_eq!(
        Verdict::parse("return", "  ").unwrap_err().field(),
        "reason"
    );
    let long = "x".repeat(crate::input::MAX_REASON_CHARS + 1);
    assert!(Verdict::parse("return", &long).is_err());
    assert_eq!(
        Verdict::parse("delete", "x").unwrap_err().field(),
        "decision"
    );
}

#[tokio::test]
async fn the_ward_narrative_is_kept_per_period_and_section() {
    let dir = tempfile::tempdir().unwrap();
    let (ward, _, period) = ward_with_submission(dir.path()).await;
    let a = Actor::admin_token();
    ward.set_ward_note(&a, &period, Section::Results, "  Kết quả nổi bật.  ")
        .await
        .unwrap();
    ward.set_ward_note(&a, &period, Section::Proposals, "Đề xuất.")
        .await
        .unwrap();
    let notes = ward.ward_notes(&period).unwrap();
    assert_eq!(notes[&Section::Results], "Kết quả nổi bật.");
    assert_eq!(notes.len(), 2);
    // An empty text removes the section; a huge one is refused.
    ward.set_ward_note(&a, &period, Section::Proposals, " ")
        .await
        .unwrap();
    let huge = "a".repeat(coso_domain::text::MAX_NOTE_BYTES + 1);
    let e = ward
        .set_ward_note(&a, &period, Section::Results, &huge)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("text"));
    let notes = ward.ward_notes(&period).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[&Section::Results], "Kết quả nổi bật.");
    // Another period has its own narrative.
    let y = ward.period(&"2026-Y".parse().unwrap()).unwrap();
    assert!(ward.ward_notes(&y).unwrap().is_empty());
}

#[tokio::test]
async fn contacts_are_kept_in_the_registry_and_unknowns_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ward, code, period) = ward_with_submission(dir.path()).await;
    let s = ward.unit(&code).unwrap();
    assert_eq!(
        s.contact,
        Contact {
            person: Some("Nguyễn Văn A".into()),
            phone: Some("0912 345 678".into()),
        }
    );
    let detail = ward.unit_detail(&code).unwrap();
    assert_eq!(detail.periods[0].period.code, period.code);
    assert_eq!(detail.periods[0].state, ReportState::Submitted);
    let nobody: UnitCode = "TDP99".parse().unwrap();
    assert!(matches!(
        ward.unit_detail(&nobody),
        Err(WardError::NoSuchUnit(_))
    ));
    assert!(matches!(
        ward.period(&"2031-A07".parse().unwrap()),
        Err(WardError::NoSuchPeriod(_))
    ));
    let status = ward.status(&period).unwrap();
    assert_eq!(status.totals.expected, 1);
    assert_eq!(status.totals.reported, 1);
}

#[tokio::test]
async fn other_content_under_a_held_seq_marks_the_unit_diverged() {
    use crate::store::{DivergeKind, PushError};
    use crate::sync::{Caller, SyncError};
    let dir = tempfile::tempdir().unwrap();
    let (ward, code, period) = ward_with_submission(dir.path()).await;
    let rec = ward.hub.store.unit(&code).unwrap().unwrap();
    let other = Change::ValuesSet(ValuesSet {
        period: period.code.clone(),
        values: [("DB01".to_string(), Some(Value::Number(4.0)))].into(),
    });
    // Seq 1 again, with other content: refused as corruption, nothing written.
    let replay = vec![Incoming::new(Entry::new(1, &other, Utc::now())).unwrap()];
    let e = ward
        .push(Caller::of(rec), replay, Vec::new())
        .await
        .unwrap_err();
    assert!(
        matches!(e, SyncError::Push(PushError::Corrupt { seq: 1 })),
        "{e:?}"
    );
    // The unit is marked diverged (audited), and from then on its pushes are
    // refused.
    let rec = ward.hub.store.unit(&code).unwrap().unwrap();
    let d = rec.diverged.clone().expect("marked diverged");
    assert_eq!((d.kind, d.seq), (DivergeKind::Forked, 1));
    let audit = ward.hub.store.audit(0, 100).unwrap();
    assert_eq!(audit.last().unwrap().action, "diverged");
    let next = vec![Incoming::new(Entry::new(3, &other, Utc::now())).unwrap()];
    assert!(matches!(
        ward.push(Caller::of(rec), next, Vec::new()).await,
        Err(SyncError::Diverged { .. })
    ));
    assert_eq!(ward.hub.store.unit(&code).unwrap().unwrap().acked_seq, 2);
}
