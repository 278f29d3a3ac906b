//! The language of messages for people: Vietnamese by default, English on request.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// Picks the Vietnamese or English text.
    pub fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "vi" | "vi-vn" | "vn" => Ok(Lang::Vi),
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            other => Err(format!("unknown language {other:?}: use vi or en")),
        }
    }
}
