//! Loading the hub-owned data files (catalog, calendar): errors that name the
//! file, the line or field, and the reason.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum LoadError {
    #[error("{file}: cannot read: {reason}")]
    Io { file: String, reason: String },
    #[error("{file}: {reason}")]
    Syntax { file: String, reason: String },
    #[error("{file}: field {field}: {reason}")]
    Invalid {
        file: String,
        field: String,
        reason: String,
    },
}

/// Runs a deserialiser and turns its error (which carries the line and column
/// for TOML) into a [`LoadError::Syntax`] naming the file.
pub(crate) fn parse_file_text<T, E: std::fmt::Display>(
    text: &str,
    file: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, LoadError> {
    parse(text).map_err(|e| LoadError::Syntax {
        file: file.to_string(),
        reason: e.to_string().trim().to_string(),
    })
}
