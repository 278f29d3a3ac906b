//! coso-proto: the gRPC contract (generated, in [`pb`]) and the one place
//! that converts between it and the domain model of `coso-domain`
//! ([`convert`]), with what travels beside it: the log chain, the TLS client
//! channel, the enrolment link, status metadata and the backup file format.
//!
//! Domain types are plain Rust with no prost derives. Wire types are turned
//! into domain types only through the `TryFrom` impls in [`convert`], which
//! validate, so invalid data is refused at the edge.

pub mod backup;
pub mod chain;
pub mod convert;
pub mod link;
pub mod meta;
pub mod private;
pub mod transport;

/// Generated from `proto/coso/v1/*.proto`. Prost types stay at the gRPC edge
/// (`convert`, and the servers and clients of hub and agent).
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("coso.v1");

    /// So callers can measure encoded sizes (`encoded_len`) without a prost dependency.
    pub use prost::Message;

    /// The encoded file descriptor set, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/coso_descriptor.bin"));
}
