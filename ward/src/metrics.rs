//! What the hub counts for `/metrics`: the events the ward decides (pushes
//! and their entries, review decisions) counted where they are decided, the
//! sync refusals the edge counts from what a use case returned (named by a
//! small fixed set of reasons, never a unit or a person), and the figures
//! read at scrape from the ward's state (units expected and reported per open
//! period, the upstream queue, the scheduled backups, the store's health).
//! The hub's HTTP face writes them in the Prometheus text format; nothing
//! here knows that format.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::auth::AuthError;
use crate::store::PushError;
use crate::store::outbox::{AttemptOutcome, DeliveryState};
use crate::sync::SyncError;
use crate::{Ward, WardError};

/// Why a sync call was refused: the label of `coso_hub_sync_refusals_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No, a malformed, an unknown or a revoked credential.
    Auth,
    /// An enrolment code that is wrong, used or expired.
    Enrolment,
    /// A push that does not start where the hub's cursor is.
    Gap,
    /// Other content under a seq the hub holds.
    Corrupt,
    /// The unit's log diverged (two copies, or an older one).
    Diverged,
    /// An entry the ward's checks refused.
    Invalid,
    /// A batch over the limits.
    TooLarge,
    /// The hub's store failed.
    Storage,
    /// The agent's release is below `[sync] min_agent_version`.
    AgentTooOld,
}

