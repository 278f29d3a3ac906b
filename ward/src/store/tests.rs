//! Store tests: cursor rules, replays, corruption, atomicity and durability.

use super::*;
use chrono::NaiveDate;
use coso_domain::activity::{Activity, ActivityId, Form};
use coso_domain::change::ValuesSet;
use coso_domain::{Calendar, Catalog, ReportState, UnitKind, Value};

fn unit(code: &str) -> Unit {
    Unit::new(
        code.parse().unwrap(),
        "Tổ dân phố",
        UnitKind::ResidentialGroup,
    )
    .unwrap()
}

fn record(code: &str) -> UnitRecord {
    let now = Utc::now();
    UnitRecord::new(
        unit(code),
        PendingCode {
            hash: crate::auth::hash("x"),
            expires_at: now,
        },
        now,
    )
}

fn activity(n: u64, title: &str) -> Change {
    Change::ActivityUpsert(Activity {
        id: ActivityId::from_counter(n),
        date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        form: Form::Conference,
        title: title.into(),
        participants: Some(10),
        note: String::new(),
    })
}

fn inc(seq: u64, change: &Change) -> Incoming {
    Incoming::new(Entry::new(seq, change, Utc::now())).unwrap()
}

/// Entries 1..=n, each adding activity `seq`.
fn log(range: std::ops::RangeInclusive<u64>) -> Vec<Incoming> {
    range.map(|s| inc(s, &activity(s, "Hội nghị"))).collect()
}

async fn store_with(dir: &Path, codes: &[&str]) -> Store {
    let s = Store::open(dir).unwrap();
    let recs: Vec<_> = codes.iter().map(|c| record(c)).collect();
    s.register(&recs).await.unwrap();
    s
}

fn code(c: &str) -> UnitCode {
    c.parse().unwrap()
}

#[tokio::test]
async fn push_applies_and_moves_the_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let s = store_with(dir.path(), &["TDP01"]).await;
    let u = code("TDP01");
    let g = s.lock_unit(&u).await;
    let out = s.push(&g, &log(1..=3), Utc::now()).await.unwrap();
    assert_eq!(
        out,
        PushOutcome {
            acked_seq: 3,
            applied: 3
        }
    );
    let rec = s.unit(&u).unwrap().unwrap();
    assert_eq!(rec.acked_seq, 3);
    assert!(rec.last_sync.is_some());
    assert_eq!(s.unit_state(&u).unwrap().activities.len(), 3);
    assert_eq!(s.entries(&u, 0, 100).unwrap().len(), 3);
    assert_eq!(s.entries(&u, 2, 100).unwrap()[0].seq, 3);
    // One audit record per push, not per entry.
    let audit = s.audit(0, 100).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].position, 1);
    assert_eq!(audit[0].action, "push");
    assert_eq!(audit[0].actor, "unit:TDP01");
    assert!(audit[0].detail.contains("1..=3"), "{:?}", audit[0]);
    s.push(&g, &log(4..=4), Utc::now()).await.unwrap();
    // Paging after a position continues from it.
    assert_eq!(s.audit(1, 100).unwrap()[0].position, 2);
    // The chain follows the entries, at the end of a push and in between.
    let entries = s.entries(&u, 0, 100).unwrap();
    for seq in [4, 2, 1, 3] {
        assert_eq!(
            Some(s.chain_at(&u, seq).unwrap()),
            coso_proto::chain::over(&entries[..seq as usize]),
            "chain at {seq}"
        );
    }
}

#[tokio::test]
async fn replays_are_skipped_and_overlaps_apply_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let s = store_with(dir.path(), &["TDP01"]).await;
    let u = code("TDP01");
    let g = s.lock_unit(&u).await;
    let batch = log(1..=3);
    s.push(&g, &batch, Utc::now()).await.unwrap();
    // The same batch again (a lost reply): nothing new, same cursor.
    let out = s.push(&g, &batch, Utc::now()).await.unwrap();
    assert_eq!(
        out,
        PushOutcome {
            acked_seq: 3,
            applied: 0
        }
    );
    // A batch overlapping the cursor applies only what is new.
    let out = s.push(&g, &log(2..=5), Utc::now()).await.unwrap();
    assert_eq!(
        out,
        PushOutcome {
            acked_seq: 5,
            applied: 2
        }
    );
    assert_eq!(
        s.audit(0, 100).unwrap().len(),
        2,
        "a push of replays only is not audited"
    );
    assert_eq!(s.unit_state(&u).unwrap().activities.len(), 5);
}

