//! Hook points on the request path.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use serde_json::Value;

use crate::auth::Principal;
use crate::config::ModelConfig;
use crate::error::ApiError;
use crate::openai::chat::ChatRequest;

/// What a hook knows about the call it sees.
#[derive(Clone)]
pub struct CallContext {
    pub request_id: String,
    pub route: &'static str,
    pub principal: Principal,
    pub model: Arc<ModelConfig>,
    pub started: Instant,
}

pub enum HookDecision {
    Continue,
    /// Answer with this `chat.completion` without calling the provider (a cache hit).
    Respond(Value),
}

/// A filter or observer on every chat call. All methods have do-nothing defaults.
#[async_trait]
pub trait Hook: Send + Sync {
    fn name(&self) -> &'static str;

    /// After validation, routing and limits, before the provider: rewrite the request, refuse
    /// it with an error (an input policy), or answer it directly.
    async fn on_request(
        &self,
        _cx: &CallContext,
        _request: &mut ChatRequest,
    ) -> Result<HookDecision, ApiError> {
        Ok(HookDecision::Continue)
    }

    /// Each piece of output text before the client sees it, streamed or not: rewrite it
    /// (redaction) or stop the answer with an error (an output policy).
    fn on_output(&self, _cx: &CallContext, _text: &mut String) -> Result<(), ApiError> {
        Ok(())
    }

    /// After the call is metered, with the final status and the full output text.
    async fn on_complete(&self, _cx: &CallContext, _status: u16, _output: &str) {}
}
