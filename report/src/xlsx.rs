//! `report --format xlsx`: the appendix as a real spreadsheet. Sheets:
//! "Tổng hợp" (totals per indicator, a column per kind of unit), "Theo đơn vị"
//! (every unit's values, a row per indicator and a column per expected unit),
//! "Tình hình báo cáo" (who reported, when, on time or not) and "Ý kiến đơn vị"
//! (the narratives). Numbers are stored as numbers; a missing value is an
//! empty cell, never 0; yes/no is stored as 1/0 and shown as "Có"/"Không".
//!
//! The XLSX writer both reports go through is here too: the workbook
//! ([`workbook`]), a row of cells ([`write_row`]) and a value ([`write_value`]),
//! each with an optional format: the ward's sheets are styled (Times New
//! Roman, borders), the city roll-up's (`city::render`) use the default
//! cell, as they always have.

use chrono::{Datelike, Timelike};
use coso_domain::calendar::vietnam;
use coso_domain::catalog::ValueType;
use coso_domain::{Lang, Value, words};
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use super::{CompileError, KindCell, Model, clean_text};
use crate::formatting::spreadsheet_text;

/// Excel refuses cells longer than 32,767 UTF-16 units.
const MAX_CELL_UTF16: usize = 32_767;

/// Text for a cell: control characters replaced, cut to Excel's limit with a
/// note saying where the full text is.
/// Starts with [`spreadsheet_text`]: no formula from a name or a note.
fn cell_text(s: &str) -> String {
    let s = spreadsheet_text(&clean_text(s)).into_owned();
    if s.encode_utf16().count() <= MAX_CELL_UTF16 {
        return s;
    }
    let note = " … [đã cắt bớt; toàn văn trong bản DOCX/JSON]";
    let budget = MAX_CELL_UTF16 - note.encode_utf16().count();
    let mut used = 0;
    let mut out = String::new();
    for c in s.chars() {
        used += c.len_utf16();
        if used > budget {
            break;
        }
        out.push(c);
    }
    out.push_str(note);
    out
}

struct Styles {
    title: Format,
    header: Format,
    group: Format,
    text: Format,
    wrap: Format,
    count: Format,
    number: Format,
    yes_no: Format,
    datetime: Format,
}

impl Styles {
    fn new() -> Styles {
        let base = Format::new()
            .set_font_name("Times New Roman")
            .set_font_size(12);
        let cell = base.clone().set_border(FormatBorder::Thin);
        Styles {
            title: base.clone().set_bold().set_font_size(14),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            group: cell.clone().set_bold(),
            text: cell.clone(),
            wrap: cell.clone().set_text_wrap().set_align(FormatAlign::Top),
            count: cell.clone().set_num_format("#,##0"),
            number: cell.clone().set_num_format("General"),
            yes_no: cell.clone().set_num_format("\"Có\";\"Có\";\"Không\""),
            datetime: cell.set_num_format("dd/mm/yyyy hh:mm:ss"),
        }
    }
}

/// A workbook; with `props` its title, author and creation date, so the
/// same report gives the same file. Without them rust_xlsxwriter stamps the
/// time of writing (the city roll-up's, which has never set them).
pub(crate) fn workbook(props: Option<&DocProperties>) -> Workbook {
    let mut wb = Workbook::new();
    if let Some(p) = props {
        wb.set_properties(p);
    }
    wb
}

/// A string cell, in `format` or else the default cell, through
/// [`spreadsheet_text`].
pub(crate) fn write_text(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: Option<&Format>,
) -> Result<(), XlsxError> {
    let text = spreadsheet_text(text);
    let text = text.as_ref();
    match format {
        Some(f) => ws.write_string_with_format(row, col, text, f)?,
        None => ws.write_string(row, col, text)?,
    };
    Ok(())
}

/// A number cell, in `format` or else the default cell.
pub(crate) fn write_number(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    n: f64,
    format: Option<&Format>,
) -> Result<(), XlsxError> {
    match format {
        Some(f) => ws.write_number_with_format(row, col, n, f)?,
        None => ws.write_number(row, col, n)?,
    };
    Ok(())
}

