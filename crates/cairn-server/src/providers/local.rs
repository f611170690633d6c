//! The embedded engine as a provider: catalog models pulled into the model cache on first
//! start, loaded on their own engine threads, and served through the OpenAI shapes.
//!
//! Models load in the background after the server starts listening, so start-up stays fast;
//! until a model is ready, calls to it answer 503 with what it is doing, and `/readyz`
//! reports not ready.

mod constrain;
mod tool_calls;
mod wire;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use cairn_engine::{
    ChatEngine, ChatEngineConfig, EmbeddingEngine, EmbeddingEngineConfig, EngineError,
    GenerateRequest, GenerationEvent, MatrixFormat,
};
use cairn_models::{LogProgress, Models};
use futures::StreamExt;
use serde_json::Value;

use super::ChatReply;
use crate::config::LocalProviderConfig;
use crate::error::ApiError;
use crate::openai::chat::{ChatMessage, ChatRequest};

#[derive(Clone)]
enum ModelState {
    Pending,
    Pulling,
    Loading,
    Ready(ChatEngine),
    ReadyEmbeddings(EmbeddingEngine),
    /// A kind of model this engine does not serve (a completion-only model).
    Unsupported,
    Failed(String),
}

impl ModelState {
    fn describe(&self) -> String {
        match self {
            ModelState::Pending => "waiting to load".into(),
            ModelState::Pulling => "downloading (see the log for progress)".into(),
            ModelState::Loading => "loading into memory".into(),
            ModelState::Ready(_) | ModelState::ReadyEmbeddings(_) => "ready".into(),
            ModelState::Unsupported => "not served by the local engine".into(),
            ModelState::Failed(reason) => format!("failed: {reason}"),
        }
    }
}

/// One local model as the dashboard shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelHealth {
    pub name: String,
    /// `waiting`, `downloading`, `loading`, `ready`, `unsupported` or `failed`.
    pub state: &'static str,
    /// In words, with the reason of a failure.
    pub detail: String,
    /// Requests waiting for a free sequence (chat models that are ready).
    pub queued: Option<usize>,
}

pub struct LocalProvider {
    name: String,
    config: LocalProviderConfig,
    models: Arc<Mutex<BTreeMap<String, ModelState>>>,
}

impl LocalProvider {
    pub fn new(name: &str, config: &LocalProviderConfig) -> LocalProvider {
        LocalProvider {
            name: name.to_string(),
            config: config.clone(),
            models: Arc::default(),
        }
    }

    /// Pulls what is missing and loads each model, one after another, in the background.
    pub fn start(&self, targets: Vec<String>) {
        {
            let mut models = self.models.lock().unwrap_or_else(|p| p.into_inner());
            for t in &targets {
                models.entry(t.clone()).or_insert(ModelState::Pending);
            }
        }
        let states = self.models.clone();
        let config = self.config.clone();
        let provider = self.name.clone();
        tokio::spawn(async move {
            let set = |target: &str, state: ModelState| {
                states
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(target.to_string(), state);
            };
            let catalog = match Models::from_env() {
                Ok(m) => m,
                Err(err) => {
                    for t in &targets {
                        set(
                            t,
                            ModelState::Failed(format!("the model cache is unusable: {err}")),
                        );
                    }
                    return;
                }
            };
            for target in targets {
                match load(&catalog, &config, &target, &set).await {
                    Ok(state) => set(&target, state),
                    Err(reason) => {
                        tracing::error!(provider = %provider, model = %target, %reason, "cannot load a local model");
                        set(&target, ModelState::Failed(reason));
                    }
                }
            }
        });
    }

    /// Each model and what it is doing, for `/readyz`.
    pub fn status(&self) -> Vec<(String, String, bool)> {
        let models = self.models.lock().unwrap_or_else(|p| p.into_inner());
        models
            .iter()
            .map(|(name, state)| {
                let settled = !matches!(
                    state,
                    ModelState::Pending | ModelState::Pulling | ModelState::Loading
                );
                (name.clone(), state.describe(), settled)
            })
            .collect()
    }

