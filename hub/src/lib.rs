//! coso-hub: the ward hub's faces and edges. It wires the ward core
//! (`coso-ward`) to the agents' Sync service and the Admin service (gRPC over
//! TLS), the CLI, the web dashboard and the HTTP listener. Nothing here names
//! the store: every read and change goes through `coso_ward`.

/// What `--version` prints after the name: the version and the commit
/// this binary was built from (`0.3.0 (1a2b3c4)`, or `(unknown)` when it
/// was built outside a git checkout without `COSO_COMMIT`; see `build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("COSO_BUILD_COMMIT"),
    ")"
);

pub mod admin_service;
pub mod audit_rpc;
pub mod cli;
pub mod client;
pub mod error;
pub mod http;
pub mod metrics;
mod oversized;
pub mod receive;
pub mod server;
pub mod sync_service;
pub mod tls;
pub mod web;
