//! `/v1`: the OpenAI-compatible routes.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::sse::openai_stream;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::openai::chat::ChatRequest;
use crate::openai::embeddings::EmbeddingRequest;
use crate::openai::{ModelList, ModelObject};
use crate::pipeline::{ChatOutput, run_chat, run_embeddings};
use crate::state::AppState;
use crate::telemetry::RequestId;

pub async fn chat_completions(
    State(app): State<AppState>,
    principal: Principal,
    Extension(RequestId(request_id)): Extension<RequestId>,
    ApiJson(request): ApiJson<ChatRequest>,
) -> Result<Response, ApiError> {
    let (mut response, headers) =
        match run_chat(&app, principal, request_id, "/v1/chat/completions", request).await? {
            ChatOutput::Complete { body, headers } => (Json(body).into_response(), headers),
            ChatOutput::Stream { stream, headers } => (openai_stream(stream), headers),
        };
    headers.apply(response.headers_mut());
    Ok(response)
}

pub async fn embeddings(
    State(app): State<AppState>,
    principal: Principal,
    Extension(RequestId(request_id)): Extension<RequestId>,
    ApiJson(request): ApiJson<EmbeddingRequest>,
) -> Result<Response, ApiError> {
    let (body, headers) =
        run_embeddings(&app, principal, request_id, "/v1/embeddings", request).await?;
    let mut response = Json(body).into_response();
    headers.apply(response.headers_mut());
    Ok(response)
}

fn model_object(app: &AppState, name: &str) -> ModelObject {
    ModelObject {
        id: name.to_string(),
        object: "model",
        created: 0,
        owned_by: app
            .config
            .models
            .get(name)
            .map_or_else(String::new, |m| m.provider.clone()),
    }
}

/// The models the caller's tier may use, and nothing else.
pub async fn list_models(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<ModelList>, ApiError> {
    let tier = app.tier_of(&principal.user.tier)?;
    let data = tier
        .models
        .iter()
        .map(|name| model_object(&app, name))
        .collect();
    Ok(Json(ModelList {
        object: "list",
        data,
    }))
}

pub async fn retrieve_model(
    State(app): State<AppState>,
    principal: Principal,
    Path(model): Path<String>,
) -> Result<Json<ModelObject>, ApiError> {
    let tier = app.tier_of(&principal.user.tier)?;
    if !tier.allows(&model) {
        return Err(ApiError::NotFound {
            message: format!("the model '{model}' does not exist"),
            param: Some("model".into()),
            code: "model_not_found",
        });
    }
    Ok(Json(model_object(&app, &model)))
}
