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
