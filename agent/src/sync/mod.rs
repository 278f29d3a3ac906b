//! Enrolment and sync with the ward hub: `coso-agent enroll`, `sync` and
//! `sync --watch`, the client side of proto/coso/v1/sync.proto.
//!
//! The hub's cursor is the authority (design.md): every sync starts with
//! `Hello`, pushes from the hub's cursor, and records a cursor only from the
//! hub's reply. The store is opened only around local steps and dropped
//! before every network call, so an officer's command never waits for the
//! network.
//!
//! Before it records anything from a Hello, the agent checks that the hub's
//! log is a prefix of its own: the hub's cursor is within its log and the
//! hub's log-chain hash at that cursor equals its own. If not, the logs have
//! diverged (two copies of the agent, or a copy older than what the hub
//! holds): the agent tells the hub, which stops the unit's syncs, and
//! refuses with [`SyncError::Diverged`]. [`recover`] rebuilds the log on the
//! hub's after VH-XH reissues the unit's link.

pub mod client;
mod enroll;
mod error;
mod every;
mod progress;
mod report;
mod session;
mod steps;
mod watch;

use std::path::Path;
use std::time::Duration;

use coso_domain::Lang;

use crate::store::Store;

pub use enroll::{enroll, recover};
pub use error::{NetFault, SyncError};
pub use every::{DurationError, backoff, parse_duration};
pub use report::{EnrollOutcome, RecoverOutcome, SyncReport};
pub use session::{Session, sync_once};
pub use watch::watch;

/// The gRPC status codes [`SyncError::Refused`] carries.
pub use tonic::Code;

/// Used when the hub advertises no limit (0): well inside any sane gRPC
/// message limit.
const DEFAULT_BATCH_ENTRIES: usize = 256;
const DEFAULT_BATCH_BYTES: usize = 1 << 20;
/// Review pages asked of `Pull`.
const PULL_PAGE: u32 = 500;
/// Hellos in one sync after the hub refused a batch as out of step.
const MAX_ROUNDS: u32 = 4;

/// How a sync runs. The CLI builds it with [`SyncOptions::new`] and may
/// adjust the fields.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub lang: Lang,
    /// The CLI prints JSON: no progress bar, and `watch` prints one JSON
    /// document per line.
    pub json: bool,
    /// Show a progress bar for long syncs (only when stderr is a terminal).
    pub progress: bool,
    /// Connect and per-call timeout.
    pub timeout: Duration,
    /// How long to wait for an officer's command to release the store.
    pub store_wait: Duration,
    /// Send at most this many entries per batch (the hub's limit applies
    /// too). Defaults to env `COSO_SYNC_BATCH_ENTRIES` if set.
    pub max_batch_entries: Option<usize>,
    /// Send at most this many bytes per batch (the hub's limit applies too).
    pub max_batch_bytes: Option<usize>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            lang: Lang::default(),
            json: false,
            progress: true,
            timeout: Duration::from_secs(30),
            store_wait: Duration::from_secs(10),
            max_batch_entries: std::env::var("COSO_SYNC_BATCH_ENTRIES")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .filter(|n| *n > 0),
            max_batch_bytes: None,
        }
    }
}

impl SyncOptions {
    pub fn new(lang: Lang) -> SyncOptions {
        SyncOptions {
            lang,
            ..SyncOptions::default()
        }
    }
}

fn open(dir: &Path, wait: Duration) -> Result<Store, SyncError> {
    Ok(Store::open(dir, wait)?)
}

fn invalid(what: &'static str) -> impl FnOnce(coso_domain::DomainError) -> SyncError {
    move |source| SyncError::InvalidResponse { what, source }
}

fn missing(what: &'static str) -> SyncError {
    SyncError::UnexpectedReply {
        what,
        detail: "missing from the reply".into(),
    }
}
