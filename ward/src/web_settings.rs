//! `[web]` in hub.toml: where the dashboard listens and which certificate it
//! shows (the hub's own by default), and how long a login lasts.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// Serve the dashboard here when `serve` has no `--web`. None: only with `--web`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<SocketAddr>,
    /// A PEM certificate chain for the dashboard instead of the hub's own
    /// (relative paths are inside the data dir). Needs `key_file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// How long a login lasts, in hours.
    pub session_hours: u32,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            addr: None,
            cert_file: None,
            key_file: None,
            session_hours: 12,
        }
    }
}
