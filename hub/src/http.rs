//! The hub's plain HTTP listener (axum). Serves `GET /healthz` now; later
//! features add their routes in [`router`].

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::HubState;

/// Every HTTP route of the hub.
pub fn router(hub: Arc<HubState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(crate::upstream::receive::routes(&hub))
        .with_state(hub)
}

async fn healthz(State(hub): State<Arc<HubState>>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "ward": hub.config.file.ward,
        "catalog_version": hub.docs.catalog_version(),
        "calendar_version": hub.docs.calendar_version(),
    }))
}
