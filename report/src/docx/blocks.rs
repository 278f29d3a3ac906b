//! The blocks a Decree 30/2020 document is built of, shared by the ward's
//! report and the city's roll-up: Times New Roman runs and their sizes,
//! body paragraphs and headings, the sentences said from units' texts
//! (`synthesis`), the appendix grid ([`Grid`]) and plain annex tables.

use coso_domain::catalog::{Aggregation, Indicator};
use docx_rs::{
    AlignmentType, LineSpacing, LineSpacingType, Paragraph, Run, RunFonts, SpecialIndentType,
    Table, TableCell, TableLayoutType, TableRow, VAlignType, WidthType,
};

use crate::{Letterhead, clean_text, format_number, synthesis};

const FONT: &str = "Times New Roman";

/// Half-points.
pub(crate) const BODY: usize = 28;

pub(crate) const TABLE: usize = 24;

/// First-line indent of body paragraphs: 1.27 cm.
const FIRST_LINE: i32 = 720;

/// Longest text put in one run; longer text is split over several runs.
const RUN_CHARS: usize = 2000;

pub(super) fn mm(v: f64) -> i32 {
    (v * 1440.0 / 25.4).round() as i32
}

pub(super) fn fonts() -> RunFonts {
    RunFonts::new()
        .ascii(FONT)
        .hi_ansi(FONT)
        .east_asia(FONT)
        .cs(FONT)
}

#[derive(Clone, Copy, Default)]
pub(crate) struct Style {
    bold: bool,
    italic: bool,
    underline: bool,
    size: usize,
}

impl Style {
    pub(crate) fn size(size: usize) -> Style {
        Style {
            size,
            ..Style::default()
        }
    }
    pub(crate) fn bold(mut self) -> Style {
        self.bold = true;
        self
    }
    pub(crate) fn italic(mut self) -> Style {
        self.italic = true;
        self
    }
    pub(crate) fn underline(mut self) -> Style {
        self.underline = true;
        self
    }
    pub(crate) fn run(self) -> Run {
        let mut r = Run::new().fonts(fonts()).size(self.size);
        if self.bold {
            r = r.bold();
        }
        if self.italic {
            r = r.italic();
        }
        if self.underline {
            r = r.underline("single");
        }
        r
    }
}

/// Runs for one line of text: cleaned, tabs as real tabs, and long text cut
/// into several runs.
pub(crate) fn runs(text: &str, st: Style) -> Vec<Run> {
    let text = clean_text(text);
    let mut out = Vec::new();
    for (i, part) in text.split('\t').enumerate() {
        if i > 0 {
            out.push(st.run().add_tab());
        }
        let chars: Vec<char> = part.chars().filter(|c| *c != '\n').collect();
        for chunk in chars.chunks(RUN_CHARS) {
            out.push(st.run().add_text(chunk.iter().collect::<String>()));
        }
    }
    if out.is_empty() {
        out.push(st.run());
    }
    out
}

pub(crate) fn para(runs: Vec<Run>) -> Paragraph {
    runs.into_iter().fold(Paragraph::new(), |p, r| p.add_run(r))
}

fn spacing(before: u32, after: u32) -> LineSpacing {
    LineSpacing::new()
        .before(before)
        .after(after)
        .line(276)
        .line_rule(LineSpacingType::Auto)
}

pub(crate) fn centered(text: &str, st: Style) -> Paragraph {
    para(runs(text, st))
        .align(AlignmentType::Center)
        .line_spacing(LineSpacing::new().before(0).after(0))
}

/// A body paragraph: 14 pt, justified, first line indented 1.27 cm.
pub(crate) fn body(runs: Vec<Run>) -> Paragraph {
    para(runs)
        .align(AlignmentType::Both)
        .indent(
            None,
            Some(SpecialIndentType::FirstLine(FIRST_LINE)),
            None,
            None,
        )
        .line_spacing(spacing(0, 120))
}

pub(crate) fn body_text(text: &str) -> Paragraph {
    body(runs(text, Style::size(BODY)))
}

pub(crate) fn heading(text: &str) -> Paragraph {
    body(runs(text, Style::size(BODY).bold())).keep_next(true)
}

pub(crate) fn subheading(text: &str) -> Paragraph {
    body(runs(text, Style::size(BODY).bold().italic())).keep_next(true)
}

pub(super) fn cell(width: usize, paragraphs: Vec<Paragraph>) -> TableCell {
    paragraphs
        .into_iter()
        .fold(TableCell::new(), |c, p| c.add_paragraph(p))
        .width(width, WidthType::Dxa)
}