    /// Every local model's state, for the admin dashboard.
    pub fn health(&self) -> Vec<ModelHealth> {
        let models = self.models.lock().unwrap_or_else(|p| p.into_inner());
        models
            .iter()
            .map(|(name, state)| ModelHealth {
                name: name.clone(),
                state: match state {
                    ModelState::Pending => "waiting",
                    ModelState::Pulling => "downloading",
                    ModelState::Loading => "loading",
                    ModelState::Ready(_) | ModelState::ReadyEmbeddings(_) => "ready",
                    ModelState::Unsupported => "unsupported",
                    ModelState::Failed(_) => "failed",
                },
                detail: state.describe(),
                queued: match state {
                    ModelState::Ready(engine) => Some(engine.queued()),
                    _ => None,
                },
            })
            .collect()
    }

    /// Sets the engine gauges (requests waiting per chat model) before a metrics scrape.
    pub fn record_gauges(&self) {
        let models = self.models.lock().unwrap_or_else(|p| p.into_inner());
        for (name, state) in models.iter() {
            if let ModelState::Ready(engine) = state {
                metrics::gauge!("cairn_engine_queued_requests", "model" => name.clone())
                    .set(engine.queued() as f64);
            }
        }
    }

    fn engine(&self, target: &str) -> Result<ChatEngine, ApiError> {
        let models = self.models.lock().unwrap_or_else(|p| p.into_inner());
        match models.get(target) {
            Some(ModelState::Ready(engine)) => Ok(engine.clone()),
            Some(ModelState::ReadyEmbeddings(_) | ModelState::Unsupported) => Err(
                ApiError::invalid(format!("'{target}' is not a chat model"), Some("model")),
            ),
            Some(state) => Err(ApiError::Unavailable {
                message: format!("the local model '{target}' is {}", state.describe()),
            }),
            None => Err(ApiError::Unavailable {
                message: format!("the local model '{target}' is not configured to load"),
            }),
        }
    }

    pub async fn chat(&self, body: Value, stream: bool) -> Result<ChatReply, ApiError> {
        let target = body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let engine = self.engine(&target)?;
        let request: ChatRequest = serde_json::from_value(body).map_err(ApiError::internal)?;
        let call = wire::Call::new(&engine, &target, &request)?;
        let generation = engine
            .generate(GenerateRequest {
                prompt: call.prompt.clone(),
                sampling: call.sampling.clone(),
            })
            .map_err(|err| match err {
                // A converted grammar llama.cpp refuses (a `$ref` cycle, say) is the field's.
                EngineError::Grammar(why) => ApiError::invalid(why, call.grammar_param),
                other => engine_error(other),
            })?;
        // With tools, the answer must be seen whole to tell a tool call from text.
        if !stream || call.tools {
            let mut events = generation.into_receiver();
            let mut text = String::new();
            let mut end = None;
            while let Some(event) = events.recv().await {
                match event {
                    GenerationEvent::Text(t) => text.push_str(&t),
                    GenerationEvent::Done {
                        finish_reason,
                        usage,
                        ..
                    } => end = Some((finish_reason, usage)),
                    GenerationEvent::Failed(err) => return Err(engine_error(err)),
                }
            }
            let (finish_reason, usage) =
                end.ok_or_else(|| ApiError::internal("the engine ended without a result"))?;
            let completion = call.completion(text, finish_reason, usage);
            return Ok(if stream {
                ChatReply::Stream(Box::pin(futures::stream::iter(
                    wire::completion_as_chunks(&completion).into_iter().map(Ok),
                )))
            } else {
                ChatReply::Complete(completion)
            });
        }
        let chunks = call.chunks();
        let events =
            tokio_stream::wrappers::UnboundedReceiverStream::new(generation.into_receiver());
        Ok(ChatReply::Stream(Box::pin(events.flat_map(move |event| {
            futures::stream::iter(match event {
                GenerationEvent::Text(text) => vec![Ok(chunks.delta(&text))],
                GenerationEvent::Done {
                    finish_reason,
                    usage,
                    ..
                } => chunks
                    .end(finish_reason, usage)
                    .into_iter()
                    .map(Ok)
                    .collect(),
                GenerationEvent::Failed(err) => vec![Err(engine_error(err))],
            })
        }))))
    }

    /// Renders `messages` with the model's template and counts the tokens; `None` until the
    /// model is loaded.
    pub fn count_prompt_tokens(&self, target: &str, messages: &[ChatMessage]) -> Option<usize> {
        let engine = self.engine(target).ok()?;
        let prompt: Vec<_> = messages.iter().map(wire::prompt_message).collect();
        let text = engine.render_prompt(&prompt, None).ok()?;
        Some(engine.count_tokens(&text))
    }

