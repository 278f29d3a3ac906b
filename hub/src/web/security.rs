//! The layers every dashboard request passes: the cross-site check on every
//! state-changing request, the bound on an address's length, and the
//! security headers on every response (strict CSP, HSTS, no framing, no
//! sniffing, no caching of pages).

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::chrome::{LANG_COOKIE, query_lang};
use super::error::WebError;

const CSP: &str = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// Whether a state-changing request comes from a page of this site: the
/// browser's `Sec-Fetch-Site` says so, or, from browsers that do not send
/// it, `Origin` is `https://` + the request's `Host`. A request with
/// neither is refused: every browser sends `Origin` on a POST.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST))
    else {
        return false;
    };
    match (origin.to_str(), host.to_str()) {
        (Ok(origin), Ok(host)) => origin
            .strip_prefix("https://")
            .is_some_and(|o| o.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

/// Refuses a state-changing request that fails [`same_origin`] with 403,
/// before any handler runs, so nothing is changed.
pub async fn cross_site_check(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !same_origin(req.headers()) {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "cross-site request refused");
        return WebError::CrossSite.into_response();
    }
    next.run(req).await
}

/// The longest address (path and query) the dashboard reads; no page of it
/// needs more than a few hundred bytes.
pub const MAX_URI_BYTES: usize = 8 << 10;

/// Answers 414 to an address longer than [`MAX_URI_BYTES`], inside the
/// security headers layer so the answer carries them. (hyper itself answers
/// a bare 414 only past 64 KiB, before any layer runs.)
pub async fn uri_limit(req: Request, next: Next) -> Response {
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_URI_BYTES {
        return WebError::UriTooLong.into_response();
    }
    next.run(req).await
}

/// The largest body the dashboard reads: axum's own limit on its form
/// extractors, which answer 413 to a chunked body crossing it.
pub const MAX_BODY_BYTES: u64 = 2 << 20;

/// How much of a too-large body is read and dropped before answering: a
/// client still sending when the hub closes the connection would see a
/// reset instead of the answer. Past this, the hub just closes.
const DRAIN_BYTES: u64 = 16 << 20;

/// Answers 413 to a body whose declared length passes [`MAX_BODY_BYTES`],
/// before any handler runs, inside the security headers layer.
pub async fn body_limit(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // A scanned paper report may be larger than any form (its route holds
    // its own limit).
    let max = if req.uri().path().ends_with("/paper") {
        super::kept::PAPER_BODY_BYTES as u64
    } else {
        MAX_BODY_BYTES
    };
    let Some(len) = declared.filter(|&n| n > max) else {
        return next.run(req).await;
    };
    tracing::warn!(len, path = %req.uri().path(), "request body too large refused");
    if len <= DRAIN_BYTES {
        let mut body = req.into_body().into_data_stream();
        while let Some(Ok(_chunk)) = tokio_stream::StreamExt::next(&mut body).await {}
    }
    WebError::PayloadTooLarge.into_response()
}

/// Adds the security headers, and remembers a `?lang=` choice in a cookie.
pub async fn headers(req: Request, next: Next) -> Response {
    let chosen = query_lang(req.uri().query());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The dashboard is HTTPS only: browsers should never try it in clear.
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(lang) = chosen {
        let code = match lang {
            coso_domain::Lang::Vi => "vi",
            coso_domain::Lang::En => "en",
        };
        let v = format!("{LANG_COOKIE}={code}; Path=/; Max-Age=31536000; Secure; SameSite=Strict");
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}