#[tokio::test]
async fn corrupt_replays_and_gaps_are_refused_with_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let s = store_with(dir.path(), &["TDP01"]).await;
    let u = code("TDP01");
    let g = s.lock_unit(&u).await;
    s.push(&g, &log(1..=2), Utc::now()).await.unwrap();
    let before_state = s.unit_state(&u).unwrap();

    // Seq 2 with different content, followed by a new seq 3: all refused.
    let bad = vec![
        inc(2, &activity(2, "Nội dung khác")),
        inc(3, &activity(3, "Mới")),
    ];
    match s.push(&g, &bad, Utc::now()).await {
        Err(PushError::Corrupt { seq: 2 }) => {}
        other => panic!("expected corrupt, got {other:?}"),
    }
    // A gap: the hub expects 3.
    match s.push(&g, &log(4..=5), Utc::now()).await {
        Err(PushError::Gap {
            first: 4,
            expected: 3,
        }) => {}
        other => panic!("expected a gap, got {other:?}"),
    }
    // Not consecutive.
    let holes = vec![inc(3, &activity(3, "a")), inc(5, &activity(5, "b"))];
    assert!(matches!(
        s.push(&g, &holes, Utc::now()).await,
        Err(PushError::NotConsecutive { at: 5 })
    ));
    assert_eq!(s.unit(&u).unwrap().unwrap().acked_seq, 2);
    assert_eq!(s.unit_state(&u).unwrap(), before_state);
    assert_eq!(s.entries(&u, 0, 100).unwrap().len(), 2);
    // Other content under a held seq is refused, and only refused: what it
    // means (the unit diverged) is the sync use case's decision (see
    // `tests::other_content_under_a_held_seq_marks_the_unit_diverged`).
    assert!(s.unit(&u).unwrap().unwrap().diverged.is_none());
    assert_eq!(s.audit(0, 100).unwrap().len(), 1);
    assert_eq!(s.unit(&u).unwrap().unwrap().acked_seq, 2);
}

#[tokio::test]
async fn the_audit_chain_names_the_first_broken_link() {
    let dir = tempfile::tempdir().unwrap();
    let s = store_with(dir.path(), &["TDP01"]).await;
    let u = code("TDP01");
    let g = s.lock_unit(&u).await;
    s.push(&g, &log(1..=2), Utc::now()).await.unwrap();
    s.audit_admin(AuditEvent {
        actor: "admin",
        action: "review",
        unit: Some("TDP01"),
        detail: "2026-H1 accepted".into(),
    })
    .await
    .unwrap();
    s.push(&g, &log(3..=3), Utc::now()).await.unwrap();
    let c = s.verify_audit().unwrap();
    assert_eq!((c.checked, c.broken), (3, None));
    // Someone edits record 2 in the database.
    let mut r = s.audit(1, 1).unwrap().remove(0);
    r.detail = "2026-H1 returned".into();
    s.tree.insert(keys::audit(2), enc(&r)).unwrap();
    let c = s.verify_audit().unwrap();
    assert_eq!(c.broken.map(|b| b.0), Some(2));
    // ... or removes it: the next record's link breaks.
    s.tree.remove(keys::audit(2)).unwrap();
    let c = s.verify_audit().unwrap();
    assert_eq!(c.broken.map(|b| b.0), Some(3));
}

#[tokio::test]
async fn a_snapshot_restores_whole_with_a_new_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let u = code("TDP01");
    let (records, epoch) = {
        let s = store_with(dir.path(), &["TDP01"]).await;
        let g = s.lock_unit(&u).await;
        s.push(&g, &log(1..=5), Utc::now()).await.unwrap();
        (s.snapshot().unwrap(), s.epoch())
    };
    let target = tempfile::tempdir().unwrap();
    let db = target.path().join("db");
    Store::restore(&db, &records).unwrap();
    assert!(matches!(
        Store::restore(&db, &records),
        Err(StoreError::NotEmpty(_))
    ));
    let r = Store::open(&db).unwrap();
    assert_eq!(r.unit(&u).unwrap().unwrap().acked_seq, 5);
    assert_eq!(r.entries(&u, 0, 100).unwrap().len(), 5);
    assert_eq!(r.verify_audit().unwrap().checked, 1);
    assert_ne!(r.epoch(), epoch, "a restore starts a new outbound epoch");
}

