//! Checking what people and clients send (unit fields, period fields, review
//! decisions, CSV rows), with messages that name the field, in Vietnamese or
//! English. Used by the CLI before it sends anything and by the admin service
//! for any client.

use chrono::NaiveDate;
use coso_domain::calendar::parse_date;
use coso_domain::text::Lines;
use coso_domain::{Catalog, DomainError, Lang, PeriodCode, Section, Unit, UnitCode, UnitKind};
use thiserror::Error;

use crate::store::Contact;
use coso_report::Format;

/// The longest reason a report can be returned with, in characters.
pub const MAX_REASON_CHARS: usize = 2000;
/// The longest period title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest contact person's name, in characters.
pub const MAX_CONTACT_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum InputError {
    #[error("unit code {0:?}: use 1-32 characters of A-Z, 0-9, '-' or '_'")]
    UnitCode(String),
    #[error("kind {0:?}: use centre, department, school, residential-group or other")]
    UnitKind(String),
    #[error("name {0:?}: it must be 1-200 characters")]
    UnitName(String),
    #[error("period {0:?}: use e.g. 2026-H1, 2026-M9, 2026-Y or an ad-hoc code like 2026-A01")]
    PeriodCode(String),
    #[error("{field} {value:?}: use a date YYYY-MM-DD")]
    Date { field: &'static str, value: String },
    #[error("title: it must be 1-{MAX_TITLE_CHARS} characters")]
    Title,
    #[error("indicators: {0:?} is not an indicator of the catalog")]
    UnknownIndicator(String),
    #[error("decision {0:?}: use accept, return or reopen")]
    Decision(String),
    #[error(
        "reason: returning or reopening a report needs a reason of 1-{MAX_REASON_CHARS} characters"
    )]
    Reason,
    #[error("format {0:?}: use docx, xlsx, json, csv or md")]
    Format(String),
    #[error("public address: {0}")]
    PublicAddr(String),
    #[error("{file}, line {line}: {reason}")]
    Csv {
        file: String,
        line: u64,
        reason: String,
    },
    #[error("{file}, line {line}: {inner}")]
    CsvRow {
        file: String,
        line: u64,
        inner: Box<InputError>,
    },
    #[error("{0}: the file lists no units")]
    CsvEmpty(String),
    #[error("unit {0} appears twice")]
    DuplicateUnit(String),
    #[error("section {0:?}: use results, difficulties, proposals or next-tasks")]
    Section(String),
    #[error("text: it is longer than {max_bytes} bytes")]
    NoteTooLong { max_bytes: usize },
    #[error("contact {0:?}: it must be at most {MAX_CONTACT_CHARS} characters")]
    Contact(String),
    #[error("phone {0:?}: use digits, spaces and + - . ( ), 6-20 characters")]
    Phone(String),
    #[error("{field}: contains the control character {code_point}; remove it")]
    ControlCharacter {
        field: &'static str,
        code_point: String,
    },
    #[error("out: {0} already exists; add --force to replace it")]
    OutExists(std::path::PathBuf),
    #[error(
        "out: {0} is not a regular file (a device, directory or link); refusing to write to it"
    )]
    OutNotRegular(std::path::PathBuf),
}

