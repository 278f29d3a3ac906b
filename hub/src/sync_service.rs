//! The `coso.v1.Sync` service agents talk to: enrolment, then Hello / Push /
//! Log / Pull. This is the edge only: it reads the credential from the
//! metadata, turns messages into the ward's sync input (`coso_ward::sync`,
//! where every rule lives) and its results back into messages, and picks
//! the status code for a refusal (`crate::error`).

use coso_proto::pb;
use coso_ward::Ward;
use coso_ward::documents::Served;
use coso_ward::sync::{Caller, Hello, Outbound, SyncError};
use tonic::{Request, Response, Status};

use crate::error::{ApiError, bearer, lang_of};

pub struct SyncService {
    ward: Ward,
}

fn document(d: Served) -> pb::Document {
    coso_proto::convert::document(d.version, d.body)
}

fn pull_entries(entries: Vec<Outbound>) -> Vec<pb::PullEntry> {
    entries
        .into_iter()
        .map(|o| pb::PullEntry {
            seq: o.seq,
            entry: Some(pb::pull_entry::Entry::Review(pb::ReviewDecision {
                superseded: o.superseded,
                ..pb::ReviewDecision::from(&o.review)
            })),
        })
        .collect()
}

impl SyncService {
    pub fn new(ward: Ward) -> SyncService {
        SyncService { ward }
    }

    /// The status of a refused call, counted by its reason for `/metrics`.
    fn refused(&self, e: ApiError, lang: coso_domain::Lang) -> Status {
        if let Some(r) = e.refusal() {
            self.ward.count_refusal(r);
        }
        e.into_status(lang)
    }

    fn authenticate<T>(&self, req: &Request<T>) -> Result<Caller, ApiError> {
        let token = bearer(req.metadata())?;
        Ok(self.ward.unit_of(token)?)
    }

    async fn enroll(&self, req: pb::EnrollRequest) -> Result<pb::EnrollResponse, ApiError> {
        let e = self.ward.enroll(&req.unit, &req.code).await?;
        Ok(pb::EnrollResponse {
            credential: e.credential,
            unit: Some(pb::Unit::from(&e.unit)),
            catalog: Some(document(e.catalog)),
            calendar: Some(document(e.calendar)),
            ward: e.ward,
        })
    }

    async fn hello(
        &self,
        caller: Caller,
        req: pb::HelloRequest,
    ) -> Result<pb::HelloResponse, ApiError> {
        let hello = Hello {
            claim_chain: coso_proto::chain::from_wire(&req.claim_chain),
            claim_seq: req.claim_seq,
            agent_head: req.agent_head,
            behind: req.behind,
            pull_epoch: req.pull_epoch,
            pull_after: req.pull_after,
            catalog_version: req.catalog_version,
            calendar_version: req.calendar_version,
            agent_version: req.agent_version,
        };
        let w = self.ward.hello(caller, hello).await?;
        Ok(pb::HelloResponse {
            acked_seq: w.acked_seq,
            catalog: w.catalog.map(document),
            calendar: w.calendar.map(document),
            pull: pull_entries(w.pull),
            pull_head: w.pull_head,
            max_batch_entries: w.max_batch_entries,
            max_batch_bytes: w.max_batch_bytes,
            hub_time: w.hub_time.to_rfc3339(),
            acked_chain: w.acked_chain.to_vec(),
            pull_epoch: w.pull_epoch,
        })
    }

    async fn push(
        &self,
        caller: Caller,
        req: pb::PushRequest,
    ) -> Result<pb::PushResponse, ApiError> {
        let unit = caller.unit().clone();
        let refused = |e: SyncError| {
            // A refused entry leaves the unit unable to send anything after
            // it: the ward must be able to see which and why.
            tracing::warn!(unit = %unit, error = %e, "push refused");
            e
        };
        let bytes: u64 = req.entries.iter().map(|e| e.payload.len() as u64).sum();
        self.ward
            .check_batch_size(req.entries.len(), bytes)
            .map_err(refused)?;
        let mut batch = Vec::with_capacity(req.entries.len());
        for (index, e) in req.entries.into_iter().enumerate() {
            let seq = e.seq;
            let (entry, change) = coso_proto::convert::entry_and_change(e)
                .map_err(|error| refused(SyncError::BadEntry { index, seq, error }))?;
            batch.push(coso_ward::Incoming { entry, change });
        }
        let receipts = req
            .receipts
            .into_iter()
            .map(|r| coso_ward::receipt::Receipt {
                seq: r.seq,
                period: r.period,
                received_at: r.received_at,
                mac: r.mac,
            })
            .collect();
        let out = match self.ward.push(caller, batch, receipts).await {
            Ok(out) => out,
            Err(e @ SyncError::BadEntry { .. }) => return Err(refused(e).into()),
            Err(e) => return Err(e.into()),
        };
        Ok(pb::PushResponse {
            acked_seq: out.acked_seq,
            applied: out.applied,
            receipts: out
                .receipts
                .into_iter()
                .map(|r| pb::SubmissionReceipt {
                    seq: r.seq,
                    period: r.period,
                    received_at: r.received_at,
                    mac: r.mac,
                })
                .collect(),
        })
    }

    async fn log(&self, caller: Caller, req: pb::LogRequest) -> Result<pb::LogResponse, ApiError> {
        let page = self.ward.log(caller, req.after_seq, req.limit).await?;
        Ok(pb::LogResponse {
            entries: page.entries.iter().map(pb::ChangeEntry::from).collect(),
            acked_seq: page.acked_seq,
        })
    }

    async fn pull(
        &self,
        caller: Caller,
        req: pb::PullRequest,
    ) -> Result<pb::PullResponse, ApiError> {
        let page = self.ward.pull(caller, req.after_seq, req.limit).await?;
        Ok(pb::PullResponse {
            entries: pull_entries(page.entries),
            pull_head: page.pull_head,
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
            .map_err(|e| self.refused(e, lang))
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
        r.await
            .map(Response::new)
            .map_err(|e| self.refused(e, lang))
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
        r.await
            .map(Response::new)
            .map_err(|e| self.refused(e, lang))
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
        r.await
            .map(Response::new)
            .map_err(|e| self.refused(e, lang))
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
        r.await
            .map(Response::new)
            .map_err(|e| self.refused(e, lang))
    }
}