pub(super) fn borderless(widths: &[usize], rows: Vec<TableRow>) -> Table {
    Table::without_borders(rows)
        .set_grid(widths.to_vec())
        .width(widths.iter().sum(), WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
}

/// [`total_phrase`] from its parts: the indicator, its total (`None`: no
/// data) and how many units gave a value.
pub(crate) fn said_total(ind: &Indicator, total: Option<f64>, units_reporting: usize) -> String {
    let Some(t) = total else {
        return "chưa có số liệu".into();
    };
    match ind.aggregate {
        Aggregation::CountYes => format!("{}/{} đơn vị", format_number(ind, t), units_reporting),
        Aggregation::Rate => format_number(ind, t),
        Aggregation::Mean => format!(
            "bình quân {} {} ({} đơn vị có số liệu)",
            format_number(ind, t),
            ind.measure,
            units_reporting
        ),
        Aggregation::Sum | Aggregation::None => {
            format!("{} {}", format_number(ind, t), ind.measure)
        }
    }
}

/// "Trên đây là báo cáo … của UBND phường Gia Viên./.", kept with the
/// signature block that follows it.
pub(crate) fn closing(lh: &Letterhead, period_phrase: &str) -> Paragraph {
    body_text(&format!(
        "Trên đây là báo cáo kết quả thực hiện dân chủ ở cơ sở {period_phrase} của {}./.",
        lh.issuer_short
    ))
    .keep_next(true)
}

/// A unit's text: the first line after the unit's name in bold, the other
/// lines as their own paragraphs.
pub(super) fn attributed(name: &str, text: &str) -> Vec<Paragraph> {
    let text = clean_text(text);
    let mut lines = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty());
    let mut first = vec![
        Style::size(BODY)
            .bold()
            .run()
            .add_text(format!("{}: ", clean_text(name).replace('\n', " "))),
    ];
    first.extend(runs(lines.next().unwrap_or(""), Style::size(BODY)));
    let mut out = vec![body(first)];
    out.extend(lines.map(body_text));
    out
}

/// A section's body from the units' texts: each sentence once, after the
/// units that wrote it (`synthesis`). The full texts are in Phụ lục II.
pub(crate) fn synthesized<'a>(
    texts: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<Paragraph> {
    synthesis::synthesize(texts)
        .into_iter()
        .map(|said| {
            let mut rs = vec![Style::size(BODY).italic().run().add_text(format!(
                "- {}: ",
                clean_text(&synthesis::names(&said.units))
            ))];
            rs.extend(runs(&said.text, Style::size(BODY)));
            body(rs)
        })
        .collect()
}

/// The ward's own text for a section, one paragraph per line.
pub(crate) fn ward_text(text: &str) -> Vec<Paragraph> {
    clean_text(text)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| body_text(l.trim_end()))
        .collect()
}

pub(crate) fn table_cell(width: usize, text: &str, st: Style, align: AlignmentType) -> TableCell {
    cell(
        width,
        vec![
            para(runs(text, st))
                .align(align)
                .line_spacing(LineSpacing::new().before(40).after(40)),
        ],
    )
    .vertical_align(VAlignType::Center)
}

/// Phụ lục I as data: indicator rows by group, a number column per part
/// (a kind of unit, or a ward) and the total, with the completeness row
/// first and the note as the last row.
pub(crate) struct Grid {
    /// Heads of the number columns before "Tổng cộng".
    pub columns: Vec<String>,
    /// The completeness row: its label, one cell per column, and the total.
    pub done_label: String,
    pub done: Vec<String>,
    pub done_total: String,
    /// (group name, its indicator rows), in catalog order.
    pub groups: Vec<(String, Vec<GridRow>)>,
    pub note: &'static str,
}

pub(crate) struct GridRow {
    pub name: String,
    pub measure: String,
    /// One per column; "" where the indicator does not apply, "—" missing.
    pub cells: Vec<String>,
    pub total: String,
}

