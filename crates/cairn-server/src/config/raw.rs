//! The raw configuration tree exactly as written: serde types that refuse unknown keys.
//! [`super::Config`] is built from it by validation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub default_tier: String,
    pub server: RawServer,
    pub store: RawStore,
    pub metering: RawMetering,
    pub knowledge: RawKnowledge,
    pub memory: RawMemory,
    pub web: RawWeb,
    pub tools: super::orchestration::RawTools,
    pub agent: super::orchestration::RawAgent,
    #[serde(default)]
    pub providers: BTreeMap<String, RawProvider>,
    #[serde(default)]
    pub models: BTreeMap<String, RawModel>,
    #[serde(default)]
    pub tiers: BTreeMap<String, RawTier>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: String,
    pub max_body_bytes: u64,
    pub max_inflight_requests: u32,
    pub log_format: String,
    pub log_prompts: bool,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub data_dir: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetering {
    pub flush_interval_ms: u64,
    pub batch_max_records: u32,
    pub currency: String,
}

/// `[memory]`: session summaries and long-term memories (see `crate::memory`).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMemory {
    pub enabled: bool,
    /// The embedding model memories are compared with; empty: the caller's tier's first.
    pub embedding_model: String,
    /// The chat model that summarises and extracts; empty: the conversation's model.
    pub model: String,
    pub extract_with_patterns: bool,
    pub extract_with_model: bool,
    pub recall_max: u32,
    pub recall_min_similarity: f32,
    pub duplicate_similarity: f32,
    pub update_similarity: f32,
    pub max_per_user: u32,
    pub summary_max_tokens: u32,
    pub reply_reserve_tokens: u32,
    pub default_context_tokens: u32,
}

/// `[web]`: browser sign-in (see `crate::web`).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeb {
    /// "invite" or "open".
    pub signup: String,
    /// "auto", "always" or "never".
    pub secure_cookies: String,
    pub session_ttl_hours: u32,
    pub invitation_ttl_hours: u32,
    pub login_max_failures: u32,
    pub login_window_secs: u32,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawKnowledge {
    pub embedding_model: String,
    pub max_upload_bytes: u64,
    pub chunk_tokens: u32,
    pub chunk_overlap_tokens: u32,
    pub ingest_workers: u32,
    pub embed_batch: u32,
    pub grounding_sources: u32,
    pub grounding_tokens: u32,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum RawProvider {
    /// Any server that speaks the OpenAI API: OpenAI itself, vLLM, TGI, llama.cpp's server...
    Openai {
        base_url: String,
        /// A reference to the secret (`env:NAME` or `file:PATH`), never the secret itself.
        #[serde(default)]
        api_key: Option<String>,
        #[serde(default = "defaults::connect_timeout_ms")]
        connect_timeout_ms: u64,
        #[serde(default = "defaults::first_token_timeout_ms")]
        first_token_timeout_ms: u64,
        #[serde(default = "defaults::between_chunks_timeout_ms")]
        between_chunks_timeout_ms: u64,
        #[serde(default = "defaults::total_timeout_ms")]
        total_timeout_ms: u64,
    },
    /// The embedded engine running models in this process.
    Local {
        /// CPU threads per model; all cores when unset.
        #[serde(default)]
        threads: Option<u32>,
        /// Sequences each model decodes together (continuous batching width).
        #[serde(default = "defaults::max_sequences")]
        max_sequences: u32,
        /// Context window per sequence, in tokens (capped at the model's own).
        #[serde(default = "defaults::context_tokens")]
        context_tokens: u32,
        /// Requests that may wait for a free sequence; beyond, 429 at once.
        #[serde(default = "defaults::queue_capacity")]
        queue_capacity: usize,
        /// Download missing models at start.
        #[serde(default = "defaults::pull_on_start")]
        pull_on_start: bool,
    },
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub provider: String,
    /// The provider's name for the model (upstream model id, or local catalog name).
    pub target: String,
    #[serde(default = "defaults::model_kind")]
    pub kind: String,
    /// Price in the metering currency per million prompt tokens.
    #[serde(default)]
    pub input_price_per_million: f64,
    #[serde(default)]
    pub output_price_per_million: f64,
    /// The model's context window in tokens, where the provider cannot say (local models
    /// report their own).
    #[serde(default)]
    pub context_tokens: Option<u32>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTier {
    pub models: Vec<String>,
    pub default_model: String,
    pub requests_per_minute: u32,
    pub tokens_per_minute: u32,
    /// Tokens (prompt + completion) a user may spend per calendar month; 0 means no budget.
    #[serde(default)]
    pub monthly_tokens: u64,
}

mod defaults {
    pub fn connect_timeout_ms() -> u64 {
        5_000
    }
    pub fn first_token_timeout_ms() -> u64 {
        60_000
    }
    pub fn between_chunks_timeout_ms() -> u64 {
        30_000
    }
    pub fn total_timeout_ms() -> u64 {
        600_000
    }
    pub fn max_sequences() -> u32 {
        4
    }
    pub fn context_tokens() -> u32 {
        4096
    }
    pub fn queue_capacity() -> usize {
        64
    }
    pub fn pull_on_start() -> bool {
        true
    }
    pub fn model_kind() -> String {
        "chat".into()
    }
}

pub(super) fn validate_server(
    raw: &RawServer,
    problems: &mut Vec<String>,
) -> Option<super::ServerConfig> {
    let listen = match raw.listen.parse() {
        Ok(addr) => Some(addr),
        Err(_) => {
            problems.push(format!(
                "server.listen {:?} is not an address like 127.0.0.1:8080",
                raw.listen
            ));
            None
        }
    };
    let log_format = match raw.log_format.as_str() {
        "text" => Some(super::LogFormat::Text),
        "json" => Some(super::LogFormat::Json),
        other => {
            problems.push(format!(
                "server.log_format {other:?} must be \"text\" or \"json\""
            ));
            None
        }
    };
    if raw.max_inflight_requests == 0 {
        problems.push("server.max_inflight_requests must be at least 1".into());
    }
    Some(super::ServerConfig {
        listen: listen?,
        max_body_bytes: usize::try_from(raw.max_body_bytes).unwrap_or(usize::MAX),
        max_inflight_requests: raw.max_inflight_requests as usize,
        log_format: log_format?,
        log_prompts: raw.log_prompts,
    })
}