impl InputError {
    /// The field the error is about (for messages and scripts).
    pub fn field(&self) -> &'static str {
        match self {
            InputError::UnitCode(_) | InputError::DuplicateUnit(_) => "code",
            InputError::UnitKind(_) => "kind",
            InputError::UnitName(_) => "name",
            InputError::PeriodCode(_) => "period",
            InputError::Date { field, .. } => field,
            InputError::Title => "title",
            InputError::UnknownIndicator(_) => "indicators",
            InputError::Decision(_) => "decision",
            InputError::Reason => "reason",
            InputError::Format(_) => "format",
            InputError::PublicAddr(_) => "public_addr",
            InputError::Csv { .. } | InputError::CsvEmpty(_) => "file",
            InputError::CsvRow { inner, .. } => inner.field(),
            InputError::Section(_) => "section",
            InputError::NoteTooLong { .. } => "text",
            InputError::Contact(_) => "contact",
            InputError::Phone(_) => "phone",
            InputError::ControlCharacter { field, .. } => field,
            InputError::OutExists(_) | InputError::OutNotRegular(_) => "out",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            InputError::UnitCode(v) => {
                format!("mã đơn vị {v:?} không hợp lệ: dùng 1-32 ký tự A-Z, 0-9, '-' hoặc '_'")
            }
            InputError::UnitKind(v) => format!(
                "loại đơn vị (kind) {v:?} không hợp lệ: dùng centre, department, school, residential-group hoặc other"
            ),
            InputError::UnitName(v) => {
                format!("tên đơn vị (name) {v:?} không hợp lệ: cần 1-200 ký tự")
            }
            InputError::PeriodCode(v) => format!(
                "kỳ báo cáo (period) {v:?} không hợp lệ: dùng ví dụ 2026-H1, 2026-M9, 2026-Y hoặc mã đột xuất như 2026-A01"
            ),
            InputError::Date { field, value } => {
                format!("{field} {value:?} không phải ngày hợp lệ: dùng YYYY-MM-DD")
            }
            InputError::Title => format!("tiêu đề (title) cần 1-{MAX_TITLE_CHARS} ký tự"),
            InputError::UnknownIndicator(c) => {
                format!("chỉ tiêu (indicators) {c:?} không có trong danh mục")
            }
            InputError::Decision(v) => {
                format!("quyết định (decision) {v:?} không hợp lệ: dùng accept, return hoặc reopen")
            }
            InputError::Reason => {
                format!(
                    "lý do (reason): trả lại hoặc mở lại báo cáo cần lý do dài 1-{MAX_REASON_CHARS} ký tự"
                )
            }
            InputError::Format(v) => {
                format!("định dạng (format) {v:?} không hợp lệ: dùng docx, xlsx, json, csv hoặc md")
            }
            InputError::PublicAddr(r) => {
                format!("địa chỉ công khai (public-addr) không hợp lệ: {r}")
            }
            InputError::Csv { file, line, reason } => format!("{file}, dòng {line}: {reason}"),
            InputError::CsvRow { file, line, inner } => {
                format!("{file}, dòng {line}: {}", inner.message(lang))
            }
            InputError::CsvEmpty(file) => format!("{file}: tệp không có đơn vị nào"),
            InputError::DuplicateUnit(c) => format!("đơn vị {c} xuất hiện hai lần"),
            InputError::Section(v) => format!(
                "mục (section) {v:?} không hợp lệ: dùng results, difficulties, proposals hoặc next-tasks"
            ),
            InputError::NoteTooLong { max_bytes } => {
                format!("nội dung (text) dài quá {max_bytes} byte")
            }
            InputError::Contact(v) => format!(
                "người liên hệ (contact) {v:?} không hợp lệ: tối đa {MAX_CONTACT_CHARS} ký tự"
            ),
            InputError::Phone(v) => format!(
                "số điện thoại (phone) {v:?} không hợp lệ: dùng chữ số, dấu cách và + - . ( ), 6-20 ký tự"
            ),
            InputError::ControlCharacter { field, code_point } => {
                format!("{field}: chứa ký tự điều khiển {code_point}; hãy xóa ký tự này")
            }
            InputError::OutExists(p) => format!(
                "out: tệp {} đã có; thêm --force nếu muốn ghi đè",
                p.display()
            ),
            InputError::OutNotRegular(p) => format!(
                "out: {} không phải tệp thường (thiết bị, thư mục hoặc liên kết); không ghi vào đó",
                p.display()
            ),
        }
    }
}

