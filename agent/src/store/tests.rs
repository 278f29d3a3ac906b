//! The store's unit tests: one store per temporary directory.

use super::marks::{OPENED_FILE, SYNCED_FILE, read_synced};
use super::*;
use chrono::{DateTime, NaiveDate, Utc};
use coso_domain::calendar::Calendar;
use coso_domain::catalog::Catalog;
use coso_domain::change::{ActivityRemove, ValuesSet};
use coso_domain::{Activity, ActivityId, Decision, Form, UnitCode, UnitKind, Value};
use coso_domain::{Change, Entry, Review, Unit, UnitState};

const WAIT: Duration = Duration::from_millis(200);

fn act(n: u64, title: &str) -> Change {
    Change::ActivityUpsert(Activity {
        id: ActivityId::from_counter(n),
        date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        form: Form::Conference,
        title: title.into(),
        participants: Some(10),
        note: String::new(),
    })
}

fn identity() -> Identity {
    Identity {
        unit: Unit::new(
            "TDP05".parse::<UnitCode>().unwrap(),
            "Tổ dân phố số 5",
            UnitKind::ResidentialGroup,
        )
        .unwrap(),
        hub: None,
        ward: None,
    }
}

#[test]
fn seq_grows_by_one_and_state_follows_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    assert_eq!(s.head_seq().unwrap(), 0);
    for n in 1..=5 {
        let e = s.append(&act(n, "Hội nghị"), Utc::now(), Some(n)).unwrap();
        assert_eq!(e.seq, n);
    }
    s.append(
        &Change::ActivityRemove(ActivityRemove {
            id: ActivityId::from_counter(2),
        }),
        Utc::now(),
        None,
    )
    .unwrap();
    assert_eq!(s.head_seq().unwrap(), 6);
    assert_eq!(s.activity_counter().unwrap(), 5);
    let all = s.entries_after(0, 100, usize::MAX).unwrap();
    let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
    // The stored state is exactly the fold of the log.
    let mut folded = UnitState::default();
    for e in &all {
        folded.apply(&e.decode().unwrap());
    }
    assert_eq!(s.unit_state().unwrap(), folded);
    assert_eq!(folded.activities.len(), 4);
}

#[test]
fn a_sync_note_written_in_place_reads_back_over_an_older_longer_one() {
    let tmp = tempfile::tempdir().unwrap();
    // What earlier versions wrote: an offset instead of `Z`.
    std::fs::write(
        tmp.path().join(SYNCED_FILE),
        "2026-11-02T08:00:00.123456789+00:00",
    )
    .unwrap();
    let at = DateTime::parse_from_rfc3339("2026-11-05T09:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    Store::note_synced(tmp.path(), at).unwrap();
    assert_eq!(read_synced(tmp.path()), Some(at));
    let later = at + chrono::Duration::nanoseconds(1_500);
    Store::note_synced(tmp.path(), later).unwrap();
    assert_eq!(read_synced(tmp.path()), Some(later));
    let s = Store::open(tmp.path(), WAIT).unwrap();
    assert_eq!(s.sync_state().unwrap().last_sync, Some(later));
}

#[test]
fn every_opening_leaves_a_new_mark_that_outlives_the_handle() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(Store::last_open_mark(tmp.path()), None);
    let s = Store::open(tmp.path(), WAIT).unwrap();
    let first = s.open_mark();
    s.append(&act(1, "a"), Utc::now(), Some(1)).unwrap();
    s.flush_blocking().unwrap();
    drop(s);
    // sled writes its files even on a read-only open; the mark does not
    // move until the next opening.
    assert_eq!(Store::last_open_mark(tmp.path()), Some(first));
    let s = Store::open(tmp.path(), WAIT).unwrap();
    assert_ne!(s.open_mark(), first);
    assert_eq!(Store::last_open_mark(tmp.path()), Some(s.open_mark()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tmp.path().join(OPENED_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "owner only: {mode:o}");
    }
}

#[test]
fn counter_never_goes_down() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    s.append(&act(7, "a"), Utc::now(), Some(7)).unwrap();
    s.append(&act(3, "b"), Utc::now(), Some(3)).unwrap();
    assert_eq!(s.activity_counter().unwrap(), 7);
}

