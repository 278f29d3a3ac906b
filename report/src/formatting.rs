//! How the writers say things: times and dates (RFC 3339 in Vietnam time,
//! Decree 30/2020 dates), numbers for people and for machines, text cleaned
//! of what XML cannot carry, and the natural order of unit codes. Shared by
//! the ward's report and the city roll-up so both say a value the same way.
//! Also [`spreadsheet_text`], the one guard against formulas in the text
//! cells of every CSV and XLSX coso writes.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use coso_domain::calendar::vietnam;
use coso_domain::catalog::{Aggregation, Indicator, ValueType};
use coso_domain::value::format_vi;
use coso_domain::{Period, Value};

/// RFC 3339 in Vietnam time, seconds precision.
pub(crate) fn rfc3339_vn(t: DateTime<Utc>) -> String {
    t.with_timezone(&vietnam())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Day and month the Decree 30/2020 way: days below 10 and the months 1 and 2
/// take a leading zero, other months do not.
fn day_month(d: NaiveDate) -> (String, String) {
    let day = format!("{:02}", d.day());
    let month = if d.month() <= 2 {
        format!("{:02}", d.month())
    } else {
        d.month().to_string()
    };
    (day, month)
}

/// An RFC 3339 time as a terminal shows it: "2026-06-04 08:05:00" in
/// Vietnam time; `None` when it does not parse.
pub(crate) fn local_time(rfc3339: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(rfc3339).ok().map(|t| {
        t.with_timezone(&vietnam())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    })
}

/// Rows (the head first) as left-aligned columns two spaces apart, one
/// line each with no trailing spaces: the `status` tables for a terminal,
/// the ward's and the city's alike.
pub(crate) fn text_table<R: AsRef<[String]>>(rows: &[R]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for r in rows {
        for (i, c) in r.as_ref().iter().enumerate() {
            let n = c.chars().count();
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(n),
                None => widths.push(n),
            }
        }
    }
    let mut out = String::new();
    for r in rows {
        let cells = r.as_ref();
        let mut line = String::new();
        for (i, c) in cells.iter().enumerate() {
            line.push_str(c);
            if i + 1 < cells.len() {
                line.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// "Gia Viên, ngày 04 tháng 6 năm 2026".
pub(crate) fn place_date_line(place: &str, d: NaiveDate) -> String {
    let (day, month) = day_month(d);
    format!("{place}, ngày {day} tháng {month} năm {}", d.year())
}

/// "04/6/2026".
pub(crate) fn short_date(d: NaiveDate) -> String {
    let (day, month) = day_month(d);
    format!("{day}/{month}/{}", d.year())
}

/// "trước 00:00 ngày 05/6/2026".
pub(crate) fn due_phrase(period: &Period) -> String {
    let due = period.due.with_timezone(&vietnam());
    format!(
        "trước {} ngày {}",
        due.format("%H:%M"),
        short_date(due.date_naive())
    )
}

/// How many decimals a value of the indicator shows in documents.
fn decimals(ind: &Indicator) -> usize {
    match (ind.value_type, ind.aggregate) {
        (ValueType::Count, Aggregation::Sum) => 0,
        _ => 2,
    }
}

/// A total or kind value for people: "1.234", "87,5%", "8,25".
pub fn format_number(ind: &Indicator, n: f64) -> String {
    let s = format_vi(n, decimals(ind));
    if ind.value_type == ValueType::Percent {
        format!("{s}%")
    } else {
        s
    }
}

/// A unit's own value for people: numbers the Vietnamese way, "Có"/"Không".
pub(crate) fn format_value(ind: &Indicator, v: &Value) -> String {
    match v {
        Value::Number(n) => format_number(ind, *n),
        Value::Bool(b) => yes_no(*b).into(),
        Value::Text(t) => t.clone(),
    }
}

/// A yes/no answer for people.
pub(crate) fn yes_no(b: bool) -> &'static str {
    if b { "Có" } else { "Không" }
}

/// A value nobody gave, in a table for people: a dash, so it is never read
/// as zero.
pub(crate) const NO_VALUE: &str = "—";

/// A number as machines read it: whole numbers without a fraction.
pub fn machine_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Replaces characters XML 1.0 cannot carry (C0 controls other than tab and
/// newline, U+FFFE, U+FFFF) with U+FFFD, and carriage returns with newlines,
/// so text from units can never break a document.
pub(crate) fn clean_text(s: &str) -> String {
    let s = s.replace("\r\n", "\n");
    s.chars()
        .map(|c| match c {
            '\t' | '\n' => c,
            '\r' => '\n',
            c if (c as u32) < 0x20 => '\u{FFFD}',
            '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Compares codes so that embedded numbers sort by value (TDP2 < TDP10).
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    if a.is_empty() || b.is_empty() {
        return a.cmp(b);
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for ((da, xa), (db, xb)) in ca.iter().zip(cb.iter()) {
        let ord = if *da && *db {
            let (ta, tb) = (xa.trim_start_matches('0'), xb.trim_start_matches('0'));
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            xa.cmp(xb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

/// Text for a spreadsheet cell (CSV or XLSX) that a spreadsheet will not
/// take for a formula: text starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'` (OWASP's advice against CSV
/// injection: a unit named `=HYPERLINK(…)` opened in Excel would otherwise
/// run). A number is left as it is, so `-5` stays minus five.
pub fn spreadsheet_text(s: &str) -> Cow<'_, str> {
    let risky = matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    let number = s.len() > 1
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && s.parse::<f64>().is_ok();
    if risky && !number {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}
