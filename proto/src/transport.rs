//! TLS client channels to a hub whose certificate is pinned by its SHA-256
//! fingerprint, as carried by the enrolment link. Agent and hub CLI both
//! connect this way, so no one ever has to install the hub's CA.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};

#[derive(Debug, Error)]
pub enum TransportError {
    #[error("invalid hub address {0:?}")]
    Address(String),
    #[error("cannot reach the hub at {addr}: {reason}")]
    Connect { addr: String, reason: String },
}

/// The crypto every TLS configuration of coso is built with (gRPC, the
/// dashboard, upstream delivery): ring, one of the two providers rustls
/// supports, chosen because it builds in a fraction of aws-lc-rs's time
/// (Cargo.toml). One home, so no configuration picks another.
pub fn crypto() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// Makes [`crypto`] the process's default provider, for libraries that take
/// the default rather than a configuration (reqwest, built without a
/// provider of its own). Idempotent; call before building such a client.
pub fn install_crypto() {
    // Err means a default is installed already: ours, by an earlier call.
    let _ = ring::default_provider().install_default();
}

/// SHA-256 of a certificate (DER).
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// The reason the pinned verifier gives when a certificate does not match.
const PIN_MISMATCH: &str =
    "the hub's certificate does not match the fingerprint in the enrolment link";

/// Whether `err` (or anything in its source chain) is the pinned verifier
/// refusing the hub's certificate, so clients can say so instead of showing a
/// generic connection error. rustls errors reach callers wrapped in
/// `io::Error`, whose `source()` skips the wrapped error, hence `get_ref`.
pub fn is_pin_mismatch(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|i| i as &(dyn std::error::Error + 'static));
        for candidate in [Some(e), inner].into_iter().flatten() {
            if let Some(rustls::Error::General(msg)) = candidate.downcast_ref::<rustls::Error>()
                && msg == PIN_MISMATCH
            {
                return true;
            }
        }
        next = e.source();
    }
    false
}

/// Accepts exactly the certificate with the pinned fingerprint.
#[derive(Debug)]
struct Pinned {
    fingerprint: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if fingerprint(end_entity.as_ref()) == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(PIN_MISMATCH.into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rustls client configuration that trusts only the pinned certificate.
pub fn pinned_client_config(fp: [u8; 32]) -> rustls::ClientConfig {
    let provider = crypto();
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            fingerprint: fp,
            provider,
        }))
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    cfg
}

/// A gRPC channel to `addr` (`HOST:PORT`) over TLS with the pinned certificate.
/// The connection is made on first use and re-made after a failure.
pub fn pinned_channel(
    addr: &str,
    fp: [u8; 32],
    timeout: Duration,
) -> Result<Channel, TransportError> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|_| TransportError::Address(addr.to_string()))?
        .connect_timeout(timeout)
        .timeout(timeout)
        .tcp_nodelay(true);
    let connector = TlsConnector::from(Arc::new(pinned_client_config(fp)));
    let host = addr
        .rsplit_once(':')
        .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
        .ok_or_else(|| TransportError::Address(addr.to_string()))?;
    let server_name = ServerName::try_from(host.clone())
        .map_err(|_| TransportError::Address(addr.to_string()))?;
    let target = addr.to_string();
    let svc = tower::service_fn(move |_uri: http::Uri| {
        let connector = connector.clone();
        let server_name = server_name.clone();
        let target = target.clone();
        async move {
            let tcp = TcpStream::connect(&target).await?;
            tcp.set_nodelay(true)?;
            let tls = connector.connect(server_name, tcp).await?;
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
        }
    });
    Ok(endpoint.connect_with_connector_lazy(svc))
}
