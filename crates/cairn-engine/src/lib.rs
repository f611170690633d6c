//! Cairn's embedded inference engine.
//!
//! [`ChatEngine`] runs a GGUF chat model with llama.cpp on a thread of its own. Requests
//! reach it over a channel; it serves them by continuous batching: every step decodes one
//! token for each running sequence plus a slice of any prompt still being read, all in one
//! `llama_decode` call, and sequences join or leave between steps. Memory is bounded: the
//! KV cache holds `context_tokens` per sequence for `max_sequences` sequences, and requests
//! beyond those wait in a bounded queue (a full queue is refused at once).
//!
//! Nothing here knows HTTP or the OpenAI wire format; the server maps requests onto
//! [`GenerateRequest`] and [`GenerationEvent`]s back onto its own types.

mod backend;
mod chat;
mod embed;
mod error;
mod grammar;
mod sampling;
mod scheduler;
mod stop;
mod template;

pub use chat::{
    ChatEngine, ChatEngineConfig, GenerateRequest, Generation, GenerationEvent, ModelInfo,
};
pub use embed::{EmbeddingEngine, EmbeddingEngineConfig, MatrixFormat};
pub use error::EngineError;
pub use grammar::{Grammar, Wrapped};
pub use sampling::SamplingParams;
pub use template::PromptMessage;
