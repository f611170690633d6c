//! Cairn's own model calls for memory (summaries, extraction, embeddings for comparison and
//! recall). They go through the normal pipeline as the user, so they are routed by the
//! user's tier, count against their limits and budget, and are metered under their own
//! route names.

use serde_json::Map;

use crate::auth::Principal;
use crate::config::ModelKind;
use crate::error::ApiError;
use crate::openai::chat::ChatMessage;
use crate::openai::embeddings::{EmbeddingInput, EmbeddingRequest};
use crate::orchestration::model::{ModelCall, complete_once};
use crate::pipeline::run_embeddings;
use crate::state::AppState;

/// Route names internal calls are metered under.
pub const SUMMARY_ROUTE: &str = "internal/summary";
pub const EXTRACT_ROUTE: &str = "internal/memory";
pub const EMBED_ROUTE: &str = "internal/memory/embed";
pub const RECALL_ROUTE: &str = "internal/recall";

/// Who an internal call is made for, and under which request it was made.
#[derive(Clone)]
pub struct Caller {
    pub principal: Principal,
    pub request_id: String,
}

/// A greedy, non-streamed completion; the answer's text. In the request path (summaries),
/// so a loading or busy model is an error now, not a wait.
pub async fn complete(
    app: &AppState,
    caller: &Caller,
    route: &'static str,
    model: Option<String>,
    messages: Vec<ChatMessage>,
    max_tokens: u32,
) -> Result<String, ApiError> {
    let call = ModelCall {
        model,
        messages,
        max_tokens,
        temperature: 0.0,
        schema: None,
        tools: None,
    };
    Ok(complete_once(app, caller, route, call).await?.text)
}

/// The embedding model memories use for this caller: the configured one, else the first
/// embedding model of their tier; `None` when there is none.
pub fn embedding_model(app: &AppState, principal: &Principal) -> Option<String> {
    if let Some(name) = &app.config.memory.embedding_model {
        return Some(name.clone());
    }
    let tier = app.tier_of(&principal.user.tier).ok()?;
    tier.models
        .iter()
        .find(|m| {
            app.config
                .models
                .get(*m)
                .is_some_and(|m| m.kind == ModelKind::Embedding)
        })
        .cloned()
}

/// Embeds `texts` with `model`; one vector per text, in order.
pub async fn embed(
    app: &AppState,
    caller: &Caller,
    route: &'static str,
    model: &str,
    texts: Vec<String>,
) -> Result<Vec<Vec<f32>>, ApiError> {
    let count = texts.len();
    let request = EmbeddingRequest {
        model: Some(model.to_string()),
        input: EmbeddingInput::Many(texts),
        encoding_format: None,
        dimensions: None,
        user: None,
        extra: Map::new(),
    };
    let (body, _) = run_embeddings(
        app,
        caller.principal.clone(),
        caller.request_id.clone(),
        route,
        request,
    )
    .await?;
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; count];
    for item in body["data"].as_array().into_iter().flatten() {
        let index = item["index"].as_u64().unwrap_or(u64::MAX) as usize;
        let vector: Option<Vec<f32>> = item["embedding"].as_array().map(|v| {
            v.iter()
                .filter_map(|x| x.as_f64().map(|f| f as f32))
                .collect()
        });
        if let (Some(slot), Some(vector)) = (vectors.get_mut(index), vector) {
            *slot = Some(vector);
        }
    }
    vectors
        .into_iter()
        .map(|v| v.ok_or_else(|| ApiError::internal("the embedder left out a vector")))
        .collect()
}