#[tokio::test]
async fn units_are_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let s = store_with(dir.path(), &["A", "AB"]).await;
    let (a, ab) = (code("A"), code("AB"));
    s.push(&s.lock_unit(&a).await, &log(1..=2), Utc::now())
        .await
        .unwrap();
    s.push(&s.lock_unit(&ab).await, &log(1..=5), Utc::now())
        .await
        .unwrap();
    assert_eq!(s.entries(&a, 0, 100).unwrap().len(), 2);
    assert_eq!(s.entries(&ab, 0, 100).unwrap().len(), 5);
    assert_eq!(s.unit(&a).unwrap().unwrap().acked_seq, 2);
    let unknown = code("NOPE");
    assert!(matches!(
        s.push(&s.lock_unit(&unknown).await, &log(1..=1), Utc::now())
            .await,
        Err(PushError::UnknownUnit(_))
    ));
}

#[tokio::test]
async fn registration_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store_with(dir.path(), &["TDP01"]).await;
    let r = s.register(&[record("TDP02"), record("TDP01")]).await;
    assert!(matches!(r, Err(RegisterError::Exists(_))));
    let r = s.register(&[record("TDP03"), record("TDP03")]).await;
    assert!(matches!(r, Err(RegisterError::Duplicate(_))));
    let codes: Vec<String> = s
        .units()
        .unwrap()
        .iter()
        .map(|r| r.unit.code.to_string())
        .collect();
    assert_eq!(codes, ["TDP01"]);
}

#[tokio::test]
async fn submissions_record_receive_time_and_reviews_go_outbound() {
    let dir = tempfile::tempdir().unwrap();
    let s = store_with(dir.path(), &["TDP01"]).await;
    let u = code("TDP01");
    let cat = Catalog::builtin();
    let h1 = Calendar::builtin()
        .period(&"2026-H1".parse().unwrap())
        .unwrap();
    let set = Change::ValuesSet(ValuesSet {
        period: h1.code.clone(),
        values: [("DB01".to_string(), Some(Value::Number(3.0)))].into(),
    });
    let mut st = UnitState::default();
    st.apply(&set);
    let frozen = st.freeze(&cat, UnitKind::ResidentialGroup, &h1, Utc::now());
    let submit = Change::Submit(Box::new(frozen.clone()));
    let g = s.lock_unit(&u).await;
    let received = Utc::now();
    s.push(&g, &[inc(1, &set), inc(2, &submit)], received)
        .await
        .unwrap();
    assert_eq!(s.received_at(&u, &h1.code).unwrap(), Some(received));
    assert_eq!(
        s.unit_state(&u).unwrap().state(&h1.code),
        ReportState::Submitted
    );

    let review = Review {
        period: h1.code.clone(),
        decision: coso_domain::Decision::Accepted,
        reason: String::new(),
        decided_at: Utc::now(),
        submission: None,
    };
    assert_eq!(
        s.record_review(&g, &review, "vhxh", "accepted", Utc::now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.unit_state(&u).unwrap().state(&h1.code),
        ReportState::Accepted
    );
    assert_eq!(
        s.outbound_after(&u, 0, 10).unwrap(),
        vec![(1, review.clone())]
    );
    assert!(s.outbound_after(&u, 1, 10).unwrap().is_empty());
    assert_eq!(s.unit(&u).unwrap().unwrap().outbound_head, 1);

    // A late resubmission of an accepted report changes nothing, not even
    // the receive time.
    let later = received + chrono::Duration::days(30);
    let again = Change::Submit(Box::new(frozen));
    s.push(&g, &[inc(3, &again)], later).await.unwrap();
    assert_eq!(s.received_at(&u, &h1.code).unwrap(), Some(received));
    assert_eq!(
        s.unit_state(&u).unwrap().state(&h1.code),
        ReportState::Accepted
    );
}

#[tokio::test]
async fn everything_acknowledged_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let u = code("TDP01");
    {
        let s = store_with(dir.path(), &["TDP01"]).await;
        let g = s.lock_unit(&u).await;
        s.push(&g, &log(1..=40), Utc::now()).await.unwrap();
        s.set_admin_token_hash(crate::auth::hash("t"))
            .await
            .unwrap();
        // Dropped without any further flush: push flushed before returning.
    }
    let s = Store::reopen(dir.path());
    let rec = s.unit(&u).unwrap().unwrap();
    assert_eq!(rec.acked_seq, 40);
    assert_eq!(s.entries(&u, 0, 1000).unwrap().len(), 40);
    assert_eq!(s.unit_state(&u).unwrap().activities.len(), 40);
    assert_eq!(s.audit(0, 1000).unwrap().len(), 1);
    assert_eq!(s.admin_token_hash().unwrap(), Some(crate::auth::hash("t")));
    // The cursor is the authority after the restart too.
    let g = s.lock_unit(&u).await;
    assert!(matches!(
        s.push(&g, &log(42..=42), Utc::now()).await,
        Err(PushError::Gap { expected: 41, .. })
    ));
    assert_eq!(
        s.push(&g, &log(39..=41), Utc::now()).await.unwrap().applied,
        1
    );
}

