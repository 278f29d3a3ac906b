//! What every page shows around its content (the ward, the signed-in user,
//! the navigation, the language switch), and the language a request asked
//! for: `?lang=en|vi`, else the `lang` cookie, else Vietnamese.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use coso_domain::Lang;

use coso_ward::Role;

/// The cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "lang";

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `lang` query parameter, if it names a language.
pub fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| v.parse().ok())
}

/// The language of the request.
pub fn lang_of(parts: &Parts) -> Lang {
    query_lang(parts.uri.query())
        .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(|v| v.parse().ok()))
        .unwrap_or_default()
}

/// The request's language, as an extractor.
pub struct PageLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PageLang(lang_of(parts)))
    }
}

/// The frame of a page.
pub struct Chrome {
    pub en: bool,
    pub ward: String,
    pub title: String,
    /// The page's path, for the language switch.
    pub path: String,
    pub user: Option<String>,
    pub role: Option<Role>,
}

impl Chrome {
    pub fn new(lang: Lang, ward: &str, title: String, path: String) -> Chrome {
        Chrome {
            en: lang == Lang::En,
            ward: ward.to_string(),
            title,
            path,
            user: None,
            role: None,
        }
    }

    /// `vi` or `en`, for `<html lang>`.
    pub fn code(&self) -> &'static str {
        if self.en { "en" } else { "vi" }
    }

    /// Picks the Vietnamese or English text.
    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        if self.en { en } else { vi }
    }

    pub fn can_review(&self) -> bool {
        self.role.is_some_and(|r| r >= Role::Reviewer)
    }

    pub fn can_admin(&self) -> bool {
        self.role == Some(Role::Admin)
    }
}
