//! The OpenAI wire format. Only this crate knows it (see ARCHITECTURE.md).
//!
//! Requests are parsed into typed values and checked at the edge; fields Cairn does not
//! interpret are kept in `extra` and passed through to OpenAI-compatible upstreams.
//! Responses from upstreams are kept as JSON values and edited in place (model name, usage),
//! so that fields Cairn does not know survive the trip unchanged.

pub mod chat;
pub mod embeddings;

use serde::Serialize;

/// `usage` as OpenAI reports it.
pub fn usage_json(usage: cairn_types::Usage) -> serde_json::Value {
    serde_json::json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total(),
    })
}

/// Reads `usage` from a response or chunk, if present and well-formed.
pub fn read_usage(value: &serde_json::Value) -> Option<cairn_types::Usage> {
    let usage = value.get("usage")?;
    Some(cairn_types::Usage {
        prompt_tokens: usage.get("prompt_tokens")?.as_u64()?.try_into().ok()?,
        completion_tokens: usage
            .get("completion_tokens")
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
            .try_into()
            .ok()?,
    })
}

#[derive(Debug, Serialize)]
pub struct ModelObject {
    pub id: String,
    pub object: &'static str,
    pub created: i64,
    pub owned_by: String,
}

#[derive(Debug, Serialize)]
pub struct ModelList {
    pub object: &'static str,
    pub data: Vec<ModelObject>,
}

/// A rough token count for text whose real count is not known yet (admission control, or an
/// upstream that reports no usage): about four characters per token for English.
pub fn estimate_tokens(text_chars: usize) -> u32 {
    u32::try_from(text_chars.div_ceil(4)).unwrap_or(u32::MAX)
}
