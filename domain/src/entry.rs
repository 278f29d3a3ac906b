//! The entry rules of a unit's forms, as typed by a person: an activity from
//! its fields (date, form, title, participants, note), and the wording of a
//! refused field in Vietnamese and English. One home for both faces that
//! take a unit's entries: the agent (CLI and local web app) and the ward's
//! dashboard for units it keeps.

use crate::activity::{Activity, ActivityId, Form};
use crate::calendar::parse_date;
use crate::error::DomainError;
use crate::i18n::Lang;
use crate::text::normalize;

/// An activity as typed: every field a string; empty participants means
/// "not counted".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFields {
    pub date: String,
    pub form: String,
    pub title: String,
    pub participants: String,
    pub note: String,
}

/// A refused field of a form: which one, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRefusal {
    pub field: &'static str,
    pub error: DomainError,
}

impl FieldRefusal {
    /// The refusal worded for people, naming the field.
    pub fn message(&self, lang: Lang) -> String {
        message(self.field, &self.error, lang)
    }
}

/// Participants as officers type them: empty is "not counted"; thousands
/// may be grouped with "." or "," ("1.200" is 1200), but "4.5" is never 45.
pub fn parse_participants(raw: &str) -> Result<Option<u32>, DomainError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let groups: Vec<&str> = t.split(['.', ',']).collect();
    let grouped_ok = groups
        .iter()
        .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
        && (groups.len() == 1
            || (groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3)));
    if grouped_ok && let Ok(n) = groups.concat().parse::<u32>() {
        return Ok(Some(n));
    }
    Err(DomainError::InvalidParticipants(raw.to_string()))
}

/// The field of an activity a failed [`Activity::validate`] is about.
pub fn activity_field(e: &DomainError) -> &'static str {
    match e {
        DomainError::EmptyField(f)
        | DomainError::TooLong(f, _)
        | DomainError::ControlCharacter { field: f, .. } => f,
        DomainError::DateOutOfRange(_) => "date",
        _ => "activity",
    }
}

/// An activity with id `id` from its typed fields, checked as the agent's
/// `activity add` checks them; the first refused field otherwise.
pub fn activity(id: ActivityId, f: &ActivityFields) -> Result<Activity, FieldRefusal> {
    let refuse = |field: &'static str| move |error| FieldRefusal { field, error };
    let date = parse_date(f.date.trim()).map_err(refuse("date"))?;
    let form: Form = f.form.parse().map_err(refuse("form"))?;
    let participants = parse_participants(&f.participants).map_err(refuse("participants"))?;
    let a = Activity {
        id,
        date,
        form,
        title: normalize(&f.title),
        participants,
        note: normalize(&f.note),
    };
    a.validate().map_err(|error| FieldRefusal {
        field: activity_field(&error),
        error,
    })?;
    Ok(a)
}

/// A refused domain value of `field`, for people.
pub fn message(field: &str, e: &DomainError, lang: Lang) -> String {
    if lang == Lang::En {
        return format!("{field}: {e}");
    }
    let why = match e {
        DomainError::InvalidUnitCode(s) => {
            format!("mã đơn vị {s:?} không hợp lệ: dùng 1-32 ký tự A-Z, 0-9, '-' hoặc '_'")
        }
        DomainError::InvalidUnitKind(s) => format!(
            "loại đơn vị {s:?} không hợp lệ: dùng centre, department, school, residential-group hoặc other"
        ),
        DomainError::InvalidUnitName(s) => {
            format!("tên đơn vị {s:?} không hợp lệ: cần từ 1 đến 200 ký tự")
        }
        DomainError::InvalidForm(s) => format!(
            "hình thức {s:?} không hợp lệ: dùng document, conference, training, social-network, \
             web-portal, party-cell, briefing hoặc other"
        ),
        DomainError::InvalidActivityId(s) => {
            format!("mã hoạt động {s:?} không hợp lệ (ví dụ đúng: HD-3)")
        }
        DomainError::InvalidPeriodCode(s) => format!(
            "mã kỳ {s:?} không hợp lệ: dùng ví dụ 2026-H1, 2026-M9, 2026-Y hoặc mã đột xuất như 2026-A01"
        ),
        DomainError::InvalidSection(s) => format!(
            "phần {s:?} không hợp lệ: dùng results, difficulties, proposals hoặc next-tasks"
        ),
        DomainError::InvalidDate(s) => format!("ngày {s:?} không hợp lệ: dùng dạng YYYY-MM-DD"),
        DomainError::DateOutOfRange(s) => format!("ngày {s} nằm ngoài khoảng năm 2000-2100"),
        DomainError::ControlCharacter { field, code_point } => {
            format!("trường {field} chứa ký tự điều khiển {code_point}; hãy xóa ký tự này")
        }
        DomainError::EmptyField(f) => format!("trường {f} không được để trống"),
        DomainError::TooLong(f, n) => format!("trường {f} dài quá {n} ký tự"),
        DomainError::InvalidParticipants(raw) => {
            format!("{raw:?} không phải số lượt người (cần số nguyên từ 0)")
        }
        other => other.to_string(),
    };
    format!("{field}: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(date: &str, participants: &str, title: &str) -> ActivityFields {
        ActivityFields {
            date: date.into(),
            form: "conference".into(),
            title: title.into(),
            participants: participants.into(),
            note: String::new(),
        }
    }

    #[test]
    fn participants_accept_grouped_thousands_and_refuse_decimals() {
        assert_eq!(parse_participants("1.200"), Ok(Some(1200)));
        assert_eq!(parse_participants(" 45 "), Ok(Some(45)));
        assert_eq!(parse_participants(""), Ok(None));
        assert!(parse_participants("4.5").is_err());
        assert!(parse_participants("-3").is_err());
    }

    #[test]
    fn an_activity_names_its_first_refused_field() {
        let id = ActivityId::from_counter(1);
        let a = activity(id.clone(), &fields("2026-03-02", "45", "Hội nghị")).unwrap();
        assert_eq!(a.participants, Some(45));
        let r = activity(id.clone(), &fields("02/03/2026", "45", "Hội nghị")).unwrap_err();
        assert_eq!(r.field, "date");
        let r = activity(id.clone(), &fields("2026-03-02", "bốn", "Hội nghị")).unwrap_err();
        assert_eq!(r.field, "participants");
        assert!(
            r.message(Lang::Vi).contains("lượt người"),
            "{}",
            r.message(Lang::Vi)
        );
        let r = activity(id, &fields("2026-03-02", "", "  ")).unwrap_err();
        assert_eq!(r.field, "title");
    }
}
