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
mod error;
mod every;
mod report;

use std::future::Future;
use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use coso_domain::{Calendar, Catalog, Lang, Review, Unit};
use coso_proto::link::EnrolmentLink;
use coso_proto::pb;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::store::{HubLink, Identity, OpenMark, Store, SyncState};
use client::HubClient;

pub use error::{NetFault, SyncError};
pub use every::{DurationError, backoff, parse_duration};
pub use report::{EnrollOutcome, RecoverOutcome, SyncReport};
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

/// Trades the link's one-time code for a unit credential and stores it with
/// the catalog and calendar the hub sent. Offline data of the same unit is
/// kept; an agent set up for another unit is refused before the hub is asked.
pub async fn enroll(
    data_dir: &Path,
    link: &EnrolmentLink,
    lang: Lang,
) -> Result<EnrollOutcome, SyncError> {
    let wait = SyncOptions::default().store_wait;
    // Nothing is written to a data dir that does not exist yet until the hub
    // has said yes.
    if data_dir.exists() {
        let store = open(data_dir, wait)?;
        if let Some(id) = store.identity()?
            && id.unit.code != link.unit
        {
            return Err(SyncError::UnitMismatch {
                local: id.unit.code,
                link: link.unit.clone(),
            });
        }
    }

    let mut hub = HubClient::connect(
        &link.addr,
        link.fingerprint,
        None,
        lang,
        Duration::from_secs(30),
    )?;
    let resp = hub.enroll(&link.unit, &link.code).await?;

    let unit =
        Unit::try_from(resp.unit.ok_or_else(|| missing("unit"))?).map_err(invalid("unit"))?;
    if unit.code != link.unit {
        return Err(SyncError::UnexpectedReply {
            what: "unit",
            detail: format!("asked for {}, got {}", link.unit, unit.code),
        });
    }
    let cat_doc = resp.catalog.ok_or_else(|| missing("catalog"))?;
    let catalog = Catalog::try_from(&cat_doc).map_err(invalid("catalog"))?;
    let cal_doc = resp.calendar.ok_or_else(|| missing("calendar"))?;
    let calendar = Calendar::try_from(&cal_doc).map_err(invalid("calendar"))?;
    let credential = resp.credential;
    let well_formed = credential
        .strip_prefix(&format!("{}.", unit.code))
        .is_some_and(|secret| !secret.is_empty())
        && credential.bytes().all(|b| b.is_ascii_graphic());
    if !well_formed {
        return Err(SyncError::UnexpectedReply {
            what: "credential",
            detail: format!("expected {}.<secret>", unit.code),
        });
    }

    let store = open(data_dir, wait)?;
    // Checked again: an `init` may have run while the hub was answering.
    let previous = store.identity()?;
    if let Some(id) = &previous
        && id.unit.code != unit.code
    {
        return Err(SyncError::UnitMismatch {
            local: id.unit.code.clone(),
            link: unit.code,
        });
    }
    let ward = (!resp.ward.is_empty()).then(|| resp.ward.clone());
    store.set_identity(&Identity {
        unit: unit.clone(),
        hub: Some(HubLink {
            addr: link.addr.clone(),
            fingerprint: link.fingerprint,
            credential,
            enrolled_at: coso_domain::clock::now(),
        }),
        ward: ward.or_else(|| previous.and_then(|p| p.ward)),
    })?;
    store.set_catalog(cat_doc.version, &catalog)?;
    store.set_calendar(cal_doc.version, &calendar)?;
    let pending = store
        .head_seq()?
        .saturating_sub(store.sync_state()?.acked_seq);
    store.flush().await?;
    drop(store);

    let mut out = EnrollOutcome::new(&unit, resp.ward, link.addr.clone());
    out.catalog_version = cat_doc.version;
    out.calendar_version = cal_doc.version;
    out.pending_changes = pending;
    Ok(out)
}

