//! The agents' sync as use cases: enrolment, Hello (with the divergence
//! check and the outbound page), Push (size limits, admission, the atomic
//! append), Log and Pull. The unit is always the one its credential belongs
//! to, never one named in a request; the gRPC edge (`coso-hub`'s
//! `sync_service`) only converts messages and picks status codes.
//!
//! Divergence: every Hello carries a point of the agent's log (its log-chain
//! hash at a seq) and the agent's head; the hub compares them with its own
//! chain and cursor and marks the unit diverged when they cannot be one log
//! (see ARCHITECTURE.md, "The hub's cursor is the authority").

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use coso_domain::{Change, DomainError, Entry, Review, Unit, UnitCode, Version};
use thiserror::Error;

use crate::auth::{self, AuthError, CodeCheck};
use crate::documents::Served;
use crate::input::InputError;
use crate::receipt::{Receipt, ReceiptKey};
use crate::store::{DivergeKind, Enrolment, Incoming, PushError, StoreError, UnitRecord};
use crate::{Ward, admission};

/// How many outbound entries a Hello or Pull returns at most.
pub const PULL_PAGE: usize = 100;

/// Why an enrolment was refused. Nothing changed on the hub.
#[derive(Debug, Error)]
pub enum EnrollRefusal {
    #[error("the enrolment code is not valid for this unit, or was already used")]
    Invalid,
    #[error("the enrolment code has expired; ask the ward for a new link")]
    Expired,
    #[error("unit {0} has been revoked")]
    Revoked(UnitCode),
}

/// Why a sync step was refused or failed. Nothing changed when it returns one
/// (a divergence is recorded, and that is the change it reports).
#[derive(Debug, Error)]
pub enum SyncError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Enroll(#[from] EnrollRefusal),
    #[error(transparent)]
    Push(PushError),
    #[error(
        "unit {unit}: {}; the hub refuses its syncs until VH-XH reissues its link and the agent runs `coso-agent recover`",
        match kind {
            DivergeKind::Forked => "two copies of this unit's agent recorded different changes (the credential is used by two copies)",
            DivergeKind::Behind => "this copy of the agent is older than what the hub already holds",
        }
    )]
    Diverged { unit: UnitCode, kind: DivergeKind },
    #[error(
        "unit {unit}: this agent ({}) is older than the ward's hub accepts; install coso-agent {minimum} or later, then sync again (nothing recorded on this computer is lost)",
        match version { Some(v) => format!("release {v}"), None => "a release before 0.3.0".to_string() }
    )]
    UpgradeRequired {
        unit: UnitCode,
        /// What the agent named; none from a release before 0.3.0.
        version: Option<Version>,
        minimum: Version,
    },
    #[error(
        "entry {index} of the batch (seq {seq}) is invalid: {error}{}",
        older_agent_hint(error, coso_domain::Lang::En)
    )]
    BadEntry {
        index: usize,
        seq: u64,
        error: DomainError,
    },
    #[error("the batch has {count} entries; the hub accepts at most {max}")]
    TooManyEntries { count: usize, max: u32 },
    #[error("the batch has {bytes} bytes of payload; the hub accepts at most {max}")]
    TooManyBytes { bytes: u64, max: u64 },
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What to do about a refused entry holding a character today's record
/// rules refuse: an agent of an earlier release (0.1.0 applied no
/// character rules) recorded it, and this release's agent cleans such text
/// once when it opens that store (`coso_domain::clean`), so upgrading the
/// agent unsticks the unit. Empty for any other refusal.
pub fn older_agent_hint(error: &DomainError, lang: coso_domain::Lang) -> &'static str {
    match (error, lang) {
        (DomainError::ControlCharacter { .. }, coso_domain::Lang::En) => {
            "; if the unit runs an earlier coso-agent, install this release's coso-agent: \
             it cleans text an earlier release recorded, once, and the unit syncs again"
        }
        (DomainError::ControlCharacter { .. }, _) => {
            "; nếu đơn vị đang dùng coso-agent phiên bản cũ, hãy cài coso-agent phiên bản \
             này: phần mềm làm sạch văn bản phiên bản cũ đã ghi (một lần) và đơn vị đồng \
             bộ lại được"
        }
        _ => "",
    }
}