/// Cells left to right from `col`, all in one format (a header row).
pub(crate) fn write_row<S: AsRef<str>>(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cells: impl IntoIterator<Item = S>,
    format: Option<&Format>,
) -> Result<(), XlsxError> {
    for (i, c) in cells.into_iter().enumerate() {
        write_text(ws, row, col + i as u16, c.as_ref(), format)?;
    }
    Ok(())
}

/// How [`write_value`] writes each kind of value.
#[derive(Clone, Copy, Default)]
pub(crate) struct ValueLook<'a> {
    pub number: Option<&'a Format>,
    /// Yes/no, stored as 1/0.
    pub yes_no: Option<&'a Format>,
    pub text: Option<&'a Format>,
    /// A missing value: a blank cell in this format, or no cell at all.
    pub blank: Option<&'a Format>,
    /// Text passes through [`cell_text`] (cleaned, cut to Excel's limit).
    /// The city roll-up writes its text as it is, as it always has.
    pub clean: bool,
}

/// A value: numbers as numbers, yes/no as 1/0, text as text; a missing
/// value is an empty cell, never 0.
pub(crate) fn write_value(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    v: Option<&Value>,
    look: &ValueLook,
) -> Result<(), XlsxError> {
    match v {
        Some(Value::Number(n)) => write_number(ws, row, col, *n, look.number),
        Some(Value::Bool(b)) => write_number(ws, row, col, if *b { 1.0 } else { 0.0 }, look.yes_no),
        Some(Value::Text(t)) if look.clean => write_text(ws, row, col, &cell_text(t), look.text),
        Some(Value::Text(t)) => write_text(ws, row, col, t, look.text),
        None => {
            if let Some(f) = look.blank {
                ws.write_blank(row, col, f)?;
            }
            Ok(())
        }
    }
}

pub(crate) fn render(m: &Model) -> Result<Vec<u8>, CompileError> {
    let st = Styles::new();
    let d = m.input.report_date;
    // A fixed creation time keeps the file the same for the same input.
    let created = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
    let mut wb = workbook(Some(
        &DocProperties::new()
            .set_title(m.subject())
            .set_author(&m.letterhead().issuer_short)
            .set_creation_datetime(&created),
    ));
    totals_sheet(wb.add_worksheet(), m, &st)?;
    units_sheet(wb.add_worksheet(), m, &st)?;
    status_sheet(wb.add_worksheet(), m, &st)?;
    notes_sheet(wb.add_worksheet(), m, &st)?;
    Ok(wb.save_to_buffer()?)
}

