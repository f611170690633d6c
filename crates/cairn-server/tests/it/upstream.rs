//! A fake OpenAI-compatible upstream on 127.0.0.1:0. It stands in for a paid API; its
//! behaviour is chosen by the model name it is asked for:
//!
//! - `up-echo`: answers "echo: <last user message>" (streamed word by word when asked),
//!   with usage;
//! - `up-nousage`: the same, but reports no usage;
//! - `up-fail`: 500 with an OpenAI error body;
//! - `up-slow`: waits 3 s before answering;
//! - `up-stall`: streams one chunk, then nothing;
//! - `up-tools`: offered tools and no tool result yet, calls the first tool with
//!   `{"expression": <the last user message after "compute ">}`; with a tool result, answers
//!   "the answer is <result>";
//! - `up-writer`: asked for JSON by a schema (`response_format` json_schema), answers with
//!   the smallest value the schema allows (texts made of words); otherwise as `up-echo`;
//! - `GET /models`: the list of the names above (what a health probe asks);
//! - `up-emb` (embeddings): a bag of hashed words, normalised, so texts that share words are
//!   similar and texts that do not are orthogonal.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Clone, Default)]
pub struct Upstream {
    pub addr: Option<SocketAddr>,
    pub received: Arc<Mutex<Vec<Value>>>,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let mut upstream = Upstream::default();
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/embeddings", post(embeddings))
            .route("/v1/models", axum::routing::get(models))
            .with_state(upstream.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        upstream.addr = Some(listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        upstream
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr.unwrap())
    }

    pub fn last_request(&self) -> Value {
        self.received
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("the upstream saw a request")
    }
}

fn last_user_text(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// `up-tools`: one tool call, then an answer quoting the tool's result.
fn tool_turn(body: &Value) -> Value {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let result = messages.iter().rev().find(|m| m["role"] == "tool");
    let message = match (result, body["tools"][0]["function"]["name"].as_str()) {
        (Some(result), _) => {
            json!({"role": "assistant", "content": format!("the answer is {}", result["content"].as_str().unwrap_or_default())})
        }
        (None, Some(tool)) => {
            let text = last_user_text(body);
            let expression = text
                .split("compute ")
                .nth(1)
                .unwrap_or(&text)
                .trim_end_matches('?');
            json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": tool, "arguments": json!({"expression": expression}).to_string()}
            }]})
        }
        (None, None) => json!({"role": "assistant", "content": "no tools"}),
    };
    let finish = if message["tool_calls"].is_null() {
        "stop"
    } else {
        "tool_calls"
    };
    json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": "up-tools",
        "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
        "usage": { "prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25 },
    })
}

/// The smallest value `schema` allows: every required property, the fewest items (at least
/// one), texts of words at least as long as asked.
fn instance(schema: &Value) -> Value {
    match schema["type"].as_str().unwrap_or("object") {
        "object" => {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let fields = schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(name, _)| required.contains(&name.as_str()))
                .map(|(name, property)| (name.clone(), instance(property)))
                .collect();
            Value::Object(fields)
        }
        "array" => {
            let count = schema["minItems"].as_u64().unwrap_or(1).max(1);
            (0..count)
                .map(|i| match instance(&schema["items"]) {
                    Value::String(text) => json!(format!("{text} {}", i + 1)),
                    other => other,
                })
                .collect()
        }
        "string" => {
            let min = schema["minLength"].as_u64().unwrap_or(0) as usize;
            let mut text = String::from("plain words");
            while text.len() < min {
                text.push_str(" and more words");
            }
            json!(text)
        }
        "integer" | "number" => json!(schema["minimum"].as_i64().unwrap_or(1)),
        "boolean" => json!(true),
        _ => Value::Null,
    }
}

