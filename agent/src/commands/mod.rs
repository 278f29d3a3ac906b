//! The commands: each checks its input fully, then writes at most one change
//! (one atomic store write) and flushes before it reports success.

pub(crate) mod activity;
mod activity_import;
mod backup;
pub(crate) mod import;
pub(crate) mod init;
pub(crate) mod note;
pub(crate) mod report;
pub(crate) mod status;
pub(crate) mod values;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coso_domain::calendar::{Calendar, Period};
use coso_domain::catalog::Catalog;
use coso_domain::{Change, Entry, Lang, PeriodCode, ReportState, UnitState};
use coso_proto::link::EnrolmentLink;

use crate::cli::{ActivityCommand, Command, NoteCommand, ValueCommand};
use crate::error::{AgentError, InputError};
use crate::store::{Identity, Store};
use crate::{Config, sync};

pub use import::{ImportRow, Rows, read_rows, rows_from_bytes};
pub use report::ReportView;

/// What a command works with: the open store and how to talk to the officer.
pub(crate) struct Ctx<'a> {
    pub store: Store,
    pub lang: Lang,
    pub json: bool,
    pub now: DateTime<Utc>,
    pub out: &'a mut (dyn Write + Send + Sync),
    pub data_dir: &'a Path,
}

impl Ctx<'_> {
    pub fn identity(&self) -> Result<Identity, AgentError> {
        self.store
            .identity()?
            .ok_or_else(|| AgentError::NotInitialised {
                dir: self.data_dir.to_path_buf(),
            })
    }

    pub fn catalog(&self) -> Result<Catalog, AgentError> {
        Ok(self.store.catalog()?.1)
    }

    pub fn calendar(&self) -> Result<Calendar, AgentError> {
        Ok(self.store.calendar()?.1)
    }

    pub fn state(&self) -> Result<UnitState, AgentError> {
        Ok(self.store.unit_state()?)
    }

    /// Appends one change and makes it durable.
    pub async fn record(
        &self,
        change: &Change,
        activity_counter: Option<u64>,
    ) -> Result<Entry, AgentError> {
        let entry = self.store.append(change, self.now, activity_counter)?;
        self.store.flush().await?;
        Ok(entry)
    }

    pub fn say(&mut self, vi: &str, en: &str) -> Result<(), AgentError> {
        let text = self.lang.pick(vi, en);
        writeln!(self.out, "{text}")?;
        Ok(())
    }
}

/// Parses a period code and finds it in the calendar.
pub(crate) fn find_period(calendar: &Calendar, raw: &str) -> Result<Period, InputError> {
    let code: PeriodCode = raw.parse().map_err(|source| InputError::Invalid {
        field: "period",
        source,
    })?;
    calendar
        .period(&code)
        .ok_or(InputError::UnknownPeriod { period: code })
}

/// Refuses changes to a period whose report is submitted or accepted.
pub(crate) fn ensure_editable(state: &UnitState, period: &PeriodCode) -> Result<(), InputError> {
    let s = state.state(period);
    if s.is_editable() {
        Ok(())
    } else {
        Err(InputError::NotEditable {
            period: period.clone(),
            state: s,
        })
    }
}

/// The submitted (or accepted) periods whose frozen report an activity dated
/// `date` would have counted toward.
pub(crate) fn frozen_periods_for(
    state: &UnitState,
    calendar: &Calendar,
    date: chrono::NaiveDate,
) -> Vec<Period> {
    calendar
        .periods_for_date(date)
        .into_iter()
        .filter(|p| {
            matches!(
                state.state(&p.code),
                ReportState::Submitted | ReportState::Accepted
            )
        })
        .collect()
}

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
            writeln!(out, "{}", outcome.render(lang, json))?;
            return Ok(());
        }
        Command::Recover { link } => {
            let link: EnrolmentLink = link.parse().map_err(|source| InputError::Link { source })?;
            let mut opts = sync::SyncOptions::new(lang);
            opts.json = json;
            let outcome = sync::recover(&data_dir, &link, &opts).await?;
            writeln!(out, "{}", outcome.render(lang, json))?;
            return Ok(());
        }
        Command::Restore { file } => {
            return backup::restore(&data_dir, &file, lang, json, out);
        }
        Command::Ui(args) => {
            let cfg = crate::ui::UiConfig {
                data_dir,
                lang,
                lock_wait: lock_wait.max(crate::ui::MIN_LOCK_WAIT),
                sync_every: args.sync_every,
            };
            return crate::ui::run(cfg, &args, out, shutdown_signal()).await;
        }
        Command::Sync(args) => {
            let mut opts = sync::SyncOptions::new(lang);
            opts.json = json;
            if args.watch {
                sync::watch(&data_dir, args.every, &opts, shutdown_signal()).await?;
            } else {
                let report = sync::sync_once(&data_dir, &opts).await?;
                writeln!(out, "{}", report.render(lang, json))?;
            }
            return Ok(());
        }
        _ => {}
    }
    let store = Store::open(&data_dir, lock_wait)?;
    let mut ctx = Ctx {
        store,
        lang,
        json,
        now: coso_domain::clock::now(),
        out,
        data_dir: &data_dir,
    };
    match command {
        Command::Init(a) => init::init(&mut ctx, &a).await,
        Command::Activity(ActivityCommand::Add(a)) => activity::add(&mut ctx, &a).await,
        Command::Activity(ActivityCommand::List { period }) => {
            activity::list(&mut ctx, period.as_deref())
        }
        Command::Activity(ActivityCommand::Edit(a)) => activity::edit(&mut ctx, &a).await,
        Command::Activity(ActivityCommand::Import { file }) => {
            activity_import::import(&mut ctx, &file).await
        }
        Command::Activity(ActivityCommand::Remove { id }) => activity::remove(&mut ctx, &id).await,
        Command::Value(ValueCommand::Set { period, values }) => {
            values::set(&mut ctx, &period, &values).await
        }
        Command::Value(ValueCommand::List(p)) => values::list(&mut ctx, &p.period),
        Command::Value(ValueCommand::Import { period, file }) => {
            values::import(&mut ctx, &period, &file).await
        }
        Command::Note(NoteCommand::Set(a)) => note::set(&mut ctx, &a).await,
        Command::Report(p) => report::report(&mut ctx, &p.period),
        Command::Submit(p) => report::submit(&mut ctx, &p.period).await,
        Command::Status => status::status(&mut ctx),
        Command::Backup { out: file } => backup::backup(&mut ctx, &file),
        // Handled above, before the store is opened.
        Command::Enroll { .. }
        | Command::Sync(_)
        | Command::Recover { .. }
        | Command::Restore { .. }
        | Command::Ui(_) => Ok(()),
    }
}

/// Resolves on Ctrl-C or SIGTERM, so `sync --watch` stops between steps.
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

/// How long commands wait for a busy store unless told otherwise.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(3);

#[cfg(test)]
mod tests;
