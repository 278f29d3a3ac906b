//! Admission of pushed entries: every new entry of a batch must pass the same
//! catalog, calendar and `validate` checks the agent runs before it records a
//! change (`coso_domain::admit`), or the whole batch is refused with
//! `InvalidArgument` naming the seq, field and reason, and nothing is written.
//! Also the gRPC status for an oversized message.

use coso_domain::DomainError;
use coso_domain::admit::admit;

use crate::error::ApiError;
use crate::state::HubState;
use crate::store::{Incoming, UnitRecord};

/// Checks every entry above the unit's cursor. Entries at or below it are
/// replays, which the store checks by hash against what it already holds;
/// they were admitted when they first arrived.
pub fn check(hub: &HubState, rec: &UnitRecord, batch: &[Incoming]) -> Result<(), ApiError> {
    let catalog = hub.docs.catalog();
    let calendar = hub.docs.calendar();
    for (index, incoming) in batch.iter().enumerate() {
        let seq = incoming.entry.seq;
        if seq <= rec.acked_seq {
            continue;
        }
        admit(&incoming.change, &catalog, &calendar, rec.unit.kind).map_err(|problem| {
            ApiError::BadEntry {
                index,
                seq,
                error: DomainError::Inadmissible(Box::new(problem)),
            }
        })?;
    }
    Ok(())
}

type GrpcResponse = axum::http::Response<tonic::body::Body>;

/// tonic answers a request above `max_decoding_message_size` with
/// `OutOfRange`; gRPC's status-code guide says `RESOURCE_EXHAUSTED` for a
/// message larger than the receiver accepts, and agents treat that as "send
/// less". This layer rewrites exactly that status, nothing else.
pub fn resource_exhausted_layer() -> tower::util::MapResponseLayer<fn(GrpcResponse) -> GrpcResponse>
{
    tower::util::MapResponseLayer::new(oversized_is_resource_exhausted as fn(_) -> _)
}

fn oversized_is_resource_exhausted(mut response: GrpcResponse) -> GrpcResponse {
    let headers = response.headers();
    let out_of_range = headers
        .get("grpc-status")
        .is_some_and(|v| v.as_bytes() == b"11");
    let oversized = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|m| m.replace("%20", " ").contains("message length too large"));
    if out_of_range && oversized {
        response
            .headers_mut()
            .insert("grpc-status", axum::http::HeaderValue::from_static("8"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_oversized_status_is_rewritten() {
        let status = |code: &'static str, msg: &'static str| {
            let mut r = GrpcResponse::new(tonic::body::Body::empty());
            r.headers_mut()
                .insert("grpc-status", axum::http::HeaderValue::from_static(code));
            r.headers_mut()
                .insert("grpc-message", axum::http::HeaderValue::from_static(msg));
            oversized_is_resource_exhausted(r)
                .headers()
                .get("grpc-status")
                .cloned()
        };
        let big = "Error,%20decoded%20message%20length%20too%20large:%20found%205242885%20bytes";
        assert_eq!(status("11", big).unwrap(), "8");
        assert_eq!(status("11", "seq out of range").unwrap(), "11");
        assert_eq!(status("3", big).unwrap(), "3");
    }
}