#[tokio::test]
async fn the_lock_serialises_a_unit() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(store_with(dir.path(), &["TDP01"]).await);
    let u = code("TDP01");
    let g = s.lock_unit(&u).await;
    let (s2, u2) = (s.clone(), u.clone());
    let waiter = tokio::spawn(async move {
        let g = s2.lock_unit(&u2).await;
        s2.push(&g, &log(1..=2), Utc::now()).await.unwrap()
    });
    // While we hold the lock, the other push cannot have started.
    tokio::task::yield_now().await;
    assert_eq!(s.unit(&u).unwrap().unwrap().acked_seq, 0);
    drop(g);
    assert_eq!(waiter.await.unwrap().acked_seq, 2);
}

/// Group commit under load: many units pushing at once each get their reply
/// only after a flush that began after their batch (so none hangs, none is
/// lost), and the chains stored at push ends match their logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_share_flushes_and_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let codes: Vec<String> = (1..=32).map(|i| format!("TDP{i:02}")).collect();
    let names: Vec<&str> = codes.iter().map(String::as_str).collect();
    {
        let s = Arc::new(store_with(dir.path(), &names).await);
        let mut tasks = tokio::task::JoinSet::new();
        for c in &codes {
            let (s, u) = (s.clone(), code(c));
            tasks.spawn(async move {
                for b in 0..5u64 {
                    let g = s.lock_unit(&u).await;
                    let out = s
                        .push(&g, &log(b * 7 + 1..=b * 7 + 7), Utc::now())
                        .await
                        .unwrap();
                    assert_eq!(out.acked_seq, b * 7 + 7);
                }
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
        assert_eq!(s.audit(0, 1000).unwrap().len(), 32 * 5);
    }
    let s = Store::reopen(dir.path());
    for c in &codes {
        let u = code(c);
        assert_eq!(s.unit(&u).unwrap().unwrap().acked_seq, 35);
        let entries = s.entries(&u, 0, 100).unwrap();
        assert_eq!(entries.len(), 35);
        for seq in [7, 20, 35] {
            assert_eq!(
                Some(s.chain_at(&u, seq).unwrap()),
                coso_proto::chain::over(&entries[..seq as usize])
            );
        }
    }
    assert_eq!(s.verify_audit().unwrap().broken, None);
}

/// Issue 23: a push whose flush fails (the disk is full) is not
/// acknowledged, and what it left in sled's memory is never read back as a
/// fact: not the unit's cursor, not its entries, not the audit trail. After
/// a restart the store holds the durable prefix.
#[tokio::test]
async fn a_failed_flush_is_never_acknowledged_shown_or_audited() {
    let dir = tempfile::tempdir().unwrap();
    let u = code("TDP01");
    {
        let s = store_with(dir.path(), &["TDP01"]).await;
        let g = s.lock_unit(&u).await;
        s.push(&g, &log(1..=3), Utc::now()).await.unwrap();
        let audited = s.audit(0, 1000).unwrap().len();
        assert!(s.failure().is_none());

        // The disk fills: the next flush fails, below the store.
        s.inject_disk_full();
        let err = s.push(&g, &log(4..=6), Utc::now()).await.unwrap_err();
        let PushError::Store(StoreError::Failed(f)) = &err else {
            panic!("a failed flush must fail the push as a storage failure: {err:?}");
        };
        assert!(f.disk_full, "{f:?}");
        assert!(f.message(coso_domain::Lang::Vi).starts_with("Ổ đĩa"));
        assert_eq!(s.failure(), Some(f));

        // sled's memory holds seq 6 now; nothing shows it.
        for e in [
            s.unit(&u).map(drop).unwrap_err(),
            s.units().map(drop).unwrap_err(),
            s.unit_state(&u).map(drop).unwrap_err(),
            s.entries(&u, 0, 100).map(drop).unwrap_err(),
            s.audit(0, 1000).map(drop).unwrap_err(),
            s.snapshot().map(drop).unwrap_err(),
        ] {
            assert!(e.failure().is_some(), "{e:?}");
        }
        // Nor is a later write acknowledged.
        let later = s.push(&g, &log(4..=4), Utc::now()).await.unwrap_err();
        assert!(
            matches!(later, PushError::Store(StoreError::Failed(_))),
            "{later:?}"
        );
        assert!(audited > 0);
    }
    // A restart reads the store anew; this test's store did flush the
    // failed batch's bytes (only the answer was injected), so it shows
    // whatever reached the disk, and the mark is gone.
    let s = Store::reopen(dir.path());
    assert!(s.failure().is_none());
    assert!(s.unit(&u).unwrap().is_some());
}

/// sled's own background flush may meet the full disk first; then its
/// writes fail, and that marks the store failed as a failed flush does.
#[tokio::test]
async fn a_failed_write_marks_the_store_failed() {
    let dir = tempfile::tempdir().unwrap();
    let s = store_with(dir.path(), &["TDP01"]).await;
    let full = sled::Error::Io(std::io::Error::from_raw_os_error(28));
    let err = s.written::<()>(Err(full)).unwrap_err();
    assert!(err.failure().is_some_and(|f| f.disk_full), "{err:?}");
    assert!(s.unit(&code("TDP01")).unwrap_err().failure().is_some());
    // Other engine errors are not a failed disk.
    let s2dir = tempfile::tempdir().unwrap();
    let s2 = Store::open(s2dir.path()).unwrap();
    let e = s2
        .written::<()>(Err(sled::Error::Unsupported("x".into())))
        .unwrap_err();
    assert!(e.failure().is_none());
    assert!(s2.failure().is_none());
}

/// Issue 23: a snapshot a full disk cut short (`snap.*.generating`) made
/// sled 0.34 refuse the whole database as corrupt; the hub opens it.
#[tokio::test]
async fn an_unfinished_snapshot_does_not_make_the_store_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    drop(store_with(dir.path(), &["TDP01"]).await);
    std::fs::write(dir.path().join("snap.00000000FFFFFFFF.generating"), b"").unwrap();
    let s = Store::reopen(dir.path());
    assert!(s.unit(&code("TDP01")).unwrap().is_some());
}

/// A database another hub wrote: `meta/schema` set to `v`, then closed.
fn with_schema(dir: &Path, v: u64, extra: &[(Vec<u8>, Vec<u8>)]) {
    let db = sled::open(dir).unwrap();
    let tree = db.open_tree("hub").unwrap();
    tree.insert(keys::meta("schema"), enc(&v)).unwrap();
    for (k, val) in extra {
        tree.insert(k.clone(), val.clone()).unwrap();
    }
    db.flush().unwrap();
}

#[tokio::test]
async fn a_database_of_a_newer_format_is_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    with_schema(tmp.path(), FORMAT + 1, &[]);
    let err = Store::open(tmp.path()).err().expect("refused");
    assert!(
        matches!(err, StoreError::TooNew { found, known } if found == FORMAT + 1 && known == FORMAT),
        "{err}"
    );
    // Nothing was written: no epoch, the version as it was.
    let db = sled::open(tmp.path()).unwrap();
    let tree = db.open_tree("hub").unwrap();
    assert_eq!(tree.len(), 1);
    assert_eq!(
        tree.get(keys::meta("schema")).unwrap().unwrap(),
        enc(&(FORMAT + 1))
    );
}

