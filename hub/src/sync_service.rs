//! The `coso.v1.Sync` service agents talk to: enrolment, then Hello / Push /
//! Pull on the unit's change log and outbound log. The unit is always the
//! one the credential belongs to, never one named in a request.
//!
//! Divergence: every Hello carries a point of the agent's log (its log-chain
//! hash at a seq) and the agent's head; the hub compares them with its own
//! chain and cursor and marks the unit diverged when they cannot be one log
//! (see ARCHITECTURE.md, "The hub's cursor is the authority").

use std::sync::Arc;

use coso_domain::{Review, UnitCode};
use coso_proto::pb;
use tonic::{Request, Response, Status};

use crate::auth::{self, CodeCheck};
use crate::error::{ApiError, EnrollRefusal, lang_of};
use crate::input;
use crate::state::HubState;
use crate::store::{DivergeKind, Enrolment, Incoming, PushError, UnitRecord};

/// How many outbound entries a Hello or Pull returns at most.
const PULL_PAGE: usize = 100;

pub struct SyncService {
    hub: Arc<HubState>,
}

impl SyncService {
    pub fn new(hub: Arc<HubState>) -> SyncService {
        SyncService { hub }
    }

    fn authenticate<T>(&self, req: &Request<T>) -> Result<UnitRecord, ApiError> {
        let token = auth::bearer(req.metadata())?;
        Ok(auth::unit_of(&self.hub.store, token)?)
    }

    fn pull_entries(
        &self,
        code: &UnitCode,
        after: u64,
        limit: usize,
    ) -> Result<Vec<pb::PullEntry>, ApiError> {
        Ok(self
            .hub
            .store
            .outbound_after(code, after, limit)?
            .into_iter()
            .map(|(seq, r): (u64, Review)| pb::PullEntry {
                seq,
                entry: Some(pb::pull_entry::Entry::Review(pb::ReviewDecision::from(&r))),
            })
            .collect())
    }

    async fn enroll(&self, req: pb::EnrollRequest) -> Result<pb::EnrollResponse, ApiError> {
        let code = input::unit_code(&req.unit)?;
        let store = &self.hub.store;
        // Unknown units get the same answer as wrong codes.
        if store.unit(&code)?.is_none() {
            return Err(EnrollRefusal::Invalid.into());
        }
        let g = store.lock_unit(&code).await;
        let mut rec = store.unit(&code)?.ok_or(EnrollRefusal::Invalid)?;
        if rec.enrolment == Enrolment::Revoked {
            return Err(EnrollRefusal::Revoked(code).into());
        }
        let now = coso_domain::clock::now();
        match auth::code_matches(&rec, &req.code, now) {
            CodeCheck::Ok => {}
            CodeCheck::Expired => return Err(EnrollRefusal::Expired.into()),
            CodeCheck::Wrong | CodeCheck::NoneOutstanding => {
                return Err(EnrollRefusal::Invalid.into());
            }
        }
        let (credential, hash) = auth::new_unit_credential(&code);
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
        tracing::info!(unit = %code, "unit enrolled");
        Ok(pb::EnrollResponse {
            credential,
            unit: Some(pb::Unit::from(&rec.unit)),
            catalog: Some(self.hub.docs.catalog_doc()),
            calendar: Some(self.hub.docs.calendar_doc()),
            ward: self.hub.config.file.ward.clone(),
        })
    }

