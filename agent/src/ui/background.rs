//! The background sync of the web app: a `sync::Session` round every
//! `--sync-every` while enrolled, sooner when a page asks ("sync now", after a
//! change), with backoff while the hub cannot be reached. The store records
//! the cursors and the last error; this keeps what the pages show meanwhile.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};

use super::App;
use crate::sync::{self, SyncError, SyncOptions};

/// How the last background sync ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// A sentence saying what it did.
    Done { at: DateTime<Utc>, summary: String },
    /// Why it failed, for people.
    Failed { at: DateTime<Utc>, message: String },
    /// Not enrolled: nothing to sync with.
    NotEnrolled,
}

/// What the pages show about the background sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    pub running: bool,
    /// Syncs finished since the app started.
    pub runs: u64,
    pub last: Option<SyncOutcome>,
}

/// The handle pages use to wake the loop and read its status.
pub struct Syncer {
    wake: Notify,
    status: watch::Sender<SyncStatus>,
}

impl Default for Syncer {
    fn default() -> Self {
        Syncer {
            wake: Notify::new(),
            status: watch::Sender::new(SyncStatus::default()),
        }
    }
}

impl Syncer {
    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// Asks for a sync soon, without waiting for it.
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Asks for a sync and waits (up to `timeout`) until one that started
    /// after this call has finished; returns the status then.
    pub async fn sync_now(&self, timeout: Duration) -> SyncStatus {
        let mut rx = self.status.subscribe();
        let target = {
            let s = rx.borrow();
            s.runs + if s.running { 2 } else { 1 }
        };
        self.wake.notify_one();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|s| s.runs >= target)).await;
        self.status()
    }
}

/// The loop, until `stop` turns true.
pub async fn run(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let every = app.cfg.sync_every;
    let mut opts = SyncOptions::new(app.cfg.lang);
    opts.progress = false;
    opts.store_wait = app.cfg.lock_wait;
    let mut failures: u32 = 0;
    // One connection to the hub for the app's life (see `sync::Session`).
    let mut session = sync::Session::new();
    loop {
        app.sync.status.send_modify(|s| s.running = true);
        let result = session.sync(&app.cfg.data_dir, &opts).await;
        let now = coso_domain::clock::now();
        let (outcome, wait) = match result {
            Ok(report) => {
                failures = 0;
                let summary = report.render_short(app.cfg.lang);
                (SyncOutcome::Done { at: now, summary }, every)
            }
            Err(SyncError::NotEnrolled) => (SyncOutcome::NotEnrolled, every),
            Err(e) => {
                let wait = if e.is_transient() {
                    failures = failures.saturating_add(1);
                    sync::backoff(failures, every)
                } else {
                    every
                };
                (
                    SyncOutcome::Failed {
                        at: now,
                        message: e.message(app.cfg.lang),
                    },
                    wait,
                )
            }
        };
        app.sync.status.send_modify(|s| {
            s.running = false;
            s.runs += 1;
            s.last = Some(outcome);
        });
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = app.sync.wake.notified() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}