/// `coso-agent recover LINK`: after the ward reissued the unit's link
/// because its log diverged, enrols with the new link, reads the unit's log
/// as the hub holds it, rebuilds the local log on it (this copy's own
/// changes follow the hub's, none dropped; see [`Store::rebase`]) and syncs.
pub async fn recover(
    data_dir: &Path,
    link: &EnrolmentLink,
    opts: &SyncOptions,
) -> Result<RecoverOutcome, SyncError> {
    if !data_dir.exists() {
        return Err(SyncError::NotEnrolled);
    }
    enroll(data_dir, link, opts.lang).await?;
    let (local, _) = read_local(data_dir, opts)?;
    let mut hub = HubClient::connect(
        &local.link.addr,
        local.link.fingerprint,
        Some(&local.link.credential),
        opts.lang,
        opts.timeout,
    )?;
    let mut entries: Vec<coso_domain::Entry> = Vec::new();
    loop {
        let page = hub
            .log(pb::LogRequest {
                after_seq: entries.len() as u64,
                limit: PULL_PAGE,
            })
            .await?;
        let before = entries.len();
        for e in page.entries {
            let entry = coso_domain::Entry::try_from(e).map_err(invalid("log entry"))?;
            if entry.seq != entries.len() as u64 + 1 {
                return Err(SyncError::UnexpectedReply {
                    what: "log",
                    detail: format!("expected seq {}, got {}", entries.len() + 1, entry.seq),
                });
            }
            entries.push(entry);
        }
        if entries.len() as u64 >= page.acked_seq || entries.len() == before {
            break;
        }
    }
    let rebased = {
        let store = open(data_dir, opts.store_wait)?;
        let r = store.rebase(&entries)?;
        store.flush().await?;
        r
    };
    let sync = sync_once(data_dir, opts).await?;
    Ok(RecoverOutcome {
        unit: local.unit,
        common: rebased.common,
        hub_head: rebased.hub_head,
        rebased: rebased.rebased,
        renamed: rebased.renamed,
        sync,
    })
}

/// What the agent holds before a sync, read in one short store visit.
#[derive(Clone)]
struct Local {
    unit: String,
    link: HubLink,
    state: SyncState,
    head: u64,
    /// The log chain at `state.acked_seq`: the point the Hello claims.
    claim_chain: [u8; 32],
    catalog_version: u64,
    calendar_version: u64,
}

impl Local {
    /// The seq the Hello claims the chain at.
    fn claim_seq(&self) -> u64 {
        self.state.acked_seq.min(self.head)
    }
}

/// What a sync needs from the store, and the mark of the opening it was
/// read under.
fn read_local(data_dir: &Path, opts: &SyncOptions) -> Result<(Local, OpenMark), SyncError> {
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

fn hello_request(local: &Local) -> pb::HelloRequest {
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
    }
}

/// Checks the hub's log against ours before anything from this Hello is
/// recorded: the hub's cursor must be within our log, and its chain there
/// must be ours. On a mismatch the hub is told (it marks the unit diverged
/// and stops its syncs) and the sync fails with [`SyncError::Diverged`].
async fn verify(
    hub: &mut HubClient,
    hello: &pb::HelloResponse,
    local: &Local,
    data_dir: &Path,
    opts: &SyncOptions,
) -> Result<(), SyncError> {
    // The usual case: the hub's cursor is the one we claimed, whose chain
    // we read with the rest of the local state.
    if hello.acked_seq == local.claim_seq()
        && let Some(theirs) = coso_proto::chain::from_wire(&hello.acked_chain)
        && theirs == local.claim_chain
    {
        return Ok(());
    }
    let (head, ours) = {
        let store = open(data_dir, opts.store_wait)?;
        let head = store.head_seq()?;
        let ours = if hello.acked_seq <= head {
            Some(store.chain_at(hello.acked_seq)?)
        } else {
            None
        };
        (head, ours)
    };
    let kind = match ours {
        None => coso_proto::meta::Diverged::Behind,
        Some(c) => match coso_proto::chain::from_wire(&hello.acked_chain) {
            // A hub that does not send chains cannot be checked here; its
            // own replay check still refuses other content.
            None => return Ok(()),
            Some(theirs) if theirs == c => return Ok(()),
            Some(_) => coso_proto::meta::Diverged::Forked,
        },
    };
    let mut tell = hello_request(local);
    tell.agent_head = head;
    match (kind, ours) {
        (coso_proto::meta::Diverged::Forked, Some(c)) => {
            tell.claim_seq = hello.acked_seq;
            tell.claim_chain = c.to_vec();
        }
        _ => tell.behind = true,
    }
    match hub.hello(tell).await {
        Err(e @ SyncError::Diverged { .. }) => Err(e),
        // Told or not, this log must not be mixed with the hub's.
        _ => Err(SyncError::Diverged { kind }),
    }
}

