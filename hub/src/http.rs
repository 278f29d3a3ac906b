//! The hub's plain HTTP listener: the axum router (`GET /healthz`, the
//! receiving endpoint of a city-level hub) served connection by connection
//! with bounded waits, so no client can hold the hub open: request headers
//! must arrive within [`HEADER_TIMEOUT`], a request (body included) must be
//! handled within [`REQUEST_TIMEOUT`], and at shutdown open connections get
//! [`SHUTDOWN_GRACE`] to finish before they are cut.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tokio::net::TcpListener;
use tower::ServiceExt;

use coso_ward::state::HubState;

/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take, reading its body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long open connections may finish after the shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Every HTTP route of the hub.
pub fn router(hub: Arc<HubState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::metrics))
        .merge(crate::receive::routes(&hub))
        .with_state(hub)
}

/// 200 and `"status":"ok"` while the hub serves; 503 with the failure's
/// code and words once its store failed (a monitor must not see "ok" while
/// every push is refused).
async fn healthz(State(hub): State<Arc<HubState>>) -> axum::response::Response {
    match hub.storage_failure() {
        None => Json(json!({
            "status": "ok",
            "ward": hub.config.file.ward,
            "catalog_version": hub.docs.catalog_version(),
            "calendar_version": hub.docs.calendar_version(),
        }))
        .into_response(),
        Some(f) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": f.code(),
                "ward": hub.config.file.ward,
                "reason": f.message(coso_domain::Lang::Vi),
                "reason_en": f.message(coso_domain::Lang::En),
                "detail": f.detail,
                "since": f.since.to_rfc3339(),
            })),
        )
            .into_response(),
    }
}

/// Serves `router` on `listener` until `shutdown` completes; then stops
/// accepting, lets open connections finish for at most [`SHUTDOWN_GRACE`]
/// and cuts the rest.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut conns = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let mut stop = stop_rx.clone();
        conns.spawn(async move {
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let router = router.clone();
                    async move {
                        let req = req.map(axum::body::Body::new);
                        match tokio::time::timeout(REQUEST_TIMEOUT, router.oneshot(req)).await {
                            Ok(r) => r,
                            Err(_) => Ok(StatusCode::REQUEST_TIMEOUT.into_response()),
                        }
                    }
                });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tcp), service);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "HTTP connection ended");
                    }
                }
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    conn.as_mut().graceful_shutdown();
                    if tokio::time::timeout(SHUTDOWN_GRACE, conn.as_mut()).await.is_err() {
                        tracing::info!(%peer, "HTTP connection cut at shutdown");
                    }
                }
            }
        });
        // Reap finished connections so the set stays small.
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Each connection task ends within the grace; this bound is a backstop.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE * 2, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
    Ok(())
}
