//! `/api/memories`: what Cairn remembers about the caller, which they can read, write, edit
//! and delete, and the switch that turns memory off for them. Every query is scoped to the
//! caller: another user's memory answers 404.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use cairn_store::{Memory, MemoryUpdate};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::memory::calls::{Caller, EMBED_ROUTE};
use crate::memory::longterm::embedding_of;
use crate::state::AppState;
use crate::telemetry::RequestId;
use crate::util::{new_id, now_ms};

const MAX_TEXT_CHARS: usize = 500;

fn check_text(text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid(
            format!("'text' must have 1 to {MAX_TEXT_CHARS} characters"),
            Some("text"),
        ));
    }
    Ok(text.to_string())
}

fn caller(principal: &Principal, request_id: String) -> Caller {
    Caller {
        principal: principal.clone(),
        request_id,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    limit: Option<u32>,
}

pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    let items = app.store.list_memories(&principal.user.id, limit).await?;
    Ok(Json(json!({ "object": "list", "data": items })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteMemory {
    text: String,
}

pub async fn create(
    State(app): State<AppState>,
    principal: Principal,
    Extension(RequestId(request_id)): Extension<RequestId>,
    ApiJson(input): ApiJson<WriteMemory>,
) -> Result<(StatusCode, Json<Memory>), ApiError> {
    let text = check_text(&input.text)?;
    let max = app.config.memory.max_per_user;
    if app.store.count_memories(&principal.user.id).await? >= max {
        return Err(ApiError::InvalidRequest {
            message: format!(
                "you already have {max} memories, the most allowed; delete some first"
            ),
            param: None,
            code: "memory_limit_reached",
        });
    }
    let (embedding, embedding_model) =
        embedding_of(&app, &caller(&principal, request_id), EMBED_ROUTE, &text).await;
    let now = now_ms();
    let memory = Memory {
        id: new_id(),
        user_id: principal.user.id.clone(),
        text,
        embedding,
        embedding_model,
        source_conversation_id: None,
        source_message_id: None,
        created_at: now,
        updated_at: now,
    };
    app.store.insert_memory(&memory).await?;
    Ok((StatusCode::CREATED, Json(memory)))
}

pub async fn read(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Memory>, ApiError> {
    app.store
        .get_memory(&principal.user.id, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("memory"))
}

pub async fn edit(
    State(app): State<AppState>,
    principal: Principal,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<WriteMemory>,
) -> Result<Json<Memory>, ApiError> {
    let text = check_text(&input.text)?;
    // Not the caller's: 404 before any model is asked to embed anything.
    if app
        .store
        .get_memory(&principal.user.id, &id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("memory"));
    }
    let (embedding, embedding_model) =
        embedding_of(&app, &caller(&principal, request_id), EMBED_ROUTE, &text).await;
    let update = MemoryUpdate {
        text,
        embedding,
        embedding_model,
        at_ms: now_ms(),
    };
    app.store
        .update_memory(&principal.user.id, &id, &update)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("memory"))
}

pub async fn delete(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !app.store.delete_memory(&principal.user.id, &id).await? {
        return Err(ApiError::not_found("memory"));
    }
    Ok(Json(json!({ "id": id, "deleted": true })))
}

/// The caller's setting, and whether the server offers memory at all.
async fn settings_json(app: &AppState, user_id: &str) -> Result<Json<Value>, ApiError> {
    let chosen = app.store.memory_enabled(user_id).await?;
    Ok(Json(json!({
        "enabled": chosen.unwrap_or(true),
        "available": app.config.memory.enabled,
    })))
}

pub async fn get_settings(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    settings_json(&app, &principal.user.id).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    enabled: bool,
}

pub async fn put_settings(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<Settings>,
) -> Result<Json<Value>, ApiError> {
    app.store
        .set_memory_enabled(&principal.user.id, input.enabled, now_ms())
        .await?;
    settings_json(&app, &principal.user.id).await
}
