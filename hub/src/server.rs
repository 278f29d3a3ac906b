//! Running the hub: gRPC over TLS (Sync, Admin, health, reflection) and the
//! HTTP listener, until the shutdown future completes; then a final flush.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use coso_proto::pb;
use thiserror::Error;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;

use crate::admin_service::AdminService;
use crate::config::Config;
use crate::documents::{DocumentError, Documents};
use crate::state::HubState;
use crate::store::{Store, StoreError};
use crate::sync_service::SyncService;
use crate::tls::TlsError;

/// The database directory inside the data dir.
pub const DB_DIR: &str = "db";
/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Error)]
pub enum ServerError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot load the catalog or calendar: {0}")]
    Documents(#[from] DocumentError),
    #[error("the listener failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the reflection service cannot be built: {0}")]
    Reflection(String),
    #[error("the gRPC server failed: {0}")]
    Grpc(String),
}

/// Accepts TCP connections and completes TLS handshakes off the accept loop,
/// so one slow client cannot hold up the others.
fn tls_incoming(
    listener: TcpListener,
    acceptor: TlsAcceptor,
) -> ReceiverStream<Result<TlsStream<TcpStream>, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        // Out of file descriptors and the like: back off briefly.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                // The server dropped the stream: stop accepting.
                _ = tx.closed() => break,
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(tls)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// Opens the store, loads the documents and the TLS identity, serves gRPC on
/// `grpc` and HTTP on `http` until `shutdown` completes, then flushes.
pub async fn run(
    grpc: TcpListener,
    http: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError> {
    Prepared::open(config)
        .await?
        .serve(grpc, http, shutdown)
        .await
}

/// A hub whose store is open and whose documents and TLS identity are
/// loaded, not yet serving. `serve` opens this before it announces itself, so
/// a second hub on the same data dir fails before it prints anything.
pub struct Prepared {
    config: Config,
    identity: crate::tls::ServerIdentity,
    store: Store,
    docs: Documents,
}

impl Prepared {
    pub async fn open(config: Config) -> Result<Prepared, ServerError> {
        let identity = crate::tls::load(&config.data_dir)?;
        let store = Store::open(&config.data_dir.join(DB_DIR))?;
        let docs = Documents::load(&config.data_dir, &store).await?;
        Ok(Prepared {
            config,
            identity,
            store,
            docs,
        })
    }

    /// Serves until `shutdown` completes, then flushes.
    pub async fn serve(
        self,
        grpc: TcpListener,
        http: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServerError> {
        serve(self, grpc, http, shutdown).await
    }
}

async fn serve(
    prepared: Prepared,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError> {
    let Prepared {
        config,
        identity,
        store,
        docs,
    } = prepared;
    let acceptor = TlsAcceptor::from(Arc::new(identity.server_config()?));
    let grpc_addr = grpc.local_addr()?;
    let max = config.limits().max_message_bytes;
    let hub = Arc::new(HubState {
        store,
        docs,
        config,
        fingerprint: identity.fingerprint(),
        grpc_addr,
    });

    let (health, health_svc) = tonic_health::server::health_reporter();
    health
        .set_serving::<pb::sync_server::SyncServer<SyncService>>()
        .await;
    health
        .set_serving::<pb::admin_server::AdminServer<AdminService>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServerError::Reflection(e.to_string()))?;
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| ServerError::Reflection(e.to_string()))?;

    let sync = pb::sync_server::SyncServer::new(SyncService::new(hub.clone()))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let admin = pb::admin_server::AdminServer::new(AdminService::new(hub.clone()))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    let grpc_server = tonic::transport::Server::builder()
        .layer(crate::admission::resource_exhausted_layer())
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .add_service(health_svc)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(sync)
        .add_service(admin)
        .serve_with_incoming_shutdown(tls_incoming(grpc, acceptor), stopped());
    let http_server =
        axum::serve(http, crate::http::router(hub.clone())).with_graceful_shutdown(stopped());
    let upstream = tokio::spawn(crate::upstream::run_worker(hub.clone(), stopped()));

    // Whichever comes first, the shutdown signal or a server ending on its
    // own, stops both.
    let stop = |tx: &tokio::sync::watch::Sender<bool>| {
        let _ = tx.send(true);
    };
    let grpc_task = async {
        let r = grpc_server.await;
        stop(&stop_tx);
        r
    };
    let http_task = async {
        let r = http_server.await;
        stop(&stop_tx);
        r
    };
    let signal = async {
        tokio::select! {
            () = shutdown => tracing::info!("shutting down"),
            () = stopped() => {}
        }
        stop(&stop_tx);
    };
    let (grpc_result, http_result, ()) = tokio::join!(grpc_task, http_task, signal);
    // The delivery worker stops at the same signal; a cut-off attempt is retried on the next run.
    let _ = upstream.await;
    // Flush whatever the servers wrote, even if one of them failed.
    let flushed = hub.store.flush().await;
    grpc_result.map_err(|e| ServerError::Grpc(e.to_string()))?;
    http_result?;
    flushed?;
    Ok(())
}
