//! `note set`: a narrative section of a period's report, from text or a UTF-8
//! file, kept exactly as given after NFC normalisation.

use std::path::PathBuf;

use coso_domain::change::NoteSet;
use coso_domain::text::{MAX_NOTE_BYTES, normalize};
use coso_domain::{Change, Lang, PeriodCode, Section};

use super::{Ctx, ensure_editable, find_period};
use crate::error::{AgentError, InputError};
use crate::output::Render;

/// A narrative section as given: its text, or a file to read it from
/// (neither clears it).
#[derive(Debug, Clone)]
pub struct NoteInput {
    pub period: String,
    pub section: String,
    pub text: Option<String>,
    pub file: Option<PathBuf>,
}

/// What `note set` recorded.
#[derive(Debug, Clone)]
pub struct NoteRecorded {
    pub period: PeriodCode,
    pub section: Section,
    /// The text's length in characters; `None` when it cleared the section.
    pub chars: Option<usize>,
}

impl Render for NoteRecorded {
    fn text(&self, lang: Lang) -> String {
        let period = &self.period;
        match (self.chars, lang) {
            (None, Lang::Vi) => format!(
                "Đã xóa phần \"{}\" của kỳ {period}.",
                self.section.heading_vi()
            ),
            (None, Lang::En) => format!(
                "Cleared section \"{}\" of {period}.",
                self.section.heading_en()
            ),
            (Some(chars), Lang::Vi) => format!(
                "Đã ghi phần \"{}\" của kỳ {period} ({chars} ký tự).",
                self.section.heading_vi()
            ),
            (Some(chars), Lang::En) => format!(
                "Recorded section \"{}\" of {period} ({chars} characters).",
                self.section.heading_en()
            ),
        }
    }
}

pub(crate) async fn set(ctx: &Ctx<'_>, a: &NoteInput) -> Result<NoteRecorded, AgentError> {
    ctx.identity()?;
    let calendar = ctx.calendar()?;
    let period = find_period(&calendar, &a.period)?;
    let section: Section = a.section.parse().map_err(|source| InputError::Invalid {
        field: "section",
        source,
    })?;
    let raw = match (&a.text, &a.file) {
        (Some(t), _) => t.clone(),
        (None, Some(path)) => {
            let bytes = std::fs::read(path).map_err(|source| InputError::ReadFile {
                path: path.clone(),
                source,
            })?;
            let text =
                String::from_utf8(bytes).map_err(|_| InputError::NotUtf8 { path: path.clone() })?;
            // A BOM is an encoding marker, not part of the text.
            match text.strip_prefix('\u{feff}') {
                Some(rest) => rest.to_string(),
                None => text,
            }
        }
        (None, None) => String::new(),
    };
    // The rule is the domain's, shared with the ward's entry page.
    let text = coso_domain::entry::note_text(&raw).map_err(|source| match source {
        coso_domain::DomainError::TooLong(..) => InputError::NoteTooLong {
            bytes: normalize(&raw).len(),
            max: MAX_NOTE_BYTES,
        },
        source => InputError::Invalid {
            field: "text",
            source,
        },
    })?;
    let state = ctx.state()?;
    ensure_editable(&state, &period.code)?;
    let cleared = text.trim().is_empty();
    ctx.record(
        &Change::NoteSet(NoteSet {
            period: period.code.clone(),
            section,
            text: text.clone(),
        }),
        None,
    )
    .await?;
    Ok(NoteRecorded {
        period: period.code,
        section,
        chars: (!cleared).then(|| text.chars().count()),
    })
}
