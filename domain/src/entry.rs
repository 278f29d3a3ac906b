//! The entry rules of a unit's forms, as typed by a person: an activity from
//! its fields (date, form, title, participants, note), and the wording of a
//! refused field in Vietnamese and English, and the check of a period's
//! typed-in indicator values. One home for both faces that
//! take a unit's entries: the agent (CLI and local web app) and the ward's
//! dashboard for units it keeps.

use std::collections::BTreeMap;

use crate::activity::{Activity, ActivityId, Form};
use crate::calendar::{Period, parse_date};
use crate::catalog::Catalog;
use crate::error::DomainError;
use crate::i18n::Lang;
use crate::report::{UnitState, compute_values};
use crate::text::normalize;
use crate::unit::UnitKind;
use crate::validate::{Problem, ProblemCode, check_values, parse_input};
use crate::value::Value;

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

/// The outcome of checking a list of typed-in values.
#[derive(Debug, Default)]
pub struct Checked {
    /// The change to record: `None` clears a value.
    pub values: BTreeMap<String, Option<Value>>,
    /// Problems of single inputs, tagged with the input's position or line.
    pub input_problems: Vec<(usize, Problem)>,
    /// Rules across indicators that these values would newly break.
    pub rule_problems: Vec<Problem>,
}

impl Checked {
    pub fn is_ok(&self) -> bool {
        self.input_problems.is_empty() && self.rule_problems.is_empty()
    }
}

fn problem(code: ProblemCode, field: &str, vi: String, en: String) -> Problem {
    Problem {
        code,
        field: field.to_string(),
        message_vi: vi,
        message_en: en,
    }
}

/// Checks `(tag, code, raw)` inputs for a period. An empty raw value clears
/// an entered value. Problems that were already there before this command
/// (say, after the hub changed the catalog) do not block it.
pub fn check_inputs(
    catalog: &Catalog,
    kind: UnitKind,
    period: &Period,
    state: &UnitState,
    inputs: &[(usize, String, String)],
) -> Checked {
    let mut out = Checked::default();
    let entered = state.values.get(&period.code).cloned().unwrap_or_default();
    for (tag, code, raw) in inputs {
        if raw.trim().is_empty() {
            let code = code.trim().to_uppercase();
            match catalog.indicator(&code) {
                _ if entered.contains_key(&code) => {
                    out.values.insert(code, None);
                }
                None => out.input_problems.push((
                    *tag,
                    problem(
                        ProblemCode::UnknownIndicator,
                        &code,
                        format!("{code}: không có chỉ tiêu này trong danh mục"),
                        format!("{code}: no such indicator in the catalog"),
                    ),
                )),
                Some(ind) if !ind.is_entered() => out.input_problems.push((
                    *tag,
                    problem(
                        ProblemCode::NotEntered,
                        &code,
                        format!("{code}: chỉ tiêu này được tính tự động, không nhập hay xóa tay"),
                        format!("{code}: this indicator is computed, it cannot be set or cleared"),
                    ),
                )),
                Some(_) => {
                    out.values.insert(code, None);
                }
            }
            continue;
        }
        match parse_input(catalog, kind, period, code, raw) {
            Ok((code, value)) => {
                out.values.insert(code, Some(value));
            }
            Err(p) => out.input_problems.push((*tag, p)),
        }
    }
    // Rules are checked over the inputs that passed, so one run lists every
    // problem; nothing is written unless there are none.
    let activities = state.activities_in(period);
    let old_all = compute_values(catalog, kind, period, Some(&entered), &activities);
    let before = check_values(catalog, kind, period, &entered, &old_all);
    let mut new_entered = entered.clone();
    for (code, v) in &out.values {
        match v {
            Some(v) => new_entered.insert(code.clone(), v.clone()),
            None => new_entered.remove(code),
        };
    }
    let new_all = compute_values(catalog, kind, period, Some(&new_entered), &activities);
    out.rule_problems = check_values(catalog, kind, period, &new_entered, &new_all)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    out
}

/// A narrative as typed, checked as the agent's `note set` checks it:
/// normalised, no control characters but line breaks and tabs, at most
/// [`crate::text::MAX_NOTE_BYTES`].
pub fn note_text(raw: &str) -> Result<String, DomainError> {
    let text = normalize(raw);
    crate::text::check("text", &text, crate::text::Lines::Many)?;
    if text.len() > crate::text::MAX_NOTE_BYTES {
        return Err(DomainError::TooLong("text", crate::text::MAX_NOTE_BYTES));
    }
    Ok(text)
}

/// What an input shows for a stored value: a form `parse_input` reads back.
pub fn input_text(v: &Value) -> String {
    match v {
        Value::Number(n) if n.fract() == 0.0 => format!("{n:.0}"),
        Value::Number(n) => n.to_string().replace('.', ","),
        Value::Bool(true) => "có".into(),
        Value::Bool(false) => "không".into(),
        Value::Text(t) => t.clone(),
    }
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
