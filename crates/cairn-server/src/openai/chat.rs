//! `POST /v1/chat/completions`: the request, its validation, and response helpers.

use cairn_types::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::ApiError;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ChatRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub messages: Vec<ChatMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    /// Everything else (`logprobs`, `logit_bias`, provider-specific options...): passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Stop {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s.clone()],
            Stop::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ChatMessage {
    pub role: Role,
    /// A string, an array of content parts, or null (an assistant turn with tool calls).
    #[serde(default)]
    pub content: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatMessage {
    /// A message holding just text.
    pub fn plain(role: Role, text: &str) -> ChatMessage {
        ChatMessage {
            role,
            content: Some(Value::String(text.to_string())),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            extra: Map::new(),
        }
    }

    /// The text of the message: the string, or the text parts joined.
    pub fn text(&self) -> String {
        match &self.content {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        }
    }
}

/// Limits that keep one request from hogging the server.
const MAX_MESSAGES: usize = 10_000;
const MAX_STOP_SEQUENCES: usize = 4;

impl ChatRequest {
    /// Checks every value a client can get wrong, naming the parameter in the error.
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.messages.is_empty() {
            return Err(ApiError::invalid(
                "'messages' must contain at least one message",
                Some("messages"),
            ));
        }
        if self.messages.len() > MAX_MESSAGES {
            return Err(ApiError::invalid(
                format!(
                    "'messages' has {} messages; the limit is {MAX_MESSAGES}",
                    self.messages.len()
                ),
                Some("messages"),
            ));
        }
        for (i, m) in self.messages.iter().enumerate() {
            validate_message(i, m)?;
        }
        check_range("temperature", self.temperature, 0.0, 2.0)?;
        check_range("top_p", self.top_p, 0.0, 1.0)?;
        check_range("presence_penalty", self.presence_penalty, -2.0, 2.0)?;
        check_range("frequency_penalty", self.frequency_penalty, -2.0, 2.0)?;
        for (name, value) in [
            ("max_tokens", self.max_tokens),
            ("max_completion_tokens", self.max_completion_tokens),
        ] {
            if let Some(v) = value
                && v < 1
            {
                return Err(ApiError::invalid(
                    format!("'{name}' must be at least 1, got {v}"),
                    Some(name),
                ));
            }
        }
        if let Some(n) = self.n
            && !(1..=16).contains(&n)
        {
            return Err(ApiError::invalid(
                format!("'n' must be between 1 and 16, got {n}"),
                Some("n"),
            ));
        }
        if let Some(stop) = &self.stop {
            let stops = stop.to_vec();
            if stops.len() > MAX_STOP_SEQUENCES || stops.iter().any(String::is_empty) {
                return Err(ApiError::invalid(
                    format!("'stop' takes up to {MAX_STOP_SEQUENCES} non-empty strings"),
                    Some("stop"),
                ));
            }
        }
        if self.stream_options.is_some() && self.stream != Some(true) {
            return Err(ApiError::invalid(
                "'stream_options' is only allowed when 'stream' is true",
                Some("stream_options"),
            ));
        }
        if let Some(model) = &self.model
            && model.trim().is_empty()
        {
            return Err(ApiError::invalid(
                "'model' must not be empty",
                Some("model"),
            ));
        }
        Ok(())
    }

    /// The most tokens the caller allows the answer to use.
    pub fn max_output_tokens(&self) -> Option<u32> {
        self.max_completion_tokens
            .or(self.max_tokens)
            .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
    }

    pub fn wants_stream(&self) -> bool {
        self.stream == Some(true)
    }

    pub fn wants_usage_in_stream(&self) -> bool {
        self.stream_options
            .as_ref()
            .is_some_and(|o| o.include_usage)
    }

    /// Characters of text in the prompt, for admission estimates.
    pub fn prompt_chars(&self) -> usize {
        self.messages.iter().map(|m| m.text().len()).sum::<usize>()
            + self
                .tools
                .as_ref()
                .map_or(0, |t| t.iter().map(|v| v.to_string().len()).sum())
    }
}

fn check_range(name: &str, value: Option<f64>, min: f64, max: f64) -> Result<(), ApiError> {
    match value {
        Some(v) if !(v.is_finite() && (min..=max).contains(&v)) => Err(ApiError::invalid(
            format!("'{name}' must be between {min} and {max}, got {v}"),
            Some(name),
        )),
        _ => Ok(()),
    }
}

fn validate_message(i: usize, m: &ChatMessage) -> Result<(), ApiError> {
    let param = format!("messages[{i}].content");
    match &m.content {
        Some(Value::String(_)) => {}
        Some(Value::Array(parts)) => {
            if parts.is_empty() {
                return Err(ApiError::invalid(
                    format!("'{param}' must not be an empty array"),
                    Some(&param),
                ));
            }
            for (j, part) in parts.iter().enumerate() {
                if part.get("type").and_then(Value::as_str).is_none() {
                    return Err(ApiError::invalid(
                        format!("'{param}[{j}]' must be an object with a 'type'"),
                        Some(&param),
                    ));
                }
            }
        }
        None | Some(Value::Null) => {
            let assistant_calling_tools =
                m.role == Role::Assistant && m.tool_calls.as_ref().is_some_and(|t| !t.is_empty());
            if !assistant_calling_tools {
                return Err(ApiError::invalid(
                    format!("'{param}' is required for a {} message", m.role.as_str()),
                    Some(&param),
                ));
            }
        }
        Some(other) => {
            return Err(ApiError::invalid(
                format!(
                    "'{param}' must be a string or an array of content parts, not {}",
                    json_kind(other)
                ),
                Some(&param),
            ));
        }
    }
    if m.role == Role::Tool && m.tool_call_id.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::invalid(
            format!("'messages[{i}].tool_call_id' is required for a tool message"),
            Some(&format!("messages[{i}].tool_call_id")),
        ));
    }
    Ok(())
}

pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Rebuilds a whole completion as stream chunks (for answers that did not come from a
/// streaming provider, such as a cache hit).
pub fn completion_to_chunks(body: &Value, include_usage: bool) -> Vec<Value> {
    let base = |choices: Value| {
        json!({
            "id": body.get("id").cloned().unwrap_or(Value::Null),
            "object": "chat.completion.chunk",
            "created": body.get("created").cloned().unwrap_or(Value::Null),
            "model": body.get("model").cloned().unwrap_or(Value::Null),
            "choices": choices,
        })
    };
    let mut chunks = Vec::new();
    for choice in body
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let index = choice.get("index").cloned().unwrap_or(json!(0));
        let message = choice.get("message").cloned().unwrap_or(json!({}));
        chunks.push(base(
            json!([{ "index": index, "delta": message, "finish_reason": null }]),
        ));
        chunks.push(base(
            json!([{ "index": index, "delta": {}, "finish_reason": choice.get("finish_reason") }]),
        ));
    }
    if include_usage && let Some(usage) = body.get("usage") {
        let mut last = base(json!([]));
        last["usage"] = usage.clone();
        chunks.push(last);
    }
    chunks
}
