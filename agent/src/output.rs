//! Rendering for people (aligned plain-text tables, Vietnamese numbers) and
//! for scripts (one JSON document), and [`Render`]: how every command's typed
//! outcome becomes text, so the CLI and the web app say the same words.

use std::io::Write;

use coso_domain::value::format_vi;
use coso_domain::{Lang, Value};

/// A plain-text table: columns padded to the widest cell, the last column unpadded.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Table {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as lines, each starting with `indent`.
    pub fn render(&self, indent: &str) -> String {
        let cols = self.header.len();
        let mut widths = vec![0usize; cols];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(cols) {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let line = |r: &Vec<String>| {
            let mut s = String::from(indent);
            for (i, c) in r.iter().enumerate().take(cols) {
                s.push_str(c);
                if i + 1 < cols {
                    let pad = widths[i] - c.chars().count() + 2;
                    s.extend(std::iter::repeat_n(' ', pad));
                }
            }
            s.trim_end().to_string()
        };
        let mut out = vec![line(&self.header)];
        let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
        out.push(line(&rule));
        out.extend(self.rows.iter().map(line));
        out.join("\n")
    }
}

/// A value for people: Vietnamese numbers ("1.234,5"), có/không.
pub fn value_text(v: &Value, lang: Lang) -> String {
    match v {
        Value::Number(n) => match lang {
            Lang::Vi => format_vi(*n, 2),
            Lang::En => {
                if n.fract() == 0.0 {
                    format!("{n:.0}")
                } else {
                    format!("{n}")
                }
            }
        },
        Value::Bool(b) => match (b, lang) {
            (true, Lang::Vi) => "có".into(),
            (false, Lang::Vi) => "không".into(),
            (true, Lang::En) => "yes".into(),
            (false, Lang::En) => "no".into(),
        },
        Value::Text(t) => t.clone(),
    }
}

/// What an indicator without a value shows: never zero.
pub fn not_reported(lang: Lang) -> &'static str {
    lang.pick("chưa báo cáo", "not reported")
}

/// What a command did, as the faces show it. The command returns the
/// outcome; the CLI prints [`Render::text`] (or [`Render::json`] with
/// `--json`), and the web app shows the same text as its one-time message.
pub trait Render {
    /// The sentences for people, one per line, without a final newline.
    fn text(&self, lang: Lang) -> String;

    /// The one JSON document `--json` prints, for commands that have one;
    /// the others print their text whatever the flag says.
    fn json(&self, _lang: Lang) -> Option<String> {
        None
    }
}

/// Prints an outcome as the CLI does: its JSON document when `json` is asked
/// and the command has one, else its text; then a newline.
pub fn write_outcome(
    out: &mut dyn Write,
    outcome: &dyn Render,
    lang: Lang,
    json: bool,
) -> std::io::Result<()> {
    match json.then(|| outcome.json(lang)).flatten() {
        Some(doc) => writeln!(out, "{doc}"),
        None => writeln!(out, "{}", outcome.text(lang)),
    }
}

/// One JSON document as `--json` prints it (indented).
pub fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON values serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_vietnamese_text() {
        let mut t = Table::new(["Mã", "Giá trị", "Chỉ tiêu"]);
        t.row(["TT01", "1.234", "Số văn bản"]);
        t.row(["DB01", "chưa báo cáo", "Số cuộc họp"]);
        let text = t.render("");
        let lines: Vec<&str> = text.lines().collect();
        let col = |l: &str| l.chars().position(|c| c == 'S');
        assert_eq!(col(lines[2]), col(lines[3]));
        assert!(lines[3].contains("chưa báo cáo"));
    }

    #[test]
    fn values_for_people() {
        assert_eq!(value_text(&Value::Number(1234.5), Lang::Vi), "1.234,5");
        assert_eq!(value_text(&Value::Number(3.0), Lang::En), "3");
        assert_eq!(value_text(&Value::Bool(true), Lang::Vi), "có");
    }
}
