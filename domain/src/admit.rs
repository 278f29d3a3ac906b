//! Whether a decoded change may enter a unit's log at the hub: the same
//! catalog, calendar and [`validate`](crate::validate) checks the
//! agent applies before it records a change, so a hand-made push cannot put
//! what the agent would have refused into a ward's report.

use chrono::{DateTime, TimeDelta, Utc};

use crate::calendar::{Calendar, Period, date_supported};
use crate::catalog::Catalog;
use crate::change::Change;
use crate::report::{SubmittedReport, UnitState, activities_hash, compute_values};
use crate::text::{MAX_NOTE_BYTES, forbidden_in_record};
use crate::unit::UnitKind;
use crate::validate::{Problem, ProblemCode, check_entered, check_reported};
use crate::value::Value;

/// The largest number of activities a frozen report may claim to cover.
const MAX_ACTIVITIES: u32 = 1_000_000;

/// Checks one change of a unit of `kind` against the hub's catalog and
/// calendar. The first problem refuses the change.
pub fn admit(
    change: &Change,
    catalog: &Catalog,
    calendar: &Calendar,
    kind: UnitKind,
) -> Result<(), Problem> {
    match change {
        // The record rules, not the entry rules: what an earlier release
        // let a unit record must keep flowing (ARCHITECTURE.md, "What an
        // earlier release recorded keeps flowing"). Removal carries only a
        // checked id.
        Change::ActivityUpsert(a) => a
            .validate_record()
            .map_err(|e| invalid("activity", &e.to_string(), &e.to_string())),
        Change::ActivityRemove(_) => Ok(()),
        Change::ValuesSet(v) => {
            let period = period(calendar, &v.period)?;
            for (code, value) in &v.values {
                match value {
                    Some(value) => check_entered(catalog, kind, &period, code, value)?,
                    // Clearing a value is allowed for any well-formed code:
                    // the catalog may have dropped an indicator since.
                    None => indicator_code(code)?,
                }
            }
            Ok(())
        }
        Change::NoteSet(n) => {
            period(calendar, &n.period)?;
            note("text", &n.text)
        }
        Change::Submit(s) => submission(s, catalog, calendar, kind),
    }
}

fn submission(
    s: &SubmittedReport,
    catalog: &Catalog,
    calendar: &Calendar,
    kind: UnitKind,
) -> Result<(), Problem> {
    let period = period(calendar, &s.period)?;
    for (code, value) in &s.values {
        check_reported(catalog, kind, &period, code, value)?;
    }
    for (section, text) in &s.notes {
        note(section.as_str(), text)?;
    }
    let hash_ok = s.activities_hash.len() == 64
        && s.activities_hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hash_ok {
        return Err(invalid(
            "activities_hash",
            "không phải SHA-256 dạng hex",
            "is not a hex SHA-256",
        ));
    }
    if s.activities > MAX_ACTIVITIES {
        return Err(invalid(
            "activities",
            "số hoạt động vượt quá giới hạn",
            "is beyond any real count",
        ));
    }
    if !date_supported(s.submitted_at.date_naive()) {
        return Err(invalid(
            "submitted_at",
            "thời điểm nộp nằm ngoài khoảng năm 2000-2100",
            "is outside the supported years 2000-2100",
        ));
    }
    Ok(())
}

/// How far a unit's clock may run ahead of the ward's before a submission
/// it made at the very opening of a window counts as made before it.
pub fn clock_tolerance() -> TimeDelta {
    TimeDelta::minutes(15)
}

