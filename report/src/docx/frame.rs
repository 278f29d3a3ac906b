//! The Decree 30/2020 frame around a report's own parts ([`Document`]):
//! A4 portrait with its margins, the two-column letterhead, title and
//! "Kính gửi", the signature block with "Nơi nhận", and the landscape
//! appendix section with its heading and own page numbering; [`write`] packs
//! it into DOCX bytes the same way every time.

use std::io::Cursor;

use chrono::NaiveDate;
use docx_rs::{
    AlignmentType, BorderType, Docx, Header, LineSpacing, LineSpacingType, PageMargin, PageNum,
    PageNumType, PageOrientationType, Paragraph, ParagraphBorder, ParagraphBorderPosition,
    ParagraphBorders, Run, Section, Table, TableRow, VAlignType,
};

use super::blocks::{BODY, Style, borderless, cell, centered, fonts, mm, para, runs};
use crate::{CompileError, Letterhead, place_date_line, short_date};

const HEADER: usize = 26;

/// A4 in twips.
const A4_W: u32 = 11906;

const A4_H: u32 = 16838;

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

/// The Decree 30/2020 frame around a report's own parts.
pub(super) fn frame(d: Document) -> Docx {
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
