//! The domain's error type: what can be wrong with a single domain value.

use thiserror::Error;

/// A value that does not satisfy the domain's rules. Loading the catalog or
/// calendar files has its own error, [`crate::catalog::LoadError`].
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DomainError {
    #[error("invalid unit code {0:?}: use 1-32 characters of A-Z, 0-9, '-' or '_'")]
    InvalidUnitCode(String),
    #[error("invalid unit kind {0:?}: use centre, department, school, residential-group or other")]
    InvalidUnitKind(String),
    #[error("invalid unit name {0:?}: it must be 1-200 characters")]
    InvalidUnitName(String),
    #[error(
        "invalid form {0:?}: use document, conference, training, social-network, web-portal, party-cell, briefing or other"
    )]
    InvalidForm(String),
    #[error("invalid activity id {0:?}")]
    InvalidActivityId(String),
    #[error(
        "invalid period code {0:?}: use e.g. 2026-H1, 2026-M9, 2026-Y or an ad-hoc code like 2026-A01"
    )]
    InvalidPeriodCode(String),
    #[error("invalid section {0:?}: use results, difficulties, proposals or next-tasks")]
    InvalidSection(String),
    #[error("{0:?} is not a number of participants (a whole number from 0)")]
    InvalidParticipants(String),
    #[error("invalid date {0:?}: use YYYY-MM-DD")]
    InvalidDate(String),
    #[error("date {0} is outside the supported years 2000-2100")]
    DateOutOfRange(String),
    #[error("field {field} contains the control character {code_point}; remove it")]
    ControlCharacter {
        field: &'static str,
        code_point: String,
    },
    #[error("field {}: {}", .0.field, .0.message_en)]
    Inadmissible(Box<crate::validate::Problem>),
    #[error("field {0} must not be empty")]
    EmptyField(&'static str),
    #[error("field {0} is longer than {1}")]
    TooLong(&'static str, usize),
    #[error("invalid change payload for {kind}: {reason}")]
    InvalidPayload { kind: &'static str, reason: String },
    #[error("content hash does not match the payload of entry {0}")]
    HashMismatch(u64),
    #[error("invalid wire field {field}: {reason}")]
    Wire { field: &'static str, reason: String },
}
