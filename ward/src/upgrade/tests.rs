//! The upgrade's file fixes, without a hub.

use super::*;

/// What `coso-hub init --ward "Phường Lê Lợi"` of release 0.1.0 wrote.
const OLD_HUB_TOML: &str = r#"ward = "Phường Lê Lợi"
city = "Thành phố Hải Phòng"

[letterhead]
issuer_parent = "ỦY BAN NHÂN DÂN"
issuer = "PHƯỜNG GIA VIÊN"
issuer_parent_bold = true
issuer_short = "UBND phường Gia Viên"
# the ward's own comment
place = "Gia Viên"
signatory_name = ""
"#;

#[test]
fn the_letterhead_an_old_init_wrote_for_gia_vien_follows_the_ward() {
    let fixed = fix_letterhead(OLD_HUB_TOML).expect("fixed");
    assert!(fixed.contains("issuer = \"PHƯỜNG LÊ LỢI\"\n"), "{fixed}");
    assert!(fixed.contains("issuer_short = \"UBND phường Lê Lợi\"\n"));
    assert!(fixed.contains("place = \"Lê Lợi\"\n"));
    assert!(fixed.contains("# the ward's own comment\n"));
    assert!(!fixed.contains("Gia Viên") && !fixed.contains("GIA VIÊN"));
    // Done once: the fixed file needs nothing more.
    assert_eq!(fix_letterhead(&fixed), None);
}

#[test]
fn a_letterhead_field_the_ward_edited_is_kept() {
    let edited = OLD_HUB_TOML.replace("place = \"Gia Viên\"", "place = \"Hải Phòng\"");
    let fixed = fix_letterhead(&edited).expect("fixed");
    assert!(fixed.contains("place = \"Hải Phòng\"\n"));
    assert!(fixed.contains("issuer = \"PHƯỜNG LÊ LỢI\"\n"));
}

#[test]
fn gia_vien_keeps_its_letterhead() {
    let gia_vien = OLD_HUB_TOML.replace("ward = \"Phường Lê Lợi\"", "ward = \"Phường Gia Viên\"");
    assert_eq!(fix_letterhead(&gia_vien), None);
}

#[test]
fn an_unedited_old_catalog_becomes_this_releases() {
    assert_eq!(
        merge_catalog(CATALOG_0_1).as_deref(),
        Some(DEFAULT_CATALOG_TOML)
    );
    assert_eq!(merge_catalog(DEFAULT_CATALOG_TOML), None);
}

#[test]
fn an_edited_old_catalog_keeps_its_edits_and_gains_the_new_indicators() {
    // The ward renamed an indicator and bumped its version to 4.
    let ours = CATALOG_0_1
        .replacen("version = 1", "version = 4", 1)
        .replace(
            "Số cuộc họp cộng đồng dân cư, họp cử tri đại diện hộ gia đình đã tổ chức",
            "Số cuộc họp cộng đồng dân cư (phường sửa)",
        );
    assert_ne!(ours, CATALOG_0_1);
    let merged = merge_catalog(&ours).expect("merged");
    let c = Catalog::from_toml_str(&merged, "catalog.toml").unwrap();
    assert_eq!(
        c.version, 5,
        "a version above both the ward's and the release's"
    );
    assert!(c.indicator("DB07").is_some() && c.indicator("CQ05").is_some());
    assert_eq!(
        c.indicator("DB07"),
        Catalog::builtin().indicator("DB07"),
        "taken as this release ships it"
    );
    assert!(
        c.indicator("DB01").unwrap().name.contains("(phường sửa)"),
        "the ward's rename is kept"
    );
    for i in &Catalog::from_toml_str(&ours, "x").unwrap().indicators {
        assert_eq!(
            c.indicator(&i.code),
            Some(i),
            "the ward's {} is kept",
            i.code
        );
    }
    assert_eq!(merge_catalog(&merged), None, "done once");
}

