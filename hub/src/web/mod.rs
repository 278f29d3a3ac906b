//! The ward's web dashboard: an HTTPS listener of its own, sessions for the
//! hub's users, the security layers every request passes, and the pages.
//! Pages call the hub's use cases directly (never gRPC to the hub itself).

mod admin;
mod appendix;
mod chrome;
mod error;
mod grid;
mod home;
mod host;
mod kept;
mod kept_edit;
mod listener;
mod login;
mod period;
mod security;
mod session;
pub mod tls;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use coso_ward::state::HubState;

pub use coso_ward::web_settings::WebSettings;
pub use error::WebError;
pub use host::HostNames;

/// How many Argon2 computations run at once: each takes 19 MiB, and the
/// hub's footprint is a budget.
const HASHING_AT_ONCE: usize = 2;

/// What every handler shares.
pub struct WebState {
    pub hub: Arc<HubState>,
    /// The use cases every page calls.
    pub ward: coso_ward::Ward,
    hashing: tokio::sync::Semaphore,
}

impl WebState {
    pub fn new(hub: Arc<HubState>) -> WebState {
        WebState {
            ward: coso_ward::Ward::new(hub.clone()),
            hub,
            hashing: tokio::sync::Semaphore::new(HASHING_AT_ONCE),
        }
    }

    /// Runs an Argon2 computation on the blocking pool, a few at a time.
    pub async fn hashing<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WebError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| WebError::Internal(e.to_string()))
    }
}

pub type Shared = Arc<WebState>;

const STYLE: &str = include_str!("../../static/style.css");

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
}

/// Every route of the dashboard, behind the security layers; it answers
/// only to requests addressed to one of `names`.
pub fn router(hub: Arc<HubState>, names: HostNames) -> Router {
    let gate = hub.clone();
    let state: Shared = Arc::new(WebState::new(hub));
    Router::new()
        .route("/", get(home::home))
        .route("/static/style.css", get(style))
        .merge(login::routes())
        .merge(period::routes())
        .merge(appendix::routes())
        .merge(admin::routes())
        .merge(kept::routes())
        .merge(kept_edit::routes())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            gate,
            error::storage_gate,
        ))
        .layer(axum::middleware::from_fn(security::cross_site_check))
        .layer(axum::middleware::from_fn(security::uri_limit))
        .layer(axum::middleware::from_fn(security::body_limit))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(names),
            host::host_check,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}

/// Serves the dashboard over HTTPS on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    tls: rustls::ServerConfig,
    hub: Arc<HubState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let names = HostNames::new(
        listener.local_addr()?,
        tls::names(&hub.config).map_err(std::io::Error::other)?,
    );
    let listener = listener::TlsListener::new(listener, tls)?;
    axum::serve(
        listener,
        router(hub, names).into_make_service_with_connect_info::<listener::Peer>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
