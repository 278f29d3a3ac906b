//! One sync round and the [`Session`] that keeps the hub connection and the
//! last store read between rounds: Hello, verify, pull, push, and the note
//! of a round with nothing to do.

use std::path::Path;
use std::time::{Duration, Instant};

use coso_domain::Lang;
use coso_proto::pb;

use super::client::HubClient;
use super::progress::Progress;
use super::steps::{pull, push, verify};
use super::{Code, MAX_ROUNDS, SyncError, SyncOptions, SyncReport, open};
use crate::store::{HubLink, OpenMark, Store, SyncState};

/// What the agent holds before a sync, read in one short store visit.
#[derive(Clone)]
pub(super) struct Local {
    pub(super) unit: String,
    pub(super) link: HubLink,
    pub(super) state: SyncState,
    pub(super) head: u64,
    /// The log chain at `state.acked_seq`: the point the Hello claims.
    pub(super) claim_chain: [u8; 32],
    pub(super) catalog_version: u64,
    pub(super) calendar_version: u64,
}

impl Local {
    /// The seq the Hello claims the chain at.
    pub(super) fn claim_seq(&self) -> u64 {
        self.state.acked_seq.min(self.head)
    }
}

/// What a sync needs from the store, and the mark of the opening it was
/// read under.
pub(super) fn read_local(
    data_dir: &Path,
    opts: &SyncOptions,
) -> Result<(Local, OpenMark), SyncError> {
    if !data_dir.exists() {
        return Err(SyncError::NotEnrolled);
    }
    let store = open(data_dir, opts.store_wait)?;
    let id = store.identity()?.ok_or(SyncError::NotEnrolled)?;
    let link = id.hub.ok_or(SyncError::NotEnrolled)?;
    let state = store.sync_state()?;
    let head = store.head_seq()?;
    let (catalog_version, calendar_version) = store.versions()?;
    let local = Local {
        unit: id.unit.code.to_string(),
        link,
        claim_chain: store.chain_at(state.acked_seq.min(head))?,
        state,
        head,
        catalog_version,
        calendar_version,
    };
    Ok((local, store.open_mark()))
}

/// One sync: Hello, pull what is newer, push the log from the hub's cursor.
/// A new connection for this sync alone; see [`Session`] for rounds that
/// keep one.
pub async fn sync_once(data_dir: &Path, opts: &SyncOptions) -> Result<SyncReport, SyncError> {
    Session::new().sync(data_dir, opts).await
}

/// Which hub a kept connection talks to, and as whom.
#[derive(Clone, PartialEq)]
struct HubKey {
    addr: String,
    fingerprint: [u8; 32],
    credential: String,
    lang: Lang,
    timeout: Duration,
}

/// Syncs that follow each other in one process (`sync --watch`, the web
/// app's background sync): the connection to the hub is kept between
/// rounds (one TLS handshake, then one HTTP/2 stream per call), and so is
/// what the last round read from the store, as long as no process has
/// opened the store since ([`OpenMark`]). A round with nothing to
/// send or apply is then one Hello on the kept connection and a note of the
/// time, without opening the store.
#[derive(Default)]
pub struct Session {
    hub: Option<(HubKey, HubClient)>,
    seen: Option<(OpenMark, Local)>,
}

impl Session {
    pub fn new() -> Session {
        Session::default()
    }

    /// One sync round; see [`sync_once`].
    pub async fn sync(
        &mut self,
        data_dir: &Path,
        opts: &SyncOptions,
    ) -> Result<SyncReport, SyncError> {
        let result = self.round(data_dir, opts).await;
        if let Err(e) = &result {
            self.seen = None;
            record_failure(data_dir, e, opts);
        }
        result
    }

    /// The store as the last round read it if no process has opened it
    /// since ([`OpenMark`]), else a fresh read (one short store visit).
    fn local(&mut self, data_dir: &Path, opts: &SyncOptions) -> Result<Local, SyncError> {
        if let (Some(now), Some((then, local))) = (Store::last_open_mark(data_dir), &self.seen)
            && now == *then
        {
            return Ok(local.clone());
        }
        self.seen = None;
        let (local, mark) = read_local(data_dir, opts)?;
        self.seen = Some((mark, local.clone()));
        Ok(local)
    }

    async fn round(
        &mut self,
        data_dir: &Path,
        opts: &SyncOptions,
    ) -> Result<SyncReport, SyncError> {
        let started = Instant::now();
        let local = self.local(data_dir, opts)?;
        let key = HubKey {
            addr: local.link.addr.clone(),
            fingerprint: local.link.fingerprint,
            credential: local.link.credential.clone(),
            lang: opts.lang,
            timeout: opts.timeout,
        };
        let (mut hub, reused) = match self.hub.take() {
            Some((k, hub)) if k == key => (hub, true),
            _ => (connect(&key)?, false),
        };
        let mut result = sync_inner(&mut hub, &local, data_dir, opts, started).await;
        // A kept connection the hub closed (a restart, an idle timeout on
        // the way) fails its first call; one more try on a new connection
        // tells that apart from a hub that is really down. Syncing twice is
        // syncing once.
        if reused
            && let Err(e) = &result
            && connection_lost(e)
        {
            hub = connect(&key)?;
            result = sync_inner(&mut hub, &local, data_dir, opts, started).await;
        }
        self.hub = Some((key, hub));
        result
    }
}

