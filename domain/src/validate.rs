//! Checks of indicator values against the catalog. Every problem is reported
//! at once, each with a stable code, the field, and a message in Vietnamese
//! and English.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::calendar::Period;
use crate::catalog::{Catalog, Indicator, ValueType};
use crate::i18n::Lang;
use crate::unit::UnitKind;
use crate::value::{Value, format_vi};

/// Stable problem codes: scripts and tests match on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    UnknownIndicator,
    NotEntered,
    NotApplicable,
    NotRequested,
    WrongType,
    OutOfRange,
    RuleViolated,
    RequiredMissing,
    /// A change names a period the calendar does not have.
    UnknownPeriod,
    /// Text too long, or with control characters; a malformed field.
    InvalidField,
}

impl ProblemCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::UnknownIndicator => "unknown_indicator",
            ProblemCode::NotEntered => "not_entered",
            ProblemCode::NotApplicable => "not_applicable",
            ProblemCode::NotRequested => "not_requested",
            ProblemCode::WrongType => "wrong_type",
            ProblemCode::OutOfRange => "out_of_range",
            ProblemCode::RuleViolated => "rule_violated",
            ProblemCode::RequiredMissing => "required_missing",
            ProblemCode::UnknownPeriod => "unknown_period",
            ProblemCode::InvalidField => "invalid_field",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: ProblemCode,
    /// The indicator code (or rule code) the problem is about.
    pub field: String,
    pub message_vi: String,
    pub message_en: String,
}

impl Problem {
    pub(crate) fn new(code: ProblemCode, field: &str, vi: String, en: String) -> Problem {
        Problem {
            code,
            field: field.to_string(),
            message_vi: vi,
            message_en: en,
        }
    }
    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.message_vi,
            Lang::En => &self.message_en,
        }
    }
}

/// Parses what an officer typed for one indicator (`value set CODE=VALUE`, a
/// spreadsheet cell) into a typed value, checking that the indicator exists,
/// is typed in (not derived), applies to this kind of unit and is asked for
/// in the period, and that the value has the right type and range.
pub fn parse_input(
    catalog: &Catalog,
    kind: UnitKind,
    period: &Period,
    code: &str,
    raw: &str,
) -> Result<(String, Value), Problem> {
    let code = code.trim().to_uppercase();
    let ind = usable(catalog, kind, period, &code)?;
    let value = parse_typed(ind, raw.trim())?;
    check_typed(ind, &value)?;
    Ok((code, value))
}

/// The indicator behind `code` if an officer may enter it for this unit and period.
fn usable<'a>(
    catalog: &'a Catalog,
    kind: UnitKind,
    period: &Period,
    code: &str,
) -> Result<&'a Indicator, Problem> {
    let Some(ind) = catalog.indicator(code) else {
        return Err(Problem::new(
            ProblemCode::UnknownIndicator,
            code,
            format!("{code}: không có chỉ tiêu này trong danh mục"),
            format!("{code}: no such indicator in the catalog"),
        ));
    };
    if !ind.is_entered() {
        return Err(Problem::new(
            ProblemCode::NotEntered,
            code,
            format!(
                "{code}: chỉ tiêu này được tính tự động (từ hoạt động hoặc tỷ lệ), không nhập tay"
            ),
            format!("{code}: this indicator is computed (from activities or a rate), not entered"),
        ));
    }
    asked_of(ind, kind, period)?;
    Ok(ind)
}

/// Whether the indicator applies to this kind of unit and is asked for in the period.
fn asked_of(ind: &Indicator, kind: UnitKind, period: &Period) -> Result<(), Problem> {
    let code = ind.code.as_str();
    if !ind.applies_to(kind) {
        return Err(Problem::new(
            ProblemCode::NotApplicable,
            code,
            format!(
                "{code}: chỉ tiêu không áp dụng cho loại đơn vị {}",
                kind.name_vi()
            ),
            format!("{code}: does not apply to a unit of kind {kind}"),
        ));
    }
    if !period.asks_for(code) {
        return Err(Problem::new(
            ProblemCode::NotRequested,
            code,
            format!(
                "{code}: kỳ báo cáo {} không yêu cầu chỉ tiêu này",
                period.code
            ),
            format!(
                "{code}: period {} does not ask for this indicator",
                period.code
            ),
        ));
    }
    Ok(())
}

