//! One delivery attempt over HTTP(S) with reqwest: the multipart request,
//! TLS verification against the system roots plus the configured CA, and
//! what came back, reduced to a status and a short detail for the log.

use std::time::Duration;

use reqwest::multipart::{Form, Part};

use super::payload::*;
use crate::store::outbox::{Delivery, Payload, UpstreamTarget};

/// How long connecting may take, within the request timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an error response's body the log keeps.
const SNIPPET_BYTES: usize = 512;

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// None: no HTTP response (connection refused or dropped, timeout, TLS).
    pub status: Option<u16>,
    /// The upstream's `Retry-After`, raw.
    pub retry_after: Option<String>,
    pub detail: String,
}

/// The HTTP client for a target. Redirects are not followed (the token must
/// not travel to another host, and a moved endpoint needs `upstream set`),
/// and no connection is kept between attempts, which are minutes apart.
pub fn client(target: &UpstreamTarget, timeout: Duration) -> Result<reqwest::Client, String> {
    coso_proto::transport::install_crypto();
    let mut b = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .user_agent(concat!("coso-hub/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &target.ca_pem {
        b = b.tls_certs_merge(ca_certificates(pem)?);
    }
    b.build().map_err(|e| chain(&e))
}

/// The certificates of a PEM bundle; an error if there are none.
pub fn ca_certificates(pem: &str) -> Result<Vec<reqwest::Certificate>, String> {
    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| chain(&e))?;
    if certs.is_empty() {
        return Err("no PEM certificate found".into());
    }
    Ok(certs)
}

fn part(bytes: &[u8], name: String, media: &str) -> Result<Part, String> {
    Part::bytes(bytes.to_vec())
        .file_name(name)
        .mime_str(media)
        .map_err(|e| chain(&e))
}

fn form(d: &Delivery, p: &Payload) -> Result<Form, String> {
    let period = d.period.to_string();
    Ok(Form::new()
        .part(
            PART_REPORT,
            part(&p.report_json, file_name(&period, "json"), MEDIA_JSON)?,
        )
        .part(
            PART_DOCX,
            part(&p.docx, file_name(&period, "docx"), MEDIA_DOCX)?,
        )
        .part(
            PART_XLSX,
            part(&p.xlsx, file_name(&period, "xlsx"), MEDIA_XLSX)?,
        ))
}

/// Sends one delivery and reports what happened; never fails.
pub async fn send(
    client: &reqwest::Client,
    target: &UpstreamTarget,
    ward: &str,
    d: &Delivery,
    p: &Payload,
) -> Response {
    let no_response = |detail: String| Response {
        status: None,
        retry_after: None,
        detail,
    };
    let form = match form(d, p) {
        Ok(f) => f,
        Err(e) => return no_response(e),
    };
    let mut req = client
        .post(&target.url)
        .header(H_IDEMPOTENCY_KEY, &d.idempotency_key)
        .header(H_REVISION, d.revision.to_string())
        .header(H_WARD, percent_encode(ward))
        .header(H_PERIOD, d.period.to_string())
        .header(H_CONTENT, &d.content_sha256)
        .multipart(form);
    if let Some(t) = &target.token {
        req = req.bearer_auth(t);
    }
    let mut resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return no_response(transport_detail(&e)),
    };
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                body.extend_from_slice(&c);
                if body.len() >= SNIPPET_BYTES {
                    break;
                }
            }
            Ok(None) => break,
            // The status is what counts; a body cut short only shortens the detail.
            Err(_) => break,
        }
    }
    let reason = status.canonical_reason().unwrap_or("");
    let mut detail = format!("{} {reason}", status.as_u16())
        .trim_end()
        .to_string();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        detail.push_str(
            ": the upstream refused the token (set it with coso-hub upstream set --token)",
        );
    } else if status.is_redirection() {
        let to = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("?");
        detail.push_str(&format!(
            ": redirects are not followed; the endpoint moved to {to}"
        ));
    }
    let snippet = snippet(&body);
    if !snippet.is_empty() {
        detail.push_str(" — ");
        detail.push_str(&snippet);
    }
    Response {
        status: Some(status.as_u16()),
        retry_after,
        detail,
    }
}

/// A response body made safe to show on one line.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(SNIPPET_BYTES)]);
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = one_line.split_whitespace().collect();
    words.join(" ").chars().take(300).collect()
}

fn transport_detail(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "the connection failed"
    };
    format!("{what}: {}", chain(e))
}

/// An error and its sources on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_one_short_line() {
        assert_eq!(
            snippet(b"  token\r\n\texpired\x1b[31m "),
            "token expired [31m"
        );
        assert_eq!(snippet(&[b'x'; 5000]).len(), 300);
        assert_eq!(snippet(b""), "");
    }

    /// An HTTPS endpoint with a certificate from a private CA, answering
    /// every request with 201; returns its port and the CA's PEM.
    async fn private_tls_endpoint(dir: &std::path::Path) -> (u16, String) {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // A private CA and a certificate for localhost it signed, as a
        // hub's `init` makes them (the hub's own `tls` is a face's, above us).
        let _ = dir;
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        let provider = coso_proto::transport::crypto();
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(cfg));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    continue;
                };
                // Read to the multipart closing delimiter, then answer.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                while !buf.ends_with(b"--\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
                let _ = tls.shutdown().await;
            }
        });
        (port, ca_cert.pem())
    }

    #[tokio::test]
    async fn tls_is_verified_and_a_private_ca_can_be_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let (port, ca) = private_tls_endpoint(dir.path()).await;
        let d = Delivery {
            id: 1,
            period: "2026-H1".parse().unwrap(),
            revision: 1,
            idempotency_key: "a".repeat(64),
            content_sha256: "b".repeat(64),
            trigger: crate::store::outbox::Trigger::Manual,
            state: crate::store::outbox::DeliveryState::Queued,
            queued_at: chrono::Utc::now(),
            attempts: 0,
            next_attempt_at: chrono::Utc::now(),
        };
        let p = Payload {
            report_json: b"{}".to_vec(),
            docx: b"PK".to_vec(),
            xlsx: b"PK".to_vec(),
        };
        let mut target = UpstreamTarget {
            url: format!("https://localhost:{port}/api/v1/reports"),
            token: Some("t".into()),
            ca_pem: None,
            set_at: chrono::Utc::now(),
        };
        let timeout = Duration::from_secs(10);
        // Without the CA the certificate is not trusted: no response.
        let c = client(&target, timeout).unwrap();
        let r = send(&c, &target, "Phường Gia Viên", &d, &p).await;
        assert_eq!(r.status, None, "{}", r.detail);
        assert!(
            r.detail.to_lowercase().contains("certificate"),
            "{}",
            r.detail
        );
        // With it, the delivery goes through.
        target.ca_pem = Some(ca);
        let c = client(&target, timeout).unwrap();
        let r = send(&c, &target, "Phường Gia Viên", &d, &p).await;
        assert_eq!(r.status, Some(201), "{}", r.detail);
    }

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        assert!(ca_certificates("not a pem").is_err());
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        assert_eq!(ca_certificates(&ca.cert.pem()).unwrap().len(), 1);
    }
}