#[tokio::test]
async fn a_new_database_gets_this_format_and_needs_no_migration() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path()).unwrap();
    assert_eq!(s.format_found(), FORMAT);
    drop(s);
    assert_eq!(Store::reopen(tmp.path()).format_found(), FORMAT);
}

#[tokio::test]
async fn the_unchained_audit_lines_of_format_1_join_the_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let line = |unit: &str, seq: u64, kind: &str, entity: &str| {
        let mut k = vec![b'a'];
        k.extend_from_slice(&(seq + if unit == "U02" { 100 } else { 0 }).to_be_bytes());
        let v = serde_json::json!({
            "unit": unit, "seq": seq, "kind": kind, "entity": entity,
            "received_at": "2026-11-05T02:00:00Z",
        });
        (k, serde_json::to_vec(&v).unwrap())
    };
    with_schema(
        tmp.path(),
        1,
        &[
            line("U01", 1, "activity-upsert", "HD-1"),
            line("U01", 2, "submit", "2026-Y"),
            line("U02", 1, "review", "2026-Y"),
        ],
    );
    let mut s = Store::open(tmp.path()).unwrap();
    assert_eq!(s.format_found(), 1);
    // Before the migration the chain holds nothing (what `audit` showed).
    assert!(s.audit(0, 10).unwrap().is_empty());
    s.migrate().await.unwrap();
    let records = s.audit(0, 10).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].actor, "unit:U01");
    assert_eq!(records[0].action, "push");
    assert!(
        records[0]
            .detail
            .starts_with("seq 1 (activity-upsert HD-1)")
    );
    assert_eq!(records[2].action, "review");
    assert_eq!(s.verify_audit().unwrap().broken, None);
    // A new record chains after them.
    s.audit_admin(AuditEvent {
        actor: "admin",
        action: "unit-add",
        unit: Some("U03"),
        detail: String::new(),
    })
    .await
    .unwrap();
    let check = s.verify_audit().unwrap();
    assert_eq!((check.checked, check.broken), (4, None));
    drop(s);
    let s = Store::reopen(tmp.path());
    assert_eq!(s.format_found(), FORMAT, "migrated once, for good");
    assert_eq!(s.tree.scan_prefix([b'a']).count(), 0);
}

