//! `coso-hub note set --period P --section S (--text T | --file F)`: the
//! ward's own narrative of a period, the body of the consolidated report.

use std::io::Write;
use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand};
use coso_domain::Lang;
use coso_proto::pb;
use serde_json::json;

use super::{CliError, Ctx};
use coso_ward::input;

#[derive(Debug, Subcommand)]
pub enum NoteCommand {
    /// Set one section of the ward's narrative (an empty text removes it).
    ///
    /// Example: coso-hub note set --period 2026-H1 --section results --file ket-qua.txt
    Set(SetArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["text", "file"])))]
pub struct SetArgs {
    #[arg(long)]
    pub period: String,
    /// results, difficulties, proposals or next-tasks
    #[arg(long)]
    pub section: String,
    #[arg(long)]
    pub text: Option<String>,
    /// A UTF-8 text file with the section's text.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

pub(super) async fn run(ctx: &Ctx, out: &mut dyn Write, cmd: NoteCommand) -> Result<(), CliError> {
    let NoteCommand::Set(a) = cmd;
    let period = input::period_code(&a.period)?;
    let section = input::section(&a.section)?;
    let text = match (a.text, &a.file) {
        (Some(t), _) => t,
        (None, Some(p)) => std::fs::read_to_string(p).map_err(CliError::io(p))?,
        (None, None) => String::new(),
    };
    if text.len() > coso_domain::text::MAX_NOTE_BYTES {
        return Err(input::InputError::NoteTooLong {
            max_bytes: coso_domain::text::MAX_NOTE_BYTES,
        }
        .into());
    }
    ctx.admin()?
        .set_ward_note(pb::SetWardNoteRequest {
            period: period.to_string(),
            section: section.as_str().into(),
            text: text.clone(),
        })
        .await?;
    let removed = text.trim().is_empty();
    if ctx.json {
        w!(
            out,
            "{}",
            json!({"period": period.to_string(), "section": section.as_str(), "removed": removed})
        );
        return Ok(());
    }
    match (ctx.lang, removed) {
        (Lang::Vi, false) => w!(
            out,
            "Đã lưu mục «{}» của báo cáo phường kỳ {period}.",
            section.heading_vi()
        ),
        (Lang::Vi, true) => w!(
            out,
            "Đã xóa mục «{}» của báo cáo phường kỳ {period}.",
            section.heading_vi()
        ),
        (Lang::En, false) => w!(out, "Saved the ward's {section} section for {period}."),
        (Lang::En, true) => w!(out, "Removed the ward's {section} section for {period}."),
    }
    Ok(())
}
