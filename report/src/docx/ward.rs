//! The ward's own report in the Decree 30/2020 frame: sections I–IV from
//! the model (the ward's narrative where it wrote one, else the units'
//! sentences said once), Phụ lục I by kind of unit and every unit's full
//! text (Phụ lục II).

use coso_domain::catalog::ValueType;
use coso_domain::{Lang, Section as NoteSection};
use docx_rs::{Paragraph, Table};

use super::blocks::{
    BODY, Grid, GridRow, Style, annex_title, attributed, body, body_text, closing, grid_table,
    heading, roman, runs, said_total, subheading, synthesized, ward_text,
};
use super::frame::{Block, Document, LANDSCAPE_WIDTH, write};
use crate::{
    CompileError, IndicatorRow, KindCell, Model, NO_VALUE, Narrative, UnitRow, due_phrase,
    format_number, format_value, short_date,
};

pub(crate) fn render(m: &Model) -> Result<Vec<u8>, CompileError> {
    write(|| document(m))
}

/// The ward's whole document, before packing (tests read its XML).
#[cfg(test)]
pub(crate) fn build(m: &Model) -> docx_rs::Docx {
    super::frame::frame(document(m))
}

/// The ward's report: its sections, Phụ lục I by kind of unit, and every
/// unit's own text (Phụ lục II).
fn document<'a>(m: &Model<'a>) -> Document<'a> {
    let mut appendix = vec![Block::T(Box::new(appendix_table(m, LANDSCAPE_WIDTH)))];
    appendix.extend(annex_opinions(m).into_iter().map(|p| Block::P(Box::new(p))));
    Document {
        letterhead: m.letterhead(),
        report_date: m.input.report_date,
        period_phrase: m.period_phrase(),
        body: sections(m),
        appendix,
    }
}

/// A total as said in a sentence: "1.234 lượt người", "12/15 đơn vị", "87,5%".
fn total_phrase(r: &IndicatorRow) -> String {
    said_total(r.ind, r.total, r.units_reporting)
}

fn unit_texts<'a>(items: impl Iterator<Item = &'a Narrative<'a>>) -> Vec<(&'a str, &'a str)> {
    items.map(|n| (n.unit.name.as_str(), n.text)).collect()
}

/// The body of a narrative section: the ward's text, else the synthesis.
fn section_body(m: &Model, section: NoteSection) -> Vec<Paragraph> {
    match m.ward_note(section) {
        Some(t) => ward_text(t),
        None => synthesized(unit_texts(m.narratives_of(section))),
    }
}

fn names(m: &Model, pick: impl Fn(&UnitRow) -> bool) -> Vec<String> {
    m.rows
        .iter()
        .filter(|r| pick(r))
        .map(|r| r.unit().name.clone())
        .collect()
}

fn sections(m: &Model) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let c = &m.completeness;
    let roman = ["I", "II", "III", "IV"];

    out.push(heading(&format!(
        "{}. {}",
        roman[0],
        NoteSection::Results.heading_vi()
    )));
    out.push(subheading("1. Tình hình báo cáo của các đơn vị"));
    out.push(body_text(&format!(
        "Tính đến ngày {} (hạn nộp: {}), {}.",
        short_date(m.input.report_date),
        due_phrase(m.period()),
        c.sentence(Lang::Vi),
    )));
    let late = names(m, |r| r.timeliness == coso_domain::Timeliness::Late);
    if !late.is_empty() {
        out.push(body_text(&format!(
            "Các đơn vị báo cáo muộn: {}.",
            late.join(", ")
        )));
    }
    let missing = names(m, |r| r.report.is_none());
    if !missing.is_empty() {
        out.push(body_text(&format!(
            "Các đơn vị chưa báo cáo: {}.",
            missing.join(", ")
        )));
    }

    out.push(subheading("2. Kết quả thực hiện các nội dung"));
    let mut n = 0;
    for g in &m.input.catalog.groups {
        let rows: Vec<_> = m
            .indicators
            .iter()
            .filter(|r| r.ind.group == g.code && r.ind.value_type != ValueType::Text)
            .collect();
        if rows.is_empty() {
            continue;
        }
        n += 1;
        out.push(body(runs(
            &format!("2.{n}. {}", g.name),
            Style::size(BODY).italic(),
        )));
        for r in rows {
            out.push(body_text(&format!(
                "- {}: {}.",
                r.ind.name,
                total_phrase(r)
            )));
        }
    }

    let mut next = 3;
    let results = section_body(m, NoteSection::Results);
    if !results.is_empty() {
        out.push(subheading(&format!("{next}. Kết quả tại các đơn vị")));
        out.extend(results);
        next += 1;
    }
    for r in m.text_answers() {
        if r.by_unit.is_empty() {
            continue;
        }
        out.push(subheading(&format!("{next}. {}", r.ind.name)));
        let answers: Vec<(&str, String)> = r
            .by_unit
            .iter()
            .map(|(u, v)| (u.name.as_str(), format_value(r.ind, v)))
            .collect();
        out.extend(synthesized(answers.iter().map(|(u, t)| (*u, t.as_str()))));
        next += 1;
    }

    let none = [
        "Các đơn vị không nêu khó khăn, vướng mắc.",
        "Các đơn vị không có đề xuất, kiến nghị.",
        "Các đơn vị chưa nêu nhiệm vụ thời gian tới.",
    ];
    for (i, section) in [
        NoteSection::Difficulties,
        NoteSection::Proposals,
        NoteSection::NextTasks,
    ]
    .into_iter()
    .enumerate()
    {
        out.push(heading(&format!(
            "{}. {}",
            roman[i + 1],
            section.heading_vi()
        )));
        let items = section_body(m, section);
        if items.is_empty() {
            out.push(body_text(none[i]));
        } else {
            out.extend(items);
        }
    }
    // The closing sentence stays on the page of the signature block.
    out.push(closing(m.letterhead(), &m.period_phrase()));
    out
}