impl From<admission::Refusal> for SyncError {
    fn from(r: admission::Refusal) -> Self {
        match r {
            admission::Refusal::Entry { index, seq, error } => {
                SyncError::BadEntry { index, seq, error }
            }
            admission::Refusal::Store(e) => SyncError::Store(e),
        }
    }
}

impl From<PushError> for SyncError {
    fn from(e: PushError) -> Self {
        match e {
            PushError::Diverged { unit, kind } => SyncError::Diverged { unit, kind },
            e => SyncError::Push(e),
        }
    }
}

/// What a new enrolment hands the agent.
pub struct Enrolled {
    pub credential: String,
    pub unit: Unit,
    pub catalog: Served,
    pub calendar: Served,
    pub ward: String,
}

/// An agent's Hello: where its log is and what it has applied.
pub struct Hello {
    /// The agent's log chain at `claim_seq` (absent: no claim).
    pub claim_chain: Option<[u8; 32]>,
    pub claim_seq: u64,
    pub agent_head: u64,
    /// The agent found its log ends below the hub's cursor.
    pub behind: bool,
    pub pull_epoch: Vec<u8>,
    pub pull_after: u64,
    pub catalog_version: u64,
    pub calendar_version: u64,
    /// The release the agent named (empty from agents before 0.3.0).
    pub agent_version: String,
}

/// The hub's answer to a Hello.
pub struct Welcome {
    pub acked_seq: u64,
    /// Newer documents than the agent holds.
    pub catalog: Option<Served>,
    pub calendar: Option<Served>,
    pub pull: Vec<Outbound>,
    pub pull_head: u64,
    pub max_batch_entries: u32,
    pub max_batch_bytes: u64,
    pub hub_time: DateTime<Utc>,
    pub acked_chain: [u8; 32],
    pub pull_epoch: Vec<u8>,
}

/// What a push did.
#[derive(Debug)]
pub struct Pushed {
    pub acked_seq: u64,
    pub applied: u32,
    /// One per submission whose receive time this push recorded.
    pub receipts: Vec<Receipt>,
}

/// The receive times vouched for by the receipts that verify for a
/// submission of this batch (same unit, seq, period and entry hash); a
/// forged or mismatched receipt is ignored.
fn earlier_receipts(
    key: &ReceiptKey,
    code: &UnitCode,
    batch: &[Incoming],
    receipts: &[Receipt],
) -> BTreeMap<u64, DateTime<Utc>> {
    let mut out = BTreeMap::new();
    for r in receipts {
        let Some(inc) = batch.iter().find(|i| i.entry.seq == r.seq) else {
            continue;
        };
        let Change::Submit(s) = &inc.change else {
            continue;
        };
        if let Some(at) = key.verify(code, r, &s.period.to_string(), &inc.entry.hash) {
            out.insert(r.seq, at);
        }
    }
    out
}

/// One decision of the unit's outbound log, as the agent reads it.
#[derive(Debug)]
pub struct Outbound {
    pub seq: u64,
    pub review: Review,
    /// The hub holds a later submission of the period than the one decided.
    pub superseded: bool,
}

/// A page of outbound decisions.
pub struct Pulled {
    pub entries: Vec<Outbound>,
    pub pull_head: u64,
}

/// A page of the unit's log as the hub holds it.
pub struct LogPage {
    pub entries: Vec<Entry>,
    pub acked_seq: u64,
}

/// The unit a credential speaks for, checked (see [`Ward::unit_of`]).
pub struct Caller(UnitRecord);

impl Caller {
    #[cfg(test)]
    pub(crate) fn of(rec: UnitRecord) -> Caller {
        Caller(rec)
    }

