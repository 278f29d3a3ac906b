//! The domain model: plain Rust types for units, the calendar, the catalog,
//! activities, values, the change log and reports.

pub mod activity;
pub mod admit;
pub mod calendar;
pub mod catalog;
pub mod change;
pub mod config_file;
pub mod report;
pub mod text;
pub mod unit;
pub mod validate;
pub mod value;