/// The appendix table of a [`Grid`]: STT, indicator, unit of measure, the
/// columns and the total, header and group rows bold; no row splits across
/// pages and the note stays with the last rows.
pub(crate) fn grid_table(g: Grid, width: usize) -> Table {
    let (stt_w, measure_w) = (700usize, 1400usize);
    // Number columns share what the indicator's name leaves (at least 3000
    // twips), 1500 at most each.
    let n = g.columns.len() + 1;
    let num_w = (width.saturating_sub(stt_w + measure_w + 3000) / n).clamp(900, 1500);
    let fixed = stt_w + measure_w + num_w * n;
    let name_w = width.saturating_sub(fixed).max(3000);
    let mut widths = vec![stt_w, name_w, measure_w];
    widths.extend(std::iter::repeat_n(num_w, n));
    let plain = Style::size(TABLE);
    let bold = plain.bold();
    let (c, l, r) = (
        AlignmentType::Center,
        AlignmentType::Left,
        AlignmentType::Right,
    );

    let mut header = vec![
        table_cell(stt_w, "STT", bold, c),
        table_cell(name_w, "Chỉ tiêu", bold, c),
        table_cell(measure_w, "Đơn vị tính", bold, c),
    ];
    header.extend(g.columns.iter().map(|h| table_cell(num_w, h, bold, c)));
    header.push(table_cell(num_w, "Tổng cộng", bold, c));
    let mut rows = vec![TableRow::new(header).cant_split()];

    // The completeness line, per column: reported / expected.
    let mut done = vec![
        table_cell(stt_w, "", bold, c),
        table_cell(name_w, &g.done_label, bold, l),
        table_cell(measure_w, "đơn vị", plain, c),
    ];
    done.extend(g.done.iter().map(|d| table_cell(num_w, d, plain, r)));
    done.push(table_cell(num_w, &g.done_total, bold, r));
    rows.push(TableRow::new(done).cant_split());

    let span = widths.len() - 1;
    for (group_no, (name, items)) in g.groups.iter().enumerate() {
        rows.push(
            TableRow::new(vec![
                table_cell(stt_w, &roman(group_no + 1), bold, c),
                table_cell(widths[1..].iter().sum(), name, bold, l).grid_span(span),
            ])
            .cant_split(),
        );
        for (i, item) in items.iter().enumerate() {
            let mut cells = vec![
                table_cell(stt_w, &(i + 1).to_string(), plain, c),
                table_cell(name_w, &item.name, plain, l),
                table_cell(measure_w, &item.measure, plain, c),
            ];
            cells.extend(item.cells.iter().map(|v| table_cell(num_w, v, plain, r)));
            cells.push(table_cell(num_w, &item.total, bold, r));
            rows.push(TableRow::new(cells).cant_split());
        }
    }
    // The last indicator rows are kept with the note row, so the note never
    // stands alone at the top of a page.
    let n = rows.len();
    for row in rows.iter_mut().skip(n.saturating_sub(2)) {
        keep_row_with_next(row);
    }
    rows.push(
        TableRow::new(vec![
            table_cell(widths.iter().sum(), g.note, Style::size(TABLE).italic(), l)
                .grid_span(widths.len()),
        ])
        .cant_split(),
    );
    Table::new(rows)
        .set_grid(widths.clone())
        .width(widths.iter().sum(), WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
}

/// A plain table for an annex: bold header row, then the rows, each cell
/// with its alignment; widths in twips.
pub(crate) fn plain_table(
    widths: &[usize],
    head: &[&str],
    rows: Vec<Vec<(String, AlignmentType)>>,
) -> Table {
    let plain = Style::size(TABLE);
    let bold = plain.bold();
    let mut out = vec![
        TableRow::new(
            widths
                .iter()
                .zip(head)
                .map(|(w, h)| table_cell(*w, h, bold, AlignmentType::Center))
                .collect(),
        )
        .cant_split(),
    ];
    for row in rows {
        out.push(
            TableRow::new(
                widths
                    .iter()
                    .zip(&row)
                    .map(|(w, (t, a))| table_cell(*w, t, plain, *a))
                    .collect(),
            )
            .cant_split(),
        );
    }
    Table::new(out)
        .set_grid(widths.to_vec())
        .width(widths.iter().sum(), WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
}

/// The two centred title lines of an annex after Phụ lục I ("Phụ lục II",
/// its title), on a new page.
pub(crate) fn annex_title(number: &str, title: &str) -> Vec<Paragraph> {
    vec![
        centered(number, Style::size(BODY).bold())
            .page_break_before(true)
            .keep_next(true),
        centered(title, Style::size(BODY).bold())
            .line_spacing(LineSpacing::new().before(0).after(240))
            .keep_next(true),
    ]
}

/// Marks every paragraph of a row "keep with next".
fn keep_row_with_next(row: &mut TableRow) {
    for cell in &mut row.cells {
        let docx_rs::TableRowChild::TableCell(c) = cell;
        for child in &mut c.children {
            if let docx_rs::TableCellContent::Paragraph(p) = child {
                p.property = p.property.clone().keep_next(true);
            }
        }
    }
}

pub fn roman(n: usize) -> String {
    const R: [(usize, &str); 9] = [
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut n = n;
    let mut s = String::new();
    for (v, r) in R {
        while n >= v {
            s.push_str(r);
            n -= v;
        }
    }
    s
}
