//! coso-hub: the ward hub. It registers units, receives their change logs
//! over gRPC/TLS exactly once, and serves review, status and the
//! consolidated report to the ward's VH-XH office.

pub mod admin_service;
pub mod admission;
pub mod audit_rpc;
pub mod auth;
pub mod backup;
pub mod city;
pub mod cli;
pub mod client;
pub mod config;
pub mod documents;
pub mod error;
mod fsutil;
pub mod http;
pub mod input;

pub mod reporting;
pub mod server;
pub mod state;
pub mod store;
pub mod sync_service;
pub mod tls;
pub mod upstream;
pub mod ward;
pub mod web;