/// Whether a submission may be made at all yet: its period's data window
/// must have opened, both when the unit says it froze the report and by the
/// ward's clock (`now`), each with [`clock_tolerance`]. A report frozen
/// before its window opened covers none of the period's activities.
pub fn window_open(
    s: &SubmittedReport,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> Result<(), Problem> {
    let period = period(calendar, &s.period)?;
    let opens = period.opens_at();
    let early = |at: DateTime<Utc>| at + clock_tolerance() < opens;
    if early(s.submitted_at) || early(now) {
        let day = period.window_start.format("%d/%m/%Y");
        let day_en = period.window_start.format("%Y-%m-%d");
        return Err(Problem::new(
            ProblemCode::InvalidField,
            "period",
            format!(
                "period: kỳ {} chưa mở; kỳ bắt đầu nhận số liệu từ ngày {day}",
                s.period
            ),
            format!(
                "period: period {} has not opened; its data window opens on {day_en}",
                s.period
            ),
        ));
    }
    Ok(())
}

/// Whether a submission agrees with the log it summarises: the activities
/// it claims to cover (count and hash) and every value derived from them
/// (counts, participants, rates) must be what `state` (the unit's log up to
/// the submission, as the ward holds it) gives with the same derivation the
/// agent uses ([`UnitState::freeze`]). Entered values are the unit's to
/// state; derived ones are the ward's to compute. A derived value the
/// submission leaves out is not reported (an agent on an older catalog may
/// not know it); one it states must agree.
pub fn agrees_with_log(
    s: &SubmittedReport,
    state: &UnitState,
    catalog: &Catalog,
    calendar: &Calendar,
    kind: UnitKind,
) -> Result<(), Problem> {
    let period = period(calendar, &s.period)?;
    let activities = state.activities_in(&period);
    if s.activities as usize != activities.len() {
        return Err(invalid(
            "activities",
            &format!(
                "báo cáo ghi {} hoạt động nhưng nhật ký của đơn vị có {} hoạt động trong kỳ",
                s.activities,
                activities.len()
            ),
            &format!(
                "the report claims {} activities but the unit's log has {} in the period",
                s.activities,
                activities.len()
            ),
        ));
    }
    if s.activities_hash != activities_hash(&activities) {
        return Err(invalid(
            "activities_hash",
            "không khớp với các hoạt động trong nhật ký của đơn vị",
            "does not match the activities in the unit's log",
        ));
    }
    let computed = compute_values(catalog, kind, &period, Some(&s.values), &activities);
    let derived = catalog
        .indicators
        .iter()
        .filter(|i| i.derived.is_some() || i.rate.is_some());
    for ind in derived {
        let Some(claimed) = s.values.get(&ind.code) else {
            continue;
        };
        let agrees = computed
            .get(&ind.code)
            .is_some_and(|c| same_value(c, claimed));
        if !agrees {
            let want = computed.get(&ind.code).map(Value::to_json);
            let want_vi = want.as_ref().map_or("không có".into(), |v| v.to_string());
            let want_en = want.map_or("none".into(), |v| v.to_string());
            let claimed = claimed.to_json();
            return Err(Problem::new(
                ProblemCode::RuleViolated,
                &ind.code,
                format!(
                    "{}: giá trị {claimed} không khớp với giá trị tính từ các hoạt động ({want_vi})",
                    ind.code
                ),
                format!(
                    "{}: the value {claimed} contradicts the value computed from the activities ({want_en})",
                    ind.code
                ),
            ));
        }
    }
    Ok(())
}

/// Numbers compare within rounding; anything else exactly.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_number(), b.as_number()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-6,
        _ => a == b,
    }
}

fn period(calendar: &Calendar, code: &crate::PeriodCode) -> Result<Period, Problem> {
    calendar.period(code).ok_or_else(|| {
        Problem::new(
            ProblemCode::UnknownPeriod,
            "period",
            format!("period: phường không có kỳ báo cáo {code}"),
            format!("period: the ward has no reporting period {code}"),
        )
    })
}

fn note(field: &str, text: &str) -> Result<(), Problem> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(invalid(
            field,
            &format!(
                "dài {} byte, vượt giới hạn {MAX_NOTE_BYTES} byte",
                text.len()
            ),
            &format!(
                "is {} bytes, above the limit of {MAX_NOTE_BYTES}",
                text.len()
            ),
        ));
    }
    if let Some(c) = forbidden_in_record(text) {
        let cp = format!("U+{:04X}", u32::from(c));
        return Err(invalid(
            field,
            &format!("chứa ký tự điều khiển {cp}"),
            &format!("contains the control character {cp}"),
        ));
    }
    Ok(())
}

fn indicator_code(code: &str) -> Result<(), Problem> {
    let ok = (1..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "values",
            &format!("mã chỉ tiêu {code:?} không hợp lệ"),
            &format!("indicator code {code:?} is malformed"),
        ))
    }
}

