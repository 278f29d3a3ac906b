//! The Admin RPCs over the hub's records themselves: `Backup` (a consistent
//! snapshot streamed in chunks), `Audit` (the trail, filtered) and
//! `VerifyAudit` (the chain walked). The gRPC service delegates here so its
//! file stays about units, periods and reports.

use std::pin::Pin;

use chrono::{DateTime, Utc};
use coso_proto::pb;
use tokio_stream::Stream;
use tonic::Status;

use crate::error::ApiError;
use coso_ward::AuditRecord;
use coso_ward::Ward;
use coso_ward::input;

/// Chunks of at most this many bytes.
const CHUNK: usize = 1 << 20;

pub type BackupStream = Pin<Box<dyn Stream<Item = Result<pb::BackupChunk, Status>> + Send>>;

pub async fn backup(ward: &Ward) -> Result<BackupStream, ApiError> {
    let bytes = ward.backup()?;
    tracing::info!(bytes = bytes.len(), "backup taken");
    let chunks: Vec<Result<pb::BackupChunk, Status>> = bytes
        .chunks(CHUNK)
        .map(|c| Ok(pb::BackupChunk { data: c.to_vec() }))
        .collect();
    Ok(Box::pin(tokio_stream::iter(chunks)))
}

pub fn record_to_wire(r: &AuditRecord) -> pb::AuditRecord {
    pb::AuditRecord {
        position: r.position,
        at: r.at.to_rfc3339(),
        actor: r.actor.clone(),
        action: r.action.clone(),
        unit: r.unit.clone().unwrap_or_default(),
        detail: r.detail.clone(),
        prev_hash: String::from(r.prev),
        hash: String::from(r.hash),
    }
}

pub fn audit(ward: &Ward, req: &pb::AuditRequest) -> Result<pb::AuditResponse, ApiError> {
    let unit = if req.unit.is_empty() {
        None
    } else {
        Some(input::unit_code(&req.unit)?.to_string())
    };
    let since: Option<DateTime<Utc>> = if req.since.is_empty() {
        None
    } else {
        Some(
            DateTime::parse_from_rfc3339(&req.since)
                .map_err(|e| ApiError::Wire {
                    field: "since",
                    error: coso_domain::DomainError::Wire {
                        field: "since",
                        reason: e.to_string(),
                    },
                })?
                .with_timezone(&Utc),
        )
    };
    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let page = ward.audit_page(after, 1000)?;
        let Some(last) = page.last() else { break };
        after = last.position;
        records.extend(
            page.iter()
                .filter(|r| unit.is_none() || r.unit == unit)
                .filter(|r| since.is_none_or(|s| r.at >= s))
                .map(record_to_wire),
        );
    }
    Ok(pb::AuditResponse { records })
}

pub fn verify(ward: &Ward) -> Result<pb::VerifyAuditResponse, ApiError> {
    let c = ward.verify_audit()?;
    let (broken_at, reason) = c.broken.unwrap_or((0, String::new()));
    Ok(pb::VerifyAuditResponse {
        checked: c.checked,
        ok: broken_at == 0,
        broken_at,
        reason,
    })
}