#[test]
fn entries_after_respects_bounds() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    for n in 1..=10 {
        s.append(&act(n, &"x".repeat(100)), Utc::now(), Some(n))
            .unwrap();
    }
    let size = s.entries_after(0, 1, usize::MAX).unwrap()[0].wire_size();
    assert_eq!(s.entries_after(0, 0, usize::MAX).unwrap().len(), 0);
    assert_eq!(s.entries_after(10, 5, usize::MAX).unwrap().len(), 0);
    assert_eq!(s.entries_after(u64::MAX, 5, usize::MAX).unwrap().len(), 0);
    let b = s.entries_after(3, 4, usize::MAX).unwrap();
    assert_eq!(
        b.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![4, 5, 6, 7]
    );
    // Byte bound: three entries fit, a fourth would not.
    let b = s.entries_after(0, 100, size * 3 + size / 2).unwrap();
    assert_eq!(b.len(), 3);
    let total: usize = b.iter().map(Entry::wire_size).sum();
    assert!(total <= size * 3 + size / 2);
    // The first entry is always sent, even when larger than the bound.
    let b = s.entries_after(8, 100, 1).unwrap();
    assert_eq!(b.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![9]);
}

#[test]
fn data_survives_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let s = Store::open(tmp.path(), WAIT).unwrap();
        s.set_identity(&identity()).unwrap();
        s.append(&act(1, "Tổ dân phố"), Utc::now(), Some(1))
            .unwrap();
        s.set_acked(1, Utc::now()).unwrap();
        s.flush_blocking().unwrap();
    }
    let s = Store::open(tmp.path(), Duration::from_secs(2)).unwrap();
    assert_eq!(s.identity().unwrap().unwrap().unit.name, "Tổ dân phố số 5");
    assert_eq!(s.head_seq().unwrap(), 1);
    assert_eq!(s.sync_state().unwrap().acked_seq, 1);
    assert_eq!(s.unit_state().unwrap().activities.len(), 1);
    s.append(&act(2, "b"), Utc::now(), Some(2)).unwrap();
    assert_eq!(s.head_seq().unwrap(), 2);
}

#[test]
fn second_open_names_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let _held = Store::open(tmp.path(), WAIT).unwrap();
    let start = Instant::now();
    let err = Store::open(tmp.path(), Duration::from_millis(300)).unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(300));
    match err {
        StoreError::Locked { pid, since, .. } => {
            assert_eq!(pid, Some(std::process::id()));
            assert!(since.is_some());
        }
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[test]
fn reopen_after_drop_in_the_same_process() {
    let tmp = tempfile::tempdir().unwrap();
    for n in 1..=3 {
        let s = Store::open(tmp.path(), Duration::from_secs(2)).unwrap();
        s.append(&act(n, "a"), Utc::now(), Some(n)).unwrap();
        s.flush_blocking().unwrap();
    }
    let s = Store::open(tmp.path(), Duration::from_secs(2)).unwrap();
    assert_eq!(s.head_seq().unwrap(), 3);
}

#[test]
fn catalog_and_calendar_default_to_builtin() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    assert_eq!(s.catalog().unwrap().0, 0);
    assert_eq!(s.calendar().unwrap().0, 0);
    let mut c = Catalog::builtin();
    c.version = 4;
    s.set_catalog(4, &c).unwrap();
    assert_eq!(s.catalog().unwrap(), (4, c));
    let cal = Calendar::builtin();
    s.set_calendar(2, &cal).unwrap();
    assert_eq!(s.calendar().unwrap(), (2, cal));
}

