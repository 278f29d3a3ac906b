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

/// tonic refuses a request beyond the message limit with OUT_OF_RANGE; the
/// contract (and gRPC's own guidance) says RESOURCE_EXHAUSTED, which is what
/// clients act on. The refusal is a trailers-only response, so its status
/// is in the headers.
fn too_large_is_exhausted<B>(mut resp: axum::http::Response<B>) -> axum::http::Response<B> {
    let h = resp.headers();
    let out_of_range = h.get("grpc-status").is_some_and(|v| v.as_bytes() == b"11");
    let too_large = h.get("grpc-message").is_some_and(|v| {
        let m = v.as_bytes();
        m.windows(b"too large".len())
            .any(|w| w == b"too large" || w == b"too%20lar")
    });
    if out_of_range && too_large {
        resp.headers_mut().insert(
            "grpc-status",
            axum::http::HeaderValue::from_static("8"), // RESOURCE_EXHAUSTED
        );
    }
    resp
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
    /// The dashboard's listener, when it is served.
    web: Option<TcpListener>,
}

impl Prepared {
    pub async fn open(config: Config) -> Result<Prepared, ServerError> {
        let identity = crate::tls::load(&config.data_dir)?;
        let store = Store::open_with_cache(
            &config.data_dir.join(DB_DIR),
            config.file.storage.cache_capacity_mb << 20,
        )?;
        let docs = Documents::load(&config.data_dir, &store).await?;
        Ok(Prepared {
            config,
            identity,
            store,
            docs,
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
        store,
        docs,
        web,
    } = prepared;
    let web_tls = match web {
        Some(_) => Some(crate::web::tls::server_config(&config, &identity)?),
        None => None,
    };
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
        .layer(tower::util::MapResponseLayer::new(too_large_is_exhausted))
        .add_service(health_svc)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(sync)
        .add_service(admin)
        .serve_with_incoming_shutdown(tls_incoming(grpc, acceptor), stopped());
    let http_server = crate::http::serve(http, crate::http::router(hub.clone()), stopped());
    let upstream = tokio::spawn(crate::upstream::run_worker(hub.clone(), stopped()));

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
    let flushed = hub.store.flush().await;
    grpc_result.map_err(|e| ServerError::Grpc(e.to_string()))?;
    http_result?;
    web_result?;
    flushed?;
    Ok(())
}
