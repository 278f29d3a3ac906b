//! The current time for everything coso records or compares with a deadline.
//!
//! `COSO_NOW` (an RFC 3339 instant) pins the clock for a whole process. It
//! exists for tests and the demo, which must put a submission on either side
//! of a deadline without waiting for the calendar; in production it is unset
//! and this is `Utc::now()`.

use chrono::{DateTime, Utc};

/// Now, or the instant in `COSO_NOW` if it is set and valid.
pub fn now() -> DateTime<Utc> {
    match std::env::var("COSO_NOW") {
        Ok(s) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now()),
        Err(_) => Utc::now(),
    }
}