#[test]
fn reviews_fold_into_state_and_move_the_pull_cursor() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    let period: coso_domain::PeriodCode = "2026-H1".parse().unwrap();
    let cat = Catalog::builtin();
    let p = Calendar::builtin().period(&period).unwrap();
    let st = s.unit_state().unwrap();
    let frozen = st.freeze(&cat, UnitKind::ResidentialGroup, &p, Utc::now());
    s.append(&Change::Submit(Box::new(frozen)), Utc::now(), None)
        .unwrap();
    let review = Review {
        period: period.clone(),
        decision: Decision::Returned,
        reason: "Thiếu số liệu DB01".into(),
        decided_at: Utc::now(),
        submission: None,
    };
    s.apply_reviews(&[(3, review.clone())], 3).unwrap();
    assert_eq!(
        s.unit_state().unwrap().state(&period),
        coso_domain::ReportState::Returned
    );
    assert_eq!(s.sync_state().unwrap().pull_after, 3);
    assert_eq!(s.reviews().unwrap(), vec![(3, review)]);
    // The acked cursor may go down (hub restored from a backup).
    s.set_acked(1, Utc::now()).unwrap();
    s.set_acked(0, Utc::now()).unwrap();
    assert_eq!(s.sync_state().unwrap().acked_seq, 0);
}

#[test]
fn one_command_is_one_atomic_write() {
    // A values change with many values lands as one entry: either the
    // entry, the head and the state are all there, or none is.
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    let before = s.dump().unwrap();
    let values = (0..40)
        .map(|i| (format!("X{i:02}"), Some(Value::Number(f64::from(i)))))
        .collect();
    let change = Change::ValuesSet(ValuesSet {
        period: "2026-H1".parse().unwrap(),
        values,
    });
    s.append(&change, Utc::now(), None).unwrap();
    let after = s.dump().unwrap();
    let added: Vec<&String> = after
        .iter()
        .filter(|kv| !before.contains(kv))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(added, vec!["chain/1", "log/1", "meta/head", "meta/state"]);
}

/// Issue 23: a snapshot that a full disk cut short (`snap.*.generating`,
/// never renamed) made sled 0.34 call the whole database corrupt at the
/// next open; the store removes it first.
#[test]
fn an_unfinished_snapshot_does_not_make_the_store_unreadable() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let s = Store::open(tmp.path(), WAIT).unwrap();
        s.append(&act(1, "Hội nghị"), Utc::now(), Some(1)).unwrap();
        s.flush_blocking().unwrap();
    }
    std::fs::write(
        tmp.path()
            .join("db")
            .join("snap.00000000FFFFFFFF.generating"),
        b"",
    )
    .unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    assert_eq!(s.head_seq().unwrap(), 1);
}

/// Issue 23: on a full disk sled cannot open the database even to read
/// (it writes when it opens), so reading commands read a copy made
/// elsewhere, and leave the data dir's database as it was.
#[test]
fn a_copy_opened_for_reading_reads_the_store_and_leaves_it_alone() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let s = Store::open(tmp.path(), WAIT).unwrap();
        s.set_identity(&identity()).unwrap();
        for n in 1..=3 {
            s.append(&act(n, "Hội nghị"), Utc::now(), Some(n)).unwrap();
        }
        s.flush_blocking().unwrap();
    }
    let before = std::fs::read(tmp.path().join("db").join("db")).unwrap();
    let copy = Store::open_copy(tmp.path(), WAIT).unwrap();
    assert_eq!(copy.head_seq().unwrap(), 3);
    assert_eq!(copy.unit_state().unwrap().activities.len(), 3);
    let mut out = Vec::new();
    assert!(copy.backup(&mut out).unwrap() > 3);
    drop(copy);
    assert_eq!(
        std::fs::read(tmp.path().join("db").join("db")).unwrap(),
        before
    );
    // The store's lock was held and is released.
    drop(Store::open(tmp.path(), WAIT).unwrap());
}

/// Reopens a store this process just dropped (sled's lock goes a moment later).
fn reopen(dir: &Path) -> Result<Store, StoreError> {
    Store::open(dir, Duration::from_secs(10))
}

#[test]
fn a_store_of_a_newer_format_is_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    s.append(&act(1, "Hội nghị"), Utc::now(), Some(1)).unwrap();
    s.db.insert(b"meta/format", &(FORMAT + 1).to_be_bytes())
        .unwrap();
    s.flush_blocking().unwrap();
    drop(s);
    let err = reopen(tmp.path()).expect_err("refused");
    assert!(
        matches!(err, StoreError::TooNew { found, known } if found == FORMAT + 1 && known == FORMAT),
        "{err}"
    );
    assert!(err.to_string().contains(&format!("format {}", FORMAT + 1)));
    // Still the newer version, and no backup written.
    let db = sled::open(tmp.path().join("db")).unwrap();
    assert_eq!(
        db.get(b"meta/format").unwrap().unwrap().as_ref(),
        &(FORMAT + 1).to_be_bytes()
    );
    assert!(!tmp.path().join(backup_name(FORMAT)).exists());
}

