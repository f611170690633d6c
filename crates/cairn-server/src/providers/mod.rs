//! Model providers: where a routed call is finally served.
//!
//! A closed enum rather than a trait object: the set of provider kinds is ours, each is a
//! module, and a `match` keeps every call site honest when a kind is added.

mod local;
mod openai_compat;

use std::pin::Pin;

use futures::Stream;
use serde_json::Value;

pub use local::{LocalProvider, ModelHealth};
pub use openai_compat::OpenAiProvider;

use crate::config::ProviderConfig;
use crate::error::ApiError;
use crate::openai::chat::ChatMessage;

/// Chat completion chunks (`chat.completion.chunk` objects), as JSON values.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<Value, ApiError>> + Send>>;

pub enum ChatReply {
    /// A whole `chat.completion` object.
    Complete(Value),
    Stream(ChunkStream),
}

#[expect(
    clippy::large_enum_variant,
    reason = "built once per configured provider; boxing would only add an indirection per call"
)]
pub enum Provider {
    OpenAi(OpenAiProvider),
    Local(LocalProvider),
}

impl Provider {
    pub fn from_config(name: &str, config: &ProviderConfig) -> anyhow::Result<Provider> {
        Ok(match config {
            ProviderConfig::OpenAi(c) => Provider::OpenAi(OpenAiProvider::new(name, c)?),
            ProviderConfig::Local(c) => Provider::Local(LocalProvider::new(name, c)),
        })
    }

    /// Sends a chat request. `body` is the OpenAI request with `model` already set to the
    /// provider's own name for the model.
    pub async fn chat(&self, body: Value, stream: bool) -> Result<ChatReply, ApiError> {
        match self {
            Provider::OpenAi(p) => p.chat(body, stream).await,
            Provider::Local(p) => p.chat(body, stream).await,
        }
    }

    /// Sends an embeddings request; answers an OpenAI `list` of embeddings.
    pub async fn embed(&self, body: Value) -> Result<Value, ApiError> {
        match self {
            Provider::OpenAi(p) => p.embed(body).await,
            Provider::Local(p) => p.embed(body).await,
        }
    }

    /// The exact prompt tokens of `messages` as `target` would receive them (chat template
    /// included), when the provider can count them: the local engine, once the model is
    /// loaded. `None` means "estimate".
    pub fn count_prompt_tokens(&self, target: &str, messages: &[ChatMessage]) -> Option<usize> {
        match self {
            Provider::OpenAi(_) => None,
            Provider::Local(p) => p.count_prompt_tokens(target, messages),
        }
    }

    /// The exact tokens of a text for `target`, when the provider can count them.
    pub fn count_tokens(&self, target: &str, text: &str) -> Option<usize> {
        match self {
            Provider::OpenAi(_) => None,
            Provider::Local(p) => p.count_tokens(target, text),
        }
    }

    /// The context window of `target` in tokens, when the provider knows it.
    pub fn context_tokens(&self, target: &str) -> Option<u32> {
        match self {
            Provider::OpenAi(_) => None,
            Provider::Local(p) => Some(p.context_tokens(target)),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Provider::OpenAi(_) => "openai",
            Provider::Local(_) => "local",
        }
    }
}
