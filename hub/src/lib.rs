//! coso-hub: the ward hub's faces and edges. It wires the ward core
//! (`coso-ward`) to the agents' Sync service and the Admin service (gRPC over
//! TLS), the CLI, the web dashboard and the HTTP listener. Nothing here names
//! the store: every read and change goes through `coso_ward`.

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