#[test]
fn a_format_1_store_is_backed_up_then_migrated_once() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    for n in 1..=3 {
        s.append(&act(n, "Hội nghị"), Utc::now(), Some(n)).unwrap();
    }
    let want_chain = s.chain_at(3).unwrap();
    // As release 0.1.0 left it: the credential inside the identity, no
    // chain, no version.
    let mut id = identity();
    id.hub = Some(HubLink {
        addr: "127.0.0.1:7443".into(),
        fingerprint: [7; 32],
        credential: "secret-of-0.1.0".into(),
        enrolled_at: Utc::now(),
    });
    s.put_json(K_IDENTITY, &id).unwrap();
    for k in s.db.scan_prefix(P_CHAIN).keys() {
        s.db.remove(k.unwrap()).unwrap();
    }
    s.db.remove(b"meta/format").unwrap();
    s.flush_blocking().unwrap();
    drop(s);

    let s = reopen(tmp.path()).unwrap();
    let backup = tmp.path().join(backup_name(1));
    assert!(backup.is_file(), "the pre-upgrade backup is written");
    assert_eq!(
        s.db.get(b"meta/format").unwrap().unwrap().as_ref(),
        &FORMAT.to_be_bytes()
    );
    assert!(s.db.get(seq_key(P_CHAIN, 3)).unwrap().is_some());
    assert_eq!(s.chain_at(3).unwrap(), want_chain);
    let raw: Identity = s.get_json(K_IDENTITY).unwrap().unwrap();
    assert_eq!(
        raw.hub.unwrap().credential,
        "",
        "the secret left the database"
    );
    assert_eq!(
        s.identity().unwrap().unwrap().hub.unwrap().credential,
        "secret-of-0.1.0"
    );
    // The backup is the old store: restored, it is format 1 again.
    let restored = tmp.path().join("restored");
    let n = Store::restore(&restored, std::fs::File::open(&backup).unwrap()).unwrap();
    assert!(n > 3);
    drop(s);
    let written = std::fs::metadata(&backup).unwrap().modified().unwrap();
    let s = reopen(tmp.path()).unwrap();
    assert_eq!(s.head_seq().unwrap(), 3);
    assert_eq!(
        std::fs::metadata(&backup).unwrap().modified().unwrap(),
        written,
        "migrated once: the next open neither backs up nor migrates"
    );
}

#[test]
fn a_new_store_records_this_format_with_its_identity_and_no_backup() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    assert!(s.db.is_empty(), "opening writes nothing into a fresh store");
    s.set_identity(&identity()).unwrap();
    s.append(&act(1, "Hội nghị"), Utc::now(), Some(1)).unwrap();
    s.flush_blocking().unwrap();
    drop(s);
    let s = reopen(tmp.path()).unwrap();
    assert_eq!(
        s.db.get(b"meta/format").unwrap().unwrap().as_ref(),
        &FORMAT.to_be_bytes()
    );
    let backups = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("pre-upgrade")
        })
        .count();
    assert_eq!(backups, 0);
}

