//! `report --format docx`: the report the ward signs, laid out as Decree
//! 30/2020/NĐ-CP form 1.4 (a document with a type name): A4 portrait, margins
//! 20/20/30/15 mm, Times New Roman throughout, the two-column header, title,
//! "Kính gửi", sections I–IV written from the data (the narrative sections
//! are the ward's own text, else the units' sentences each said once, see
//! `synthesis`), "Nơi nhận" and the signature block kept on one page with the
//! closing sentence; then the appendix (Phụ lục I, its note kept with the
//! table) and every unit's full text (Phụ lục II) in a landscape section with
//! its own page numbering. Text from units is cleaned of characters XML cannot carry and
//! cut into runs, so markup, control characters and very long lines stay
//! inert (docx-rs escapes `<`, `>` and `&`).
//!
//! The frame (letterhead, title, "Kính gửi", signature block, the landscape
//! appendix with its heading and page numbering) is [`Document`], written by
//! [`write`]; the ward's report here and the city's roll-up
//! (`city::docx`) fill it with their own body and tables, built from the
//! blocks below ([`body_text`], [`grid_table`], …).

use std::io::Cursor;

use coso_domain::catalog::{Aggregation, Indicator, ValueType};
use coso_domain::{Lang, Section as NoteSection};
use docx_rs::{
    AlignmentType, BorderType, Docx, Header, LineSpacing, LineSpacingType, PageMargin, PageNum,
    PageNumType, PageOrientationType, Paragraph, ParagraphBorder, ParagraphBorderPosition,
    ParagraphBorders, Run, RunFonts, Section, SpecialIndentType, Table, TableCell, TableLayoutType,
    TableRow, VAlignType, WidthType,
};

use chrono::NaiveDate;

use super::{
    CompileError, IndicatorRow, KindCell, Letterhead, Model, Narrative, clean_text, format_number,
    format_value, place_date_line, short_date, synthesis,
};

const FONT: &str = "Times New Roman";
/// Half-points.
pub(crate) const BODY: usize = 28;
const HEADER: usize = 26;
pub(crate) const TABLE: usize = 24;
/// A4 in twips.
const A4_W: u32 = 11906;
const A4_H: u32 = 16838;
/// First-line indent of body paragraphs: 1.27 cm.
const FIRST_LINE: i32 = 720;
/// Longest text put in one run; longer text is split over several runs.
const RUN_CHARS: usize = 2000;

fn mm(v: f64) -> i32 {
    (v * 1440.0 / 25.4).round() as i32
}

fn fonts() -> RunFonts {
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

/// The short rule under the issuing body: an empty paragraph whose bottom
/// border is narrowed by indents on both sides.
fn short_rule(cell_width: i32, length: i32) -> Paragraph {
    let side = ((cell_width - length) / 2).max(0);
    let mut p = Paragraph::new()
        .add_run(Run::new().fonts(fonts()).size(4))
        .indent(Some(side), None, Some(side), None)
        .line_spacing(
            LineSpacing::new()
                .before(0)
                .after(0)
                .line(40)
                .line_rule(LineSpacingType::Exact),
        );
    // Only the bottom border: the default set would draw a box.
    p.property = p.property.set_borders(
        ParagraphBorders::with_empty().set(
            ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                .val(BorderType::Single)
                .size(6)
                .space(0)
                .color("000000"),
        ),
    );
    p
}

fn cell(width: usize, paragraphs: Vec<Paragraph>) -> TableCell {
    paragraphs
        .into_iter()
        .fold(TableCell::new(), |c, p| c.add_paragraph(p))
        .width(width, WidthType::Dxa)
}

fn borderless(widths: &[usize], rows: Vec<TableRow>) -> Table {
    Table::without_borders(rows)
        .set_grid(widths.to_vec())
        .width(widths.iter().sum(), WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
}

fn page_number_header() -> Header {
    Header::new().add_paragraph(
        Paragraph::new()
            .add_page_num(PageNum::new())
            .align(AlignmentType::Center)
            .fonts(fonts())
            .size(BODY),
    )
}

/// What a Decree 30/2020 report holds besides its frame: the ward's report
/// and the city's roll-up each fill one and call [`write`].
pub(crate) struct Document<'a> {
    pub letterhead: &'a Letterhead,
    /// The place-date line and the document's own timestamps.
    pub report_date: NaiveDate,
    /// "6 tháng đầu năm 2026": ends the subject line and heads Phụ lục I.
    pub period_phrase: String,
    /// Sections I–IV and the closing sentence (kept with the signature).
    pub body: Vec<Paragraph>,
    /// Phụ lục I after its heading, in the landscape section.
    pub appendix: Vec<Block>,
}

/// A paragraph or a table, in document order.
pub(crate) enum Block {
    P(Box<Paragraph>),
    T(Box<Table>),
}

impl Document<'_> {
    /// "Kết quả thực hiện dân chủ ở cơ sở 6 tháng đầu năm 2026".
    fn subject(&self) -> String {
        format!(
            "{} {}",
            self.letterhead.subject_prefix.trim(),
            self.period_phrase
        )
    }
}

