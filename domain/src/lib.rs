//! coso-domain: the model agent and hub share, as plain Rust with no wire,
//! storage or runtime in it: units, the reporting calendar, the indicator
//! catalog, activities, values, the change log and its fold, reports, and
//! every check of what a person or an agent sends.
//!
//! Everything above depends on this crate and it depends on nothing of
//! coso's: the wire contract (`coso-proto`) converts to and from these types,
//! the report writers (`coso-report`) read them, and the ward core and the
//! agent store them.

pub mod activity;
pub mod admit;
pub mod calendar;
pub mod catalog;
pub mod change;
pub mod clean;
pub mod clock;
pub mod config_file;
pub mod entry;
mod error;
pub mod i18n;
pub mod report;
pub mod text;
pub mod unit;
pub mod validate;
pub mod value;
pub mod version;
pub mod words;

pub use activity::{Activity, ActivityId, Form};
pub use calendar::{Calendar, Period, PeriodCode, PeriodKind, Timeliness};
pub use catalog::Catalog;
pub use change::{Change, ChangeKind, Entry};
pub use error::DomainError;
pub use i18n::Lang;
pub use report::{Decision, ReportState, Review, Section, SubmittedReport, UnitState};
pub use unit::{Unit, UnitCode, UnitKind};
pub use validate::{Problem, ProblemCode};
pub use value::Value;
pub use version::Version;
