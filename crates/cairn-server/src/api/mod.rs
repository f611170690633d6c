//! The HTTP API: every route in one place, handlers kept thin.

mod account;
mod admin;
mod articles;
mod collections;
mod conversations;
mod dashboard;
mod documents;
mod feedback;
mod health;
mod invitations;
mod keys;
mod memories;
mod page;
mod runs;
mod search;
mod sse;
mod templates;
mod usage;
mod v1;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};

use crate::error::ApiError;
use crate::state::AppState;

/// The whole application, without a socket (tests call it directly).
pub fn router(state: AppState) -> Router {
    // Uploads stream to disk; the body may hold one largest file plus the form around it.
    let upload_limit = DefaultBodyLimit::max(state.config.knowledge.max_upload_bytes + 1024 * 1024);
    Router::new()
        // OpenAI-compatible API
        .route("/v1/chat/completions", post(v1::chat_completions))
        .route("/v1/embeddings", post(v1::embeddings))
        .route("/v1/models", get(v1::list_models))
        .route("/v1/models/{model}", get(v1::retrieve_model))
        // Platform API: the caller's own things
        .route("/api/me", get(keys::me))
        .route("/api/keys", get(keys::list).post(keys::create))
        .route("/api/keys/{id}", delete(keys::revoke))
        .route("/api/usage", get(usage::summary))
        // Browser sign-in (see crate::web)
        .route("/api/auth/options", get(account::options))
        .route("/api/auth/signup", post(account::sign_up))
        .route("/api/auth/signin", post(account::sign_in))
        .route("/api/auth/signout", post(account::sign_out))
        .route("/api/auth/password", post(account::change_password))
        .route("/api/session", get(account::current))
        .route(
            "/api/conversations",
            get(conversations::list).post(conversations::create),
        )
        .route(
            "/api/conversations/{id}",
            get(conversations::read)
                .patch(conversations::rename)
                .delete(conversations::delete),
        )
        .route(
            "/api/conversations/{id}/messages",
            post(conversations::post_message),
        )
        .route(
            "/api/conversations/{id}/messages/{message_id}/feedback",
            put(feedback::put).delete(feedback::delete),
        )
        // Platform API: knowledge
        .route(
            "/api/collections",
            get(collections::list).post(collections::create),
        )
        .route(
            "/api/collections/{id}",
            get(collections::read)
                .patch(collections::update)
                .delete(collections::delete),
        )
        .route(
            "/api/collections/{id}/documents",
            post(documents::upload_into).layer(upload_limit),
        )
        .route(
            "/api/documents",
            get(documents::list)
                .post(documents::upload)
                .layer(upload_limit),
        )
        .route(
            "/api/documents/{id}",
            get(documents::read).delete(documents::delete),
        )
        .route("/api/search", post(search::search))
        .route("/api/memories", get(memories::list).post(memories::create))
        .route(
            "/api/memories/settings",
            get(memories::get_settings).put(memories::put_settings),
        )
        .route(
            "/api/memories/{id}",
            get(memories::read)
                .patch(memories::edit)
                .delete(memories::delete),
        )
        // Platform API: orchestration
        .route("/api/tools", get(runs::list_tools))
        .route("/api/templates", get(templates::list).post(templates::save))
        .route("/api/templates/render", post(templates::render))
        .route(
            "/api/templates/{*name}",
            get(templates::read).delete(templates::delete),
        )
        .route("/api/agent/runs", post(runs::start_agent))
        .route("/api/workflows/runs", post(runs::start_workflow))
        .route("/api/workflows/validate", post(runs::validate_workflow))
        .route("/api/runs", get(runs::list))
        .route("/api/runs/{id}", get(runs::read).delete(runs::delete))
        .route("/api/runs/{id}/cancel", post(runs::cancel))
        .route("/api/runs/{id}/approve", post(runs::approve))
        .route("/api/runs/{id}/rerun", post(runs::rerun))
        .route("/api/articles", get(articles::list).post(articles::create))
        .route("/api/articles/modes", get(articles::modes))
        .route(
            "/api/articles/{id}",
            get(articles::read).patch(articles::edit),
        )
        .route(
            "/api/articles/{id}/continue",
            post(articles::continue_writing),
        )
        .route(
            "/api/articles/{id}/stages/{stage}/rerun",
            post(articles::rerun_stage),
        )
        .route("/api/articles/{id}/export", get(articles::export))
        // Platform API: administration
        .route(
            "/api/admin/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route(
            "/api/admin/users/{id}",
            axum::routing::patch(admin::update_user),
        )
        .route(
            "/api/admin/orgs",
            get(admin::list_orgs).post(admin::create_org),
        )
        .route(
            "/api/admin/keys",
            get(admin::list_keys).post(admin::create_key),
        )
        .route("/api/admin/keys/{id}", delete(admin::revoke_key))
        .route("/api/admin/dashboard", get(dashboard::series))
        .route("/api/admin/requests", get(dashboard::requests))
        .route("/api/admin/providers", get(dashboard::providers))
        .route("/api/admin/tiers", get(dashboard::tiers))
        .route(
            "/api/admin/invitations",
            get(invitations::list).post(invitations::create),
        )
        .route("/api/admin/invitations/{id}", delete(invitations::revoke))
        .route("/api/admin/feedback", get(feedback::admin_list))
        // Operations
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::telemetry::observe,
        ))
        .with_state(state)
}

/// The web app's files and pages, else a 404 in the error envelope.
async fn not_found(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(page) = crate::web::assets::serve(&method, &uri, &headers) {
        return page;
    }
    ApiError::NotFound {
        message: format!("no route for {}", uri.path()),
        param: None,
        code: "unknown_url",
    }
    .into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        message: format!("{method} is not allowed on {}", uri.path()),
    }
}