impl Refusal {
    pub const ALL: [Refusal; 9] = [
        Refusal::Auth,
        Refusal::Enrolment,
        Refusal::Gap,
        Refusal::Corrupt,
        Refusal::Diverged,
        Refusal::Invalid,
        Refusal::TooLarge,
        Refusal::Storage,
        Refusal::AgentTooOld,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Auth => "auth",
            Refusal::Enrolment => "enrolment",
            Refusal::Gap => "gap",
            Refusal::Corrupt => "corrupt",
            Refusal::Diverged => "diverged",
            Refusal::Invalid => "invalid",
            Refusal::TooLarge => "too_large",
            Refusal::Storage => "storage",
            Refusal::AgentTooOld => "agent_too_old",
        }
    }

    /// The reason of a refused credential.
    pub fn of_auth(e: &AuthError) -> Refusal {
        match e {
            AuthError::Store(_) => Refusal::Storage,
            _ => Refusal::Auth,
        }
    }

    /// The reason of a refused sync step.
    pub fn of_sync(e: &SyncError) -> Refusal {
        match e {
            SyncError::Auth(a) => Refusal::of_auth(a),
            SyncError::Enroll(_) => Refusal::Enrolment,
            SyncError::Push(p) => match p {
                PushError::UnknownUnit(_) => Refusal::Auth,
                PushError::Gap { .. } | PushError::NotConsecutive { .. } => Refusal::Gap,
                PushError::Corrupt { .. } => Refusal::Corrupt,
                PushError::Diverged { .. } => Refusal::Diverged,
                PushError::Store(_) => Refusal::Storage,
            },
            SyncError::Diverged { .. } => Refusal::Diverged,
            SyncError::BadEntry { .. } | SyncError::Input(_) => Refusal::Invalid,
            SyncError::TooManyEntries { .. } | SyncError::TooManyBytes { .. } => Refusal::TooLarge,
            SyncError::Store(_) => Refusal::Storage,
            SyncError::UpgradeRequired { .. } => Refusal::AgentTooOld,
        }
    }

    fn index(self) -> usize {
        Refusal::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// The review decisions, the label of `coso_hub_review_decisions_total`.
const DECISIONS: [&str; 3] = ["accepted", "returned", "reopened"];

/// The counters of a running hub (in `HubState`), since it started.
#[derive(Debug, Default)]
pub struct Counters {
    pushes: AtomicU64,
    entries: AtomicU64,
    refusals: [AtomicU64; Refusal::ALL.len()],
    decisions: [AtomicU64; DECISIONS.len()],
    storage_errors: AtomicU64,
}

impl Counters {
    /// A push the ward took, with the entries it added.
    pub(crate) fn pushed(&self, applied: u64) {
        self.pushes.fetch_add(1, Ordering::Relaxed);
        self.entries.fetch_add(applied, Ordering::Relaxed);
    }

    /// A review decision the ward recorded, by its action ("accepted",
    /// "returned", "reopened").
    pub(crate) fn decided(&self, action: &str) {
        if let Some(i) = DECISIONS.iter().position(|d| *d == action) {
            self.decisions[i].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Units expected and reported for one open period.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodFigures {
    pub period: String,
    pub expected: u64,
    pub reported: u64,
}

/// Every figure of `/metrics`, read at one scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub periods: Vec<PeriodFigures>,
    pub pushes: u64,
    pub entries: u64,
    pub refusals: Vec<(&'static str, u64)>,
    pub decisions: Vec<(&'static str, u64)>,
    /// Deliveries waiting for their next attempt.
    pub upstream_queued: u64,
    /// Delivery attempts that did not reach the upstream (durable: every
    /// attempt is kept in the outbox's history).
    pub upstream_failed_attempts: u64,
    /// Deliveries given up (refused, or out of attempts).
    pub upstream_failed: u64,
    /// Seconds since the newest scheduled backup; `None` when there is none
    /// (or no schedule).
    pub backup_age_secs: Option<u64>,
    pub backup_failures: u64,
    /// Calls answered with a storage error since the hub started.
    pub storage_errors: u64,
    /// Whether the store has failed (the hub then refuses everything).
    pub storage_failed: bool,
}

impl Ward {
    /// Counts a refused sync call (the edge calls this with what the use
    /// case returned).
    pub fn count_refusal(&self, r: Refusal) {
        self.hub.counters.refusals[r.index()].fetch_add(1, Ordering::Relaxed);
        if r == Refusal::Storage {
            self.count_storage_error();
        }
    }

    /// Counts a call that failed on the store (any face).
    pub fn count_storage_error(&self) {
        self.hub
            .counters
            .storage_errors
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Every figure of `/metrics`, now.
    pub fn metrics(&self) -> Result<Snapshot, WardError> {
        let c = &self.hub.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let now = coso_domain::clock::now();
        let mut periods = Vec::new();
        if self.hub.storage_failure().is_none() {
            for p in self.hub.docs.calendar().open_periods(now) {
                let s = self.status(&p)?;
                periods.push(PeriodFigures {
                    period: p.code.to_string(),
                    expected: s.totals.expected as u64,
                    reported: s.totals.reported as u64,
                });
            }
        }
        let (mut queued, mut failed, mut failed_attempts) = (0, 0, 0);
        if self.hub.storage_failure().is_none() {
            for d in self.hub.store.deliveries()? {
                match d.state {
                    DeliveryState::Queued => queued += 1,
                    DeliveryState::Failed => failed += 1,
                    _ => {}
                }
            }
            failed_attempts = self
                .hub
                .store
                .attempts()?
                .iter()
                .filter(|a| a.outcome != AttemptOutcome::Delivered)
                .count() as u64;
        }
        let backups = self.backup_standing();
        Ok(Snapshot {
            periods,
            pushes: load(&c.pushes),
            entries: load(&c.entries),
            refusals: Refusal::ALL
                .iter()
                .map(|r| (r.as_str(), load(&c.refusals[r.index()])))
                .collect(),
            decisions: DECISIONS
                .iter()
                .zip(&c.decisions)
                .map(|(d, n)| (*d, load(n)))
                .collect(),
            upstream_queued: queued,
            upstream_failed_attempts: failed_attempts,
            upstream_failed: failed,
            backup_age_secs: backups.age_secs(chrono::Utc::now()),
            backup_failures: backups.failures,
            storage_errors: load(&c.storage_errors),
            storage_failed: self.hub.storage_failure().is_some(),
        })
    }
}
