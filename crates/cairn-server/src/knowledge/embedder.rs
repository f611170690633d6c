//! The knowledge layer's embedder: the configured embedding model, called in process when it
//! is the local engine's, through its provider's API otherwise.

use std::sync::Arc;

use cairn_index::{HeuristicCounter, TokenCounter};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::providers::Provider;
use crate::state::App;

pub struct KnowledgeEmbedder {
    provider: String,
    target: String,
}

/// Counts tokens with the local embedding model's own tokenizer.
struct EngineCounter(cairn_engine::EmbeddingEngine);

impl TokenCounter for EngineCounter {
    fn count(&self, text: &str) -> usize {
        self.0.token_ids(text).len()
    }
}

impl KnowledgeEmbedder {
    /// The configured embedder; `None` when knowledge is turned off.
    pub fn new(app: &App) -> Option<KnowledgeEmbedder> {
        let name = app.config.knowledge.embedding_model.as_ref()?;
        let model = app
            .config
            .models
            .get(name)
            .expect("validated: knowledge.embedding_model is a defined model");
        Some(KnowledgeEmbedder {
            provider: model.provider.clone(),
            target: model.target.clone(),
        })
    }

    /// The configured embedder, or 503 saying how to turn knowledge on.
    pub fn configured(app: &App) -> Result<KnowledgeEmbedder, ApiError> {
        Self::new(app).ok_or_else(|| ApiError::Unavailable {
            message: "knowledge is turned off: set knowledge.embedding_model".into(),
        })
    }

    fn provider<'a>(&self, app: &'a App) -> Result<&'a Provider, ApiError> {
        app.providers
            .get(&self.provider)
            .ok_or_else(|| ApiError::Internal(format!("provider '{}' is not built", self.provider)))
    }

    /// Why a local embedding model will never load (its load failed), if it will not.
    pub fn load_failure(&self, app: &App) -> Option<String> {
        let Ok(Provider::Local(local)) = self.provider(app) else {
            return None;
        };
        local
            .status()
            .into_iter()
            .find(|(name, state, settled)| *name == self.target && *settled && state != "ready")
            .map(|(_, state, _)| state)
    }

    /// The vectors' dimensions (embeds a probe); `Unavailable` while the model loads.
    pub async fn dims(&self, app: &App) -> Result<usize, ApiError> {
        let vectors = self.embed(app, vec!["dimensions".into()]).await?;
        vectors
            .first()
            .map(Vec::len)
            .filter(|&d| d > 0)
            .ok_or_else(|| ApiError::Internal("the embedding model returned no vector".into()))
    }

    /// How chunks are measured: the model's tokenizer when it runs here, an estimate otherwise.
    pub fn token_counter(&self, app: &App) -> Arc<dyn TokenCounter> {
        if let Ok(Provider::Local(local)) = self.provider(app)
            && let Ok(engine) = local.embedder(&self.target)
        {
            return Arc::new(EngineCounter(engine));
        }
        Arc::new(HeuristicCounter)
    }

    /// One vector per text, in order.
    pub async fn embed(&self, app: &App, texts: Vec<String>) -> Result<Vec<Vec<f32>>, ApiError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let provider = self.provider(app)?;
        if let Provider::Local(local) = provider {
            let engine = local.embedder(&self.target)?;
            return engine
                .embed(texts)
                .await
                .map_err(|e| ApiError::Internal(format!("embedding failed: {e}")));
        }
        let expected = texts.len();
        let response = provider
            .embed(json!({ "model": self.target, "input": texts }))
            .await?;
        let mut data: Vec<(u64, Vec<f32>)> = response
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|item| {
                let index = item.get("index").and_then(Value::as_u64).unwrap_or(0);
                let vector = item
                    .get("embedding")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_f64)
                    .map(|v| v as f32)
                    .collect();
                (index, vector)
            })
            .collect();
        if data.len() != expected {
            return Err(ApiError::BadGateway {
                code: "upstream_invalid_response",
                message: format!(
                    "the embedding provider returned {} vectors for {expected} texts",
                    data.len()
                ),
            });
        }
        data.sort_by_key(|(index, _)| *index);
        Ok(data.into_iter().map(|(_, v)| v).collect())
    }
}