/// The text width of the landscape appendix, in twips.
pub(crate) const LANDSCAPE_WIDTH: usize = (A4_H as i32 - 1134 - 850) as usize;

pub(crate) fn render(m: &Model) -> Result<Vec<u8>, CompileError> {
    write(|| document(m))
}

/// Builds a report with `doc` and packs it into DOCX bytes.
///
/// Takes the builder, not the document: docx-rs numbers paragraphs
/// (w14:paraId) from a per-thread counter as they are created, which only its
/// `build` resets. Building an empty document first puts the counter in one
/// state whatever this thread built before, so the same report gives the same
/// bytes every time; the paragraphs must be created after that.
pub(crate) fn write<'a>(doc: impl FnOnce() -> Document<'a>) -> Result<Vec<u8>, CompileError> {
    let _ = Docx::new().build();
    let doc = doc();
    let mut buf = Cursor::new(Vec::new());
    frame(doc)
        .build()
        .pack(&mut buf)
        .map_err(|e| CompileError::Docx(Box::new(e)))?;
    Ok(buf.into_inner())
}

/// The ward's whole document, before packing (tests read its XML).
#[cfg(test)]
pub(crate) fn build(m: &Model) -> Docx {
    frame(document(m))
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

/// The Decree 30/2020 frame around a report's own parts.
fn frame(d: Document) -> Docx {
    let portrait_margins = PageMargin::new()
        .top(mm(20.0))
        .bottom(mm(20.0))
        .left(mm(30.0))
        .right(mm(15.0))
        .header(mm(10.0))
        .footer(mm(10.0));
    let text_width = (A4_W as i32 - mm(30.0) - mm(15.0)) as usize;

    let mut main = Section::new()
        .page_size(docx_rs::PageSize::new().size(A4_W, A4_H))
        .page_margin(portrait_margins)
        .title_pg()
        .header(page_number_header())
        .first_header(Header::new());
    main = main.add_table(letterhead_table(&d, text_width));
    for p in title_block(&d) {
        main = main.add_paragraph(p);
    }
    let heading = appendix_heading(&d);
    let Document {
        letterhead,
        report_date,
        body,
        appendix,
        ..
    } = d;
    for p in body {
        main = main.add_paragraph(p);
    }
    main = main.add_table(signature_table(letterhead, text_width));

    let landscape_margins = PageMargin::new()
        .top(mm(20.0))
        .bottom(mm(20.0))
        .left(mm(20.0))
        .right(mm(15.0))
        .header(mm(10.0))
        .footer(mm(10.0));

    // Dated by the report, not the clock: the day its place-date line prints,
    // so the same data on the same day gives the same bytes (the dashboard's
    // download is the CLI's file) and the metadata never contradicts the
    // printed date. A receive or review time would not be steadier: the date
    // line changes with the day anyway.
    let stamp = format!("{}T00:00:00Z", report_date.format("%Y-%m-%d"));
    let mut doc = Docx::new()
        .created_at(&stamp)
        .updated_at(&stamp)
        .default_fonts(fonts())
        .default_size(BODY)
        .add_section(main);
    for p in heading {
        doc = doc.add_paragraph(p);
    }
    for b in appendix {
        doc = match b {
            Block::P(p) => doc.add_paragraph(*p),
            Block::T(t) => doc.add_table(*t),
        };
    }
    // The last section's properties live on the document: the appendix,
    // landscape, numbered from 1.
    doc.page_size(A4_H, A4_W)
        .page_orient(PageOrientationType::Landscape)
        .page_margin(landscape_margins)
        .page_num_type(PageNumType::new().start(1))
        .title_pg()
        .header(page_number_header())
        .first_header(Header::new())
}

fn letterhead_table(d: &Document, width: usize) -> Table {
    let lh = d.letterhead;
    let left_w = 3500usize;
    let right_w = width - left_w;
    let mut parent = Style::size(HEADER);
    if lh.issuer_parent_bold {
        parent = parent.bold();
    }
    let mut left_top = Vec::new();
    if !lh.issuer_parent.trim().is_empty() {
        left_top.push(centered(&lh.issuer_parent, parent));
    }
    left_top.push(centered(&lh.issuer, Style::size(HEADER).bold()));
    left_top.push(short_rule(left_w as i32 - 216, 1300));
    let right_top = vec![
        // 12 pt keeps the national title on one line (Decree 30 allows 12–13).
        centered(&lh.nation, Style::size(24).bold()),
        centered(&lh.motto, Style::size(HEADER).bold().underline()),
    ];
    let number = centered(&lh.number_line, Style::size(HEADER))
        .line_spacing(LineSpacing::new().before(120).after(0));
    let date = centered(
        &place_date_line(&lh.place, d.report_date),
        Style::size(BODY).italic(),
    )
    .line_spacing(LineSpacing::new().before(120).after(0));
    borderless(
        &[left_w, right_w],
        vec![
            TableRow::new(vec![cell(left_w, left_top), cell(right_w, right_top)]),
            TableRow::new(vec![cell(left_w, vec![number]), cell(right_w, vec![date])]),
        ],
    )
}

fn title_block(d: &Document) -> Vec<Paragraph> {
    let lh = d.letterhead;
    vec![
        centered("BÁO CÁO", Style::size(BODY).bold())
            .line_spacing(LineSpacing::new().before(360).after(0)),
        centered(&d.subject(), Style::size(BODY).bold())
            .line_spacing(LineSpacing::new().before(0).after(240)),
        centered(
            &format!("Kính gửi: {}.", lh.recipient.trim().trim_end_matches('.')),
            Style::size(BODY),
        )
        .line_spacing(LineSpacing::new().before(0).after(360)),
    ]
}

/// A total as said in a sentence: "1.234 lượt người", "12/15 đơn vị", "87,5%".
fn total_phrase(r: &IndicatorRow) -> String {
    said_total(r.ind, r.total, r.units_reporting)
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
fn attributed(name: &str, text: &str) -> Vec<Paragraph> {
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

fn unit_texts<'a>(items: impl Iterator<Item = &'a Narrative<'a>>) -> Vec<(&'a str, &'a str)> {
    items.map(|n| (n.unit.name.as_str(), n.text)).collect()
}

/// The ward's own text for a section, one paragraph per line.
pub(crate) fn ward_text(text: &str) -> Vec<Paragraph> {
    clean_text(text)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| body_text(l.trim_end()))
        .collect()
}

/// The body of a narrative section: the ward's text, else the synthesis.
fn section_body(m: &Model, section: NoteSection) -> Vec<Paragraph> {
    match m.ward_note(section) {
        Some(t) => ward_text(t),
        None => synthesized(unit_texts(m.narratives_of(section))),
    }
}

fn names(m: &Model, pick: impl Fn(&super::UnitRow) -> bool) -> Vec<String> {
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
        super::due_phrase(m.period()),
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

/// "Nơi nhận" and the signature block: one row that cannot split, every
/// paragraph kept with the next, so the closing sentence, the recipients and
/// the signature fall on one page.
fn signature_table(lh: &Letterhead, width: usize) -> Table {
    let left_w = width * 9 / 20;
    let right_w = width - left_w;
    let tight = || LineSpacing::new().before(0).after(0);
    let mut left = vec![
        para(runs("Nơi nhận:", Style::size(24).bold().italic()))
            .line_spacing(LineSpacing::new().before(240).after(0)),
    ];
    left.extend(
        lh.distribution
            .iter()
            .map(|d| para(runs(&format!("- {}", d.trim()), Style::size(22))).line_spacing(tight())),
    );
    let mut right = vec![
        centered(&lh.signatory_for, Style::size(BODY).bold())
            .line_spacing(LineSpacing::new().before(240).after(0)),
    ];
    if !lh.signatory_on_behalf.trim().is_empty() {
        right.push(centered(&lh.signatory_on_behalf, Style::size(BODY).bold()));
    }
    right.push(centered(&lh.signatory_title, Style::size(BODY).bold()));
    // Room for the signature and the seal.
    for _ in 0..4 {
        right.push(centered("", Style::size(BODY)));
    }
    if !lh.signatory_name.trim().is_empty() {
        right.push(centered(&lh.signatory_name, Style::size(BODY).bold()));
    }
    let keep = |ps: Vec<Paragraph>| -> Vec<Paragraph> {
        ps.into_iter().map(|p| p.keep_next(true)).collect()
    };
    borderless(
        &[left_w, right_w],
        vec![
            TableRow::new(vec![
                cell(left_w, keep(left)).vertical_align(VAlignType::Top),
                cell(right_w, keep(right)).vertical_align(VAlignType::Top),
            ])
            .cant_split(),
        ],
    )
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

fn appendix_heading(d: &Document) -> Vec<Paragraph> {
    let lh = d.letterhead;
    let number = lh
        .number_line
        .trim()
        .strip_prefix("Số:")
        .map(|rest| rest.strip_prefix(' ').unwrap_or(rest))
        .unwrap_or(&lh.number_line)
        .trim_end();
    vec![
        centered("Phụ lục I", Style::size(BODY).bold()),
        centered(
            &format!(
                "KẾT QUẢ THỰC HIỆN DÂN CHỦ Ở CƠ SỞ {}",
                d.period_phrase.to_uppercase()
            ),
            Style::size(BODY).bold(),
        ),
        centered(
            &format!(
                "(Kèm theo Báo cáo số {number} ngày {} của {})",
                short_date(d.report_date),
                lh.issuer_short
            ),
            Style::size(BODY).italic(),
        )
        .line_spacing(LineSpacing::new().before(0).after(240)),
    ]
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
                        KindCell::Missing => "—".into(),
                        KindCell::NotApplicable => String::new(),
                    })
                    .collect(),
                total: item
                    .total
                    .map(|t| format_number(item.ind, t))
                    .unwrap_or_else(|| "—".into()),
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

/// The note under the appendix table, as its last row: a paragraph after
/// the table could be pushed alone onto a page of its own.
const APPENDIX_NOTE: &str = "Ghi chú: “—”: chưa có đơn vị nào báo cáo (không phải số 0); ô trống: chỉ tiêu không áp dụng cho loại đơn vị; chỉ tiêu có/không: số đơn vị trả lời “có”; tỷ lệ: tính trên tổng số của các đơn vị đã báo cáo. Số liệu chi tiết của từng đơn vị ở tệp Excel kèm theo.";

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
