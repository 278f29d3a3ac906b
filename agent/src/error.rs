//! The agent's errors: what was refused (exit 2) and what failed (exit 1).
//! Their wording for people, in Vietnamese or English, is in `messages`.

use std::path::PathBuf;

use coso_domain::{ActivityId, DomainError, PeriodCode, Problem, ReportState, UnitCode};
use coso_proto::link::LinkError;
use thiserror::Error;

use crate::store::StoreError;
use crate::sync::SyncError;

/// One refused line of an imported spreadsheet.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    /// The line (row) number in the file, from 1.
    pub line: usize,
    pub kind: LineErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LineErrorKind {
    /// The value failed the catalog's checks.
    Problem(Problem),
    /// A value without a code.
    MissingCode,
    /// `CODE,87,5` in a comma-separated file: a decimal comma or two columns?
    AmbiguousDecimal { code: String },
    /// An activity row refused as `activity add` refuses its flags: the
    /// refusal in Vietnamese and in English.
    Activity { vi: String, en: String },
}

/// Input the agent refuses. Nothing is written when one of these is returned.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("invalid {field}: {source}")]
    Invalid {
        field: &'static str,
        #[source]
        source: DomainError,
    },
    #[error("invalid participants {raw:?}: expected a whole number from 0")]
    Participants { raw: String },
    #[error("the calendar has no period {period}")]
    UnknownPeriod { period: PeriodCode },
    #[error("no activity {id}")]
    UnknownActivity { id: ActivityId },
    #[error("this agent is already set up for unit {unit}")]
    AlreadyInitialised { unit: UnitCode },
    #[error("the report for {period} is {} and can no longer be changed", state.as_str())]
    NotEditable {
        period: PeriodCode,
        state: ReportState,
    },
    #[error("the report for {period} is already {}", state.as_str())]
    AlreadySubmitted {
        period: PeriodCode,
        state: ReportState,
    },
    #[error("period {period} has not opened; its data window opens on {opens}")]
    NotOpenYet {
        period: PeriodCode,
        opens: chrono::NaiveDate,
    },
    #[error("{arg:?} is not CODE=VALUE")]
    Assignment { arg: String },
    #[error("values refused: {} problem(s)", problems.len())]
    Values { problems: Vec<Problem> },
    #[error("the report for {period} cannot be submitted: {} problem(s)", problems.len())]
    SubmitBlocked {
        period: PeriodCode,
        problems: Vec<Problem>,
    },
    #[error("{}: import refused, {} error(s)", path.display(), errors.len() + rules.len())]
    Import {
        path: PathBuf,
        errors: Vec<LineError>,
        /// Rules across indicators broken by the file as a whole.
        rules: Vec<Problem>,
    },
    #[error("{}: no values found", path.display())]
    EmptyImport { path: PathBuf },
    #[error("{}: import refused, {} error(s)", path.display(), errors.len())]
    ActivityImport {
        path: PathBuf,
        errors: Vec<LineError>,
    },
    #[error("{}: no activities found", path.display())]
    EmptyActivityImport { path: PathBuf },
    #[error("{}: more than {max} rows; at most {max} can be imported at once", path.display())]
    TooManyRows { path: PathBuf, max: usize },
    #[error(
        "{}: too large to import (at most 16 MiB, and 256 MiB once unpacked)",
        path.display()
    )]
    TooLarge { path: PathBuf },
    #[error("{}: not a readable spreadsheet: {reason}", path.display())]
    Spreadsheet { path: PathBuf, reason: String },
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("the text is {bytes} bytes; at most {max} are allowed")]
    NoteTooLong { bytes: usize, max: usize },
    #[error(
        "nothing to change: give at least one of --date, --form, --title, --participants, --note"
    )]
    NothingToEdit,
    #[error(
        "invalid --listen {raw:?}: give 127.0.0.1:PORT, [::1]:PORT or localhost:PORT (e.g. 127.0.0.1:8377)"
    )]
    Listen { raw: String },
    #[error("invalid enrolment link: {source}")]
    Link {
        #[source]
        source: LinkError,
    },
}

/// Everything `run` can fail with.
#[derive(Debug, Error)]
pub enum AgentError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("this agent is not set up yet (data dir {}): run `coso-agent init` or `coso-agent enroll`", dir.display())]
    NotInitialised { dir: PathBuf },
    #[error("no data directory: pass --data-dir or set COSO_AGENT_DIR")]
    NoDataDir,
    #[error("cannot serve the web app on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error(transparent)]
    Backup(#[from] crate::store::BackupError),
    #[error("cannot create the backup file {}: {source}", path.display())]
    BackupFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl AgentError {
    /// The process exit status: 2 when the input was refused, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            AgentError::Input(_) => 2,
            // A newer release's store: refused untouched, as bad input is.
            AgentError::Store(crate::store::StoreError::TooNew { .. }) => 2,
            AgentError::Sync(e) => e.exit_code(),
            // A file that is not an intact backup, a data dir in use, an
            // output that exists: the input was refused, nothing written.
            // Writing the backup failed (a full disk): not the input's fault.
            AgentError::Backup(crate::store::BackupError::Format(
                coso_proto::backup::BackupError::Io(_),
            )) => 1,
            AgentError::Backup(crate::store::BackupError::Format(_))
            | AgentError::Backup(crate::store::BackupError::NotEmpty(_)) => 2,
            AgentError::BackupFile { source, .. }
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotFound
                ) =>
            {
                2
            }
            _ => 1,
        }
    }
}
