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
    #[error(transparent)]
    Upgrade(coso_ward::upgrade::UpgradeError),
    #[error("{0}")]
    Config(coso_ward::config::ConfigError),
    #[error("the listener failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the reflection service cannot be built: {0}")]
    Reflection(String),
    #[error("the gRPC server failed: {0}")]
    Grpc(String),
    /// The store failed (a flush did not reach the disk); the hub stopped so
    /// that a restart opens what is durable. `main` exits with
    /// [`STORAGE_FAILED_EXIT`], and a supervisor starts it again.
    #[error("{0}")]
    StorageFailed(coso_ward::StorageFailure),
}

/// The exit status of a hub that stopped because its storage failed
/// (EX_TEMPFAIL): distinct, so a supervisor and an operator can tell it.
pub const STORAGE_FAILED_EXIT: u8 = 75;

/// How often a failed hub tries its disk again.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// How long the final flush and the release of the store may take at
/// shutdown: a disk that hangs must not keep the hub from exiting (the
/// process's exit releases the database's lock anyway).
const FINAL_FLUSH_LIMIT: Duration = Duration::from_secs(20);

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
    pub async fn open(mut config: Config) -> Result<Prepared, ServerError> {
        let identity = crate::tls::load(&config.data_dir)?;
        let opened = Opened::open(&mut config).await.map_err(|e| match e {
            OpenError::Store(e) => ServerError::Store(e),
            OpenError::Documents(e) => ServerError::Documents(e),
            OpenError::ReceiptKey(e) => ServerError::Io(e),
            OpenError::Upgrade(e) => ServerError::Upgrade(e),
            OpenError::Config(e) => ServerError::Config(e),
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

    // Once the store has failed, every Sync and Admin call is refused before
    // it reads anything (see `error::storage_gate`).
    let sync = tonic::service::interceptor::InterceptedService::new(
        pb::sync_server::SyncServer::new(SyncService::new(ward.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max),
        crate::error::storage_gate(hub.clone()),
    );
    let admin = tonic::service::interceptor::InterceptedService::new(
        pb::admin_server::AdminServer::new(AdminService::new(hub.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max),
        crate::error::storage_gate(hub.clone()),
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    let grpc_server = tonic::transport::Server::builder()
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
    let backups = tokio::spawn(coso_ward::scheduled_backup::run(hub.clone(), stopped()));

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
            () = watch_storage(&hub, &health) => {}
        }
        stop(&stop_tx);
    };
    let (grpc_result, http_result, web_result, ()) =
        tokio::join!(grpc_task, http_task, web_task, signal);
    // The delivery worker stops at the same signal; a cut-off attempt is
    // retried on the next run. One stuck on a failing disk is dropped.
    // So does the backup schedule; a backup being written finishes on the
    // blocking pool or is cut (its temporary file is removed at the next
    // start), never left under a backup's name.
    for mut task in [upstream, backups] {
        if tokio::time::timeout(crate::http::SHUTDOWN_GRACE, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
    drop(ward);
    let failed = hub.storage_failure();
    // Flush whatever the servers wrote, even if one of them failed; not
    // after a storage failure (nothing more may be written) and not for
    // ever. Then release the store, also bounded.
    let flushed = match failed {
        Some(_) => Ok(()),
        None => match tokio::time::timeout(FINAL_FLUSH_LIMIT, hub.flush()).await {
            Ok(r) => r,
            Err(_) => {
                tracing::error!("the final flush did not finish; exiting without it");
                Ok(())
            }
        },
    };
    release(hub);
    if let Some(f) = failed.or_else(|| flushed.as_ref().err().and_then(|e| e.failure().cloned())) {
        return Err(ServerError::StorageFailed(f));
    }
    grpc_result.map_err(|e| ServerError::Grpc(e.to_string()))?;
    http_result?;
    web_result?;
    flushed?;
    Ok(())
}

/// Resolves when the hub should stop because its store failed and its disk
/// takes writes again: the restart then opens the durable prefix. Until
/// then the failure is reported (`/healthz`, every refused call, the gRPC
/// health service) and the hub keeps answering.
async fn watch_storage(hub: &Arc<HubState>, health: &tonic_health::server::HealthReporter) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let failure = loop {
        tick.tick().await;
        if let Some(f) = hub.storage_failure() {
            break f;
        }
    };
    tracing::error!(reason = %failure.detail, "storage failed; restarting once the disk takes writes again");
    health
        .set_not_serving::<pb::sync_server::SyncServer<SyncService>>()
        .await;
    health
        .set_not_serving::<pb::admin_server::AdminServer<AdminService>>()
        .await;
    let mut tick = tokio::time::interval(PROBE_EVERY);
    loop {
        tick.tick().await;
        // A thread of its own, not the blocking pool: the runtime waits for
        // its blocking tasks at exit, and a probe may hang on a dead disk.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let probe = hub.clone();
        let spawned = std::thread::Builder::new()
            .name("coso-probe".into())
            .spawn(move || {
                let _ = tx.send(probe.storage_writable());
            });
        if spawned.is_ok() && rx.await == Ok(true) {
            tracing::warn!("the disk takes writes again; the hub stops to reopen its store");
            return;
        }
    }
}

/// Drops the hub's state (the store, whose drop releases the database) on
/// a thread of its own and waits for it only so long: sled's own drop
/// flushes, and on a failing disk that may never end.
fn release(hub: Arc<HubState>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("coso-release".into())
        .spawn(move || {
            drop(hub);
            let _ = tx.send(());
        });
    if spawned.is_ok() && rx.recv_timeout(FINAL_FLUSH_LIMIT).is_err() {
        tracing::error!("the store was not released in time; exiting without it");
    }
}
