//! `coso-hub serve`: binds the listeners (port 0 picks a free one),
//! announces them on stdout, writes `hub.addr` for local admin commands, and
//! runs the server until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;

use clap::Args;

use super::{CliError, Ctx};
use crate::client;
use coso_ward::config::{CONFIG_FILE, Config};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// gRPC listen address (default from hub.toml); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub grpc: Option<SocketAddr>,
    /// HTTP listen address (default from hub.toml); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// Serve the web dashboard over HTTPS here (default: `[web] addr` in
    /// hub.toml, else not served); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub web: Option<SocketAddr>,
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when it is first polled, so a signal that arrives while the
/// server is still starting is not lost (nor fatal).
fn shutdown_signal() -> Result<impl Future<Output = ()>, std::io::Error> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

pub(super) async fn run(ctx: &Ctx, out: &mut dyn Write, a: ServeArgs) -> Result<(), CliError> {
    let dir = ctx.data_dir()?.to_path_buf();
    if !dir.join(CONFIG_FILE).exists() {
        return Err(CliError::NotInitialised(dir));
    }
    let config = Config::load(&dir)?;
    let shutdown = shutdown_signal().map_err(CliError::io(&dir))?;
    // Open the store first: if another hub holds it, fail before binding,
    // announcing or touching hub.addr.
    let prepared = crate::server::Prepared::open(config.clone()).await?;
    let grpc_addr = a.grpc.unwrap_or(config.file.grpc_addr);
    let http_addr = a.http.unwrap_or(config.file.http_addr);
    let grpc = tokio::net::TcpListener::bind(grpc_addr)
        .await
        .map_err(|source| CliError::Bind {
            addr: grpc_addr,
            source,
        })?;
    let http = tokio::net::TcpListener::bind(http_addr)
        .await
        .map_err(|source| CliError::Bind {
            addr: http_addr,
            source,
        })?;
    let grpc_bound = grpc.local_addr().map_err(|source| CliError::Bind {
        addr: grpc_addr,
        source,
    })?;
    let http_bound = http.local_addr().map_err(|source| CliError::Bind {
        addr: http_addr,
        source,
    })?;
    let web_addr = a.web.or(config.file.web.addr);
    let mut prepared = prepared;
    let mut web_bound = None;
    if let Some(addr) = web_addr {
        let web = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| CliError::Bind { addr, source })?;
        web_bound = Some(
            web.local_addr()
                .map_err(|source| CliError::Bind { addr, source })?,
        );
        prepared = prepared.with_web(web);
    }
    // hub.addr first: a client that saw the listening line finds it.
    let addr_path = dir.join(client::ADDR_FILE);
    let local = coso_ward::state::connectable(grpc_bound);
    coso_ward::fsutil::replace(&addr_path, format!("{local}\n").as_bytes())
        .map_err(CliError::io(&addr_path))?;
    // The listening line is the first thing on stdout: scripts and tests
    // wait for it, so it is flushed at once. A closed stdout must not stop
    // the hub, so errors are ignored.
    let web_part = web_bound.map(|w| format!(" web={w}")).unwrap_or_default();
    let _ = writeln!(
        out,
        "listening grpc={grpc_bound} http={http_bound}{web_part}"
    );
    let _ = out.flush();
    let result = prepared.serve(grpc, http, shutdown).await;
    let _ = std::fs::remove_file(&addr_path);
    result?;
    Ok(())
}