fn connect(key: &HubKey) -> Result<HubClient, SyncError> {
    HubClient::connect(
        &key.addr,
        key.fingerprint,
        Some(&key.credential),
        key.lang,
        key.timeout,
    )
}

fn connection_lost(e: &SyncError) -> bool {
    matches!(
        e,
        SyncError::HubUnreachable { .. }
            | SyncError::Refused {
                code: Code::Unavailable | Code::Unknown,
                ..
            }
    )
}

/// Keeps the reason for `coso-agent status`; best effort, since the sync has
/// already failed and its error is what the officer needs to see.
fn record_failure(data_dir: &Path, e: &SyncError, opts: &SyncOptions) {
    if matches!(e, SyncError::NotEnrolled | SyncError::Store(_)) {
        return;
    }
    if let Ok(store) = Store::open(data_dir, Duration::from_millis(500))
        && store.set_sync_error(Some(&e.message(opts.lang))).is_ok()
    {
        let _ = store.flush_blocking();
    }
}

async fn sync_inner(
    hub: &mut HubClient,
    local: &Local,
    data_dir: &Path,
    opts: &SyncOptions,
    started: Instant,
) -> Result<SyncReport, SyncError> {
    let (calls0, sent0, received0) = (hub.calls, hub.sent, hub.received);
    let mut report = SyncReport {
        unit: local.unit.clone(),
        hub: hub.addr().to_string(),
        catalog_version: local.catalog_version,
        calendar_version: local.calendar_version,
        ..SyncReport::default()
    };
    let mut progress = Progress::new(opts);
    let mut last_refusal: Option<(u64, u64)> = None;
    let mut round = 0;
    loop {
        round += 1;
        let mut hello = hub.hello(hello_request(local)).await?;
        verify(hub, &hello, local, data_dir, opts).await?;
        if round == 1 {
            pull(hub, &mut hello, local, data_dir, opts, &mut report).await?;
            if nothing_to_send(&hello, local, &report) {
                // Nothing to send, nothing pulled, no error to clear: the
                // store stays closed; only the time of this sync is noted.
                if Store::note_synced(data_dir, coso_domain::clock::now()).is_ok() {
                    report.acked_seq = local.head;
                    report.agent_head = local.head;
                    break;
                }
            }
        }
        let mut first_sent = 0;
        match push(
            hub,
            &hello,
            data_dir,
            opts,
            &mut report,
            &mut progress,
            &mut first_sent,
        )
        .await
        {
            Ok(()) => break,
            Err(SyncError::OutOfStep { expected, detail }) => {
                // The hub names its cursor: start over from Hello. The same
                // refusal at the same cursor again means it holds different
                // content under a seq we resent.
                let here = (hello.acked_seq, first_sent);
                if last_refusal == Some(here) {
                    return Err(SyncError::Corrupt {
                        seq: first_sent,
                        detail,
                    });
                }
                if round >= MAX_ROUNDS {
                    return Err(SyncError::OutOfStep { expected, detail });
                }
                last_refusal = Some(here);
            }
            Err(e) => return Err(e),
        }
    }
    progress.finish();
    report.round_trips = hub.calls - calls0;
    report.bytes_sent_approx = hub.sent - sent0;
    report.bytes_received_approx = hub.received - received0;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Whether the hub holds exactly our log and what we recorded of it, and
/// the pull brought nothing: then the push would only record the time.
fn nothing_to_send(hello: &pb::HelloResponse, local: &Local, report: &SyncReport) -> bool {
    hello.acked_seq == local.head
        && local.state.acked_seq == local.head
        && local.state.last_error.is_none()
        && local.state.last_sync.is_some()
        && report.pulled_reviews == 0
        && !report.catalog_updated
        && !report.calendar_updated
}

pub(super) fn hello_request(local: &Local) -> pb::HelloRequest {
    pb::HelloRequest {
        pull_after: local.state.pull_after,
        catalog_version: local.catalog_version,
        calendar_version: local.calendar_version,
        agent_head: local.head,
        claim_seq: local.state.acked_seq.min(local.head),
        claim_chain: local.claim_chain.to_vec(),
        behind: false,
        pull_epoch: local
            .state
            .pull_epoch
            .as_deref()
            .and_then(|h| hex::decode(h).ok())
            .unwrap_or_default(),
        // The release (the workspace version), so the hub can record it and
        // refuse one below its minimum.
        agent_version: env!("CARGO_PKG_VERSION").into(),
    }
}
