//! The CLI's connection to a running hub: finds the address, the pinned
//! certificate fingerprint and the admin token (in the data dir, or given on
//! the command line for a remote hub) and builds an authenticated client.

use std::path::Path;
use std::time::Duration;

use coso_domain::Lang;
use coso_proto::pb::admin_client::AdminClient;
use thiserror::Error;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// Written by `serve`: the address the CLI connects to.
pub const ADDR_FILE: &str = "hub.addr";
/// Written by `init`: the admin token (owner-only).
pub const TOKEN_FILE: &str = "admin.token";

/// How long an admin call may take (compiling a large report included).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("no hub is running for {0}: start it with coso-hub serve")]
    NotRunning(String),
    #[error("{file}: cannot read: {reason}")]
    Read { file: String, reason: String },
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("{0}")]
    Transport(#[from] coso_proto::transport::TransportError),
    #[error("field {field}: {reason}")]
    Remote { field: &'static str, reason: String },
}

/// Where the hub is and how to prove we are its admin.
pub struct Target {
    pub addr: String,
    pub fingerprint: [u8; 32],
    pub token: String,
}

impl Target {
    /// The hub serving `data_dir` on this machine.
    pub fn local(data_dir: &Path) -> Result<Target, ClientError> {
        let read = |name: &str| {
            let p = data_dir.join(name);
            std::fs::read_to_string(&p).map_err(|e| ClientError::Read {
                file: p.display().to_string(),
                reason: e.to_string(),
            })
        };
        let addr = match std::fs::read_to_string(data_dir.join(ADDR_FILE)) {
            Ok(a) => a.trim().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ClientError::NotRunning(data_dir.display().to_string()));
            }
            Err(e) => {
                return Err(ClientError::Read {
                    file: data_dir.join(ADDR_FILE).display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        Ok(Target {
            addr,
            fingerprint: crate::tls::fingerprint(data_dir)?,
            token: read(TOKEN_FILE)?.trim().to_string(),
        })
    }

    /// A hub elsewhere: `--hub HOST:PORT --token T --fp HEX`.
    pub fn remote(addr: &str, token: &str, fp: &str) -> Result<Target, ClientError> {
        // `--hub` may be written as a URL; only HOST:PORT matters.
        let addr = ["coso://", "grpcs://", "https://", "http://"]
            .iter()
            .find_map(|p| addr.trim().strip_prefix(p))
            .unwrap_or(addr.trim())
            .trim_end_matches('/');
        coso_ward::config::check_public_addr(addr).map_err(|reason| ClientError::Remote {
            field: "hub",
            reason,
        })?;
        let hex_fp = fp.trim().strip_prefix("sha256:").unwrap_or(fp.trim());
        let fingerprint =
            coso_proto::link::parse_fingerprint(hex_fp).ok_or(ClientError::Remote {
                field: "fp",
                reason: "use the 64 hex digits of the hub certificate's SHA-256".into(),
            })?;
        if token.trim().is_empty() {
            return Err(ClientError::Remote {
                field: "token",
                reason: "must not be empty".into(),
            });
        }
        Ok(Target {
            addr: addr.to_string(),
            fingerprint,
            token: token.trim().to_string(),
        })
    }
}

/// Adds the admin token and the caller's language to every call.
#[derive(Clone)]
pub struct AdminAuth {
    authorization: AsciiMetadataValue,
    lang: AsciiMetadataValue,
}

impl Interceptor for AdminAuth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut()
            .insert("authorization", self.authorization.clone());
        req.metadata_mut().insert("coso-lang", self.lang.clone());
        Ok(req)
    }
}

pub type Admin = AdminClient<InterceptedService<Channel, AdminAuth>>;

/// An admin client for `target`, connecting on first use.
pub fn admin(target: &Target, lang: Lang) -> Result<Admin, ClientError> {
    let channel =
        coso_proto::transport::pinned_channel(&target.addr, target.fingerprint, CALL_TIMEOUT)?;
    let authorization =
        MetadataValue::try_from(format!("Bearer {}", target.token)).map_err(|_| {
            ClientError::Remote {
                field: "token",
                reason: "contains characters that cannot be sent".into(),
            }
        })?;
    let lang = AsciiMetadataValue::from_static(match lang {
        Lang::Vi => "vi",
        Lang::En => "en",
    });
    Ok(AdminClient::with_interceptor(
        channel,
        AdminAuth {
            authorization,
            lang,
        },
    )
    .max_decoding_message_size(64 * 1024 * 1024))
}