/// Applies a newer catalog and calendar and the review decisions after the
/// agent's pull cursor, then moves the cursor, in one store visit.
async fn pull(
    hub: &mut HubClient,
    hello: &mut pb::HelloResponse,
    local: &Local,
    data_dir: &Path,
    opts: &SyncOptions,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let catalog = match &hello.catalog {
        Some(doc) if doc.version > local.catalog_version => Some((
            doc.version,
            Catalog::try_from(doc).map_err(invalid("catalog"))?,
        )),
        _ => None,
    };
    let calendar = match &hello.calendar {
        Some(doc) if doc.version > local.calendar_version => Some((
            doc.version,
            Calendar::try_from(doc).map_err(invalid("calendar"))?,
        )),
        _ => None,
    };

    let ours = local
        .state
        .pull_epoch
        .as_deref()
        .and_then(|h| hex::decode(h).ok())
        .unwrap_or_default();
    // Another outbound epoch (the hub was restored): its seqs are not ours
    // to compare, and the hub paged from the start.
    let new_epoch = !hello.pull_epoch.is_empty() && hello.pull_epoch != ours;
    let mut cursor = if new_epoch { 0 } else { local.state.pull_after };
    let mut head = hello.pull_head;
    let mut page = std::mem::take(&mut hello.pull);
    if head < cursor {
        // The hub's outbound log is shorter than what we applied: it was
        // restored from a backup. Read it again from the start; applying a
        // decision twice is harmless.
        cursor = 0;
        let resp = hub
            .pull(pb::PullRequest {
                after_seq: 0,
                limit: PULL_PAGE,
            })
            .await?;
        head = resp.pull_head;
        page = resp.entries;
    }
    let mut reviews: Vec<(u64, Review)> = Vec::new();
    loop {
        let before = cursor;
        for entry in page {
            if entry.seq <= cursor {
                continue;
            }
            // Kinds this agent does not know yet are skipped, not refused, so
            // a newer hub can add outbound entry kinds.
            if let Some(pb::pull_entry::Entry::Review(r)) = entry.entry {
                reviews.push((entry.seq, Review::try_from(r).map_err(invalid("review"))?));
            }
            cursor = entry.seq;
        }
        if cursor >= head || cursor == before {
            break;
        }
        let resp = hub
            .pull(pb::PullRequest {
                after_seq: cursor,
                limit: PULL_PAGE,
            })
            .await?;
        head = head.max(resp.pull_head);
        page = resp.entries;
    }

    if catalog.is_none() && calendar.is_none() && cursor == local.state.pull_after && !new_epoch {
        return Ok(());
    }
    let store = open(data_dir, opts.store_wait)?;
    if let Some((v, c)) = &catalog {
        store.set_catalog(*v, c)?;
        report.catalog_updated = true;
        report.catalog_version = *v;
    }
    if let Some((v, c)) = &calendar {
        store.set_calendar(*v, c)?;
        report.calendar_updated = true;
        report.calendar_version = *v;
    }
    let epoch = (!hello.pull_epoch.is_empty()).then_some(hello.pull_epoch.as_slice());
    store.apply_pulled(&reviews, cursor, epoch)?;
    store.flush().await?;
    report.pulled_reviews = reviews.len() as u64;
    Ok(())
}

