//! `note set`: a narrative section of a period's report, from text or a UTF-8
//! file, kept exactly as given after NFC normalisation.

use coso_domain::change::NoteSet;
use coso_domain::text::{MAX_NOTE_BYTES, normalize};
use coso_domain::{Change, Section};

use super::{Ctx, ensure_editable, find_period};
use crate::cli::NoteSetArgs;
use crate::error::{AgentError, InputError};

pub(crate) async fn set(ctx: &mut Ctx<'_>, a: &NoteSetArgs) -> Result<(), AgentError> {
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
    let text = normalize(&raw);
    coso_domain::text::check("text", &text, coso_domain::text::Lines::Many).map_err(|source| {
        InputError::Invalid {
            field: "text",
            source,
        }
    })?;
    if text.len() > MAX_NOTE_BYTES {
        return Err(InputError::NoteTooLong {
            bytes: text.len(),
            max: MAX_NOTE_BYTES,
        }
        .into());
    }
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
    if cleared {
        ctx.say(
            &format!(
                "Đã xóa phần \"{}\" của kỳ {}.",
                section.heading_vi(),
                period.code
            ),
            &format!(
                "Cleared section \"{}\" of {}.",
                section.heading_en(),
                period.code
            ),
        )
    } else {
        let chars = text.chars().count();
        ctx.say(
            &format!(
                "Đã ghi phần \"{}\" của kỳ {} ({chars} ký tự).",
                section.heading_vi(),
                period.code
            ),
            &format!(
                "Recorded section \"{}\" of {} ({chars} characters).",
                section.heading_en(),
                period.code
            ),
        )
    }
}
