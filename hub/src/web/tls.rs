//! The dashboard's TLS configuration: the hub's certificate (made by `init`,
//! signed by the hub's CA that `web-ca` hands to office PCs), or the
//! certificate and key named in hub.toml's `[web]`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

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
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
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