/// Pushes the log in batches from the hub's cursor. Each store visit records
/// the previous reply's cursor and reads the next batch.
async fn push(
    hub: &mut HubClient,
    hello: &pb::HelloResponse,
    data_dir: &Path,
    opts: &SyncOptions,
    report: &mut SyncReport,
    progress: &mut Progress,
    first_sent: &mut u64,
) -> Result<(), SyncError> {
    let max_entries = limit(
        hello.max_batch_entries as usize,
        opts.max_batch_entries,
        DEFAULT_BATCH_ENTRIES,
    );
    let max_bytes = limit(
        usize::try_from(hello.max_batch_bytes).unwrap_or(usize::MAX),
        opts.max_batch_bytes,
        DEFAULT_BATCH_BYTES,
    );
    let hub_acked = hello.acked_seq;
    let mut ack = hub_acked;
    // Where to send from: normally the hub's cursor. If the hub is ahead of
    // what we recorded, the reply to our last batch was lost; resending from
    // our own cursor lets the hub check those entries by hash (it skips
    // them) instead of trusting that they match.
    let mut next: Option<u64> = None;
    loop {
        let batch = {
            let store = open(data_dir, opts.store_wait)?;
            let head = store.head_seq()?;
            if next.is_none() {
                if hub_acked > head {
                    return Err(SyncError::AgentBehind {
                        hub: hub_acked,
                        local: head,
                    });
                }
                let ours = store.sync_state()?.acked_seq;
                if hub_acked < ours {
                    report.hub_behind = true;
                }
                next = Some(hub_acked.min(ours));
                progress.start(head.saturating_sub(hub_acked.min(ours)), max_entries);
            }
            store.set_acked(ack, coso_domain::clock::now())?;
            let from = next.unwrap_or(ack);
            let batch = store.entries_after(from, max_entries, max_bytes)?;
            store.flush().await?;
            report.acked_seq = ack;
            report.agent_head = head;
            batch
        };
        let from = next.unwrap_or(ack);
        let Some(first) = batch.first() else {
            return Ok(());
        };
        for (i, e) in batch.iter().enumerate() {
            let expected = from + 1 + i as u64;
            if e.seq != expected {
                return Err(SyncError::LogGap {
                    expected,
                    found: e.seq,
                });
            }
        }
        *first_sent = first.seq;
        let last = from + batch.len() as u64;
        let sent = batch.len() as u64;
        let resp = hub
            .push(pb::PushRequest {
                entries: batch.iter().map(pb::ChangeEntry::from).collect(),
            })
            .await?;
        if resp.acked_seq < last || u64::from(resp.applied) > sent {
            return Err(SyncError::UnexpectedReply {
                what: "push",
                detail: format!(
                    "sent seq {}..={last}, the hub acknowledged {} with {} applied",
                    first.seq, resp.acked_seq, resp.applied
                ),
            });
        }
        report.pushed += u64::from(resp.applied);
        report.skipped += sent - u64::from(resp.applied);
        progress.advance(sent);
        // The hub's cursor may be beyond this batch if another sync of this
        // unit raced us; continue from the hub's word.
        ack = resp.acked_seq;
        next = Some(ack);
    }
}

/// The smaller of what the hub allows and what the options ask for.
fn limit(hub: usize, ours: Option<usize>, default: usize) -> usize {
    let hub = if hub == 0 { default } else { hub };
    ours.map_or(hub, |o| o.min(hub)).max(1)
}

/// A progress bar on stderr for syncs of more than one batch, shown only to
/// people (a terminal, not JSON).
struct Progress {
    enabled: bool,
    lang: Lang,
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(opts: &SyncOptions) -> Progress {
        Progress {
            enabled: opts.progress && !opts.json && std::io::stderr().is_terminal(),
            lang: opts.lang,
            bar: None,
        }
    }

    fn start(&mut self, total: u64, batch: usize) {
        if !self.enabled || total <= batch as u64 || self.bar.is_some() {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(self.lang.pick("Đang gửi thay đổi", "Sending changes"));
        self.bar = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// Syncs every `every` until `shutdown` completes, on one kept connection
/// (see [`Session`]). While the hub cannot be
/// reached, retries sooner with backoff and jitter (never later than
/// `every`), logging each failure in one line. Stops on errors that retrying
/// cannot fix (a revoked credential, a corrupt log, ...).
pub async fn watch(
    data_dir: &Path,
    every: Duration,
    opts: &SyncOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SyncError> {
    tokio::pin!(shutdown);
    let lang = opts.lang;
    let mut failures: u32 = 0;
    let mut session = Session::new();
    loop {
        let wait = tokio::select! {
            r = session.sync(data_dir, opts) => match r {
                Ok(report) => {
                    failures = 0;
                    if opts.json {
                        println!("{}", report.json_line());
                    } else {
                        println!("{}", report.render_short(lang));
                    }
                    every
                }
                Err(e) if e.is_transient() => {
                    failures += 1;
                    let wait = backoff(failures, every);
                    eprintln!(
                        "{}",
                        match lang {
                            Lang::Vi => format!(
                                "[{}] đồng bộ thất bại (lần {failures}): {}; thử lại sau {} giây",
                                clock(), e.message(lang), wait.as_secs()
                            ),
                            Lang::En => format!(
                                "[{}] sync failed (attempt {failures}): {}; retrying in {} s",
                                clock(), e.message(lang), wait.as_secs()
                            ),
                        }
                    );
                    wait
                }
                Err(e) => return Err(e),
            },
            () = &mut shutdown => return Ok(()),
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut shutdown => return Ok(()),
        }
    }
}

fn clock() -> String {
    Utc::now()
        .with_timezone(&coso_domain::calendar::vietnam())
        .format("%H:%M:%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_take_the_smaller() {
        assert_eq!(limit(0, None, 256), 256);
        assert_eq!(limit(100, None, 256), 100);
        assert_eq!(limit(100, Some(10), 256), 10);
        assert_eq!(limit(5, Some(10), 256), 5);
        assert_eq!(limit(5, Some(0), 256), 1);
    }
}
