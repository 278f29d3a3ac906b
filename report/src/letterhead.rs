//! The letterhead: the words of the report's header, signature block and
//! distribution list, as the hub config gives them (`[letterhead]`), with the
//! defaults of UBND phường Gia Viên.

use serde::{Deserialize, Serialize};

/// The words of the report's letterhead, signature block and distribution
/// list. Part of the hub config (`[letterhead]` in hub.toml); every field has
/// the default of UBND phường Gia Viên reporting to Sở Nội vụ Hải Phòng.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Letterhead {
    /// First line of the left header block, e.g. "ỦY BAN NHÂN DÂN".
    pub issuer_parent: String,
    /// Second line: the issuing body, e.g. "PHƯỜNG GIA VIÊN".
    pub issuer: String,
    /// Whether the first line is bold too. For a People's Committee the two
    /// lines are one body's name and both are bold; set false when the first
    /// line is a separate parent body (Decree 30/2020: parent not bold).
    pub issuer_parent_bold: bool,
    /// The issuer as named in running text, e.g. "UBND phường Gia Viên".
    pub issuer_short: String,
    /// The number line; the blank is filled in by hand when the report is signed.
    pub number_line: String,
    pub nation: String,
    pub motto: String,
    /// The place on the place-date line, e.g. "Gia Viên".
    pub place: String,
    /// The subject line is this followed by the period, e.g. "… 6 tháng đầu năm 2026".
    pub subject_prefix: String,
    /// Who the report is addressed to ("Kính gửi: …").
    pub recipient: String,
    /// "TM. ỦY BAN NHÂN DÂN".
    pub signatory_for: String,
    /// "KT. CHỦ TỊCH" when a deputy signs for the chair (Decree 30/2020);
    /// empty when the chair signs.
    pub signatory_on_behalf: String,
    /// "CHỦ TỊCH" (or "PHÓ CHỦ TỊCH" under "KT. CHỦ TỊCH").
    pub signatory_title: String,
    /// The signer's name; empty leaves the space for a handwritten one.
    pub signatory_name: String,
    /// The "Nơi nhận" list, one entry per line, without the leading "- ".
    pub distribution: Vec<String>,
}

impl Default for Letterhead {
    fn default() -> Self {
        Letterhead {
            issuer_parent: "ỦY BAN NHÂN DÂN".into(),
            issuer: "PHƯỜNG GIA VIÊN".into(),
            issuer_parent_bold: true,
            issuer_short: "UBND phường Gia Viên".into(),
            number_line: "Số:      /BC-UBND".into(),
            nation: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
            motto: "Độc lập - Tự do - Hạnh phúc".into(),
            place: "Gia Viên".into(),
            subject_prefix: "Kết quả thực hiện dân chủ ở cơ sở".into(),
            recipient: "Sở Nội vụ thành phố Hải Phòng".into(),
            signatory_for: "TM. ỦY BAN NHÂN DÂN".into(),
            signatory_on_behalf: String::new(),
            signatory_title: "CHỦ TỊCH".into(),
            signatory_name: String::new(),
            distribution: vec![
                "Sở Nội vụ;".into(),
                "Thường trực Đảng ủy phường;".into(),
                "Thường trực HĐND phường;".into(),
                "Chủ tịch, các Phó Chủ tịch UBND phường;".into(),
                "Lưu: VT, VHXH.".into(),
            ],
        }
    }
}