    pub fn unit(&self) -> &UnitCode {
        &self.0.unit.code
    }
}

/// A page size asked for by an agent: 0 is the default page, and no more than
/// ten pages at once.
fn page(limit: u32) -> usize {
    match limit {
        0 => PULL_PAGE,
        n => (n as usize).min(PULL_PAGE * 10),
    }
}

impl Ward {
    /// The unit whose credential `token` is: registered, active, and the
    /// secret matches. A revoked unit is told so.
    pub fn unit_of(&self, token: &str) -> Result<Caller, SyncError> {
        Ok(Caller(auth::unit_of(&self.hub.store, token)?))
    }

    /// Checks the batch's size before anything else is read of it: a single
    /// entry may exceed the byte limit (the agent cannot split it, and the
    /// message limit still bounds it).
    pub fn check_batch_size(&self, count: usize, bytes: u64) -> Result<(), SyncError> {
        let limits = self.hub.config.limits();
        if count > limits.max_batch_entries as usize {
            return Err(SyncError::TooManyEntries {
                count,
                max: limits.max_batch_entries,
            });
        }
        if count > 1 && bytes > limits.max_batch_bytes {
            return Err(SyncError::TooManyBytes {
                bytes,
                max: limits.max_batch_bytes,
            });
        }
        Ok(())
    }

