//! The embedded engine's slot.
//!
//! The engine itself lives in the `cairn-engine` crate (llama.cpp on its own thread behind a
//! channel); until a binary is built with it, this provider answers 503 with a message an
//! operator can act on, so configurations that name it load and route normally.

use serde_json::Value;

use super::ChatReply;
use crate::config::LocalProviderConfig;
use crate::error::ApiError;

pub struct LocalProvider {
    _config: LocalProviderConfig,
}

impl LocalProvider {
    pub fn new(config: &LocalProviderConfig) -> LocalProvider {
        LocalProvider {
            _config: config.clone(),
        }
    }

    pub async fn chat(&self, _body: Value, _stream: bool) -> Result<ChatReply, ApiError> {
        Err(unavailable())
    }

    pub async fn embed(&self, _body: Value) -> Result<Value, ApiError> {
        Err(unavailable())
    }
}

fn unavailable() -> ApiError {
    ApiError::Unavailable {
        message: "the local engine is not available in this build; route the model to an OpenAI-compatible provider".into(),
    }
}
