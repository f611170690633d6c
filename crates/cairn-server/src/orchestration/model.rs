//! Model calls made by runs (workflow steps, agent turns, the writer's stages). They go
//! through the normal pipeline as the run's owner — routed by their tier, counted against
//! their limits and budget, metered under the run's route name.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::memory::calls::Caller;
use crate::openai::chat::{ChatMessage, ChatRequest};
use crate::pipeline::{ChatOutput, run_chat};
use crate::state::AppState;

/// One call: messages and how to sample.
#[derive(Debug, Clone)]
pub struct ModelCall {
    pub model: Option<String>,
    pub messages: Vec<ChatMessage>,
    pub max_tokens: u32,
    pub temperature: f32,
    /// Constrains the answer to JSON matching this schema (`response_format` json_schema;
    /// the local engine enforces it with a grammar).
    pub schema: Option<Value>,
    /// OpenAI tools offered to the model.
    pub tools: Option<Vec<Value>>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Answer {
    pub text: String,
    /// Tool calls the model asked for (OpenAI shape), when it was offered tools.
    pub tool_calls: Vec<Value>,
    /// Prompt plus completion tokens.
    pub tokens: i64,
    /// What the call cost, in billionths of the currency unit (the model's price table).
    pub cost_nanos: i64,
    pub finish_reason: String,
    pub model: String,
}

/// How long a run waits for a model that is loading or busy before its step fails.
const PATIENCE: Duration = Duration::from_secs(300);

/// Calls the model. A run is background work, so where an interactive request would be
/// answered 503 (the model is still loading, e.g. right after a restart resumed the run) or
/// 429 (the engine's queue is full), it waits and tries again, for up to [`PATIENCE`].
pub async fn complete(
    app: &AppState,
    caller: &Caller,
    route: &'static str,
    call: ModelCall,
) -> Result<Answer, ApiError> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut delay = Duration::from_millis(200);
    loop {
        match complete_once(app, caller, route, call.clone()).await {
            Err(ApiError::Unavailable { .. } | ApiError::Overloaded { .. })
                if tokio::time::Instant::now() + delay < deadline =>
            {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// One attempt of [`complete`].
pub async fn complete_once(
    app: &AppState,
    caller: &Caller,
    route: &'static str,
    call: ModelCall,
) -> Result<Answer, ApiError> {
    let response_format = call.schema.as_ref().map(|schema| {
        json!({
            "type": "json_schema",
            "json_schema": { "name": "answer", "schema": schema, "strict": true }
        })
    });
    let request = ChatRequest {
        model: call.model,
        messages: call.messages,
        temperature: Some(f64::from(call.temperature)),
        top_p: None,
        max_tokens: Some(i64::from(call.max_tokens)),
        max_completion_tokens: None,
        stop: None,
        seed: Some(0),
        user: None,
        n: None,
        presence_penalty: None,
        frequency_penalty: None,
        stream: Some(false),
        stream_options: None,
        tools: call.tools,
        tool_choice: None,
        response_format,
        extra: Map::new(),
    };
    let output = run_chat(
        app,
        caller.principal.clone(),
        caller.request_id.clone(),
        route,
        request,
    )
    .await?;
    let ChatOutput::Complete { body, .. } = output else {
        return Err(ApiError::internal(
            "a non-streamed internal call returned a stream",
        ));
    };
    let message = &body["choices"][0]["message"];
    let usage = &body["usage"];
    let served = body["model"].as_str().unwrap_or_default();
    let prompt_tokens = usage["prompt_tokens"].as_u64().unwrap_or(0) as u32;
    let completion_tokens = usage["completion_tokens"].as_u64().unwrap_or(0) as u32;
    let cost_nanos = app
        .config
        .models
        .get(served)
        .map_or(0, |m| m.price.cost_nanos(prompt_tokens, completion_tokens));
    Ok(Answer {
        text: message["content"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_string(),
        tool_calls: message["tool_calls"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
        tokens: usage["total_tokens"].as_i64().unwrap_or(0),
        cost_nanos,
        finish_reason: body["choices"][0]["finish_reason"]
            .as_str()
            .unwrap_or("stop")
            .to_string(),
        model: served.to_string(),
    })
}

/// Reads a JSON answer. Models without constrained decoding wrap JSON in prose or code
/// fences; the first balanced object or array in the text is taken then.
pub fn parse_json(text: &str) -> Result<Value, String> {
    if let Ok(value) = serde_json::from_str(text.trim()) {
        return Ok(value);
    }
    for (start, open) in text.char_indices().filter(|(_, c)| *c == '{' || *c == '[') {
        let close = if open == '{' { '}' } else { ']' };
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for (offset, c) in text[start..].char_indices() {
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_string = true,
                c if c == open => depth += 1,
                c if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        if let Ok(value) = serde_json::from_str(&text[start..start + offset + 1]) {
                            return Ok(value);
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    let preview: String = text.chars().take(200).collect();
    Err(format!("the model's answer is not JSON: {preview:?}"))
}

/// Splits an answer into list items: one per non-empty line, bullets and numbers removed.
pub fn parse_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let line = line.trim();
            let line = line.trim_start_matches(['-', '*', '•']).trim_start();
            let digits = line.chars().take_while(char::is_ascii_digit).count();
            let rest = &line[digits..];
            if digits > 0 && (rest.starts_with('.') || rest.starts_with(')')) {
                rest[1..].trim().to_string()
            } else {
                line.to_string()
            }
        })
        .filter(|line| !line.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_inside_prose_and_fences() {
        assert_eq!(parse_json(" {\"a\": 1} ").unwrap(), json!({"a": 1}));
        let fenced = "Sure! ```json\n{\"a\": \"}\", \"b\": [1, {\"c\": 2}]}\n``` done";
        assert_eq!(
            parse_json(fenced).unwrap(),
            json!({"a": "}", "b": [1, {"c": 2}]})
        );
        assert!(parse_json("no json here").is_err());
    }

    #[test]
    fn lines_lose_their_markers() {
        let items = parse_lines("1. alpha\n\n- beta\n* gamma\n2) delta\n2024 plans");
        assert_eq!(items, ["alpha", "beta", "gamma", "delta", "2024 plans"]);
    }
}
