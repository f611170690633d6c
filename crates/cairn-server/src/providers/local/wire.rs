//! Between the OpenAI shapes and the engine's: prompt and sampling in, completions and
//! chunks out.

use cairn_engine::{ChatEngine, PromptMessage, SamplingParams};
use cairn_types::{FinishReason, Usage};
use serde_json::{Value, json};

use super::{constrain, engine_error, tool_calls};
use crate::error::ApiError;
use crate::openai::chat::ChatRequest;
use crate::openai::usage_json;

pub struct Call {
    pub prompt: String,
    pub sampling: SamplingParams,
    /// The request offered tools: the answer may be a tool call.
    pub tools: bool,
    /// The request field the grammar in `sampling` came from, if any.
    pub grammar_param: Option<&'static str>,
    id: String,
    created: i64,
    model: String,
}

impl Call {
    pub fn new(engine: &ChatEngine, target: &str, request: &ChatRequest) -> Result<Call, ApiError> {
        if request.n.is_some_and(|n| n > 1) {
            return Err(ApiError::invalid(
                "the local engine returns one choice: 'n' must be 1",
                Some("n"),
            ));
        }
        let messages: Vec<PromptMessage> = request.messages.iter().map(prompt_message).collect();
        let tools = request
            .tools
            .as_ref()
            .filter(|t| !t.is_empty() && request.tool_choice.as_ref().is_none_or(|c| c != "none"))
            .map(|t| Value::Array(t.clone()));
        let prompt = engine
            .render_prompt(&messages, tools.as_ref())
            .map_err(engine_error)?;
        let mut sampling = sampling(request)?;
        let constraint = constrain::constraint(request)?;
        let grammar_param = constraint.as_ref().map(|c| c.param);
        sampling.grammar = constraint.map(|c| c.grammar);
        Ok(Call {
            prompt,
            sampling,
            tools: tools.is_some(),
            grammar_param,
            id: format!("chatcmpl-{}", crate::util::new_id()),
            created: crate::util::now_ms() / 1000,
            model: target.to_string(),
        })
    }