/// Phụ lục II: every unit's own text, by section, as it was written.
fn annex_opinions(m: &Model) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let texts: Vec<_> = m.text_answers().filter(|r| !r.by_unit.is_empty()).collect();
    if m.narratives.is_empty() && texts.is_empty() {
        return out;
    }
    out.extend(annex_title("Phụ lục II", "Ý KIẾN CỦA CÁC ĐƠN VỊ"));
    let mut n = 0;
    for section in NoteSection::ALL {
        let items: Vec<_> = m.narratives_of(section).collect();
        if items.is_empty() {
            continue;
        }
        n += 1;
        out.push(heading(&format!("{}. {}", roman(n), section.heading_vi())));
        for item in items {
            out.extend(attributed(&item.unit.name, item.text));
        }
    }
    for r in texts {
        n += 1;
        out.push(heading(&format!("{}. {}", roman(n), r.ind.name)));
        for (u, v) in &r.by_unit {
            out.extend(attributed(&u.name, &format_value(r.ind, v)));
        }
    }
    out
}

fn appendix_table(m: &Model, width: usize) -> Table {
    let mut done = Vec::new();
    for k in &m.kinds {
        let of_kind: Vec<_> = m.rows.iter().filter(|r| r.unit().kind == *k).collect();
        let reported = of_kind.iter().filter(|r| r.report.is_some()).count();
        done.push(format!("{reported}/{}", of_kind.len()));
    }
    let mut groups = Vec::new();
    for g in &m.input.catalog.groups {
        let items: Vec<GridRow> = m
            .indicators
            .iter()
            .filter(|r| r.ind.group == g.code && r.ind.value_type != ValueType::Text)
            .map(|item| GridRow {
                name: item.ind.name.clone(),
                measure: item.ind.measure.clone(),
                cells: item
                    .by_kind
                    .iter()
                    .map(|(_, kc)| match kc {
                        KindCell::Value(v) => format_number(item.ind, *v),
                        KindCell::Missing => NO_VALUE.into(),
                        KindCell::NotApplicable => String::new(),
                    })
                    .collect(),
                total: item
                    .total
                    .map(|t| format_number(item.ind, t))
                    .unwrap_or_else(|| NO_VALUE.into()),
            })
            .collect();
        if !items.is_empty() {
            groups.push((g.name.clone(), items));
        }
    }
    grid_table(
        Grid {
            columns: m.kinds.iter().map(|k| k.name_vi().to_string()).collect(),
            done_label: "Số đơn vị đã báo cáo / tổng số đơn vị".into(),
            done,
            done_total: format!("{}/{}", m.completeness.reported, m.completeness.expected),
            groups,
            note: APPENDIX_NOTE,
        },
        width,
    )
}

/// The note under the appendix table, as its last row: a paragraph after
/// the table could be pushed alone onto a page of its own.
const APPENDIX_NOTE: &str = "Ghi chú: “—”: chưa có đơn vị nào báo cáo (không phải số 0); ô trống: chỉ tiêu không áp dụng cho loại đơn vị; chỉ tiêu có/không: số đơn vị trả lời “có”; tỷ lệ: tính trên tổng số của các đơn vị đã báo cáo. Số liệu chi tiết của từng đơn vị ở tệp Excel kèm theo.";