pub fn unit_code(s: &str) -> Result<UnitCode, InputError> {
    s.parse().map_err(|_| InputError::UnitCode(s.to_string()))
}

pub fn unit_kind(s: &str) -> Result<UnitKind, InputError> {
    s.parse().map_err(|_| InputError::UnitKind(s.to_string()))
}

pub fn unit(code: &str, name: &str, kind: &str) -> Result<Unit, InputError> {
    clean("name", name, Lines::One)?;
    let code = unit_code(code)?;
    let kind = unit_kind(kind)?;
    Unit::new(code, name, kind).map_err(|_| InputError::UnitName(name.to_string()))
}

/// A contact person and phone, both optional (empty is none).
pub fn contact(person: &str, phone: &str) -> Result<Contact, InputError> {
    let person = coso_domain::text::normalize(person.trim());
    if person.chars().count() > MAX_CONTACT_CHARS || person.chars().any(char::is_control) {
        return Err(InputError::Contact(person));
    }
    let phone = phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if !phone.is_empty()
        && (!(6..=20).contains(&phone.chars().count())
            || digits < 6
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-.()".contains(c)))
    {
        return Err(InputError::Phone(phone.to_string()));
    }
    Ok(Contact {
        person: (!person.is_empty()).then_some(person),
        phone: (!phone.is_empty()).then(|| phone.to_string()),
    })
}

pub fn section(s: &str) -> Result<Section, InputError> {
    s.parse().map_err(|_| InputError::Section(s.to_string()))
}

pub fn format(s: &str) -> Result<Format, InputError> {
    s.parse().map_err(|_| InputError::Format(s.to_string()))
}

pub fn period_code(s: &str) -> Result<PeriodCode, InputError> {
    s.parse().map_err(|_| InputError::PeriodCode(s.to_string()))
}

pub fn date(field: &'static str, s: &str) -> Result<NaiveDate, InputError> {
    parse_date(s).map_err(|_| InputError::Date {
        field,
        value: s.to_string(),
    })
}

/// Refuses control characters and bidi overrides in text typed at the hub,
/// with the same rule as everywhere else (`coso_domain::text`).
pub fn clean(field: &'static str, s: &str, lines: Lines) -> Result<(), InputError> {
    coso_domain::text::check(field, s, lines).map_err(|e| match e {
        DomainError::ControlCharacter { field, code_point } => {
            InputError::ControlCharacter { field, code_point }
        }
        _ => InputError::ControlCharacter {
            field,
            code_point: String::new(),
        },
    })
}

pub fn title(s: &str) -> Result<String, InputError> {
    clean("title", s, Lines::One)?;
    let t = coso_domain::text::normalize(s.trim());
    if t.is_empty() || t.chars().count() > MAX_TITLE_CHARS {
        return Err(InputError::Title);
    }
    Ok(t)
}

/// Indicator codes, each in the catalog, without duplicates, in the order given.
pub fn indicators(catalog: &Catalog, codes: &[String]) -> Result<Vec<String>, InputError> {
    let mut out: Vec<String> = Vec::new();
    for c in codes {
        let c = c.trim().to_uppercase();
        if c.is_empty() {
            continue;
        }
        if catalog.indicator(&c).is_none() {
            return Err(InputError::UnknownIndicator(c));
        }
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// A return reason: required, NFC, bounded.
pub fn reason(s: &str) -> Result<String, InputError> {
    clean("reason", s, Lines::Many)?;
    let r = coso_domain::text::normalize(s.trim());
    if r.is_empty() || r.chars().count() > MAX_REASON_CHARS {
        return Err(InputError::Reason);
    }
    Ok(r)
}

/// Reads `code,name,kind[,contact,phone]` rows (an optional header row is
/// skipped). Every row is checked; the first bad row is reported with its line.
pub fn units_csv(file: &str, text: &str) -> Result<Vec<(Unit, Contact)>, InputError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut out: Vec<(Unit, Contact)> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| InputError::Csv {
            file: file.to_string(),
            line: e.position().map(|p| p.line()).unwrap_or(i as u64 + 1),
            reason: e.to_string(),
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(i as u64 + 1);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        if i == 0 && rec.get(0).is_some_and(|c| c.eq_ignore_ascii_case("code")) {
            continue;
        }
        if !(3..=5).contains(&rec.len()) {
            return Err(InputError::Csv {
                file: file.to_string(),
                line,
                reason: format!(
                    "expected 3 to 5 columns (code,name,kind[,contact,phone]), found {}",
                    rec.len()
                ),
            });
        }
        let row_error = |e| InputError::CsvRow {
            file: file.to_string(),
            line,
            inner: Box::new(e),
        };
        let u = unit(&rec[0], &rec[1], &rec[2]).map_err(row_error)?;
        let c = contact(rec.get(3).unwrap_or(""), rec.get(4).unwrap_or("")).map_err(row_error)?;
        if out.iter().any(|(o, _)| o.code == u.code) {
            return Err(InputError::CsvRow {
                file: file.to_string(),
                line,
                inner: Box::new(InputError::DuplicateUnit(u.code.to_string())),
            });
        }
        out.push((u, c));
    }
    if out.is_empty() {
        return Err(InputError::CsvEmpty(file.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_checked_with_their_line() {
        let ok = "code,name,kind\nTDP01,Tổ dân phố số 1,residential-group\n\nTHCS1,\"Trường THCS Gia Viên, cơ sở 1\",school\n";
        let units = units_csv("u.csv", ok).unwrap();
        assert_eq!(units.len(), 2);
        assert_eq!(units[1].0.name, "Trường THCS Gia Viên, cơ sở 1");
        assert_eq!(units[1].1, Contact::default());

        let with_contact = "TDP01,Tổ 1,residential-group,Nguyễn Văn A,0912 345 678\n";
        let (_, c) = &units_csv("u.csv", with_contact).unwrap()[0];
        assert_eq!(c.person.as_deref(), Some("Nguyễn Văn A"));
        assert_eq!(c.phone.as_deref(), Some("0912 345 678"));
        let bad_phone = "TDP01,Tổ 1,residential-group,A,call me\n";
        assert_eq!(units_csv("u.csv", bad_phone).unwrap_err().field(), "phone");

        let bad = "TDP01,Tổ 1,residential-group\nTDP02,Tổ 2,village\n";
        let e = units_csv("u.csv", bad).unwrap_err();
        assert_eq!(e.field(), "kind");
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(e.message(Lang::Vi).contains("dòng 2"));

        let dup = "TDP01,Tổ 1,residential-group\ntdp01,Tổ 1 bis,residential-group\n";
        assert!(matches!(
            units_csv("u.csv", dup),
            Err(InputError::CsvRow { line: 2, .. })
        ));
        assert!(matches!(
            units_csv("u.csv", "code,name,kind\n"),
            Err(InputError::CsvEmpty(_))
        ));
        assert!(matches!(
            units_csv("u.csv", "TDP01,Tổ 1\n"),
            Err(InputError::Csv { line: 1, .. })
        ));
    }

    #[test]
    fn fields() {
        assert_eq!(
            unit("tdp5", " Tổ 5 ", "residential-group").unwrap().name,
            "Tổ 5"
        );
        assert_eq!(unit("tdp 5", "x", "school").unwrap_err().field(), "code");
        assert_eq!(unit("T", "", "school").unwrap_err().field(), "name");
        assert!(reason("  ").is_err());
        assert_eq!(date("due", "2026-02-30").unwrap_err().field(), "due");
        let cat = Catalog::builtin();
        assert_eq!(
            indicators(&cat, &["tt01".into(), "TT01".into()]).unwrap(),
            ["TT01"]
        );
        assert!(indicators(&cat, &["NOPE".into()]).is_err());
    }
}