#[tokio::test]
async fn a_format_1_database_without_audit_lines_is_format_2() {
    let tmp = tempfile::tempdir().unwrap();
    with_schema(tmp.path(), 1, &[]);
    assert_eq!(Store::open(tmp.path()).unwrap().format_found(), 2);
}

/// Issue 25: a hub of release 0.1.0 took any text a unit recorded (direction
/// marks pasted from Zalo, an escape). The migration cleans each unit's log
/// once, as the agent's migration cleans its copy: every entry reads, the
/// state and the chain are the cleaned log's.
#[tokio::test]
async fn the_migration_cleans_text_an_earlier_release_took() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store_with(tmp.path(), &["U01", "U02"]).await;
    let raw = |seq: u64, change: &Change| Incoming {
        entry: Entry::new(seq, change, Utc::now()),
        change: change.clone(),
    };
    let dirty = [
        activity(1, "Hội nghị\u{200E} \u{1b}[1mLuật"),
        activity(2, "Sinh hoạt"),
        activity(3, "Chia sẻ\u{200F}\u{7}"),
    ];
    let u = code("U01");
    let g = s.lock_unit(&u).await;
    s.push(&g, &[raw(1, &dirty[0]), raw(2, &dirty[1])], Utc::now())
        .await
        .unwrap();
    s.push(&g, &[raw(3, &dirty[2])], Utc::now()).await.unwrap();
    drop(g);
    let clean_unit = code("U02");
    let g = s.lock_unit(&clean_unit).await;
    s.push(&g, &log(1..=2), Utc::now()).await.unwrap();
    drop(g);
    let old = s.entries(&u, 0, 10).unwrap();
    let untouched = s.entries(&clean_unit, 0, 10).unwrap();
    let want = coso_domain::clean::clean_log(&old).unwrap();
    s.chain_at(&u, 2).unwrap();
    drop(s);
    with_schema(tmp.path(), 2, &[]);

    let mut s = Store::reopen(tmp.path());
    assert_eq!(s.format_found(), 2);
    assert_eq!(s.migrate().await.unwrap(), 2);
    let new = s.entries(&u, 0, 10).unwrap();
    assert_eq!(new[1], old[1]);
    assert_eq!(new[0], want.rewritten[0], "the bytes the agent writes");
    let mut folded = UnitState::default();
    let mut chain = coso_proto::chain::GENESIS;
    let mut chains = Vec::new();
    for e in &new {
        folded.apply(&e.decode().unwrap());
        chain = coso_proto::chain::next(&chain, e);
        chains.push(chain);
    }
    assert_eq!(s.unit_state(&u).unwrap(), folded);
    for seq in 1..=3 {
        assert_eq!(s.chain_at(&u, seq).unwrap(), chains[seq as usize - 1]);
    }
    let titles: Vec<_> = folded
        .activities
        .values()
        .map(|a| a.title.clone())
        .collect();
    assert_eq!(
        titles,
        ["Hội nghị \u{FFFD}[1mLuật", "Sinh hoạt", "Chia sẻ\u{FFFD}"]
    );
    assert_eq!(s.entries(&clean_unit, 0, 10).unwrap(), untouched);
    drop(s);
    assert_eq!(Store::reopen(tmp.path()).format_found(), FORMAT);
}
