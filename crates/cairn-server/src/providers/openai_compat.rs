//! Any upstream that speaks the OpenAI API.
//!
//! Four timeouts guard a call: connecting, the first token (response headers and, when
//! streaming, the first event), the gap between two streamed events, and the whole call.
//! Upstream failures become Cairn errors with the right status: the client's mistakes stay
//! 4xx, the upstream's become 502/503/504.

use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::Value;

use super::{ChatReply, ChunkStream};
use crate::config::{OpenAiProviderConfig, UpstreamTimeouts};
use crate::error::ApiError;

/// Most bytes of an upstream error body worth reading.
const MAX_ERROR_BODY: usize = 64 << 10;

pub struct OpenAiProvider {
    name: String,
    client: reqwest::Client,
    /// Parsed once: building and parsing the URL on every call shows up in profiles.
    chat_url: reqwest::Url,
    embeddings_url: reqwest::Url,
    models_url: reqwest::Url,
    api_key: Option<String>,
    timeouts: UpstreamTimeouts,
}

impl OpenAiProvider {
    pub fn new(name: &str, config: &OpenAiProviderConfig) -> anyhow::Result<OpenAiProvider> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeouts.connect)
            .tcp_nodelay(true)
            .pool_max_idle_per_host(1024)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        Ok(OpenAiProvider {
            name: name.to_string(),
            client,
            chat_url: reqwest::Url::parse(&format!("{}/chat/completions", config.base_url))?,
            embeddings_url: reqwest::Url::parse(&format!("{}/embeddings", config.base_url))?,
            models_url: reqwest::Url::parse(&format!("{}/models", config.base_url))?,
            api_key: config.api_key.clone(),
            timeouts: config.timeouts,
        })
    }

    async fn send(
        &self,
        url: &reqwest::Url,
        body: &Value,
    ) -> Result<(reqwest::Response, Instant), ApiError> {
        let started = Instant::now();
        let mut request = self.client.post(url.clone()).json(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let wait = self.timeouts.first_token.min(self.timeouts.total);
        let response = match tokio::time::timeout(wait, request.send()).await {
            Err(_) => return Err(self.timed_out("the response to start", wait)),
            Ok(Err(err)) => return Err(self.transport_error(&err)),
            Ok(Ok(response)) => response,
        };
        if !response.status().is_success() {
            return Err(self.status_error(response).await);
        }
        Ok((response, started))
    }

    /// Asks the upstream for its model list (`GET /models`) within `wait`: how long it took,
    /// or why it failed.
    pub async fn probe(&self, wait: Duration) -> Result<Duration, String> {
        let started = Instant::now();
        let mut request = self.client.get(self.models_url.clone());
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        match tokio::time::timeout(wait, request.send()).await {
            Err(_) => Err(format!("no answer within {} s", wait.as_secs_f32())),
            Ok(Err(err)) => Err(self.transport_error(&err).to_string()),
            Ok(Ok(response)) if response.status().is_success() => Ok(started.elapsed()),
            Ok(Ok(response)) => Err(format!("HTTP {}", response.status())),
        }
    }

    pub async fn chat(&self, body: Value, stream: bool) -> Result<ChatReply, ApiError> {
        let (response, started) = self.send(&self.chat_url, &body).await?;
        if stream {
            return Ok(ChatReply::Stream(self.events(response, started)));
        }
        self.json_body(response, started)
            .await
            .map(ChatReply::Complete)
    }

    pub async fn embed(&self, body: Value) -> Result<Value, ApiError> {
        let (response, started) = self.send(&self.embeddings_url, &body).await?;
        self.json_body(response, started).await
    }

    async fn json_body(
        &self,
        response: reqwest::Response,
        started: Instant,
    ) -> Result<Value, ApiError> {
        let left = self.timeouts.total.saturating_sub(started.elapsed());
        let bytes = match tokio::time::timeout(left, response.bytes()).await {
            Err(_) => return Err(self.timed_out("the whole response", self.timeouts.total)),
            Ok(Err(err)) => return Err(self.transport_error(&err)),
            Ok(Ok(bytes)) => bytes,
        };
        serde_json::from_slice(&bytes).map_err(|err| ApiError::BadGateway {
            message: format!(
                "upstream '{}' sent a response that is not JSON: {err}",
                self.name
            ),
            code: "upstream_invalid_response",
        })
    }

    /// Turns the SSE body into a stream of chunk objects, enforcing the stream timeouts.
    fn events(&self, response: reqwest::Response, started: Instant) -> ChunkStream {
        struct State {
            events: futures::stream::BoxStream<'static, Result<eventsource_stream::Event, String>>,
            started: Instant,
            seen_event: bool,
            finished: bool,
            timeouts: UpstreamTimeouts,
            name: String,
        }
        let events = response
            .bytes_stream()
            .eventsource()
            .map(|r| r.map_err(|e| e.to_string()))
            .boxed();
        let state = State {
            events,
            started,
            seen_event: false,
            finished: false,
            timeouts: self.timeouts,
            name: self.name.clone(),
        };
        Box::pin(futures::stream::unfold(state, |mut s| async move {
            loop {
                if s.finished {
                    return None;
                }
                let left = s.timeouts.total.saturating_sub(s.started.elapsed());
                let (gap, what) = if s.seen_event {
                    (s.timeouts.between_chunks, "the next streamed chunk")
                } else {
                    (
                        s.timeouts.first_token.saturating_sub(s.started.elapsed()),
                        "the first token",
                    )
                };
                let wait = gap.min(left);
                let next = tokio::time::timeout(wait, s.events.next()).await;
                match next {
                    Err(_) => {
                        let err = ApiError::GatewayTimeout {
                            message: format!(
                                "upstream '{}' sent nothing for {} ms while Cairn waited for {what}",
                                s.name,
                                wait.as_millis()
                            ),
                        };
                        s.finished = true;
                        return Some((Err(err), s));
                    }
                    Ok(None) => return None,
                    Ok(Some(Err(err))) => {
                        let err = ApiError::BadGateway {
                            message: format!("upstream '{}' broke the stream: {err}", s.name),
                            code: "upstream_stream_error",
                        };
                        s.finished = true;
                        return Some((Err(err), s));
                    }
                    Ok(Some(Ok(event))) => {
                        s.seen_event = true;
                        let data = event.data.trim();
                        if data.is_empty() {
                            continue;
                        }
                        if data == "[DONE]" {
                            return None;
                        }
                        let item = match serde_json::from_str::<Value>(data) {
                            Ok(value) if value.get("error").is_some() => {
                                s.finished = true;
                                Err(ApiError::BadGateway {
                                    message: format!(
                                        "upstream '{}' failed mid-stream: {}",
                                        s.name,
                                        error_message(&value)
                                    ),
                                    code: "upstream_error",
                                })
                            }
                            Ok(value) => Ok(value),
                            Err(err) => {
                                s.finished = true;
                                Err(ApiError::BadGateway {
                                    message: format!(
                                        "upstream '{}' sent a chunk that is not JSON: {err}",
                                        s.name
                                    ),
                                    code: "upstream_invalid_response",
                                })
                            }
                        };
                        return Some((item, s));
                    }
                }
            }
        }))
    }

    fn timed_out(&self, what: &str, after: Duration) -> ApiError {
        ApiError::GatewayTimeout {
            message: format!(
                "upstream '{}' did not send {what} within {} ms",
                self.name,
                after.as_millis()
            ),
        }
    }

    fn transport_error(&self, err: &reqwest::Error) -> ApiError {
        if err.is_timeout() {
            return self.timed_out("a response", self.timeouts.connect);
        }
        ApiError::BadGateway {
            message: format!(
                "cannot reach upstream '{}': {}",
                self.name,
                if err.is_connect() {
                    "connection failed"
                } else {
                    "transport error"
                }
            ),
            code: "upstream_unreachable",
        }
    }

    async fn status_error(&self, response: reqwest::Response) -> ApiError {
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(Ok(chunk)) = stream.next().await {
            body.extend_from_slice(&chunk);
            if body.len() >= MAX_ERROR_BODY {
                break;
            }
        }
        let detail = serde_json::from_slice::<Value>(&body)
            .map(|v| error_message(&v))
            .unwrap_or_else(|_| String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned());
        let name = &self.name;
        match status {
            400 | 413 | 422 => ApiError::InvalidRequest {
                message: format!("upstream '{name}' refused the request: {detail}"),
                param: None,
                code: "upstream_invalid_request",
            },
            401 | 403 => ApiError::BadGateway {
                message: format!(
                    "upstream '{name}' refused Cairn's credentials ({status}); check the provider's api_key"
                ),
                code: "upstream_auth_failed",
            },
            429 => ApiError::Overloaded {
                message: format!("upstream '{name}' is rate limiting: {detail}"),
            },
            503 => ApiError::Unavailable {
                message: format!("upstream '{name}' is unavailable: {detail}"),
            },
            504 => ApiError::GatewayTimeout {
                message: format!("upstream '{name}' timed out: {detail}"),
            },
            _ => ApiError::BadGateway {
                message: format!("upstream '{name}' failed with status {status}: {detail}"),
                code: "upstream_error",
            },
        }
    }
}

fn error_message(value: &Value) -> String {
    value
        .pointer("/error/message")
        .and_then(Value::as_str)
        .or_else(|| value.get("error").and_then(Value::as_str))
        .unwrap_or("no details")
        .to_string()
}
