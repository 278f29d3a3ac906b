//! What the running hub shares between its services: the store, the served
//! documents, the configuration and its own identity (address, fingerprint).

use std::net::SocketAddr;

use crate::config::Config;
use crate::documents::Documents;
use crate::store::Store;

pub struct HubState {
    pub store: Store,
    pub docs: Documents,
    pub config: Config,
    /// SHA-256 of the server certificate.
    pub fingerprint: [u8; 32],
    /// The gRPC address actually bound.
    pub grpc_addr: SocketAddr,
}

impl HubState {
    /// `HOST:PORT` for enrolment links: the configured public address, else
    /// the bound address (a wildcard becomes loopback, so the link at least
    /// works on this machine).
    pub fn link_addr(&self) -> String {
        match &self.config.file.public_addr {
            Some(a) => a.clone(),
            None => connectable(self.grpc_addr).to_string(),
        }
    }
}

/// The address a local client uses to reach a listener bound to `addr`.
pub fn connectable(addr: SocketAddr) -> SocketAddr {
    let mut a = addr;
    if a.ip().is_unspecified() {
        a.set_ip(match a {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    a
}
