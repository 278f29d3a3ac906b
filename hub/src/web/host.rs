//! The dashboard's own names, and the check that a request's `Host` is one
//! of them: a page served under a name the hub does not own (DNS
//! rebinding: an attacker's name pointed at the hub) is never answered.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::WebError;

/// The names a request may address the dashboard by, and its port.
#[derive(Debug, Clone)]
pub struct HostNames {
    /// Lowercase; IPv6 addresses in brackets; `*.x` covers one label.
    names: Vec<String>,
    port: u16,
}

/// The form a name takes in a `Host` header.
fn host_form(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

impl HostNames {
    /// The loopback names, the bound address when it is a specific one,
    /// and `extra` (the public host, the certificate's names).
    pub fn new(bound: SocketAddr, extra: impl IntoIterator<Item = String>) -> HostNames {
        let mut names = HostNames {
            names: Vec::new(),
            port: bound.port(),
        };
        for n in ["localhost", "127.0.0.1", "[::1]"] {
            names.add(n);
        }
        if !bound.ip().is_unspecified() {
            names.add(&host_form(bound.ip()));
        }
        for n in extra {
            // A bare IPv6 address (as in a certificate) takes its brackets.
            match n.parse::<IpAddr>() {
                Ok(ip) => names.add(&host_form(ip)),
                Err(_) => names.add(&n),
            }
        }
        names
    }

    fn add(&mut self, name: &str) {
        let n = name.trim_end_matches('.').to_ascii_lowercase();
        if !n.is_empty() && !self.names.contains(&n) {
            self.names.push(n);
        }
    }

    /// Whether `host` (a `Host` header) names this dashboard. A port, when
    /// given, must be the listener's: a browser sends the port it connected
    /// to, so another port means the name was resolved elsewhere.
    pub fn allows(&self, host: Option<&str>) -> bool {
        let Some(host) = host else {
            return false;
        };
        let (name, port) = if host.starts_with('[') {
            match host.find(']') {
                Some(end) => (&host[..=end], &host[end + 1..]),
                None => return false,
            }
        } else {
            match host.split_once(':') {
                Some((n, _)) => (n, &host[n.len()..]),
                None => (host, ""),
            }
        };
        match port.strip_prefix(':') {
            Some(p) if p.parse::<u16>().ok() != Some(self.port) => return false,
            None if !port.is_empty() => return false,
            _ => {}
        }
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            return false;
        }
        self.names.iter().any(|n| match n.strip_prefix("*.") {
            Some(suffix) => name
                .split_once('.')
                .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
            None => *n == name,
        })
    }
}

/// Refuses with 421 a request whose `Host` is not one of the dashboard's
/// names, before any handler runs.
pub async fn host_check(State(names): State<Arc<HostNames>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if !names.allows(host) {
        tracing::warn!(host = ?host, path = %req.uri().path(), "request for another host refused");
        return WebError::MisdirectedHost.into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(bound: &str, extra: &[&str]) -> HostNames {
        HostNames::new(bound.parse().unwrap(), extra.iter().map(|s| s.to_string()))
    }

    #[test]
    fn loopback_names_with_the_listeners_port_or_none() {
        let n = names("0.0.0.0:8443", &[]);
        for ok in [
            "localhost",
            "localhost:8443",
            "127.0.0.1:8443",
            "[::1]:8443",
            "LocalHost.",
            "[::1]",
        ] {
            assert!(n.allows(Some(ok)), "{ok}");
        }
        for bad in [
            "localhost:8444",
            "127.0.0.1:80",
            "[::1]:1",
            "localhost:",
            "localhost:x",
            "[::1",
        ] {
            assert!(!n.allows(Some(bad)), "{bad}");
        }
    }

    #[test]
    fn other_names_are_refused() {
        let n = names("0.0.0.0:8443", &["hub.giavien.vn"]);
        assert!(n.allows(Some("hub.giavien.vn:8443")));
        assert!(n.allows(Some("HUB.giavien.vn")));
        for bad in [
            "evil.example",
            "evil.example:8443",
            "hub.giavien.vn.evil.example",
            "",
            "0.0.0.0:8443",
            "192.168.1.5:8443",
        ] {
            assert!(!n.allows(Some(bad)), "{bad}");
        }
        assert!(!n.allows(None));
    }

    #[test]
    fn a_specific_bound_address_is_a_name() {
        assert!(names("192.168.1.5:8443", &[]).allows(Some("192.168.1.5:8443")));
        assert!(names("[fe80::1]:8443", &[]).allows(Some("[fe80::1]:8443")));
        assert!(!names("[::]:8443", &[]).allows(Some("[::]:8443")));
    }

    #[test]
    fn certificate_names_including_ipv6_and_wildcards() {
        let n = names("0.0.0.0:443", &["2001:db8::1", "*.phuong.vn", "10.0.0.2"]);
        assert!(n.allows(Some("[2001:db8::1]:443")));
        assert!(n.allows(Some("10.0.0.2")));
        assert!(n.allows(Some("hub.phuong.vn")));
        assert!(!n.allows(Some("phuong.vn")));
        assert!(!n.allows(Some("a.b.phuong.vn")));
    }
}
