//! A chat completion from validated request to metered answer.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use cairn_types::Usage;
use futures::{Stream, StreamExt};
use serde_json::Value;

use super::admit::{Admitted, Call, admit};
use super::{HookDecision, Settlement};
use crate::auth::Principal;
use crate::config::{ModelKind, TierConfig};
use crate::error::ApiError;
use crate::limits::{RateLimitHeaders, Scope, ScopeLimits};
use crate::openai::chat::ChatRequest;
use crate::openai::{estimate_tokens, read_usage};
use crate::providers::{ChatReply, ChunkStream};
use crate::state::AppState;

pub enum ChatOutput {
    /// A whole `chat.completion` object.
    Complete {
        body: Value,
        headers: RateLimitHeaders,
    },
    /// `chat.completion.chunk` objects; metered when the stream ends or is dropped.
    Stream {
        stream: Box<MeteredStream>,
        headers: RateLimitHeaders,
    },
}

/// The limit scopes a call is checked against: the user under its tier, and the key when it
/// carries limits of its own.
pub fn scopes(principal: &Principal, tier: &TierConfig) -> Vec<Scope> {
    let mut scopes = vec![Scope {
        name: format!("user:{}", principal.user.id),
        limits: ScopeLimits {
            requests_per_minute: tier.requests_per_minute,
            tokens_per_minute: tier.tokens_per_minute,
        },
    }];
    if let Some(key) = &principal.key
        && (key.requests_per_minute.is_some() || key.tokens_per_minute.is_some())
    {
        scopes.push(Scope {
            name: format!("key:{}", key.id),
            limits: ScopeLimits {
                requests_per_minute: key.requests_per_minute.unwrap_or(tier.requests_per_minute),
                tokens_per_minute: key.tokens_per_minute.unwrap_or(tier.tokens_per_minute),
            },
        });
    }
    scopes
}

/// Runs the pipeline for one chat request (see the module docs of [`crate::pipeline`]).
pub async fn run_chat(
    app: &AppState,
    principal: Principal,
    request_id: String,
    route: &'static str,
    mut request: ChatRequest,
) -> Result<ChatOutput, ApiError> {
    request.validate()?;
    let stream = request.wants_stream();
    let include_usage = request.wants_usage_in_stream();
    let Admitted {
        model,
        settlement,
        headers,
    } = admit(
        app,
        Call {
            principal,
            request_id,
            route,
            requested_model: request.model.as_deref(),
            kind: ModelKind::Chat,
            prompt_estimate: estimate_tokens(request.prompt_chars()),
            stream,
        },
    )
    .await?;
    if app.config.server.log_prompts {
        // Off by default: prompts are the users' data. Operators turn this on to debug.
        let messages = serde_json::to_string(&request.messages).unwrap_or_default();
        tracing::info!(model = %model.name, %messages, "prompt");
    }

    for hook in &app.hooks {
        match hook.on_request(settlement.context(), &mut request).await {
            Ok(HookDecision::Continue) => {}
            Ok(HookDecision::Respond(body)) => {
                let body = finish_complete(app, settlement, body)?;
                return Ok(if stream {
                    let chunks = crate::openai::chat::completion_to_chunks(&body, include_usage);
                    let inner: ChunkStream =
                        Box::pin(futures::stream::iter(chunks.into_iter().map(Ok)));
                    ChatOutput::Stream {
                        stream: Box::new(MeteredStream::new(inner, None, include_usage)),
                        headers,
                    }
                } else {
                    ChatOutput::Complete { body, headers }
                });
            }
            Err(err) => {
                settlement.finish(err.status().as_u16(), None, "", None);
                return Err(err);
            }
        }
    }

    let provider = app
        .providers
        .get(&model.provider)
        .ok_or_else(|| ApiError::Internal(format!("provider '{}' is not built", model.provider)))?;
    let body = upstream_body(&request, &model.target, stream)?;
    match provider.chat(body, stream).await {
        Err(err) => {
            settlement.finish(err.status().as_u16(), None, "", None);
            Err(err)
        }
        Ok(ChatReply::Complete(body)) => Ok(ChatOutput::Complete {
            body: finish_complete(app, settlement, body)?,
            headers,
        }),
        Ok(ChatReply::Stream(inner)) => Ok(ChatOutput::Stream {
            stream: Box::new(MeteredStream::new(inner, Some(settlement), include_usage)),
            headers,
        }),
    }
}