/// Issue 25: the release of 2026-11-26 let people record a note holding a
/// vertical tab (a line break pasted from Word) and a date in 2206. Reading
/// such a record back (here `recover`'s rebuild over the hub's copy) decodes
/// it with the record rules; the entry rules of today are for typing only.
#[test]
fn records_an_earlier_release_made_still_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    let far = Change::ActivityUpsert(Activity {
        id: ActivityId::from_counter(1),
        date: NaiveDate::from_ymd_opt(2206, 8, 20).unwrap(),
        form: Form::Conference,
        title: "Hội nghị".into(),
        participants: Some(10),
        note: "dòng 1\u{0B}dòng 2".into(),
    });
    let note = Change::NoteSet(coso_domain::change::NoteSet {
        period: "2026-H1".parse().unwrap(),
        section: coso_domain::Section::Results,
        text: "Kết quả\u{0B}tốt".into(),
    });
    let e1 = s.append(&far, Utc::now(), Some(1)).unwrap();
    let e2 = s.append(&note, Utc::now(), None).unwrap();
    assert!(e1.decode().is_ok() && e2.decode().is_ok());
    s.rebase(&[e1, e2])
        .expect("recover reads what an earlier release stored");
    assert_eq!(s.head_seq().unwrap(), 2);
    assert_eq!(s.unit_state().unwrap().activities.len(), 1);
}

/// Issue 25: release 0.1.0 let people record any text, and text pasted from
/// Zalo carries direction marks. Opening such a store cleans it once, in
/// the migration: every entry reads again, the state is the cleaned log's,
/// the chain follows the cleaned entries, and the backup keeps the old.
#[test]
fn text_an_earlier_release_let_through_is_cleaned_once_by_the_migration() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path(), WAIT).unwrap();
    s.set_identity(&identity()).unwrap();
    let (catalog, calendar) = (Catalog::builtin(), Calendar::builtin());
    let period = calendar.period(&"2026-Y".parse().unwrap()).unwrap();
    s.append(
        &act(1, "Hội nghị\u{200E} \u{1b}[1mLuật"),
        Utc::now(),
        Some(1),
    )
    .unwrap();
    s.append(&act(2, "Sinh hoạt tổ"), Utc::now(), Some(2))
        .unwrap();
    let note = Change::NoteSet(coso_domain::change::NoteSet {
        period: period.code.clone(),
        section: coso_domain::Section::Results,
        text: "Kết quả\u{202C} tốt\rdòng sau".into(),
    });
    s.append(&note, Utc::now(), None).unwrap();
    let frozen =
        s.unit_state()
            .unwrap()
            .freeze(&catalog, UnitKind::ResidentialGroup, &period, Utc::now());
    s.append(&Change::Submit(Box::new(frozen)), Utc::now(), None)
        .unwrap();
    let old = s.entries_after(0, usize::MAX, usize::MAX).unwrap();
    assert!(
        old[0].decode().is_err(),
        "today's rules refuse it as stored"
    );
    // As release 0.2.0 left it: no version.
    s.db.remove(b"meta/format").unwrap();
    s.flush_blocking().unwrap();
    drop(s);

    let s = reopen(tmp.path()).unwrap();
    assert!(tmp.path().join(backup_name(2)).is_file());
    let new = s.entries_after(0, usize::MAX, usize::MAX).unwrap();
    assert_eq!(new.len(), 4);
    assert_eq!(new[1], old[1], "a clean entry is kept as it was");
    let mut folded = UnitState::default();
    let mut chain = coso_proto::chain::GENESIS;
    for e in &new {
        folded.apply(&e.decode().unwrap());
        chain = coso_proto::chain::next(&chain, e);
    }
    let state = s.unit_state().unwrap();
    assert_eq!(state, folded);
    assert_eq!(s.chain_at(4).unwrap(), chain);
    let id = ActivityId::from_counter(1);
    assert_eq!(state.activities[&id].title, "Hội nghị \u{FFFD}[1mLuật");
    assert_eq!(
        state.notes[&period.code][&coso_domain::Section::Results],
        "Kết quả tốt\ndòng sau"
    );
    // The submission still agrees with the (cleaned) log before it.
    let Change::Submit(sub) = new[3].decode().unwrap() else {
        panic!("a submission")
    };
    let mut before = UnitState::default();
    new[..3]
        .iter()
        .for_each(|e| before.apply(&e.decode().unwrap()));
    coso_domain::admit::agrees_with_log(
        &sub,
        &before,
        &catalog,
        &calendar,
        UnitKind::ResidentialGroup,
    )
    .unwrap();
    drop(s);
    let s = reopen(tmp.path()).unwrap();
    assert_eq!(s.entries_after(0, usize::MAX, usize::MAX).unwrap(), new);
}