fn parse_typed(ind: &Indicator, raw: &str) -> Result<Value, Problem> {
    let code = ind.code.as_str();
    let wrong = |vi: &str, en: &str| {
        Problem::new(
            ProblemCode::WrongType,
            code,
            format!("{code}: giá trị {raw:?} không hợp lệ, cần {vi}"),
            format!("{code}: value {raw:?} is invalid, expected {en}"),
        )
    };
    match ind.value_type {
        ValueType::Count => match raw.parse::<u64>() {
            Ok(n) if n as f64 <= MAX_COUNT => Ok(Value::Number(n as f64)),
            _ => Err(wrong(
                "một số nguyên không âm, tối đa 1.000.000.000.000",
                "a whole number from 0 to 1000000000000",
            )),
        },
        ValueType::Number | ValueType::Percent => {
            // Officers write decimals the Vietnamese way too: "87,5".
            let t = raw.trim_end_matches('%').trim().replace(',', ".");
            match t.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Value::Number(n)),
                _ => Err(wrong("một số", "a number")),
            }
        }
        ValueType::YesNo => match raw.to_lowercase().as_str() {
            "yes" | "true" | "có" | "co" | "1" | "x" => Ok(Value::Bool(true)),
            "no" | "false" | "không" | "khong" | "0" => Ok(Value::Bool(false)),
            _ => Err(wrong("có/không (yes/no)", "yes or no")),
        },
        ValueType::Text => {
            let t = crate::text::normalize(raw);
            if let Some(c) = crate::text::forbidden_char(&t, crate::text::Lines::Many) {
                return Err(control_character(code, c));
            }
            if t.is_empty() || t.len() > crate::text::MAX_NOTE_BYTES {
                Err(wrong(
                    "văn bản không rỗng, tối đa 64 KB",
                    "non-empty text of at most 64 KB",
                ))
            } else {
                Ok(Value::Text(t))
            }
        }
    }
}

/// A text value of indicator `code` holds `c`, which its rules refuse.
fn control_character(code: &str, c: char) -> Problem {
    let cp = format!("U+{:04X}", u32::from(c));
    Problem::new(
        ProblemCode::WrongType,
        code,
        format!("{code}: văn bản chứa ký tự điều khiển {cp}; hãy xóa ký tự này"),
        format!("{code}: the text contains the control character {cp}; remove it"),
    )
}

/// A recorded text value: no control character the record rules refuse
/// ([`crate::text::forbidden_in_record`]), not empty, at most 64 KB.
fn recorded_text(code: &str, t: &str) -> Result<(), Problem> {
    if let Some(c) = crate::text::forbidden_in_record(t) {
        return Err(control_character(code, c));
    }
    if t.is_empty() || t.len() > crate::text::MAX_NOTE_BYTES {
        return Err(Problem::new(
            ProblemCode::WrongType,
            code,
            format!("{code}: giá trị {t:?} không hợp lệ, cần văn bản không rỗng, tối đa 64 KB"),
            format!("{code}: value {t:?} is invalid, expected non-empty text of at most 64 KB"),
        ));
    }
    Ok(())
}

fn check_range(ind: &Indicator, value: &Value) -> Result<(), Problem> {
    let Some(n) = value.as_number() else {
        return Ok(());
    };
    let (lo, hi) = match ind.value_type {
        ValueType::Percent => (Some(ind.min.unwrap_or(0.0)), Some(ind.max.unwrap_or(100.0))),
        _ => (ind.min, ind.max),
    };
    let code = ind.code.as_str();
    let below = lo.is_some_and(|lo| n < lo);
    let above = hi.is_some_and(|hi| n > hi);
    if below || above {
        let range_vi = match (lo, hi) {
            (Some(l), Some(h)) => format!("từ {} đến {}", format_vi(l, 2), format_vi(h, 2)),
            (Some(l), None) => format!("từ {} trở lên", format_vi(l, 2)),
            (None, Some(h)) => format!("không quá {}", format_vi(h, 2)),
            (None, None) => unreachable!("a bound was crossed"),
        };
        let range_en = match (lo, hi) {
            (Some(l), Some(h)) => format!("between {l} and {h}"),
            (Some(l), None) => format!("at least {l}"),
            (None, Some(h)) => format!("at most {h}"),
            (None, None) => unreachable!("a bound was crossed"),
        };
        return Err(Problem::new(
            ProblemCode::OutOfRange,
            code,
            format!(
                "{code}: giá trị {} ngoài khoảng cho phép ({range_vi})",
                format_vi(n, 2)
            ),
            format!("{code}: value {n} is out of range ({range_en})"),
        ));
    }
    Ok(())
}