    async fn hello(
        &self,
        rec: UnitRecord,
        req: pb::HelloRequest,
    ) -> Result<pb::HelloResponse, ApiError> {
        let store = &self.hub.store;
        let code = rec.unit.code.clone();
        // Under the unit's lock no push or review is between its write and
        // its flush, so everything read here is durable.
        let g = store.lock_unit(&code).await;
        let mut rec = store.unit(&code)?.ok_or(crate::auth::AuthError::Invalid)?;
        let now = coso_domain::clock::now();
        if let Some(d) = &rec.diverged {
            return Err(ApiError::Diverged {
                unit: code,
                kind: d.kind,
            });
        }
        // The agent's claim: its chain at a seq the hub holds must be ours.
        if let Some(theirs) = coso_proto::chain::from_wire(&req.claim_chain)
            && req.claim_seq <= rec.acked_seq
            && store.chain_at(&code, req.claim_seq)? != theirs
        {
            store
                .mark_diverged(&g, DivergeKind::Forked, req.claim_seq, req.agent_head, now)
                .await?;
            return Err(ApiError::Diverged {
                unit: code,
                kind: DivergeKind::Forked,
            });
        }
        // An agent that found its log ends below our cursor says so.
        if req.behind && req.agent_head < rec.acked_seq {
            store
                .mark_diverged(&g, DivergeKind::Behind, req.agent_head, req.agent_head, now)
                .await?;
            return Err(ApiError::Diverged {
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
        Ok(pb::HelloResponse {
            acked_seq: rec.acked_seq,
            catalog: (req.catalog_version < docs.catalog_version()).then(|| docs.catalog_doc()),
            calendar: (req.calendar_version < docs.calendar_version()).then(|| docs.calendar_doc()),
            pull,
            pull_head: rec.outbound_head,
            max_batch_entries: limits.max_batch_entries,
            max_batch_bytes: limits.max_batch_bytes,
            hub_time: coso_domain::clock::now().to_rfc3339(),
            acked_chain: acked_chain.to_vec(),
            pull_epoch: epoch.to_vec(),
        })
    }

    /// Checks the batch at the edge: bounded, every entry valid, consecutive.
    fn check_batch(&self, entries: Vec<pb::ChangeEntry>) -> Result<Vec<Incoming>, ApiError> {
        let limits = self.hub.config.limits();
        if entries.len() > limits.max_batch_entries as usize {
            return Err(ApiError::TooManyEntries {
                count: entries.len(),
                max: limits.max_batch_entries,
            });
        }
        let bytes: u64 = entries.iter().map(|e| e.payload.len() as u64).sum();
        // A single entry may exceed the byte limit: the agent cannot split it,
        // and the message limit still bounds it.
        if entries.len() > 1 && bytes > limits.max_batch_bytes {
            return Err(ApiError::TooManyBytes {
                bytes,
                max: limits.max_batch_bytes,
            });
        }
        let mut out = Vec::with_capacity(entries.len());
        for (index, e) in entries.into_iter().enumerate() {
            let seq = e.seq;
            let bad = |error| ApiError::BadEntry { index, seq, error };
            let (entry, change) = coso_proto::convert::entry_and_change(e).map_err(bad)?;
            out.push(Incoming { entry, change });
        }
        Ok(out)
    }

    async fn push(
        &self,
        rec: UnitRecord,
        req: pb::PushRequest,
    ) -> Result<pb::PushResponse, ApiError> {
        let batch = self.check_batch(req.entries)?;
        crate::admission::check(&self.hub, &rec, &batch)?;
        let store = &self.hub.store;
        let g = store.lock_unit(&rec.unit.code).await;
        let out = store
            .push(&g, &batch, coso_domain::clock::now())
            .await
            .map_err(|e| match e {
                PushError::Diverged { unit, kind } => ApiError::Diverged { unit, kind },
                e => ApiError::Push(e),
            })?;
        if out.applied > 0 {
            tracing::info!(unit = %rec.unit.code, applied = out.applied, acked = out.acked_seq, "push");
        }
        Ok(pb::PushResponse {
            acked_seq: out.acked_seq,
            applied: out.applied,
        })
    }

    async fn log(&self, rec: UnitRecord, req: pb::LogRequest) -> Result<pb::LogResponse, ApiError> {
        let limit = match req.limit {
            0 => PULL_PAGE,
            n => (n as usize).min(PULL_PAGE * 10),
        };
        let store = &self.hub.store;
        let code = &rec.unit.code;
        let _g = store.lock_unit(code).await;
        let rec = store.unit(code)?.ok_or(crate::auth::AuthError::Invalid)?;
        let entries = store
            .entries(code, req.after_seq, limit)?
            .iter()
            .filter(|e| e.seq <= rec.acked_seq)
            .map(pb::ChangeEntry::from)
            .collect();
        Ok(pb::LogResponse {
            entries,
            acked_seq: rec.acked_seq,
        })
    }

    async fn pull(
        &self,
        rec: UnitRecord,
        req: pb::PullRequest,
    ) -> Result<pb::PullResponse, ApiError> {
        let limit = match req.limit {
            0 => PULL_PAGE,
            n => (n as usize).min(PULL_PAGE * 10),
        };
        let store = &self.hub.store;
        let code = &rec.unit.code;
        let _g = store.lock_unit(code).await;
        let rec = store.unit(code)?.ok_or(crate::auth::AuthError::Invalid)?;
        Ok(pb::PullResponse {
            entries: self.pull_entries(code, req.after_seq, limit)?,
            pull_head: rec.outbound_head,
        })
    }
}

#[tonic::async_trait]
impl pb::sync_server::Sync for SyncService {
    async fn enroll(
        &self,
        request: Request<pb::EnrollRequest>,
    ) -> Result<Response<pb::EnrollResponse>, Status> {
        let lang = lang_of(request.metadata());
        self.enroll(request.into_inner())
            .await
            .map(Response::new)
            .map_err(|e| e.into_status(lang))
    }

    async fn hello(
        &self,
        request: Request<pb::HelloRequest>,
    ) -> Result<Response<pb::HelloResponse>, Status> {
        let lang = lang_of(request.metadata());
        let r = async {
            let rec = self.authenticate(&request)?;
            self.hello(rec, request.into_inner()).await
        };
        r.await.map(Response::new).map_err(|e| e.into_status(lang))
    }

    async fn push(
        &self,
        request: Request<pb::PushRequest>,
    ) -> Result<Response<pb::PushResponse>, Status> {
        let lang = lang_of(request.metadata());
        let r = async {
            let rec = self.authenticate(&request)?;
            self.push(rec, request.into_inner()).await
        };
        r.await.map(Response::new).map_err(|e| e.into_status(lang))
    }

    async fn log(
        &self,
        request: Request<pb::LogRequest>,
    ) -> Result<Response<pb::LogResponse>, Status> {
        let lang = lang_of(request.metadata());
        let r = async {
            let rec = self.authenticate(&request)?;
            self.log(rec, request.into_inner()).await
        };
        r.await.map(Response::new).map_err(|e| e.into_status(lang))
    }

    async fn pull(
        &self,
        request: Request<pb::PullRequest>,
    ) -> Result<Response<pb::PullResponse>, Status> {
        let lang = lang_of(request.metadata());
        let r = async {
            let rec = self.authenticate(&request)?;
            self.pull(rec, request.into_inner()).await
        };
        r.await.map(Response::new).map_err(|e| e.into_status(lang))
    }
}
