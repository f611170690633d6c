//! `/v1`: the OpenAI-compatible routes.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use cairn_types::Role;
use futures::StreamExt;
use serde_json::{Value, json};

use super::sse::openai_stream;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::knowledge::{ground, readable_collections};
use crate::openai::chat::ChatRequest;
use crate::openai::embeddings::EmbeddingRequest;
use crate::openai::{ModelList, ModelObject};
use crate::pipeline::{ChatOutput, run_chat, run_embeddings};
use crate::state::AppState;
use crate::telemetry::RequestId;

/// Chat completions. Cairn's one extension: `collections` (knowledge collection ids) grounds
/// the answer in their documents, and the response then carries `citations` (on the first
/// chunk when streaming).
pub async fn chat_completions(
    State(app): State<AppState>,
    principal: Principal,
    Extension(RequestId(request_id)): Extension<RequestId>,
    ApiJson(mut request): ApiJson<ChatRequest>,
) -> Result<Response, ApiError> {
    let citations = match take_collections(&mut request)? {
        Some(asked) => {
            request.validate()?;
            let user = &principal.user;
            let collections = readable_collections(&app, user, Some(&asked)).await?;
            let question = request
                .messages
                .iter()
                .rev()
                .find(|m| m.role == Role::User)
                .map(|m| m.text())
                .unwrap_or_default();
            let grounding = ground(&app, user, &question, &collections).await?;
            grounding.apply(&mut request.messages);
            Some(grounding.citations)
        }
        None => None,
    };
    let (mut response, headers) =
        match run_chat(&app, principal, request_id, "/v1/chat/completions", request).await? {
            ChatOutput::Complete { mut body, headers } => {
                if let Some(citations) = citations {
                    body["citations"] = json!(citations);
                }
                (Json(body).into_response(), headers)
            }
            ChatOutput::Stream { stream, headers } => {
                let mut citations = citations;
                let stream = stream.map(move |item| {
                    item.map(|mut chunk| {
                        if let Some(citations) = citations.take() {
                            chunk["citations"] = json!(citations);
                        }
                        chunk
                    })
                });
                (openai_stream(stream), headers)
            }
        };
    headers.apply(response.headers_mut());
    Ok(response)
}

/// Most collections one request may ground in.
const MAX_COLLECTIONS: usize = 20;

/// Removes the `collections` extension from the request (so it is not sent upstream).
fn take_collections(request: &mut ChatRequest) -> Result<Option<Vec<String>>, ApiError> {
    let Some(value) = request.extra.remove("collections") else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::invalid(
            format!("'collections' must be an array of 1 to {MAX_COLLECTIONS} collection ids"),
            Some("collections"),
        )
    };
    let Value::Array(items) = value else {
        return Err(invalid());
    };
    if items.is_empty() || items.len() > MAX_COLLECTIONS {
        return Err(invalid());
    }
    items
        .into_iter()
        .map(|v| match v {
            Value::String(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(invalid()),
        })
        .collect::<Result<_, _>>()
        .map(Some)
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