/// Every problem of a unit's values for a period: each value on its own, then
/// the rules across indicators. `values` are the entered and derived values
/// together, as [`crate::report::compute_values`] gives them.
pub fn check_values(
    catalog: &Catalog,
    kind: UnitKind,
    period: &Period,
    entered: &BTreeMap<String, Value>,
    all: &BTreeMap<String, Value>,
) -> Vec<Problem> {
    let mut out: Vec<Problem> = entered
        .iter()
        .filter_map(|(code, value)| check_entered(catalog, kind, period, code, value).err())
        .collect();
    out.extend(check_rules(catalog, all));
    out
}

/// One typed value as entered: the indicator may be entered for this unit
/// and period, and the value has its type and range. The hub checks what an
/// agent pushes with this same function.
pub fn check_entered(
    catalog: &Catalog,
    kind: UnitKind,
    period: &Period,
    code: &str,
    value: &Value,
) -> Result<(), Problem> {
    let ind = usable(catalog, kind, period, code)?;
    check_typed(ind, value)
}

/// One value of a frozen report: entered values as [`check_entered`];
/// derived ones (counts of activities, rates) must apply to the unit, be
/// asked for, and have their type and range (a count is never negative).
pub fn check_reported(
    catalog: &Catalog,
    kind: UnitKind,
    period: &Period,
    code: &str,
    value: &Value,
) -> Result<(), Problem> {
    match catalog.indicator(code) {
        Some(ind) if !ind.is_entered() => {
            asked_of(ind, kind, period)?;
            check_typed(ind, value)
        }
        _ => check_entered(catalog, kind, period, code, value),
    }
}

/// The value's type, wholeness of counts, text rules and range.
fn check_typed(ind: &Indicator, value: &Value) -> Result<(), Problem> {
    let code = ind.code.as_str();
    let typed_ok = matches!(
        (ind.value_type, value),
        (ValueType::YesNo, Value::Bool(_))
            | (ValueType::Text, Value::Text(_))
            | (
                ValueType::Count | ValueType::Number | ValueType::Percent,
                Value::Number(_)
            )
    );
    let finite = value.as_number().is_none_or(f64::is_finite);
    let whole = !(ind.value_type == ValueType::Count
        && value.as_number().is_some_and(|n| n.fract() != 0.0));
    if !typed_ok || !whole || !finite {
        return Err(Problem::new(
            ProblemCode::WrongType,
            code,
            format!(
                "{code}: giá trị không đúng kiểu {}",
                ind.value_type.as_str()
            ),
            format!("{code}: value is not of type {}", ind.value_type.as_str()),
        ));
    }
    if let Value::Text(t) = value {
        // A value here is recorded (stored, or pushed to the hub): the
        // record rules, as for activities and narratives, so a text value an
        // earlier release let through keeps flowing. Typing went through
        // `parse_typed` first, with the typing rules.
        recorded_text(code, t)?;
    }
    // A count is a whole number of things: never below zero, whatever the
    // catalog's bounds say; no number is beyond MAX_COUNT in size, so a
    // ward's totals stay exact and finite.
    let lowest = match ind.value_type {
        ValueType::Count => 0.0,
        _ => -MAX_COUNT,
    };
    if let Some(n) = value.as_number()
        && !(lowest..=MAX_COUNT).contains(&n)
    {
        return Err(Problem::new(
            ProblemCode::OutOfRange,
            code,
            format!(
                "{code}: giá trị {} ngoài khoảng cho phép (từ {} đến {})",
                format_vi(value.as_number().unwrap_or_default(), 2),
                format_vi(lowest, 0),
                format_vi(MAX_COUNT, 0)
            ),
            format!(
                "{code}: value {} is out of range (between {lowest} and {MAX_COUNT})",
                value.as_number().unwrap_or_default()
            ),
        ));
    }
    check_range(ind, value)
}

