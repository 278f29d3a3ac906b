//! The hub's TLS identity: a private CA and a server certificate signed by it
//! (made with rcgen at `init`), loading them for the server, and the
//! certificate fingerprint that enrolment links and the CLI pin; and the
//! TLS accept loop the gRPC and web listeners share ([`accept`]).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;

use coso_ward::fsutil;

pub const TLS_DIR: &str = "tls";
const CA_CERT: &str = "ca.crt";
const CA_KEY: &str = "ca.key";
const SERVER_CERT: &str = "server.crt";
const SERVER_KEY: &str = "server.key";

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("cannot make the certificates: {0}")]
    Generate(String),
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
    #[error("the TLS configuration is invalid: {0}")]
    Config(String),
}

fn file_err(path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        file: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// The server certificate and key, loaded.
pub struct ServerIdentity {
    pub cert: CertificateDer<'static>,
    pub ca: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl ServerIdentity {
    /// SHA-256 of the server certificate (DER): what enrolment links carry.
    pub fn fingerprint(&self) -> [u8; 32] {
        coso_proto::transport::fingerprint(self.cert.as_ref())
    }

    /// A rustls server configuration that speaks HTTP/2 only (gRPC).
    pub fn server_config(&self) -> Result<rustls::ServerConfig, TlsError> {
        let provider = coso_proto::transport::crypto();
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.cert.clone(), self.ca.clone()],
                self.key.clone_key(),
            )
            .map_err(|e| TlsError::Config(e.to_string()))?;
        cfg.alpn_protocols = vec![b"h2".to_vec()];
        Ok(cfg)
    }
}

fn tls_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(TLS_DIR)
}

/// The names the server certificate is valid for: localhost, 127.0.0.1, ::1
/// and the public host, if any.
fn subject_alt_names(public_host: Option<&str>) -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if let Some(h) = public_host {
        let h = h.trim_matches(['[', ']']).to_string();
        if !h.is_empty() && !names.contains(&h) {
            names.push(h);
        }
    }
    names
}

/// Makes a CA and a server certificate signed by it and writes them (keys
/// readable by the owner only) to `DATA_DIR/tls`. Returns the fingerprint.
pub fn generate(
    data_dir: &Path,
    ward: &str,
    public_host: Option<&str>,
) -> Result<[u8; 32], TlsError> {
    let gen_err = |e: rcgen::Error| TlsError::Generate(e.to_string());

    let ca_key = KeyPair::generate().map_err(gen_err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("coso hub CA — {ward}"));
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "coso");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(gen_err)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(gen_err)?;
    let mut params = CertificateParams::new(subject_alt_names(public_host)).map_err(gen_err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, format!("coso hub — {ward}"));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = params.signed_by(&server_key, &issuer).map_err(gen_err)?;

    let dir = tls_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| file_err(&dir, e))?;
    let write = |name: &str, text: &str, private: bool| {
        let path = dir.join(name);
        fsutil::write_new(&path, text.as_bytes(), private).map_err(|e| file_err(&path, e))
    };
    write(CA_CERT, &ca_cert.pem(), false)?;
    write(CA_KEY, &issuer.key().serialize_pem(), true)?;
    write(SERVER_CERT, &server_cert.pem(), false)?;
    write(SERVER_KEY, &server_key.serialize_pem(), true)?;
    Ok(coso_proto::transport::fingerprint(server_cert.der()))
}

fn read_cert(path: &Path) -> Result<CertificateDer<'static>, TlsError> {
    CertificateDer::from_pem_file(path).map_err(|e| file_err(path, e))
}

/// Loads the server certificate, its key and the CA certificate.
pub fn load(data_dir: &Path) -> Result<ServerIdentity, TlsError> {
    let dir = tls_dir(data_dir);
    let key_path = dir.join(SERVER_KEY);
    Ok(ServerIdentity {
        cert: read_cert(&dir.join(SERVER_CERT))?,
        ca: read_cert(&dir.join(CA_CERT))?,
        key: PrivateKeyDer::from_pem_file(&key_path).map_err(|e| file_err(&key_path, e))?,
    })
}

/// The fingerprint of the server certificate in `data_dir`, for the CLI.
pub fn fingerprint(data_dir: &Path) -> Result<[u8; 32], TlsError> {
    let cert = read_cert(&tls_dir(data_dir).join(SERVER_CERT))?;
    Ok(coso_proto::transport::fingerprint(cert.as_ref()))
}

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Accepts TCP connections on `listener` and completes their TLS handshakes
/// off the accept loop, each under a deadline, so one slow client cannot hold
/// up the others. Finished connections arrive on the returned channel; the
/// loop stops once the receiver is dropped. `what` names the listener in logs.
pub(crate) fn accept(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    what: &'static str,
) -> tokio::sync::mpsc::Receiver<(
    tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    std::net::SocketAddr,
)> {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(listener = what, error = %e, "accept failed");
                        // Out of file descriptors and the like: back off briefly.
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                // The server dropped the receiver: stop accepting.
                _ = tx.closed() => break,
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send((tls, peer)).await;
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(listener = what, %peer, error = %e, "TLS handshake failed")
                    }
                    Err(_) => tracing::debug!(listener = what, %peer, "TLS handshake timed out"),
                }
            });
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identity_loads_and_pins() {
        let dir = tempfile::tempdir().unwrap();
        let fp = generate(dir.path(), "Phường Gia Viên", Some("hub.giavien.vn")).unwrap();
        let id = load(dir.path()).unwrap();
        assert_eq!(id.fingerprint(), fp);
        assert_eq!(fingerprint(dir.path()).unwrap(), fp);
        let cfg = id.server_config().unwrap();
        assert_eq!(cfg.alpn_protocols, vec![b"h2".to_vec()]);
        // A second identity is a different certificate.
        let other = tempfile::tempdir().unwrap();
        assert_ne!(generate(other.path(), "x", None).unwrap(), fp);
        // Generating over an existing identity is refused.
        assert!(generate(dir.path(), "x", None).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn keys_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), "x", None).unwrap();
        for name in [CA_KEY, SERVER_KEY] {
            let mode = std::fs::metadata(dir.path().join(TLS_DIR).join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }

    #[test]
    fn names_include_the_public_host() {
        assert_eq!(
            subject_alt_names(Some("hub.giavien.vn")),
            ["localhost", "127.0.0.1", "::1", "hub.giavien.vn"]
        );
        assert_eq!(subject_alt_names(Some("127.0.0.1")).len(), 3);
    }
}