    /// The decisions after `after`, each saying whether it is still about
    /// the period's current submission. A decision is current when it is
    /// the period's last one and no submission came after it (a submission
    /// clears the folded state's decision). Decisions recorded before 0.3.0
    /// do not name their submission: a current one is given the current
    /// submission's, so an agent applies it only to that one. Called under
    /// the unit's lock.
    fn pull_entries(
        &self,
        code: &UnitCode,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Outbound>, SyncError> {
        let store = &self.hub.store;
        let page = store.outbound_after(code, after, limit)?;
        if page.is_empty() {
            return Ok(Vec::new());
        }
        let state = store.unit_state(code)?;
        let mut last = BTreeMap::new();
        for (seq, r) in store.outbound_after(code, 0, usize::MAX)? {
            last.insert(r.period, seq);
        }
        Ok(page
            .into_iter()
            .map(|(seq, mut review)| {
                let current = last.get(&review.period) == Some(&seq)
                    && state.reviews.contains_key(&review.period);
                if current && review.submission.is_none() {
                    review.submission = state
                        .submissions
                        .get(&review.period)
                        .map(|s| s.submitted_at);
                }
                Outbound {
                    seq,
                    review,
                    superseded: !current,
                }
            })
            .collect())
    }

    /// Enrols a unit with its one-time code: a new credential, durable
    /// before it is returned.
    pub async fn enroll(&self, unit: &str, code: &str) -> Result<Enrolled, SyncError> {
        let unit = crate::input::unit_code(unit)?;
        let store = &self.hub.store;
        // Unknown units get the same answer as wrong codes.
        if store.unit(&unit)?.is_none() {
            return Err(EnrollRefusal::Invalid.into());
        }
        let g = store.lock_unit(&unit).await;
        let mut rec = store.unit(&unit)?.ok_or(EnrollRefusal::Invalid)?;
        if rec.enrolment == Enrolment::Revoked {
            return Err(EnrollRefusal::Revoked(unit).into());
        }
        let now = coso_domain::clock::now();
        match auth::code_matches(&rec, code, now) {
            CodeCheck::Ok => {}
            CodeCheck::Expired => return Err(EnrollRefusal::Expired.into()),
            CodeCheck::Wrong | CodeCheck::NoneOutstanding => {
                return Err(EnrollRefusal::Invalid.into());
            }
        }
        let (credential, hash) = auth::new_unit_credential(&unit);
        rec.credential = Some(hash);
        rec.code = None;
        rec.enrolment = Enrolment::Active;
        rec.enrolled_at = Some(now);
        // Enrolling again after `unit reissue` is how a diverged unit
        // recovers: from now on only this enrolment's credential syncs.
        rec.diverged = None;
        // Durable before the credential is shown: a lost reply costs a new
        // link, never a credential the hub does not know.
        store.put_unit(&g, &rec).await?;
        // A credential was issued: the trail names the unit that proved
        // it held the one-time code.
        self.audit(
            &crate::Actor::unit(&unit),
            "unit-enrol",
            Some(&unit),
            String::new(),
        )
        .await?;
        tracing::info!(unit = %unit, "unit enrolled");
        Ok(Enrolled {
            credential,
            unit: rec.unit,
            catalog: self.hub.docs.catalog_doc(),
            calendar: self.hub.docs.calendar_doc(),
            ward: self.hub.config.file.ward.clone(),
        })
    }

    /// A Hello: checks the agent's claim against the hub's chain (marking
    /// the unit diverged when the two cannot be one log), notes the agent's
    /// head and time, and answers with the cursor, newer documents and the
    /// first page of decisions.
    pub async fn hello(&self, caller: Caller, req: Hello) -> Result<Welcome, SyncError> {
        let store = &self.hub.store;
        let code = caller.0.unit.code;
        // Under the unit's lock no push or review is between its write and
        // its flush, so everything read here is durable.
        let g = store.lock_unit(&code).await;
        let mut rec = store.unit(&code)?.ok_or(AuthError::Invalid)?;
        let now = coso_domain::clock::now();
        // The agent's release is recorded even when it is refused, so the
        // ward sees which units still run an old one. Anything not a version
        // counts as not saying.
        let version = req.agent_version.parse::<Version>().ok();
        if rec.agent_version != version {
            rec.agent_version = version;
            store.touch_unit(&g, &rec)?;
        }
        if let Some(minimum) = self.hub.config.file.sync.min_agent_version()
            && version.is_none_or(|v| v < minimum)
        {
            store.flush().await?;
            tracing::warn!(unit = %code, agent_version = ?version.map(|v| v.to_string()), %minimum, "sync refused: agent release below the minimum");
            return Err(SyncError::UpgradeRequired {
                unit: code,
                version,
                minimum,
            });
        }
        if let Some(d) = &rec.diverged {
            return Err(SyncError::Diverged {
                unit: code,
                kind: d.kind,
            });
        }
        // The agent's claim: its chain at a seq the hub holds must be ours.
        if let Some(theirs) = req.claim_chain
            && req.claim_seq <= rec.acked_seq
            && store.chain_at(&code, req.claim_seq)? != theirs
        {
            store
                .mark_diverged(&g, DivergeKind::Forked, req.claim_seq, req.agent_head, now)
                .await?;
            return Err(SyncError::Diverged {
                unit: code,
                kind: DivergeKind::Forked,
            });
        }
        // An agent that found its log ends below our cursor says so.
        if req.behind && req.agent_head < rec.acked_seq {
            store
                .mark_diverged(&g, DivergeKind::Behind, req.agent_head, req.agent_head, now)
                .await?;
            return Err(SyncError::Diverged {
                unit: code,
                kind: DivergeKind::Behind,
            });
        }
        rec.agent_head = req.agent_head;
        rec.last_sync = Some(now);
        store.touch_unit(&g, &rec)?;
        let epoch = store.epoch();
        // Outbound seqs compare only within one epoch: an agent from another
        // (the hub was restored) reads the log again from the start.
        let pull_after = if req.pull_epoch.as_slice() == epoch.as_slice() {
            req.pull_after
        } else {
            0
        };
        let pull = self.pull_entries(&code, pull_after, PULL_PAGE)?;
        let acked_chain = store.chain_at(&code, rec.acked_seq)?;
        drop(g);
        let docs = &self.hub.docs;
        let limits = self.hub.config.limits();
        Ok(Welcome {
            acked_seq: rec.acked_seq,
            catalog: (req.catalog_version < docs.catalog_version()).then(|| docs.catalog_doc()),
            calendar: (req.calendar_version < docs.calendar_version()).then(|| docs.calendar_doc()),
            pull,
            pull_head: rec.outbound_head,
            max_batch_entries: limits.max_batch_entries,
            max_batch_bytes: limits.max_batch_bytes,
            hub_time: coso_domain::clock::now(),
            acked_chain,
            pull_epoch: epoch.to_vec(),
        })
    }

    /// A push: every new entry is admitted (or the whole batch refused),
    /// then the batch and the new cursor are applied atomically and flushed
    /// before this returns.
    /// `receipts` are the hub's earlier receipts the agent sends back: a
    /// submission the hub does not hold (restored from an older backup)
    /// keeps the receive time of a receipt that verifies for it.
    pub async fn push(
        &self,
        caller: Caller,
        batch: Vec<Incoming>,
        receipts: Vec<Receipt>,
    ) -> Result<Pushed, SyncError> {
        let store = &self.hub.store;
        let g = store.lock_unit(caller.unit()).await;
        // Under the lock, so the cursor and the folded state a submission is
        // judged against are the ones the batch is appended to.
        let rec = store.unit(caller.unit())?.ok_or(AuthError::Invalid)?;
        let state = || store.unit_state(&rec.unit.code);
        let now = coso_domain::clock::now();
        admission::check(&self.hub, &rec, state, &batch, now)?;
        let key = &self.hub.receipt_key;
        let code = &rec.unit.code;
        let earlier = earlier_receipts(key, code, &batch, &receipts);
        let (out, received) = match store.push_with(&g, &batch, now, &earlier).await {
            Ok(out) => out,
            // The same credential sent other content under a held seq: two
            // copies of the agent (or a damaged log). The unit is stopped
            // until VH-XH decides; the batch was not written.
            Err(PushError::Corrupt { seq }) => {
                store
                    .mark_diverged(&g, DivergeKind::Forked, seq, rec.agent_head, now)
                    .await?;
                return Err(SyncError::Push(PushError::Corrupt { seq }));
            }
            Err(e) => return Err(e.into()),
        };
        self.hub.counters.pushed(u64::from(out.applied));
        if out.applied > 0 {
            tracing::info!(unit = %rec.unit.code, applied = out.applied, acked = out.acked_seq, "push");
        }
        let receipts = received
            .into_iter()
            .filter_map(|(seq, period, at)| {
                let e = batch.iter().find(|i| i.entry.seq == seq)?;
                Some(key.sign(code, seq, &period.to_string(), at, &e.entry.hash))
            })
            .collect();
        Ok(Pushed {
            acked_seq: out.acked_seq,
            applied: out.applied,
            receipts,
        })
    }

    /// A page of the unit's log as the hub holds it (for `recover`).
    pub async fn log(&self, caller: Caller, after: u64, limit: u32) -> Result<LogPage, SyncError> {
        let store = &self.hub.store;
        let code = &caller.0.unit.code;
        let _g = store.lock_unit(code).await;
        let rec = store.unit(code)?.ok_or(AuthError::Invalid)?;
        let entries = store
            .entries(code, after, page(limit))?
            .into_iter()
            .filter(|e| e.seq <= rec.acked_seq)
            .collect();
        Ok(LogPage {
            entries,
            acked_seq: rec.acked_seq,
        })
    }

    /// A page of the ward's decisions for the unit after `after`.
    pub async fn pull(&self, caller: Caller, after: u64, limit: u32) -> Result<Pulled, SyncError> {
        let store = &self.hub.store;
        let code = &caller.0.unit.code;
        let _g = store.lock_unit(code).await;
        let rec = store.unit(code)?.ok_or(AuthError::Invalid)?;
        Ok(Pulled {
            entries: self.pull_entries(code, after, page(limit))?,
            pull_head: rec.outbound_head,
        })
    }
}