fn invalid(field: &str, vi: &str, en: &str) -> Problem {
    Problem::new(
        ProblemCode::InvalidField,
        field,
        format!("{field}: {vi}"),
        format!("{field}: {en}"),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::Utc;

    use super::*;
    use crate::change::{NoteSet, ValuesSet};
    use crate::report::Section;
    use crate::value::Value;

    fn ctx() -> (Catalog, Calendar) {
        (Catalog::builtin(), Calendar::builtin())
    }

    fn values(period: &str, v: &[(&str, Value)]) -> Change {
        Change::ValuesSet(ValuesSet {
            period: period.parse().unwrap(),
            values: v
                .iter()
                .map(|(c, v)| (c.to_string(), Some(v.clone())))
                .collect(),
        })
    }

    fn refused(c: &Change, kind: UnitKind) -> ProblemCode {
        let (cat, cal) = ctx();
        admit(c, &cat, &cal, kind).unwrap_err().code
    }

    #[test]
    fn hostile_values_are_refused() {
        let rg = UnitKind::ResidentialGroup;
        let (cat, cal) = ctx();
        assert!(
            admit(
                &values("2026-H1", &[("DB01", Value::Number(3.0))]),
                &cat,
                &cal,
                rg
            )
            .is_ok()
        );
        for (v, code) in [
            (Value::Number(-1.0), ProblemCode::OutOfRange),
            (Value::Number(1e308), ProblemCode::OutOfRange),
            (Value::Number(-1e308), ProblemCode::OutOfRange),
            (Value::Number(2.5), ProblemCode::WrongType),
            (Value::Text("ba".into()), ProblemCode::WrongType),
            (Value::Bool(true), ProblemCode::WrongType),
        ] {
            assert_eq!(
                refused(&values("2026-H1", &[("DB01", v.clone())]), rg),
                code,
                "{v:?}"
            );
        }
        assert_eq!(
            refused(&values("2026-H1", &[("XX99", Value::Number(1.0))]), rg),
            ProblemCode::UnknownIndicator
        );
        assert_eq!(
            refused(&values("2026-H1", &[("CQ01", Value::Bool(true))]), rg),
            ProblemCode::NotApplicable
        );
        assert_eq!(
            refused(&values("2026-H1", &[("TT01", Value::Number(1.0))]), rg),
            ProblemCode::NotEntered
        );
        assert_eq!(
            refused(&values("2100-ZZZ", &[("DB01", Value::Number(1.0))]), rg),
            ProblemCode::UnknownPeriod
        );
    }

    #[test]
    fn notes_are_bounded_and_clean() {
        let note = |text: String| {
            Change::NoteSet(NoteSet {
                period: "2026-H1".parse().unwrap(),
                section: Section::Results,
                text,
            })
        };
        let rg = UnitKind::ResidentialGroup;
        let (cat, cal) = ctx();
        assert!(admit(&note("Kết quả\ntốt".into()), &cat, &cal, rg).is_ok());
        // Recorded by the release of 2026-11-26 (a pasted manual line break).
        assert!(admit(&note("Kết quả\u{0B}tốt".into()), &cat, &cal, rg).is_ok());
        assert_eq!(
            refused(&note("x".repeat(MAX_NOTE_BYTES + 1)), rg),
            ProblemCode::InvalidField
        );
        assert_eq!(
            refused(&note("a\u{1b}[2Jb".into()), rg),
            ProblemCode::InvalidField
        );
    }

    #[test]
    fn text_values_get_the_record_rules_as_notes_do() {
        let rg = UnitKind::ResidentialGroup;
        let (cat, cal) = ctx();
        let dg03 = |t: &str| values("2026-Y", &[("DG03", Value::Text(t.into()))]);
        // Recorded by release 0.1.0 (a pasted manual line break): it flows.
        assert!(admit(&dg03("Tốt\u{0B}đạt yêu cầu"), &cat, &cal, rg).is_ok());
        let decoded = Change::decode(crate::ChangeKind::ValuesSet, &dg03("Tốt\u{0B}").payload());
        assert!(decoded.is_ok(), "{decoded:?}");
        // What acts on a terminal or reorders text stays refused, pushed or stored.
        for bad in ["a\u{1b}[2Jb", "abc\u{202E}txt", "tốt\u{200E}"] {
            assert_eq!(refused(&dg03(bad), rg), ProblemCode::WrongType, "{bad:?}");
            let e = Change::decode(crate::ChangeKind::ValuesSet, &dg03(bad).payload());
            assert!(e.is_err(), "{bad:?}");
        }
        // Typing keeps the typing rules.
        let period = cal.period(&"2026-Y".parse().unwrap()).unwrap();
        assert!(crate::validate::parse_input(&cat, rg, &period, "DG03", "Tốt\u{0B}đạt").is_err());
    }

    #[test]
    fn submissions_are_checked_value_by_value() {
        let (cat, cal) = ctx();
        let kind = UnitKind::Department;
        let period = cal.period(&"2026-H1".parse().unwrap()).unwrap();
        let good = crate::UnitState::default().freeze(&cat, kind, &period, Utc::now());
        assert!(admit(&Change::Submit(Box::new(good.clone())), &cat, &cal, kind).is_ok());
        let mut neg = good.clone();
        neg.values.insert("TT01".into(), Value::Number(-1e308));
        assert_eq!(
            refused(&Change::Submit(Box::new(neg)), kind),
            ProblemCode::OutOfRange
        );
        let mut big = good.clone();
        big.notes
            .insert(Section::Results, "x".repeat(MAX_NOTE_BYTES + 1));
        assert_eq!(
            refused(&Change::Submit(Box::new(big)), kind),
            ProblemCode::InvalidField
        );
        // A derived indicator for schools only, in a department's report.
        let school_only = cat
            .indicators
            .iter()
            .find(|i| !i.is_entered() && !i.applies_to(kind))
            .map(|i| i.code.clone());
        if let Some(code) = school_only {
            let mut wrong_kind = good.clone();
            wrong_kind.values.insert(code, Value::Number(1.0));
            assert_eq!(
                refused(&Change::Submit(Box::new(wrong_kind)), kind),
                ProblemCode::NotApplicable
            );
        }
        let mut unknown = good.clone();
        unknown.values = BTreeMap::from([("NOPE".to_string(), Value::Number(1.0))]);
        assert_eq!(
            refused(&Change::Submit(Box::new(unknown)), kind),
            ProblemCode::UnknownIndicator
        );
    }

    #[test]
    fn a_submission_must_agree_with_the_log_and_come_after_its_window_opens() {
        use crate::activity::{Activity, ActivityId, Form};
        let (cat, cal) = ctx();
        let kind = UnitKind::ResidentialGroup;
        let h1 = cal.period(&"2026-H1".parse().unwrap()).unwrap();
        let mut state = UnitState::default();
        state.apply(&Change::ActivityUpsert(Activity {
            id: ActivityId::from_counter(1),
            date: chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            form: Form::Conference,
            title: "Hội nghị".into(),
            participants: Some(45),
            note: String::new(),
        }));
        let at = h1.opens_at() + TimeDelta::days(30);
        let honest = state.freeze(&cat, kind, &h1, at);
        assert!(agrees_with_log(&honest, &state, &cat, &cal, kind).is_ok());
        // Frozen over an empty log: the hub's log has the activity.
        let stale = UnitState::default().freeze(&cat, kind, &h1, at);
        let p = agrees_with_log(&stale, &state, &cat, &cal, kind).unwrap_err();
        assert_eq!(p.field, "activities");
        let mut forged = honest.clone();
        forged
            .values
            .insert("TT10".into(), Value::Number(999_999.0));
        let p = agrees_with_log(&forged, &state, &cat, &cal, kind).unwrap_err();
        assert_eq!(
            (p.field.as_str(), p.code),
            ("TT10", ProblemCode::RuleViolated)
        );
        // Entered values are the unit's own.
        let mut entered = honest.clone();
        entered.values.insert("TT11".into(), Value::Number(7.0));
        assert!(agrees_with_log(&entered, &state, &cat, &cal, kind).is_ok());

        // 2027-H1 opens at 00:00 on 15/12/2026, Vietnam time.
        let next = cal.period(&"2027-H1".parse().unwrap()).unwrap();
        let opens = next.opens_at();
        assert_eq!(opens.to_rfc3339(), "2026-12-14T17:00:00+00:00");
        let early = UnitState::default().freeze(&cat, kind, &next, opens - TimeDelta::days(9));
        let p = window_open(&early, &cal, opens).unwrap_err();
        assert!(p.message_vi.contains("15/12/2026"), "{}", p.message_vi);
        let on_time = UnitState::default().freeze(&cat, kind, &next, opens);
        assert!(window_open(&on_time, &cal, opens - TimeDelta::days(9)).is_err());
        assert!(window_open(&on_time, &cal, opens - TimeDelta::minutes(5)).is_ok());
        assert!(window_open(&on_time, &cal, opens).is_ok());
    }
}