    /// A whole `chat.completion`, with tool calls lifted out of the text when tools were offered.
    pub fn completion(&self, text: String, finish_reason: FinishReason, usage: Usage) -> Value {
        let (content, calls) = if self.tools {
            tool_calls::extract(&text)
        } else {
            (text, Vec::new())
        };
        let mut message = json!({ "role": "assistant", "content": content });
        let mut finish = finish_reason.as_str();
        if !calls.is_empty() {
            if message["content"] == "" {
                message["content"] = Value::Null;
            }
            message["tool_calls"] = Value::Array(calls);
            finish = FinishReason::ToolCalls.as_str();
        }
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{ "index": 0, "message": message, "logprobs": null, "finish_reason": finish }],
            "usage": usage_json(usage),
        })
    }

    pub fn chunks(&self) -> Chunks {
        Chunks {
            id: self.id.clone(),
            created: self.created,
            model: self.model.clone(),
            started: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

/// Builds `chat.completion.chunk` objects for one streamed answer.
pub struct Chunks {
    id: String,
    created: i64,
    model: String,
    started: std::sync::atomic::AtomicBool,
}

impl Chunks {
    fn chunk(&self, choices: Value) -> Value {
        json!({ "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model, "choices": choices })
    }

    pub fn delta(&self, text: &str) -> Value {
        let first = !self
            .started
            .swap(true, std::sync::atomic::Ordering::Relaxed);
        let delta = if first {
            json!({ "role": "assistant", "content": text })
        } else {
            json!({ "content": text })
        };
        self.chunk(json!([{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": null }]))
    }

    /// The closing chunk and the usage chunk (the pipeline hides the latter unless asked).
    pub fn end(&self, finish_reason: FinishReason, usage: Usage) -> Vec<Value> {
        let mut out = Vec::new();
        if !self.started.load(std::sync::atomic::Ordering::Relaxed) {
            out.push(self.delta(""));
        }
        out.push(self.chunk(json!([{ "index": 0, "delta": {}, "logprobs": null, "finish_reason": finish_reason.as_str() }])));
        let mut last = self.chunk(json!([]));
        last["usage"] = usage_json(usage);
        out.push(last);
        out
    }
}

/// A whole completion as stream chunks, with usage (the pipeline hides it unless asked).
pub fn completion_as_chunks(completion: &Value) -> Vec<Value> {
    crate::openai::chat::completion_to_chunks(completion, true)
}

pub fn prompt_message(m: &crate::openai::chat::ChatMessage) -> PromptMessage {
    // Templates expect tool-call arguments as objects (Hugging Face's convention); OpenAI
    // sends them as JSON text.
    let tool_calls = m.tool_calls.as_ref().map(|calls| {
        Value::Array(
            calls
                .iter()
                .map(|call| {
                    let mut call = call.clone();
                    if let Some(Value::String(args)) = call.pointer("/function/arguments")
                        && let Ok(parsed) = serde_json::from_str::<Value>(args)
                    {
                        call["function"]["arguments"] = parsed;
                    }
                    call
                })
                .collect(),
        )
    });
    let content = match &m.content {
        None | Some(Value::Null) => None,
        Some(_) => Some(m.text()),
    };
    PromptMessage {
        role: m.role.as_str().to_string(),
        content,
        tool_calls,
        tool_call_id: m.tool_call_id.clone(),
        name: m.name.clone(),
    }
}

/// OpenAI's sampling fields, plus the common extensions `top_k`, `min_p` and
/// `repetition_penalty` (as vLLM accepts them).
fn sampling(request: &ChatRequest) -> Result<SamplingParams, ApiError> {
    let extra_f32 = |name: &str| -> Result<Option<f32>, ApiError> {
        match request.extra.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .map(|f| Some(f as f32))
                .ok_or_else(|| ApiError::invalid(format!("'{name}' must be a number"), Some(name))),
        }
    };
    let defaults = SamplingParams::default();
    let top_k = extra_f32("top_k")?;
    if top_k.is_some_and(|k| k < 0.0 || k.fract() != 0.0) {
        return Err(ApiError::invalid(
            "'top_k' must be a whole number ≥ 0",
            Some("top_k"),
        ));
    }
    let min_p = extra_f32("min_p")?.unwrap_or(defaults.min_p);
    if !(0.0..=1.0).contains(&min_p) {
        return Err(ApiError::invalid(
            "'min_p' must be between 0 and 1",
            Some("min_p"),
        ));
    }
    let repetition_penalty =
        extra_f32("repetition_penalty")?.unwrap_or(defaults.repetition_penalty);
    if repetition_penalty <= 0.0 {
        return Err(ApiError::invalid(
            "'repetition_penalty' must be > 0",
            Some("repetition_penalty"),
        ));
    }
    Ok(SamplingParams {
        temperature: request
            .temperature
            .map_or(defaults.temperature, |t| t as f32),
        top_p: request.top_p.map_or(defaults.top_p, |p| p as f32),
        top_k: top_k.map_or(0, |k| k as u32),
        min_p,
        repetition_penalty,
        frequency_penalty: request.frequency_penalty.map_or(0.0, |v| v as f32),
        presence_penalty: request.presence_penalty.map_or(0.0, |v| v as f32),
        seed: request.seed.map(|s| s as u64),
        max_tokens: request.max_output_tokens(),
        stop: request
            .stop
            .as_ref()
            .map(|s| s.to_vec())
            .unwrap_or_default(),
        logit_bias: logit_bias(request.extra.get("logit_bias"))?,
        grammar: None,
    })
}

/// OpenAI's `logit_bias`: token ids (as JSON object keys) to numbers from -100 to 100.
fn logit_bias(value: Option<&Value>) -> Result<Vec<(i32, f32)>, ApiError> {
    let invalid = || {
        ApiError::invalid(
            "'logit_bias' maps token ids to numbers between -100 and 100",
            Some("logit_bias"),
        )
    };
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(token, bias)| {
                let token: i32 = token.parse().map_err(|_| invalid())?;
                let bias = bias
                    .as_f64()
                    .filter(|b| (-100.0..=100.0).contains(b))
                    .ok_or_else(invalid)?;
                Ok((token, bias as f32))
            })
            .collect(),
        Some(_) => Err(invalid()),
    }
}

/// An OpenAI embeddings response from the local embedder.
pub async fn embeddings(
    engine: &cairn_engine::EmbeddingEngine,
    target: &str,
    request: crate::openai::embeddings::EmbeddingRequest,
) -> Result<Value, ApiError> {
    let texts = request.texts().ok_or_else(|| {
        ApiError::invalid(
            "the local embedder takes text input, not token ids",
            Some("input"),
        )
    })?;
    if let Some(dims) = request.dimensions
        && dims as usize != engine.dims()
    {
        return Err(ApiError::invalid(
            format!(
                "'{target}' makes {}-dimensional vectors; 'dimensions' cannot change that",
                engine.dims()
            ),
            Some("dimensions"),
        ));
    }
    let limit = engine.max_tokens_per_text();
    let prompt_tokens: usize = texts
        .iter()
        .map(|t| engine.token_ids(t).len().min(limit))
        .sum();
    let vectors = engine.embed(texts).await.map_err(engine_error)?;
    let base64 = request.encoding_format.as_deref() == Some("base64");
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(index, vector)| {
            let embedding = if base64 {
                // The official SDKs ask for base64 by default: little-endian f32s.
                let bytes: Vec<u8> = vector.iter().flat_map(|v| v.to_le_bytes()).collect();
                Value::String(base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    bytes,
                ))
            } else {
                json!(vector)
            };
            json!({ "object": "embedding", "index": index, "embedding": embedding })
        })
        .collect();
    Ok(json!({
        "object": "list",
        "data": data,
        "model": target,
        "usage": { "prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens },
    }))
}
