//! coso-proto: the gRPC contract (generated, in [`pb`]), the domain model that
//! agent and hub share (in [`domain`]), and the one place that converts
//! between the two ([`convert`]).
//!
//! Domain types are plain Rust with no prost derives. Wire types are turned
//! into domain types only through the `TryFrom` impls in [`convert`], which
//! validate, so invalid data is refused at the edge.

pub mod clock;
pub mod convert;
pub mod domain;
mod error;
pub mod i18n;
pub mod link;
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

pub use domain::activity::{Activity, ActivityId, Form};
pub use domain::calendar::{Calendar, Period, PeriodCode, PeriodKind, Timeliness};
pub use domain::catalog::Catalog;
pub use domain::change::{Change, ChangeKind, Entry};
pub use domain::report::{Decision, ReportState, Review, Section, SubmittedReport, UnitState};
pub use domain::unit::{Unit, UnitCode, UnitKind};
pub use domain::validate::{Problem, ProblemCode};
pub use domain::value::Value;
pub use error::DomainError;
pub use i18n::Lang;