/// The largest count coso accepts: far above any ward's reality (a
/// thousand billion), far below where f64 stops counting in ones, so sums
/// over a ward stay exact and no total can overflow.
pub const MAX_COUNT: f64 = 1.0e12;

/// The cross-indicator rules, checked where both sides have a value.
pub fn check_rules(catalog: &Catalog, values: &BTreeMap<String, Value>) -> Vec<Problem> {
    let mut out = Vec::new();
    for rule in &catalog.rules {
        let l = values.get(&rule.left).and_then(Value::as_number);
        let r = values.get(&rule.right).and_then(Value::as_number);
        if let (Some(l), Some(r)) = (l, r)
            && !rule.op.holds(l, r)
        {
            out.push(Problem::new(
                ProblemCode::RuleViolated,
                &rule.left,
                format!(
                    "{} [{}: {} = {} {} {} = {}]",
                    rule.message_vi,
                    rule.code,
                    rule.left,
                    format_vi(l, 2),
                    rule.op.symbol(),
                    rule.right,
                    format_vi(r, 2)
                ),
                format!(
                    "{} [{}: {} = {l} {} {} = {r}]",
                    rule.message_en,
                    rule.code,
                    rule.left,
                    rule.op.symbol(),
                    rule.right
                ),
            ));
        }
    }
    out
}

/// Required indicators without a value. A value left empty is "not
/// reported"; it blocks submission only where the catalog requires it.
pub fn check_required(
    catalog: &Catalog,
    kind: UnitKind,
    period: &Period,
    values: &BTreeMap<String, Value>,
) -> Vec<Problem> {
    catalog
        .indicators
        .iter()
        .filter(|i| {
            i.required_for(kind) && period.asks_for(&i.code) && !values.contains_key(&i.code)
        })
        .map(|i| {
            Problem::new(
                ProblemCode::RequiredMissing,
                &i.code,
                format!("{}: chưa báo cáo chỉ tiêu bắt buộc \"{}\"", i.code, i.name),
                format!(
                    "{}: required indicator \"{}\" is not reported",
                    i.code, i.name_en
                ),
            )
        })
        .collect()
}

