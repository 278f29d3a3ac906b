//! The dashboard's TLS configuration: the hub's certificate (made by `init`,
//! signed by the hub's CA that `web-ca` hands to office PCs), or the
//! certificate and key named in hub.toml's `[web]`.

use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::tls::{ServerIdentity, TlsError};
use coso_ward::config::Config;

fn file_err(path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        file: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn resolve(config: &Config, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        config.data_dir.join(p)
    }
}

/// The rustls configuration for the dashboard: HTTP/1.1 only.
pub fn server_config(
    config: &Config,
    identity: &ServerIdentity,
) -> Result<rustls::ServerConfig, TlsError> {
    let web = &config.file.web;
    let mut cfg = match (&web.cert_file, &web.key_file) {
        (None, None) => identity.server_config()?,
        (Some(cert), Some(key)) => {
            let cert = resolve(config, cert);
            let key = resolve(config, key);
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
                .map_err(|e| file_err(&cert, e))?
                .collect::<Result<_, _>>()
                .map_err(|e| file_err(&cert, e))?;
            if chain.is_empty() {
                return Err(file_err(&cert, "no certificate in the file"));
            }
            let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| file_err(&key, e))?;
            let provider = coso_proto::transport::crypto();
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsError::Config(e.to_string()))?
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .map_err(|e| TlsError::Config(e.to_string()))?
        }
        _ => {
            return Err(TlsError::Config(
                "hub.toml [web]: cert_file and key_file go together".into(),
            ));
        }
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

/// The names the dashboard answers to beyond the loopback ones: the public
/// host in hub.toml (the hub's own certificate covers it), and the DNS
/// names and addresses a configured certificate covers.
pub fn names(config: &Config) -> Result<Vec<String>, TlsError> {
    let mut names = Vec::new();
    if let Some((host, _port)) = config
        .file
        .public_addr
        .as_deref()
        .and_then(|a| a.rsplit_once(':'))
    {
        names.push(host.trim_matches(['[', ']']).to_string());
    }
    if let Some(cert) = &config.file.web.cert_file {
        let cert = resolve(config, cert);
        let leaf = CertificateDer::pem_file_iter(&cert)
            .map_err(|e| file_err(&cert, e))?
            .next()
            .ok_or_else(|| file_err(&cert, "no certificate in the file"))?
            .map_err(|e| file_err(&cert, e))?;
        names.extend(certificate_names(&leaf).map_err(|e| file_err(&cert, e))?);
    }
    Ok(names)
}

/// The subject alternative names (DNS names and IP addresses) of `der`.
fn certificate_names(der: &CertificateDer<'_>) -> Result<Vec<String>, String> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    let Some(san) = cert.subject_alternative_name().map_err(|e| e.to_string())? else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for name in &san.value.general_names {
        match name {
            GeneralName::DNSName(n) => names.push(n.to_string()),
            GeneralName::IPAddress(b) => {
                if let Ok(a) = <[u8; 4]>::try_from(*b) {
                    names.push(std::net::IpAddr::from(a).to_string());
                } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                    names.push(std::net::IpAddr::from(a).to_string());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_certificates_dns_names_and_addresses() {
        let params = rcgen::CertificateParams::new(vec![
            "hub.phuong.vn".to_string(),
            "10.0.0.2".to_string(),
            "2001:db8::1".to_string(),
        ])
        .unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            super::certificate_names(cert.der()).unwrap(),
            ["hub.phuong.vn", "10.0.0.2", "2001:db8::1"]
        );
    }
}