/// The request as the provider receives it: its own model name, and usage always requested
/// when streaming so that every call is metered from real counts.
fn upstream_body(request: &ChatRequest, target: &str, stream: bool) -> Result<Value, ApiError> {
    let mut body = serde_json::to_value(request).map_err(ApiError::internal)?;
    body["model"] = Value::String(target.to_string());
    if stream {
        body["stream_options"]["include_usage"] = Value::Bool(true);
    }
    Ok(body)
}

/// Applies output hooks, names the public model, and meters a whole completion.
fn finish_complete(
    app: &AppState,
    settlement: Settlement,
    mut body: Value,
) -> Result<Value, ApiError> {
    let cx = settlement.context().clone();
    let mut output = String::new();
    if let Some(choices) = body.get_mut("choices").and_then(Value::as_array_mut) {
        for choice in choices {
            if let Some(Value::String(content)) = choice.pointer_mut("/message/content") {
                for hook in &app.hooks {
                    if let Err(err) = hook.on_output(&cx, content) {
                        settlement.finish(err.status().as_u16(), read_usage(&body), &output, None);
                        return Err(err);
                    }
                }
                output.push_str(content);
            }
        }
    }
    body["model"] = Value::String(cx.model.name.clone());
    let usage = read_usage(&body);
    let usage = settlement.finish(200, usage, &output, None);
    body["usage"] = crate::openai::usage_json(usage);
    Ok(body)
}

/// Wraps a provider's chunk stream: applies output hooks, names the public model, hides the
/// usage chunk the client did not ask for, notes the time to first token, and meters the
/// call when the stream ends, fails, or is dropped by a client that went away.
pub struct MeteredStream {
    inner: ChunkStream,
    settlement: Option<Settlement>,
    include_usage: bool,
    usage: Option<Usage>,
    output: String,
    ttft: Option<Duration>,
    ended: bool,
}

/// Recorded for a call whose client disconnected before the end (nginx's convention).
const CLIENT_CLOSED: u16 = 499;

impl MeteredStream {
    fn new(
        inner: ChunkStream,
        settlement: Option<Settlement>,
        include_usage: bool,
    ) -> MeteredStream {
        MeteredStream {
            inner,
            settlement,
            include_usage,
            usage: None,
            output: String::new(),
            ttft: None,
            ended: false,
        }
    }

    fn settle(&mut self, status: u16) {
        self.ended = true;
        if let Some(settlement) = self.settlement.take() {
            settlement.finish(status, self.usage, &self.output, self.ttft);
        }
    }

    /// Processes one chunk; `Ok(None)` means "nothing to send for this one".
    fn process(&mut self, mut chunk: Value) -> Result<Option<Value>, ApiError> {
        if let Some(usage) = read_usage(&chunk) {
            self.usage = Some(usage);
        }
        let mut has_choices = false;
        if let Some(settlement) = &self.settlement {
            let cx = settlement.context();
            if let Some(choices) = chunk.get_mut("choices").and_then(Value::as_array_mut) {
                has_choices = !choices.is_empty();
                for choice in choices {
                    let Some(delta) = choice.get_mut("delta") else {
                        continue;
                    };
                    if delta.get("tool_calls").is_some() && self.ttft.is_none() {
                        self.ttft = Some(cx.started.elapsed());
                    }
                    if let Some(Value::String(content)) = delta.get_mut("content") {
                        if content.is_empty() {
                            continue;
                        }
                        self.ttft.get_or_insert_with(|| cx.started.elapsed());
                        for hook in &settlement.app.hooks {
                            hook.on_output(cx, content)?;
                        }
                        self.output.push_str(content);
                    }
                }
            }
            chunk["model"] = Value::String(cx.model.name.clone());
        } else {
            has_choices = chunk
                .get("choices")
                .and_then(Value::as_array)
                .is_some_and(|c| !c.is_empty());
        }
        if !self.include_usage {
            if !has_choices {
                return Ok(None);
            }
            if let Some(object) = chunk.as_object_mut() {
                object.remove("usage");
            }
        }
        Ok(Some(chunk))
    }
}

impl Stream for MeteredStream {
    type Item = Result<Value, ApiError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            match self.inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.settle(200);
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(err))) => {
                    self.settle(err.status().as_u16());
                    return Poll::Ready(Some(Err(err)));
                }
                Poll::Ready(Some(Ok(chunk))) => match self.process(chunk) {
                    Ok(Some(chunk)) => return Poll::Ready(Some(Ok(chunk))),
                    Ok(None) => continue,
                    Err(err) => {
                        self.settle(err.status().as_u16());
                        return Poll::Ready(Some(Err(err)));
                    }
                },
            }
        }
    }
}

impl Drop for MeteredStream {
    fn drop(&mut self) {
        if !self.ended {
            self.settle(CLIENT_CLOSED);
        }
    }
}