/// Everything that blocks submitting a report.
pub fn check_report(
    catalog: &Catalog,
    kind: UnitKind,
    period: &Period,
    entered: &BTreeMap<String, Value>,
    all: &BTreeMap<String, Value>,
) -> Vec<Problem> {
    let mut out = check_values(catalog, kind, period, entered, all);
    out.extend(check_required(catalog, kind, period, all));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{AdHocPeriod, Calendar};
    use proptest::prelude::*;

    fn setup() -> (Catalog, Period) {
        (
            Catalog::builtin(),
            Calendar::builtin()
                .period(&"2026-H1".parse().unwrap())
                .unwrap(),
        )
    }

    fn code_of(r: Result<(String, Value), Problem>) -> ProblemCode {
        r.unwrap_err().code
    }

    #[test]
    fn each_input_rule_passes_and_fails() {
        let (c, p) = setup();
        let rg = UnitKind::ResidentialGroup;
        assert_eq!(
            parse_input(&c, rg, &p, "db01", "3").unwrap(),
            ("DB01".into(), Value::Number(3.0))
        );
        assert_eq!(
            code_of(parse_input(&c, rg, &p, "XX99", "3")),
            ProblemCode::UnknownIndicator
        );
        assert_eq!(
            code_of(parse_input(&c, rg, &p, "TT01", "3")),
            ProblemCode::NotEntered
        );
        assert_eq!(
            code_of(parse_input(&c, rg, &p, "CQ01", "yes")),
            ProblemCode::NotApplicable
        );
        assert!(parse_input(&c, UnitKind::School, &p, "CQ01", "có").is_ok());
        assert_eq!(
            code_of(parse_input(&c, rg, &p, "DB01", "ba")),
            ProblemCode::WrongType
        );
        assert_eq!(
            code_of(parse_input(&c, rg, &p, "DB01", "2.5")),
            ProblemCode::WrongType
        );
        assert_eq!(
            code_of(parse_input(&c, rg, &p, "DB01", "-1")),
            ProblemCode::WrongType
        );
        let school = UnitKind::School;
        assert_eq!(
            parse_input(&c, school, &p, "DG01", "87,5").unwrap().1,
            Value::Number(87.5)
        );
        assert_eq!(
            code_of(parse_input(&c, school, &p, "DG01", "120")),
            ProblemCode::OutOfRange
        );
        assert_eq!(
            code_of(parse_input(&c, school, &p, "CQ01", "maybe")),
            ProblemCode::WrongType
        );
    }

    #[test]
    fn adhoc_periods_limit_the_indicators() {
        let (c, _) = setup();
        let mut cal = Calendar::builtin();
        cal.adhoc.push(AdHocPeriod {
            code: "2026-A01".parse().unwrap(),
            title: "Đột xuất".into(),
            due: chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
            indicators: vec!["DT02".into()],
        });
        let p = cal.period(&"2026-A01".parse().unwrap()).unwrap();
        let rg = UnitKind::ResidentialGroup;
        assert!(parse_input(&c, rg, &p, "DT02", "1").is_ok());
        assert_eq!(
            code_of(parse_input(&c, rg, &p, "DT03", "1")),
            ProblemCode::NotRequested
        );
    }

    #[test]
    fn rules_and_required() {
        let (c, p) = setup();
        let kind = UnitKind::Department;
        let mut v: BTreeMap<String, Value> = [
            ("DT02".to_string(), Value::Number(5.0)),
            ("DT03".to_string(), Value::Number(5.0)),
        ]
        .into();
        assert!(check_rules(&c, &v).is_empty());
        v.insert("DT03".into(), Value::Number(6.0));
        let probs = check_values(&c, kind, &p, &v, &v);
        assert_eq!(probs.len(), 1);
        assert_eq!(probs[0].code, ProblemCode::RuleViolated);
        assert!(
            probs[0].message_vi.contains("DT-R1"),
            "{}",
            probs[0].message_vi
        );
        let req = check_required(&c, kind, &p, &BTreeMap::new());
        assert!(
            req.iter()
                .any(|p| p.field == "CQ01" && p.code == ProblemCode::RequiredMissing)
        );
        let done: BTreeMap<String, Value> = [("CQ01".to_string(), Value::Bool(false))].into();
        assert!(
            check_required(&c, kind, &p, &done).is_empty(),
            "a 'no' is an answer"
        );
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let (c, p) = setup();
        let v: BTreeMap<String, Value> = [
            ("NOPE".to_string(), Value::Number(1.0)),
            ("DB01".to_string(), Value::Text("x".into())),
            ("CQ01".to_string(), Value::Bool(true)),
        ]
        .into();
        let probs = check_report(&c, UnitKind::ResidentialGroup, &p, &v, &v);
        let codes: Vec<_> = probs.iter().map(|p| p.code).collect();
        assert!(codes.contains(&ProblemCode::UnknownIndicator));
        assert!(codes.contains(&ProblemCode::WrongType));
        assert!(codes.contains(&ProblemCode::NotApplicable));
        for p in &probs {
            assert!(!p.message_vi.is_empty() && !p.message_en.is_empty());
        }
    }

    proptest! {
        #[test]
        fn counts_accept_exactly_the_naturals(n in -1000i64..1000) {
            let (c, p) = setup();
            let r = parse_input(&c, UnitKind::Department, &p, "DT02", &n.to_string());
            prop_assert_eq!(r.is_ok(), n >= 0);
        }

        #[test]
        fn percents_stay_in_range(x in -50.0f64..150.0) {
            let (c, p) = setup();
            let r = parse_input(&c, UnitKind::School, &p, "DG01", &format!("{x}"));
            prop_assert_eq!(r.is_ok(), (0.0..=100.0).contains(&x));
        }
    }
}
