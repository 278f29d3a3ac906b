//! The gRPC status for an oversized message: tonic answers a request above
//! the message limit with `OUT_OF_RANGE`; the contract (and gRPC's own
//! status-code guide) says `RESOURCE_EXHAUSTED`, which is what agents act on
//! ("send less").

/// Rewrites exactly that status, nothing else: OUT_OF_RANGE whose message
/// says the message is too large (plain or percent-encoded) becomes
/// RESOURCE_EXHAUSTED. The refusal is a trailers-only response, so its
/// status is in the headers.
pub fn too_large_is_exhausted<B>(mut resp: axum::http::Response<B>) -> axum::http::Response<B> {
    let h = resp.headers();
    let out_of_range = h.get("grpc-status").is_some_and(|v| v.as_bytes() == b"11");
    let too_large = h.get("grpc-message").is_some_and(|v| {
        let m = v.as_bytes();
        m.windows(b"too large".len())
            .any(|w| w == b"too large" || w == b"too%20lar")
    });
    if out_of_range && too_large {
        resp.headers_mut().insert(
            "grpc-status",
            axum::http::HeaderValue::from_static("8"), // RESOURCE_EXHAUSTED
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    type GrpcResponse = axum::http::Response<tonic::body::Body>;

    #[test]
    fn only_the_oversized_status_is_rewritten() {
        let status = |code: &'static str, msg: &'static str| {
            let mut r = GrpcResponse::new(tonic::body::Body::empty());
            r.headers_mut()
                .insert("grpc-status", axum::http::HeaderValue::from_static(code));
            r.headers_mut()
                .insert("grpc-message", axum::http::HeaderValue::from_static(msg));
            too_large_is_exhausted(r)
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