fn totals_sheet(ws: &mut Worksheet, m: &Model, st: &Styles) -> Result<(), XlsxError> {
    ws.set_name("Tổng hợp")?;
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.write_string_with_format(0, 0, cell_text(&m.subject()), &st.title)?;
    ws.write_string(1, 0, cell_text(&m.completeness.sentence(Lang::Vi)))?;
    let hr = 3;
    let mut headers: Vec<String> = vec!["Mã".into(), "Chỉ tiêu".into(), "Đơn vị tính".into()];
    headers.extend(m.kinds.iter().map(|k| k.name_vi().to_string()));
    headers.push("Tổng cộng".into());
    headers.push("Số đơn vị có số liệu".into());
    write_row(ws, hr, 0, &headers, Some(&st.header))?;
    let total_col = 3 + m.kinds.len() as u16;
    let mut row = hr + 1;
    for g in &m.input.catalog.groups {
        let rows: Vec<_> = m
            .indicators
            .iter()
            .filter(|r| r.ind.group == g.code)
            .collect();
        if rows.is_empty() {
            continue;
        }
        ws.write_string_with_format(row, 0, "", &st.group)?;
        ws.write_string_with_format(row, 1, cell_text(&g.name), &st.group)?;
        row += 1;
        for r in rows {
            ws.write_string_with_format(row, 0, spreadsheet_text(&r.ind.code).as_ref(), &st.text)?;
            ws.write_string_with_format(row, 1, cell_text(&r.ind.name), &st.text)?;
            ws.write_string_with_format(row, 2, cell_text(&r.ind.measure), &st.text)?;
            let fmt =
                if r.ind.value_type == ValueType::Count || r.ind.value_type == ValueType::YesNo {
                    &st.count
                } else {
                    &st.number
                };
            for (i, (_, cell)) in r.by_kind.iter().enumerate() {
                let col = 3 + i as u16;
                match cell {
                    KindCell::Value(v) => ws.write_number_with_format(row, col, *v, fmt)?,
                    KindCell::Missing | KindCell::NotApplicable => {
                        ws.write_blank(row, col, &st.text)?
                    }
                };
            }
            match r.total {
                Some(t) => ws.write_number_with_format(row, total_col, t, fmt)?,
                None => ws.write_blank(row, total_col, &st.text)?,
            };
            ws.write_number_with_format(row, total_col + 1, r.units_reporting as f64, &st.count)?;
            row += 1;
        }
    }
    ws.write_string(
        row + 1,
        1,
        "Ô trống: chưa có đơn vị nào báo cáo hoặc chỉ tiêu không áp dụng (không phải số 0). \
         Chỉ tiêu có/không: tổng là số đơn vị trả lời \"có\".",
    )?;
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, 60)?;
    ws.set_column_width(2, 14)?;
    for c in 3..=total_col + 1 {
        ws.set_column_width(c, 14)?;
    }
    ws.set_freeze_panes(hr + 1, 3)?;
    Ok(())
}

fn units_sheet(ws: &mut Worksheet, m: &Model, st: &Styles) -> Result<(), XlsxError> {
    ws.set_name("Theo đơn vị")?;
    ws.write_string_with_format(0, 0, cell_text(&m.subject()), &st.title)?;
    ws.write_string(
        1,
        0,
        "Số liệu của từng đơn vị đã báo cáo (đã gửi hoặc đã được chấp nhận); ô trống là chưa có số liệu.",
    )?;
    // Row 3: unit codes; row 4: unit names; row 5: kinds.
    let (code_row, name_row, kind_row) = (3u32, 4u32, 5u32);
    for (r, label) in [(code_row, "Mã"), (name_row, "Đơn vị"), (kind_row, "Loại")] {
        ws.write_string_with_format(r, 0, "", &st.header)?;
        ws.write_string_with_format(r, 1, label, &st.header)?;
        ws.write_string_with_format(r, 2, "", &st.header)?;
    }
    ws.write_string_with_format(code_row, 2, "Đơn vị tính", &st.header)?;
    for (i, row) in m.rows.iter().enumerate() {
        let col = 3 + i as u16;
        let u = row.unit();
        ws.write_string_with_format(
            code_row,
            col,
            spreadsheet_text(u.code.as_str()).as_ref(),
            &st.header,
        )?;
        ws.write_string_with_format(name_row, col, cell_text(&u.name), &st.header)?;
        ws.write_string_with_format(kind_row, col, u.kind.name_vi(), &st.header)?;
        ws.set_column_width(col, 14)?;
    }
    for (r, ind) in (kind_row + 1..).zip(&m.indicators) {
        let look = ValueLook {
            number: Some(if ind.ind.value_type == ValueType::Count {
                &st.count
            } else {
                &st.number
            }),
            yes_no: Some(&st.yes_no),
            text: Some(&st.wrap),
            blank: Some(&st.text),
            clean: true,
        };
        ws.write_string_with_format(r, 0, spreadsheet_text(&ind.ind.code).as_ref(), &st.text)?;
        ws.write_string_with_format(r, 1, cell_text(&ind.ind.name), &st.text)?;
        ws.write_string_with_format(r, 2, cell_text(&ind.ind.measure), &st.text)?;
        for (i, row) in m.rows.iter().enumerate() {
            let col = 3 + i as u16;
            let v = ind
                .by_unit
                .iter()
                .find(|(u, _)| u.code == row.unit().code)
                .map(|(_, v)| *v);
            write_value(ws, r, col, v, &look)?;
        }
    }
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, 60)?;
    ws.set_column_width(2, 14)?;
    ws.set_freeze_panes(kind_row + 1, 3)?;
    Ok(())
}

