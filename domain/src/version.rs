//! A release's version, `MAJOR.MINOR.PATCH` ("0.3.0"): what an agent tells
//! the hub in `Hello` and what `hub.toml` may set as the lowest it syncs with.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A release version, ordered as numbers (0.10.0 is above 0.9.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    /// This build's version (the workspace's).
    pub fn this_release() -> Version {
        env!("CARGO_PKG_VERSION").parse().unwrap_or(Version {
            major: 0,
            minor: 0,
            patch: 0,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Why a version was refused: it is not three dot-separated numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a version like 0.3.0 (three numbers separated by dots)")]
pub struct BadVersion(pub String);

impl FromStr for Version {
    type Err = BadVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadVersion(s.chars().take(40).collect());
        let mut parts = s.trim().split('.');
        let mut next = || -> Result<u32, BadVersion> {
            let p = parts.next().ok_or_else(bad)?;
            if p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let v = Version {
            major: next()?,
            minor: next()?,
            patch: next()?,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(v)
    }
}

impl TryFrom<String> for Version {
    type Error = BadVersion;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Version> for String {
    fn from(v: Version) -> String {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_as_numbers() {
        let v = |s: &str| s.parse::<Version>().unwrap();
        assert!(v("0.10.0") > v("0.9.9"));
        assert!(v("0.3.0") > v("0.2.0"));
        assert_eq!(v(" 1.2.3 ").to_string(), "1.2.3");
        for bad in ["", "0.3", "0.3.0.1", "0.3.x", "v0.3.0", "0.-1.0", "0..0"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
        assert!(Version::this_release() >= v("0.1.0"));
    }
}
