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
use crate::sync_service::SyncService;
use crate::tls::TlsError;
use coso_ward::StoreError;
use coso_ward::Ward;
use coso_ward::config::Config;
use coso_ward::documents::DocumentError;
use coso_ward::state::HubState;
use coso_ward::state::{OpenError, Opened};

/// How long a client may take to finish the TLS handshake.

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

/// The gRPC listener's finished TLS connections, as tonic takes them.
fn tls_incoming(
    listener: TcpListener,
    acceptor: TlsAcceptor,
) -> impl tokio_stream::Stream<Item = Result<TlsStream<TcpStream>, std::io::Error>> + Send + 'static
{
    use tokio_stream::StreamExt;
    ReceiverStream::new(crate::tls::accept(listener, acceptor, "grpc")).map(|(tls, _)| Ok(tls))
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
    opened: Opened,
    /// The dashboard's listener, when it is served.
    web: Option<TcpListener>,
}

impl Prepared {
    pub async fn open(config: Config) -> Result<Prepared, ServerError> {
        let identity = crate::tls::load(&config.data_dir)?;
        let opened = Opened::open(&config).await.map_err(|e| match e {
            OpenError::Store(e) => ServerError::Store(e),
            OpenError::Documents(e) => ServerError::Documents(e),
        })?;
        Ok(Prepared {
            config,
            identity,
            opened,
            web: None,
        })
    }

    /// Also serves the web dashboard (HTTPS) on `listener`.
    pub fn with_web(mut self, listener: TcpListener) -> Prepared {
        self.web = Some(listener);
        self
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
        opened,
        web,
    } = prepared;
    let web_tls = match web {
        Some(_) => Some(crate::web::tls::server_config(&config, &identity)?),
        None => None,
    };
    let acceptor = TlsAcceptor::from(Arc::new(identity.server_config()?));
    let grpc_addr = grpc.local_addr()?;
    let max = config.limits().max_message_bytes;
    let hub = Arc::new(HubState::new(
        opened,
        config,
        identity.fingerprint(),
        grpc_addr,
    ));
    let ward = Ward::new(hub.clone());

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

    let sync = pb::sync_server::SyncServer::new(SyncService::new(ward.clone()))
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
        .layer(crate::oversized::resource_exhausted_layer())
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .layer(tower::util::MapResponseLayer::new(
            crate::oversized::too_large_is_exhausted,
        ))
        .add_service(health_svc)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(sync)
        .add_service(admin)
        .serve_with_incoming_shutdown(tls_incoming(grpc, acceptor), stopped());
    let http_server = crate::http::serve(http, crate::http::router(hub.clone()), stopped());
    let upstream = tokio::spawn(coso_ward::upstream::run_worker(hub.clone(), stopped()));

    // Whichever comes first, the shutdown signal or a server ending on its
    // own, stops both.
    let stop = |tx: &tokio::sync::watch::Sender<bool>| {
        let _ = tx.send(true);
    };
    // tonic waits for open connections to close; after the signal they get
    // a grace period, then the server (and its connections) are dropped, so
    // a stalled client cannot keep the hub, and its database, alive.
    let grpc_task = async {
        let r = tokio::select! {
            r = grpc_server => r,
            () = async {
                stopped().await;
                tokio::time::sleep(crate::http::SHUTDOWN_GRACE).await;
            } => {
                tracing::info!("gRPC connections cut at shutdown");
                Ok(())
            }
        };
        stop(&stop_tx);
        r
    };
    let http_task = async {
        let r = http_server.await;
        stop(&stop_tx);
        r
    };
    let web_task = async {
        match web.zip(web_tls) {
            Some((listener, tls)) => {
                let r = crate::web::serve(listener, tls, hub.clone(), stopped()).await;
                stop(&stop_tx);
                r
            }
            None => Ok(()),
        }
    };
    let signal = async {
        tokio::select! {
            () = shutdown => tracing::info!("shutting down"),
            () = stopped() => {}
        }
        stop(&stop_tx);
    };
    let (grpc_result, http_result, web_result, ()) =
        tokio::join!(grpc_task, http_task, web_task, signal);
    // The delivery worker stops at the same signal; a cut-off attempt is retried on the next run.
    let _ = upstream.await;
    // Flush whatever the servers wrote, even if one of them failed.
    let flushed = hub.flush().await;
    grpc_result.map_err(|e| ServerError::Grpc(e.to_string()))?;
    http_result?;
    web_result?;
    flushed?;
    Ok(())
}