fn status_sheet(ws: &mut Worksheet, m: &Model, st: &Styles) -> Result<(), XlsxError> {
    ws.set_name("Tình hình báo cáo")?;
    ws.write_string_with_format(
        0,
        0,
        cell_text(&m.completeness.sentence(Lang::Vi)),
        &st.title,
    )?;
    ws.write_string(
        1,
        0,
        cell_text(&format!(
            "Hạn nộp: {} (giờ Việt Nam).",
            super::due_phrase(m.period())
        )),
    )?;
    let hr = 3;
    let headers = [
        "STT",
        "Mã",
        "Đơn vị",
        "Loại",
        "Trạng thái",
        "Thời điểm nhận (giờ Việt Nam)",
        "Đúng hạn",
        "Số hoạt động",
        "Lý do trả lại",
    ];
    write_row(ws, hr, 0, headers, Some(&st.header))?;
    for (i, row) in m.rows.iter().enumerate() {
        let r = hr + 1 + i as u32;
        let u = row.unit();
        let s = row.status_row();
        ws.write_number_with_format(r, 0, (i + 1) as f64, &st.count)?;
        ws.write_string_with_format(r, 1, spreadsheet_text(u.code.as_str()).as_ref(), &st.text)?;
        ws.write_string_with_format(r, 2, cell_text(&u.name), &st.text)?;
        ws.write_string_with_format(r, 3, u.kind.name_vi(), &st.text)?;
        ws.write_string_with_format(r, 4, row.state.label(Lang::Vi), &st.text)?;
        match row.submitted_at {
            Some(t) => {
                let t = t.with_timezone(&vietnam());
                let dt = ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)?
                    .and_hms(t.hour() as u16, t.minute() as u8, t.second())?;
                ws.write_datetime_with_format(r, 5, &dt, &st.datetime)?
            }
            None => ws.write_blank(r, 5, &st.text)?,
        };
        let timely = words::timeliness_label(row.timeliness, Lang::Vi);
        ws.write_string_with_format(r, 6, timely, &st.text)?;
        match s.activities {
            Some(n) => ws.write_number_with_format(r, 7, f64::from(n), &st.count)?,
            None => ws.write_blank(r, 7, &st.text)?,
        };
        ws.write_string_with_format(
            r,
            8,
            cell_text(s.review_reason.as_deref().unwrap_or("")),
            &st.wrap,
        )?;
    }
    for (c, w) in [6, 12, 40, 28, 16, 22, 14, 12, 40].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(hr + 1, 0)?;
    Ok(())
}

fn notes_sheet(ws: &mut Worksheet, m: &Model, st: &Styles) -> Result<(), XlsxError> {
    ws.set_name("Ý kiến đơn vị")?;
    let headers = ["STT", "Phần", "Mã", "Đơn vị", "Nội dung"];
    write_row(ws, 0, 0, headers, Some(&st.header))?;
    for (i, n) in m.narratives.iter().enumerate() {
        let r = 1 + i as u32;
        ws.write_number_with_format(r, 0, (i + 1) as f64, &st.count)?;
        ws.write_string_with_format(r, 1, n.section.heading_vi(), &st.text)?;
        ws.write_string_with_format(
            r,
            2,
            spreadsheet_text(n.unit.code.as_str()).as_ref(),
            &st.text,
        )?;
        ws.write_string_with_format(r, 3, cell_text(&n.unit.name), &st.text)?;
        ws.write_string_with_format(r, 4, cell_text(n.text), &st.wrap)?;
    }
    for (c, w) in [6, 26, 12, 36, 100].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}