fn chunk(model: &str, delta: Value, finish: Value) -> String {
    let value = json!({
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": model,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    format!("data: {value}\n\n")
}

async fn models() -> Json<Value> {
    let names = [
        "up-echo",
        "up-nousage",
        "up-fail",
        "up-slow",
        "up-stall",
        "up-tools",
        "up-writer",
        "up-emb",
    ];
    let data: Vec<Value> = names
        .iter()
        .map(|id| json!({ "id": id, "object": "model", "owned_by": "upstream" }))
        .collect();
    Json(json!({ "object": "list", "data": data }))
}

async fn chat(State(upstream): State<Upstream>, Json(body): Json<Value>) -> Response {
    upstream.received.lock().unwrap().push(body.clone());
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let stream = body["stream"] == true;
    let answer = format!("echo: {}", last_user_text(&body));
    let prompt_tokens = 7;
    let completion_tokens = answer.split(' ').count() as u32;
    match model.as_str() {
        "up-fail" => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": {"message": "model exploded", "type": "server_error"}})),
            )
                .into_response();
        }
        "up-slow" => tokio::time::sleep(Duration::from_secs(3)).await,
        "up-tools" => return Json(tool_turn(&body)).into_response(),
        "up-writer" if !stream && body["response_format"]["type"] == "json_schema" => {
            let value = instance(&body["response_format"]["json_schema"]["schema"]);
            return Json(json!({
                "id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": model,
                "choices": [{ "index": 0, "message": { "role": "assistant", "content": value.to_string() }, "finish_reason": "stop" }],
                "usage": { "prompt_tokens": prompt_tokens, "completion_tokens": 12, "total_tokens": prompt_tokens + 12 },
            }))
            .into_response();
        }
        _ => {}
    }
    if !stream {
        let mut body = json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": answer }, "finish_reason": "stop", "logprobs": null }],
            "usage": { "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens },
        });
        if model == "up-nousage" {
            body.as_object_mut().unwrap().remove("usage");
        }
        return Json(body).into_response();
    }
    let include_usage = body["stream_options"]["include_usage"] == true && model != "up-nousage";
    let stall = model == "up-stall";
    let stream = async_stream(
        model,
        answer,
        include_usage,
        stall,
        prompt_tokens,
        completion_tokens,
    );
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

fn async_stream(
    model: String,
    answer: String,
    include_usage: bool,
    stall: bool,
    prompt_tokens: u32,
    completion_tokens: u32,
) -> impl futures::Stream<Item = Result<String, std::convert::Infallible>> {
    let mut events = vec![chunk(
        &model,
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for (i, word) in answer.split(' ').enumerate() {
        let text = if i == 0 {
            word.to_string()
        } else {
            format!(" {word}")
        };
        events.push(chunk(&model, json!({ "content": text }), Value::Null));
    }
    events.push(chunk(&model, json!({}), json!("stop")));
    if include_usage {
        let usage = json!({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": [],
            "usage": { "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens },
        });
        events.push(format!("data: {usage}\n\n"));
    }
    events.push("data: [DONE]\n\n".into());
    if stall {
        events.truncate(2);
    }
    futures::stream::unfold((events.into_iter(), stall), |(mut it, stall)| async move {
        match it.next() {
            Some(e) => Some((Ok(e), (it, stall))),
            None if stall => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                None
            }
            None => None,
        }
    })
}

async fn embeddings(State(upstream): State<Upstream>, Json(body): Json<Value>) -> Response {
    upstream.received.lock().unwrap().push(body.clone());
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    };
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"object": "embedding", "index": i, "embedding": bag_of_words(s)}))
        .collect();
    let tokens: usize = inputs.iter().map(|s| s.split(' ').count()).sum();
    Json(json!({"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}))
        .into_response()
}

/// 256 dimensions, one per hashed word (function words left out), unit length.
pub fn bag_of_words(text: &str) -> Vec<f32> {
    const SKIP: &[&str] = &[
        "the", "a", "an", "is", "are", "to", "of", "and", "i", "my", "user", "s",
    ];
    let mut v = vec![0.0f32; 256];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && !SKIP.contains(&w.as_str()))
    {
        let hash = word.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        });
        v[(hash % 256) as usize] += 1.0;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}