/// A release that corrects an indicator corrects it in a ward's edited
/// catalog too, unless the ward edited that indicator itself.
#[test]
fn a_release_that_corrects_an_indicator_corrects_it_where_the_ward_did_not_edit_it() {
    const DB01: &str = "Số cuộc họp cộng đồng dân cư, họp cử tri đại diện hộ gia đình đã tổ chức";
    let db02 = Catalog::from_toml_str(CATALOG_0_1, "base")
        .unwrap()
        .indicator("DB02")
        .unwrap()
        .name
        .clone();
    // The next release renames DB01 and DB02 and adds DB07 and CQ05.
    let release = DEFAULT_CATALOG_TOML
        .replace(DB01, "Số cuộc họp cộng đồng dân cư (tên mới)")
        .replace(&db02, "Số lần lấy ý kiến hộ gia đình (tên mới)");
    // The ward edited DB01 and its version, not DB02.
    let ours = CATALOG_0_1
        .replacen("version = 1", "version = 4", 1)
        .replace(DB01, "Số cuộc họp cộng đồng dân cư (phường sửa)");
    let merged = merge_catalogs(&ours, CATALOG_0_1, &release).expect("merged");
    let c = Catalog::from_toml_str(&merged, "catalog.toml").unwrap();
    let theirs = Catalog::from_toml_str(&release, "release").unwrap();
    assert_eq!(
        c.indicator("DB02"),
        theirs.indicator("DB02"),
        "the release's correction, the ward never edited DB02"
    );
    assert!(
        c.indicator("DB01").unwrap().name.contains("(phường sửa)"),
        "the ward's own edit wins over the release's"
    );
    assert!(c.indicator("DB07").is_some() && c.indicator("CQ05").is_some());
    assert_eq!(c.version, 5);
    // Everything else as the ward had it.
    let ward = Catalog::from_toml_str(&ours, "ward").unwrap();
    for i in ward.indicators.iter().filter(|i| i.code != "DB02") {
        assert_eq!(c.indicator(&i.code), Some(i), "{}", i.code);
    }
    assert_eq!(
        merge_catalogs(&merged, CATALOG_0_1, &release),
        None,
        "done once"
    );
}

/// A data dir as release 0.1.0 left it: `hub.toml` with the wrong
/// letterhead, its catalog, and a database of format 1 with one audit line.
fn old_data_dir(dir: &Path) {
    std::fs::write(dir.join(CONFIG_FILE), OLD_HUB_TOML).unwrap();
    std::fs::write(dir.join(CATALOG_FILE), CATALOG_0_1).unwrap();
    let db = sled::open(dir.join(crate::DB_DIR)).unwrap();
    let tree = db.open_tree("hub").unwrap();
    tree.insert(b"mschema", b"1").unwrap();
    let mut key = vec![b'a'];
    key.extend_from_slice(&1u64.to_be_bytes());
    let line = r#"{"unit":"U01","seq":1,"kind":"submit","entity":"2026-Y","received_at":"2026-11-05T02:00:00Z"}"#;
    tree.insert(key, line.as_bytes()).unwrap();
    db.flush().unwrap();
}

#[tokio::test]
async fn an_upgrade_a_crash_cut_short_is_done_again_on_the_next_start() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    old_data_dir(dir);
    // The first attempt wrote its backup and fixed hub.toml, then the
    // machine stopped before the database's batch.
    let backup = dir.join(backup_name(1));
    std::fs::write(&backup, b"the backup of the first attempt").unwrap();
    let fixed = fix_letterhead(OLD_HUB_TOML).unwrap();
    std::fs::write(dir.join(CONFIG_FILE), &fixed).unwrap();

    let mut store = Store::open(&dir.join(crate::DB_DIR)).unwrap();
    assert_eq!(store.format_found(), 1, "the old version: redo it");
    let up = run(&mut store, dir).await.unwrap().expect("upgraded");
    assert_eq!((up.from, up.to), (1, FORMAT));
    assert!(!up.letterhead_fixed, "already fixed; fixed once");
    assert!(up.catalog_merged);
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        b"the backup of the first attempt",
        "the backup taken before anything changed is kept"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(CONFIG_FILE)).unwrap(),
        fixed
    );
    let records = store.audit(0, 10).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(store.verify_audit().unwrap().broken, None);
    assert_eq!(run(&mut store, dir).await.unwrap(), None, "done once");
}

#[tokio::test]
async fn a_first_start_backs_up_the_old_data_dir_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    old_data_dir(dir);
    let mut store = Store::open(&dir.join(crate::DB_DIR)).unwrap();
    let up = run(&mut store, dir).await.unwrap().expect("upgraded");
    assert!(up.letterhead_fixed && up.catalog_merged);
    drop(store);
    // The backup restores the data dir as release 0.1.0 left it.
    let restored = tmp.path().join("restored");
    crate::backup::restore(&up.backup, &restored).unwrap();
    assert_eq!(
        std::fs::read_to_string(restored.join(CONFIG_FILE)).unwrap(),
        OLD_HUB_TOML
    );
    assert_eq!(
        std::fs::read_to_string(restored.join(CATALOG_FILE)).unwrap(),
        CATALOG_0_1
    );
    let db = sled::open(restored.join(crate::DB_DIR)).unwrap();
    let tree = db.open_tree("hub").unwrap();
    assert_eq!(tree.get(b"mschema").unwrap().unwrap().as_ref(), b"1");
    assert_eq!(tree.scan_prefix([b'a']).count(), 1);
}
