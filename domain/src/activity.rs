//! Activities a unit records as they happen, and their forms.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// How an activity was carried out (hình thức), from the ward's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Form {
    Document,
    Conference,
    Training,
    SocialNetwork,
    WebPortal,
    PartyCell,
    Briefing,
    Other,
}

impl Form {
    pub const ALL: [Form; 8] = [
        Form::Document,
        Form::Conference,
        Form::Training,
        Form::SocialNetwork,
        Form::WebPortal,
        Form::PartyCell,
        Form::Briefing,
        Form::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Form::Document => "document",
            Form::Conference => "conference",
            Form::Training => "training",
            Form::SocialNetwork => "social-network",
            Form::WebPortal => "web-portal",
            Form::PartyCell => "party-cell",
            Form::Briefing => "briefing",
            Form::Other => "other",
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Form::Document => "Ban hành văn bản",
            Form::Conference => "Hội nghị",
            Form::Training => "Tập huấn, bồi dưỡng",
            Form::SocialNetwork => "Mạng xã hội (Zalo, Facebook…)",
            Form::WebPortal => "Trang thông tin điện tử",
            Form::PartyCell => "Sinh hoạt chi bộ",
            Form::Briefing => "Giao ban tháng, quý",
            Form::Other => "Hình thức khác",
        }
    }
}

impl FromStr for Form {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Form::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim())
            .ok_or_else(|| DomainError::InvalidForm(s.to_string()))
    }
}

impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An activity id, generated on the agent and never reused: `HD-` and a number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActivityId(String);

impl ActivityId {
    /// The id of the agent's n-th activity.
    pub fn from_counter(n: u64) -> ActivityId {
        ActivityId(format!("HD-{n}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ActivityId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_uppercase();
        let ok = (1..=40).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(ActivityId(s))
        } else {
            Err(DomainError::InvalidActivityId(s))
        }
    }
}

impl TryFrom<String> for ActivityId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ActivityId> for String {
    fn from(id: ActivityId) -> String {
        id.0
    }
}

impl fmt::Display for ActivityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One dissemination or implementation event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    pub id: ActivityId,
    pub date: NaiveDate,
    pub form: Form,
    pub title: String,
    /// Participants (lượt người); `None` when not counted, never a silent zero.
    pub participants: Option<u32>,
    #[serde(default)]
    pub note: String,
}

impl Activity {
    /// Checks a recorded activity (pushed by an agent, or read back from a
    /// log): the shapes and sizes every release kept to, and the text and
    /// dates any release let people enter. Entry is stricter
    /// ([`Activity::validate`]); a record an earlier release made under its
    /// looser rules must keep flowing, or its unit is stuck for good.
    pub fn validate_record(&self) -> Result<(), DomainError> {
        use crate::text::check_record;
        if !crate::calendar::date_recordable(self.date) {
            return Err(DomainError::DateOutOfRange(self.date.to_string()));
        }
        check_record("title", &self.title)?;
        check_record("note", &self.note)?;
        self.check_sizes()
    }

    /// What entry and record rules share: a title, and neither text longer
    /// than any release let people type.
    fn check_sizes(&self) -> Result<(), DomainError> {
        use crate::text::MAX_SHORT_TEXT_CHARS;
        if self.title.trim().is_empty() {
            return Err(DomainError::EmptyField("title"));
        }
        if self.title.chars().count() > MAX_SHORT_TEXT_CHARS {
            return Err(DomainError::TooLong("title", MAX_SHORT_TEXT_CHARS));
        }
        if self.note.chars().count() > MAX_SHORT_TEXT_CHARS * 4 {
            return Err(DomainError::TooLong("note", MAX_SHORT_TEXT_CHARS * 4));
        }
        Ok(())
    }

    /// Checks the fields people type. Text is expected to be NFC already.
    pub fn validate(&self) -> Result<(), DomainError> {
        if !crate::calendar::date_supported(self.date) {
            return Err(DomainError::DateOutOfRange(self.date.to_string()));
        }
        use crate::text::{Lines, check};
        check("title", &self.title, Lines::One)?;
        check("note", &self.note, Lines::Many)?;
        self.check_sizes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_round_trip() {
        for f in Form::ALL {
            assert_eq!(f.as_str().parse::<Form>().unwrap(), f);
        }
        assert!("meeting".parse::<Form>().is_err());
    }

    #[test]
    fn ids_are_checked() {
        assert_eq!(ActivityId::from_counter(7).as_str(), "HD-7");
        assert_eq!("hd-7".parse::<ActivityId>().unwrap().as_str(), "HD-7");
        assert!("HD 7".parse::<ActivityId>().is_err());
    }
}
