//! Units of a ward: their codes, names and kinds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// A unit's stable code: 1 to 32 characters of `A-Z`, `0-9`, `-` and `_`.
/// Input is upper-cased first, so `tdp05` and `TDP05` are the same unit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode(String);

impl UnitCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for UnitCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_uppercase();
        let ok = (1..=32).contains(&up.len())
            && up
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(UnitCode(up))
        } else {
            Err(DomainError::InvalidUnitCode(s.to_string()))
        }
    }
}

impl TryFrom<String> for UnitCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<UnitCode> for String {
    fn from(c: UnitCode) -> String {
        c.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of body a unit is; indicators apply per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    Centre,
    Department,
    School,
    ResidentialGroup,
    Other,
}

impl UnitKind {
    pub const ALL: [UnitKind; 5] = [
        UnitKind::Centre,
        UnitKind::Department,
        UnitKind::School,
        UnitKind::ResidentialGroup,
        UnitKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Centre => "centre",
            UnitKind::Department => "department",
            UnitKind::School => "school",
            UnitKind::ResidentialGroup => "residential-group",
            UnitKind::Other => "other",
        }
    }

    /// The Vietnamese name of the kind, as shown in reports.
    pub fn name_vi(self) -> &'static str {
        match self {
            UnitKind::Centre => "Trung tâm Phục vụ hành chính công",
            UnitKind::Department => "Phòng, ban, đơn vị",
            UnitKind::School => "Trường học",
            UnitKind::ResidentialGroup => "Tổ dân phố",
            UnitKind::Other => "Đơn vị khác",
        }
    }
}

impl FromStr for UnitKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UnitKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| DomainError::InvalidUnitKind(s.to_string()))
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unit as the hub registers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    pub kind: UnitKind,
}

impl Unit {
    /// Builds a unit, refusing an empty or over-long name.
    pub fn new(code: UnitCode, name: &str, kind: UnitKind) -> Result<Unit, DomainError> {
        let name = crate::text::normalize(name);
        let name = name.trim();
        let controls = crate::text::forbidden_char(name, crate::text::Lines::One);
        if name.is_empty() || name.chars().count() > 200 || controls.is_some() {
            return Err(DomainError::InvalidUnitName(name.to_string()));
        }
        Ok(Unit {
            code,
            name: name.to_string(),
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_uppercased_and_checked() {
        assert_eq!("tdp05".parse::<UnitCode>().unwrap().as_str(), "TDP05");
        assert!("".parse::<UnitCode>().is_err());
        assert!("TDP 5".parse::<UnitCode>().is_err());
        assert!("A".repeat(33).parse::<UnitCode>().is_err());
    }

    #[test]
    fn kinds_round_trip() {
        for k in UnitKind::ALL {
            assert_eq!(k.as_str().parse::<UnitKind>().unwrap(), k);
        }
        assert!("village".parse::<UnitKind>().is_err());
    }
}