    pub fn count_tokens(&self, target: &str, text: &str) -> Option<usize> {
        Some(self.engine(target).ok()?.count_tokens(text))
    }

    /// The context window of one sequence: what the loaded engine uses (the configured size,
    /// capped at what the model was trained on), else the configured size.
    pub fn context_tokens(&self, target: &str) -> u32 {
        match self.engine(target) {
            Ok(engine) => engine.model_info().context_tokens,
            Err(_) => self.config.context_tokens,
        }
    }

    /// The loaded embedding model `target`, or why it cannot serve.
    pub fn embedder(&self, target: &str) -> Result<EmbeddingEngine, ApiError> {
        let models = self.models.lock().unwrap_or_else(|p| p.into_inner());
        match models.get(target) {
            Some(ModelState::ReadyEmbeddings(engine)) => Ok(engine.clone()),
            Some(ModelState::Ready(_) | ModelState::Unsupported) => Err(ApiError::invalid(
                format!("'{target}' is not an embedding model"),
                Some("model"),
            )),
            Some(state) => Err(ApiError::Unavailable {
                message: format!("the local model '{target}' is {}", state.describe()),
            }),
            None => Err(ApiError::Unavailable {
                message: format!("the local model '{target}' is not configured to load"),
            }),
        }
    }

    pub async fn embed(&self, body: Value) -> Result<Value, ApiError> {
        let target = body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let engine = self.embedder(&target)?;
        let request: crate::openai::embeddings::EmbeddingRequest =
            serde_json::from_value(body).map_err(ApiError::internal)?;
        wire::embeddings(&engine, &target, request).await
    }
}

/// Pulls (when missing) and loads one catalog model.
async fn load(
    catalog: &Models,
    config: &LocalProviderConfig,
    target: &str,
    set: &impl Fn(&str, ModelState),
) -> Result<ModelState, String> {
    let entry = catalog
        .catalog()
        .get(target)
        .map_err(|e| e.to_string())?
        .clone();
    if entry.kind == cairn_models::ModelKind::Completion {
        return Ok(ModelState::Unsupported);
    }
    let installed = match catalog.installed(target).map_err(|e| e.to_string())? {
        Some(m) => m,
        None if config.pull_on_start => {
            set(target, ModelState::Pulling);
            tracing::info!(model = target, "pulling a missing local model");
            catalog
                .ensure(target, Arc::new(LogProgress::new()))
                .await
                .map_err(|e| e.to_string())?
        }
        None => return Err(format!("not installed; run `cairn models pull {target}`")),
    };
    set(target, ModelState::Loading);
    if entry.kind == cairn_models::ModelKind::Embedding {
        // The converted file sits beside the model, named after the verified checksum and the
        // conversion's format, so a new model or a new conversion gets a new file.
        let sha = installed.sha256.get(..12).unwrap_or(&installed.sha256);
        let gguf = installed.path.with_file_name(format!(
            "{target}.{sha}.{}.gguf",
            MatrixFormat::default().name()
        ));
        let mut embed_config = EmbeddingEngineConfig::new(installed.path, gguf);
        embed_config.threads = config.threads;
        let engine = tokio::task::spawn_blocking(move || EmbeddingEngine::start(embed_config))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        return Ok(ModelState::ReadyEmbeddings(engine));
    }
    let mut engine_config = ChatEngineConfig::new(installed.path);
    engine_config.threads = config.threads;
    engine_config.max_sequences = config.max_sequences;
    engine_config.context_tokens = config.context_tokens;
    engine_config.queue_capacity = config.queue_capacity;
    let engine = tokio::task::spawn_blocking(move || ChatEngine::start(engine_config))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    Ok(ModelState::Ready(engine))
}

pub(super) fn engine_error(err: EngineError) -> ApiError {
    match err {
        EngineError::ContextOverflow { .. } => ApiError::InvalidRequest {
            message: err.to_string(),
            param: Some("messages".into()),
            code: "context_length_exceeded",
        },
        EngineError::QueueFull { .. } => ApiError::Overloaded {
            message: err.to_string(),
        },
        EngineError::InvalidRequest(_) | EngineError::Template(_) | EngineError::Grammar(_) => {
            ApiError::invalid(err.to_string(), None)
        }
        EngineError::Stopped => ApiError::Unavailable {
            message: err.to_string(),
        },
        EngineError::Load { .. } | EngineError::Inference(_) => ApiError::Internal(err.to_string()),
    }
}
