//! The pipeline's hook points, exercised with a small policy of the kind the safety layer
//! will plug in.

use std::sync::Arc;

use async_trait::async_trait;
use cairn_server::error::ApiError;
use cairn_server::openai::chat::ChatRequest;
use cairn_server::pipeline::{CallContext, Hook, HookDecision};
use serde_json::{Value, json};

use crate::support::{TestServer, expect_error, sse_data};

struct Policy;

#[async_trait]
impl Hook for Policy {
    fn name(&self) -> &'static str {
        "test-policy"
    }

    async fn on_request(
        &self,
        _cx: &CallContext,
        request: &mut ChatRequest,
    ) -> Result<HookDecision, ApiError> {
        let last = request
            .messages
            .last()
            .map(|m| m.text())
            .unwrap_or_default();
        if last.contains("forbidden") {
            return Err(ApiError::InvalidRequest {
                message: "refused by policy".into(),
                param: None,
                code: "content_policy",
            });
        }
        if last == "cached?" {
            return Ok(HookDecision::Respond(json!({
                "id": "chatcmpl-cache", "object": "chat.completion", "created": 1, "model": "gpt",
                "choices": [{ "index": 0, "message": { "role": "assistant", "content": "from cache" }, "finish_reason": "stop" }],
                "usage": { "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0 },
            })));
        }
        Ok(HookDecision::Continue)
    }

    fn on_output(&self, _cx: &CallContext, text: &mut String) -> Result<(), ApiError> {
        *text = text.replace("secret", "[redacted]");
        Ok(())
    }
}

fn ask(text: &str, stream: bool) -> Value {
    json!({ "model": "gpt", "stream": stream, "messages": [{ "role": "user", "content": text }] })
}

#[tokio::test]
async fn hooks_refuse_rewrite_and_answer() {
    let s = TestServer::with_hooks(vec![Arc::new(Policy)]).await;
    let (_, key) = s.user("free").await;

    let refused = s
        .post(
            "/v1/chat/completions",
            &key,
            &ask("something forbidden", false),
        )
        .send()
        .await
        .unwrap();
    expect_error(refused, 400, "content_policy").await;
    let before = s.upstream.received.lock().unwrap().len();

    let (_, body) = s.chat(&key, ask("my secret plan", false)).await;
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "echo: my [redacted] plan"
    );
    let text = s
        .post("/v1/chat/completions", &key, &ask("the secret", true))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("[redacted]") && !text.contains("secret"),
        "{text}"
    );

    let (_, cached) = s.chat(&key, ask("cached?", false)).await;
    assert_eq!(cached["choices"][0]["message"]["content"], "from cache");
    let streamed = s
        .post("/v1/chat/completions", &key, &ask("cached?", true))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = sse_data(&streamed);
    assert!(
        events[0].contains("from cache") && events.last().unwrap() == "[DONE]",
        "{streamed}"
    );
    assert_eq!(
        s.upstream.received.lock().unwrap().len(),
        before + 2,
        "cache hits never reach the upstream"
    );
}
