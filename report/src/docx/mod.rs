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
//! [`write`] (`frame`); the ward's report (`ward`) and the city's roll-up
//! (`city::docx`) fill it with their own body and tables, built from the
//! shared blocks (`blocks`: [`body_text`], [`grid_table`], …).

mod blocks;
mod frame;
mod ward;

pub use blocks::roman;
pub(crate) use blocks::{
    BODY, Grid, GridRow, Style, annex_title, body, body_text, closing, grid_table, heading,
    plain_table, runs, said_total, subheading, synthesized, ward_text,
};
pub(crate) use frame::{Block, Document, LANDSCAPE_WIDTH, write};
#[cfg(test)]
pub(crate) use ward::build;
pub(crate) use ward::render;
