//! Liveness, readiness and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use crate::providers::Provider;
use crate::state::AppState;

/// The process is up and serving HTTP.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// The process can do its job: the store answers, every local model has settled (loaded,
/// or failed with the reason shown here), and so has the knowledge index.
pub async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    let store_ok = match app.store.ping().await {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(%err, "readiness check failed");
            false
        }
    };
    let mut models = serde_json::Map::new();
    let mut settled = true;
    for provider in app.providers.values() {
        if let Provider::Local(local) = provider {
            for (name, state, done) in local.status() {
                settled &= done;
                models.insert(name, serde_json::Value::String(state));
            }
        }
    }
    let (knowledge, knowledge_settled) = app.knowledge.status();
    let ready = store_ok && settled && knowledge_settled;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "store": if store_ok { "ok" } else { "unavailable" },
        "local_models": models,
        "knowledge": knowledge,
    });
    (status, Json(body))
}

pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    for provider in app.providers.values() {
        if let Provider::Local(local) = provider {
            local.record_gauges();
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
}
