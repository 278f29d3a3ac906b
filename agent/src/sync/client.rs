//! The agent's gRPC client for the hub's `Sync` service: a TLS channel pinned
//! to the hub certificate, the unit credential on every call, a running count
//! of the bytes the calls carried, and statuses mapped to [`SyncError`]. Public
//! so the end-to-end tests can speak the raw protocol (forged credentials,
//! oversized batches).

use std::time::Duration;

use coso_domain::{Lang, UnitCode};
use coso_proto::pb::{self, Message as _};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

use super::error::{Rpc, SyncError};

/// Roughly what a gRPC call costs on the wire beyond its message: HTTP/2
/// HEADERS for request and response (path, content-type, te, authorization,
/// grpc-status), the 5-byte gRPC frame prefix and the DATA frame headers. TLS
/// records add ~22 bytes each. Used only for the approximate byte counts.
const CALL_OVERHEAD_SENT: u64 = 160;
const CALL_OVERHEAD_RECEIVED: u64 = 80;

/// Adds the unit credential and the officer's language (the hub words its
/// refusals in it) to every call.
#[derive(Clone)]
struct Bearer {
    credential: Option<MetadataValue<Ascii>>,
    lang: MetadataValue<Ascii>,
}

impl Interceptor for Bearer {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.credential {
            req.metadata_mut().insert("authorization", v.clone());
        }
        req.metadata_mut()
            .insert(coso_proto::meta::LANG, self.lang.clone());
        Ok(req)
    }
}

pub struct HubClient {
    client: pb::sync_client::SyncClient<InterceptedService<Channel, Bearer>>,
    addr: String,
    pub sent: u64,
    pub received: u64,
    pub calls: u32,
}

impl HubClient {
    /// Sets up the connection to `addr` pinned to `fingerprint`; nothing is
    /// sent until the first call. `credential` ("UNIT.secret") goes with every
    /// call if given.
    pub fn connect(
        addr: &str,
        fingerprint: [u8; 32],
        credential: Option<&str>,
        lang: Lang,
        timeout: Duration,
    ) -> Result<HubClient, SyncError> {
        let channel = coso_proto::transport::pinned_channel(addr, fingerprint, timeout)
            .map_err(|_| SyncError::BadAddress(addr.to_string()))?;
        let credential = match credential {
            Some(c) => {
                Some(
                    format!("Bearer {c}")
                        .parse()
                        .map_err(|_| SyncError::UnexpectedReply {
                            what: "credential",
                            detail: "the stored credential is not printable ASCII".into(),
                        })?,
                )
            }
            None => None,
        };
        let lang = MetadataValue::from_static(match lang {
            Lang::Vi => "vi",
            Lang::En => "en",
        });
        let client =
            pb::sync_client::SyncClient::with_interceptor(channel, Bearer { credential, lang })
                // Catalog, calendar and a page of reviews share one Hello reply.
                .max_decoding_message_size(32 << 20);
        Ok(HubClient {
            client,
            addr: addr.to_string(),
            sent: 0,
            received: 0,
            calls: 0,
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    fn count(&mut self, sent: usize, received: usize) {
        self.calls += 1;
        self.sent += sent as u64 + CALL_OVERHEAD_SENT;
        self.received += received as u64 + CALL_OVERHEAD_RECEIVED;
    }

    fn fail(&mut self, status: Status, rpc: Rpc<'_>, sent: usize) -> SyncError {
        self.count(sent, 0);
        SyncError::from_status(status, rpc, &self.addr)
    }

    pub async fn enroll(
        &mut self,
        unit: &UnitCode,
        code: &str,
    ) -> Result<pb::EnrollResponse, SyncError> {
        let req = pb::EnrollRequest {
            unit: unit.to_string(),
            code: code.to_string(),
        };
        let len = req.encoded_len();
        match self.client.enroll(req).await {
            Ok(r) => {
                let r = r.into_inner();
                self.count(len, r.encoded_len());
                Ok(r)
            }
            Err(s) => Err(self.fail(s, Rpc::Enroll(unit), len)),
        }
    }

    pub async fn hello(&mut self, req: pb::HelloRequest) -> Result<pb::HelloResponse, SyncError> {
        let len = req.encoded_len();
        match self.client.hello(req).await {
            Ok(r) => {
                let r = r.into_inner();
                self.count(len, r.encoded_len());
                Ok(r)
            }
            Err(s) => Err(self.fail(s, Rpc::Hello, len)),
        }
    }

    pub async fn push(&mut self, req: pb::PushRequest) -> Result<pb::PushResponse, SyncError> {
        let len = req.encoded_len();
        let first_seq = req.entries.first().map_or(0, |e| e.seq);
        match self.client.push(req).await {
            Ok(r) => {
                let r = r.into_inner();
                self.count(len, r.encoded_len());
                Ok(r)
            }
            Err(s) => Err(self.fail(s, Rpc::Push { first_seq }, len)),
        }
    }

    /// The unit's own change log as the hub holds it (for `recover`).
    pub async fn log(&mut self, req: pb::LogRequest) -> Result<pb::LogResponse, SyncError> {
        let len = req.encoded_len();
        match self.client.log(req).await {
            Ok(r) => {
                let r = r.into_inner();
                self.count(len, r.encoded_len());
                Ok(r)
            }
            Err(s) => Err(self.fail(s, Rpc::Pull, len)),
        }
    }

    pub async fn pull(&mut self, req: pb::PullRequest) -> Result<pb::PullResponse, SyncError> {
        let len = req.encoded_len();
        match self.client.pull(req).await {
            Ok(r) => {
                let r = r.into_inner();
                self.count(len, r.encoded_len());
                Ok(r)
            }
            Err(s) => Err(self.fail(s, Rpc::Pull, len)),
        }
    }
}
