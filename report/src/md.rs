//! `report --format md`: a quick look at the consolidated report in Markdown.
//! Text from units is escaped so it can neither break the tables nor inject
//! markup or HTML.
//!
//! The Markdown table writer both reports go through is here too
//! ([`table_head`], [`table_row`], [`group_row`]); the city roll-up
//! (`city::render`) writes its tables with it.

use std::fmt::Write;

use coso_domain::catalog::ValueType;
use coso_domain::{Lang, Section, words};

use super::{KindCell, Model, NO_VALUE, clean_text, format_number, format_value};

/// Escapes one line of text for Markdown: characters that start inline
/// markup or break a table get a backslash, `<`/`>`/`&` become entities (so no
/// raw HTML), what would start a heading or list at the line's start is
/// escaped, and control characters are replaced.
pub(crate) fn escape_line(s: &str) -> String {
    let clean = clean_text(s);
    let mut out = String::with_capacity(clean.len() + 8);
    let chars: Vec<char> = clean.chars().collect();
    // A line such as "1. …" or "- …" would become a list.
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    let marker = match chars.first() {
        Some('#' | '-' | '+' | '=') => Some(0),
        _ if digits > 0 && matches!(chars.get(digits), Some('.' | ')')) => Some(digits),
        _ => None,
    };
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\t' => out.push(' '),
            c => {
                if marker == Some(i) {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out
}

/// Escapes multi-line text: each line escaped, lines joined by hard breaks.
fn escape_block(s: &str) -> String {
    clean_text(s)
        .lines()
        .map(|l| escape_line(l.trim_end()))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("  \n")
}

/// Escapes text for a cell of the city roll-up's Markdown: only what
/// would break the table (pipes, line breaks). Kept apart from
/// [`escape_line`], which also escapes inline markup and HTML, because the
/// roll-up has always written its text so: escaping more would change its
/// bytes for any ward name or text with `*`, `_`, `<`, `&`…
pub(crate) fn escape_pipes(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// How a column of a Markdown table is aligned.
#[derive(Clone, Copy)]
pub(crate) enum Align {
    Left,
    /// Numbers.
    Right,
}

/// The head of a table: `| a | b |` and the rule under it (`|---|---:|`).
/// Cells are written as they are given (escaped by the caller).
pub(crate) fn table_head<S: AsRef<str>>(
    o: &mut String,
    heads: impl IntoIterator<Item = S>,
    aligns: impl IntoIterator<Item = Align>,
) {
    table_row(o, heads);
    o.push('|');
    for a in aligns {
        o.push_str(match a {
            Align::Left => "---|",
            Align::Right => "---:|",
        });
    }
    o.push('\n');
}

/// One row of a table: `| a | b |`, an empty cell written `|  |`.
pub(crate) fn table_row<S: AsRef<str>>(o: &mut String, cells: impl IntoIterator<Item = S>) {
    o.push('|');
    for c in cells {
        o.push(' ');
        o.push_str(c.as_ref());
        o.push_str(" |");
    }
    o.push('\n');
}

/// A group's row in a table of `columns` columns: its name in the second
/// cell, the other cells blank and written `| |`, so the row reads as a
/// heading rather than an indicator with empty values.
pub(crate) fn group_row(o: &mut String, name: &str, columns: usize) {
    o.push_str("| |");
    let _ = write!(o, " {name} |");
    for _ in 2..columns {
        o.push_str(" |");
    }
    o.push('\n');
}

pub(crate) fn render(m: &Model) -> String {
    let mut o = String::new();
    let lh = m.letterhead();
    let p = m.period();
    // Writing to a String cannot fail.
    let _ = writeln!(o, "# BÁO CÁO\n\n**{}**\n", escape_line(&m.subject()));
    let _ = writeln!(
        o,
        "{} — {} — *{}*\n",
        escape_line(&format!("{} {}", lh.issuer_parent, lh.issuer)),
        escape_line(&lh.number_line),
        escape_line(&super::place_date_line(&lh.place, m.input.report_date))
    );
    let _ = writeln!(
        o,
        "Kỳ báo cáo: {} ({}), hạn nộp: {}\n",
        escape_line(&p.code.to_string()),
        escape_line(&p.title),
        escape_line(&super::due_phrase(p))
    );
    let _ = writeln!(
        o,
        "**{}.**\n",
        escape_line(&m.completeness.sentence(Lang::Vi))
    );

    let _ = writeln!(o, "## Tình hình báo cáo\n");
    table_head(
        &mut o,
        [
            "Mã",
            "Đơn vị",
            "Loại",
            "Trạng thái",
            "Thời điểm nhận",
            "Đúng hạn",
        ],
        [Align::Left; 6],
    );
    for r in &m.rows {
        let u = r.unit();
        table_row(
            &mut o,
            [
                escape_line(u.code.as_str()),
                escape_line(&u.name),
                escape_line(u.kind.name_vi()),
                r.state.label(Lang::Vi).to_string(),
                r.submitted_at
                    .map(|t| escape_line(&super::rfc3339_vn(t)))
                    .unwrap_or_default(),
                words::timeliness_label(r.timeliness, Lang::Vi).to_string(),
            ],
        );
    }

    let _ = writeln!(o, "\n## Chỉ tiêu\n");
    let mut head = vec!["Mã".to_string(), "Chỉ tiêu".into(), "Đơn vị tính".into()];
    head.extend(m.kinds.iter().map(|k| escape_line(k.name_vi())));
    head.push("Tổng cộng".into());
    let aligns = [Align::Left; 3]
        .into_iter()
        .chain(std::iter::repeat_n(Align::Right, m.kinds.len() + 1));
    table_head(&mut o, &head, aligns);
    let catalog = m.input.catalog;
    for g in &catalog.groups {
        let rows: Vec<_> = m
            .indicators
            .iter()
            .filter(|r| r.ind.group == g.code && r.ind.value_type != ValueType::Text)
            .collect();
        if rows.is_empty() {
            continue;
        }
        group_row(&mut o, &format!("**{}**", escape_line(&g.name)), head.len());
        for r in rows {
            let mut cells = vec![
                escape_line(&r.ind.code),
                escape_line(&r.ind.name),
                escape_line(&r.ind.measure),
            ];
            cells.extend(r.by_kind.iter().map(|(_, c)| {
                escape_line(&match c {
                    KindCell::Value(v) => format_number(r.ind, *v),
                    KindCell::Missing => NO_VALUE.into(),
                    KindCell::NotApplicable => String::new(),
                })
            }));
            let total = r
                .total
                .map(|t| format_number(r.ind, t))
                .unwrap_or_else(|| NO_VALUE.into());
            cells.push(escape_line(&total));
            table_row(&mut o, cells);
        }
    }
    let _ = writeln!(
        o,
        "\n— : chưa có đơn vị nào báo cáo (không phải số 0); ô trống: chỉ tiêu không áp dụng.\n"
    );

    for r in m.text_answers() {
        if r.by_unit.is_empty() {
            continue;
        }
        let _ = writeln!(o, "## {}\n", escape_line(&r.ind.name));
        for (u, v) in &r.by_unit {
            let _ = writeln!(
                o,
                "**{}** ({}):  \n{}\n",
                escape_line(&u.name),
                escape_line(u.code.as_str()),
                escape_block(&format_value(r.ind, v))
            );
        }
    }

    for (i, section) in Section::ALL.into_iter().enumerate() {
        let _ = writeln!(
            o,
            "## {}. {}\n",
            ["I", "II", "III", "IV"][i],
            section.heading_vi()
        );
        let mut any = false;
        for n in m.narratives_of(section) {
            any = true;
            let _ = writeln!(
                o,
                "**{}** ({}):  \n{}\n",
                escape_line(&n.unit.name),
                escape_line(n.unit.code.as_str()),
                escape_block(n.text)
            );
        }
        if !any {
            let _ = writeln!(o, "*Không có đơn vị nào nêu nội dung này.*\n");
        }
    }
    o
}
