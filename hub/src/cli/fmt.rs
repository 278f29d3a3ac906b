//! Shared formatting of the CLI's output: times in Vietnam time, the words
//! for states, and columns. One home, so every command shows a time or a
//! table the same way.

use std::io::Write;

use chrono::{DateTime, FixedOffset};
use coso_domain::calendar::vietnam;
use coso_domain::{Lang, Value};
use coso_proto::pb;
use serde_json::json;

use super::CliError;

fn parse(rfc3339: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(rfc3339).ok()
}

/// "04/06/2026 09:15" in Vietnam time; empty for no time.
pub fn vn_time(rfc3339: &str) -> String {
    parse(rfc3339)
        .map(|t| {
            t.with_timezone(&vietnam())
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// "04/06/2026" (the day, Vietnam time): a deadline is 00:00 of its day,
/// which people read as "before DD/MM/YYYY".
pub fn vn_day(rfc3339: &str) -> String {
    parse(rfc3339)
        .map(|t| t.with_timezone(&vietnam()).format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// RFC 3339 in Vietnam time for JSON, or null.
pub fn json_time(rfc3339: &str) -> serde_json::Value {
    match parse(rfc3339) {
        Some(t) => json!(t.with_timezone(&vietnam()).to_rfc3339()),
        None => serde_json::Value::Null,
    }
}

pub fn value_json(v: &pb::Value) -> serde_json::Value {
    match Value::try_from(v.clone()) {
        Ok(v) => v.to_json(),
        Err(_) => serde_json::Value::Null,
    }
}

/// A value as people read it: Vietnamese number format, có/không.
pub fn value_text(v: &pb::Value, lang: Lang) -> String {
    match Value::try_from(v.clone()) {
        Ok(Value::Number(n)) => coso_domain::value::format_vi(n, 2),
        Ok(Value::Bool(b)) => lang
            .pick(if b { "có" } else { "không" }, if b { "yes" } else { "no" })
            .to_string(),
        Ok(Value::Text(t)) => t,
        Err(_) => String::new(),
    }
}

/// Code, name and kind of a wire unit.
pub fn unit_fields(u: &Option<pb::Unit>) -> (String, String, String) {
    let u = u.clone().unwrap_or_default();
    (u.code, u.name, u.kind)
}

/// A machine word (enrolment, delivery state and outcome) as people read it;
/// English keeps the word. A report's state and timeliness are said by
/// `coso_domain::words`, as every face says them.
pub fn word(s: &str, lang: Lang) -> &str {
    let vi = match s {
        "pending" => "chờ đăng ký",
        "active" => "đang hoạt động",
        "revoked" => "đã thu hồi",
        "queued" => "đang chờ gửi",
        "delivered" => "đã gửi",
        "failed" => "thất bại",
        "superseded" => "đã thay bằng bản sau",
        "retry" => "sẽ thử lại",
        "manual" => "gửi tay",
        "before_due" => "trước hạn",
        "all_accepted" => "đủ báo cáo",
        other => other,
    };
    lang.pick(vi, s)
}

/// Rows laid out as left-aligned columns, two spaces apart.
pub fn table_lines(rows: &[Vec<String>]) -> Vec<String> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            for (c, cell) in r.iter().enumerate() {
                line.push_str(cell);
                if c + 1 < r.len() {
                    let pad = widths[c] - cell.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

/// Writes rows as left-aligned columns.
pub fn table(out: &mut dyn Write, rows: &[Vec<String>]) -> Result<(), CliError> {
    for line in table_lines(rows) {
        writeln!(out, "{line}").map_err(CliError::Output)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_vietnam_time() {
        assert_eq!(vn_time("2026-06-04T02:15:00Z"), "04/06/2026 09:15");
        assert_eq!(vn_day("2026-06-04T17:00:00Z"), "05/06/2026");
        assert_eq!(vn_time(""), "");
        assert_eq!(json_time(""), serde_json::Value::Null);
        assert_eq!(
            json_time("2026-06-04T02:15:00Z"),
            json!("2026-06-04T09:15:00+07:00")
        );
    }

    #[test]
    fn columns_line_up_by_characters_not_bytes() {
        let rows = vec![
            vec!["MÃ".to_string(), "TÊN".into()],
            vec!["TDP01".to_string(), "Tổ 1".into()],
        ];
        assert_eq!(table_lines(&rows), ["MÃ     TÊN", "TDP01  Tổ 1"]);
    }
}
