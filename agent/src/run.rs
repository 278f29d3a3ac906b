//! The wiring of a run: which face or use case each subcommand goes to. The
//! CLI's commands run here on an open store and their outcomes are printed;
//! `ui` starts the web app, which calls the same commands itself. Living
//! above both faces, this is the one module that knows `commands`, `sync`
//! and `ui` together, so neither of those needs the others' dispatch.

use std::io::Write;
use std::time::Duration;

use coso_proto::link::EnrolmentLink;

use crate::Config;
use crate::cli::{
    ActivityAddArgs, ActivityCommand, ActivityEditArgs, Command, InitArgs, NoteCommand,
    NoteSetArgs, ValueCommand,
};
use crate::commands::activity::{ActivityChanges, ActivityInput};
use crate::commands::init::UnitInput;
use crate::commands::note::NoteInput;
use crate::commands::{Ctx, activity, activity_import, backup, init, note, report, status, values};
use crate::error::{AgentError, InputError};
use crate::output::{Render, write_outcome};
use crate::store::Store;
use crate::{sync, ui};

/// How long commands wait for a busy store unless told otherwise.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(3);

/// Runs one command and prints what it did to `out`.
pub(crate) async fn dispatch(
    config: Config,
    out: &mut (dyn Write + Send + Sync),
) -> Result<(), AgentError> {
    let Config {
        data_dir,
        lang,
        json,
        lock_wait,
        command,
    } = config;
    // Commands that talk to the hub open the store themselves, briefly.
    match command {
        Command::Enroll { link } => {
            let link: EnrolmentLink = link.parse().map_err(|source| InputError::Link { source })?;
            let outcome = sync::enroll(&data_dir, &link, lang).await?;
            write_outcome(out, &outcome, lang, json)?;
            return Ok(());
        }
        Command::Recover { link } => {
            let link: EnrolmentLink = link.parse().map_err(|source| InputError::Link { source })?;
            let mut opts = sync::SyncOptions::new(lang);
            opts.json = json;
            let outcome = sync::recover(&data_dir, &link, &opts).await?;
            write_outcome(out, &outcome, lang, json)?;
            return Ok(());
        }
        Command::Restore { file } => {
            let outcome = backup::restore(&data_dir, &file)?;
            write_outcome(out, &outcome, lang, json)?;
            return Ok(());
        }
        Command::Ui(args) => {
            let cfg = ui::UiConfig {
                data_dir,
                lang,
                lock_wait: lock_wait.max(ui::MIN_LOCK_WAIT),
                sync_every: args.sync_every,
            };
            return ui::run(cfg, &args, out, shutdown_signal()).await;
        }
        Command::Sync(args) => {
            let mut opts = sync::SyncOptions::new(lang);
            opts.json = json;
            if args.watch {
                sync::watch(&data_dir, args.every, &opts, shutdown_signal()).await?;
            } else {
                let report = sync::sync_once(&data_dir, &opts).await?;
                write_outcome(out, &report, lang, json)?;
            }
            return Ok(());
        }
        _ => {}
    }
    // The commands that only read work on a full disk too (see
    // `store/reading.rs`).
    let reads_only = matches!(
        command,
        Command::Status
            | Command::Report(_)
            | Command::Backup { .. }
            | Command::Activity(ActivityCommand::List { .. })
            | Command::Value(ValueCommand::List(_))
    );
    let store = if reads_only {
        Store::open_for_reading(&data_dir, lock_wait)?
    } else {
        Store::open(&data_dir, lock_wait)?
    };
    let ctx = Ctx {
        store,
        now: coso_domain::clock::now(),
        data_dir: &data_dir,
    };
    let outcome: Box<dyn Render> = match command {
        Command::Init(a) => Box::new(init::init(&ctx, &unit_input(a)).await?),
        Command::Activity(ActivityCommand::Add(a)) => {
            Box::new(activity::add(&ctx, &activity_input(a)).await?)
        }
        Command::Activity(ActivityCommand::List { period }) => {
            Box::new(activity::list(&ctx, period.as_deref())?)
        }
        Command::Activity(ActivityCommand::Edit(a)) => {
            Box::new(activity::edit(&ctx, &activity_changes(a)).await?)
        }
        Command::Activity(ActivityCommand::Import { file }) => {
            Box::new(activity_import::import(&ctx, &file).await?)
        }
        Command::Activity(ActivityCommand::Remove { id }) => {
            Box::new(activity::remove(&ctx, &id).await?)
        }
        Command::Value(ValueCommand::Set { period, values }) => {
            Box::new(values::set(&ctx, &period, &values).await?)
        }
        Command::Value(ValueCommand::List(p)) => Box::new(values::list(&ctx, &p.period)?),
        Command::Value(ValueCommand::Import { period, file }) => {
            Box::new(values::import(&ctx, &period, &file).await?)
        }
        Command::Note(NoteCommand::Set(a)) => Box::new(note::set(&ctx, &note_input(a)).await?),
        Command::Report(p) => Box::new(report::ReportView::build(&ctx, &p.period)?),
        Command::Submit(p) => Box::new(report::submit(&ctx, &p.period).await?),
        Command::Status => Box::new(status::status(&ctx)?),
        Command::Backup { out: file } => Box::new(backup::backup(&ctx, &file)?),
        // Handled above, before the store is opened.
        Command::Enroll { .. }
        | Command::Sync(_)
        | Command::Recover { .. }
        | Command::Restore { .. }
        | Command::Ui(_) => return Ok(()),
    };
    write_outcome(out, outcome.as_ref(), lang, json)?;
    Ok(())
}

// The flags as the commands take them: the commands know no clap types, so
// the web app's forms give them the same inputs.

fn unit_input(a: InitArgs) -> UnitInput {
    UnitInput {
        unit: a.unit,
        name: a.name,
        kind: a.kind,
    }
}

fn activity_input(a: ActivityAddArgs) -> ActivityInput {
    ActivityInput {
        date: a.date,
        form: a.form,
        title: a.title,
        participants: a.participants,
        note: a.note,
    }
}

fn activity_changes(a: ActivityEditArgs) -> ActivityChanges {
    ActivityChanges {
        id: a.id,
        date: a.date,
        form: a.form,
        title: a.title,
        participants: a.participants,
        note: a.note,
    }
}

fn note_input(a: NoteSetArgs) -> NoteInput {
    NoteInput {
        period: a.period,
        section: a.section,
        text: a.text,
        file: a.file,
    }
}

/// Resolves on Ctrl-C or SIGTERM, so `sync --watch` and `ui` stop between
/// steps.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
