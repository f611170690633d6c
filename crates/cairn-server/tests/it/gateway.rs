use serde_json::{Value, json};

use crate::support::{TestServer, expect_error, hello, sse_data};

#[tokio::test]
async fn chat_completion_passes_options_and_answers_in_openai_shape() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let tools = json!([{ "type": "function", "function": { "name": "f", "parameters": { "type": "object" } } }]);
    let (status, body) = s
        .chat(
            &key,
            json!({
                "model": "gpt",
                "messages": [
                    { "role": "system", "content": "be brief" },
                    { "role": "user", "content": "hi" },
                    { "role": "assistant", "content": null, "tool_calls": [{ "id": "c1", "type": "function", "function": { "name": "f", "arguments": "{}" } }] },
                    { "role": "tool", "tool_call_id": "c1", "content": "42" },
                    { "role": "user", "content": [{ "type": "text", "text": "and now?" }] }
                ],
                "temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 20, "stop": ["\n\n"], "seed": 7,
                "user": "u-1", "tools": tools, "tool_choice": "auto",
                "response_format": { "type": "json_object" }, "logit_bias": { "50256": -100 }
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt", "the public model name is reported");
    assert_eq!(
        body["system_fingerprint"], "fp_fake",
        "unknown fields pass through"
    );
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        body["usage"]["total_tokens"],
        body["usage"]["prompt_tokens"].as_u64().unwrap()
            + body["usage"]["completion_tokens"].as_u64().unwrap()
    );

    let sent = s.upstream.last_request();
    assert_eq!(
        sent["model"], "up-echo",
        "the upstream gets its own model name"
    );
    for field in [
        "temperature",
        "top_p",
        "max_completion_tokens",
        "stop",
        "seed",
        "user",
        "tools",
        "tool_choice",
        "response_format",
        "logit_bias",
    ] {
        assert!(
            sent.get(field).is_some(),
            "{field} was not passed upstream: {sent}"
        );
    }
    assert_eq!(sent["tools"], tools);
    assert_eq!(sent["messages"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn streaming_sends_chunks_usage_on_request_and_done() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let mut request = hello();
    request["stream"] = json!(true);
    request["stream_options"] = json!({ "include_usage": true });
    let response = s
        .post("/v1/chat/completions", &key, &request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = sse_data(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| {
            c.pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
        })
        .collect();
    assert_eq!(text, "echo: hello there");
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk" && c["model"] == "gpt")
    );
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 3);

    // Without include_usage the client gets no usage chunk, though Cairn asked upstream for one.
    request["stream_options"] = json!({ "include_usage": false });
    let text = s
        .post("/v1/chat/completions", &key, &request)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        s.upstream.last_request()["stream_options"]["include_usage"],
        true
    );
    let events = sse_data(&text);
    assert!(events.iter().all(|e| !e.contains("\"usage\"")), "{text}");
    assert_eq!(events.last().unwrap(), "[DONE]");
}

#[tokio::test]
async fn models_are_listed_and_resolved_per_tier() {
    let s = TestServer::start().await;
    let (_, free) = s.user("free").await;
    let (_, pro) = s.user("pro").await;
    let list: Value = s.get_json("/v1/models", &pro).await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["gpt", "big", "emb"]);
    assert_eq!(list["data"][0]["object"], "model");
    let one: Value = s.get_json("/v1/models/big", &pro).await;
    assert_eq!(one["id"], "big");
    expect_error(
        s.get("/v1/models/big", &free).send().await.unwrap(),
        404,
        "model_not_found",
    )
    .await;

    // Outside the tier: 403. Unknown: 404. Omitted or "auto": the tier's default.
    let mut request = hello();
    request["model"] = json!("big");
    expect_error(
        s.post("/v1/chat/completions", &free, &request)
            .send()
            .await
            .unwrap(),
        403,
        "model_not_allowed",
    )
    .await;
    request["model"] = json!("no-such-model");
    let err = expect_error(
        s.post("/v1/chat/completions", &free, &request)
            .send()
            .await
            .unwrap(),
        404,
        "model_not_found",
    )
    .await;
    assert_eq!(err["error"]["param"], "model");
    request["model"] = json!("auto");
    let (status, body) = s.chat(&pro, request.clone()).await;
    assert_eq!((status, body["model"].as_str()), (200, Some("big")));
    request.as_object_mut().unwrap().remove("model");
    let (status, body) = s.chat(&free, request).await;
    assert_eq!((status, body["model"].as_str()), (200, Some("gpt")));
}

#[tokio::test]
async fn embeddings_are_routed_and_metered() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let response = s
        .post(
            "/v1/embeddings",
            &key,
            &json!({ "model": "emb", "input": ["one two", "three"] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], "emb");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["usage"]["prompt_tokens"], 3);
    assert_eq!(s.upstream.last_request()["model"], "up-emb");
    // A chat model is not an embedding model.
    let response = s
        .post(
            "/v1/embeddings",
            &key,
            &json!({ "model": "gpt", "input": "x" }),
        )
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_value").await;
}

#[tokio::test]
async fn upstream_trouble_maps_to_502_503_504() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let call = |model: &str| {
        let mut r = hello();
        r["model"] = json!(model);
        s.post("/v1/chat/completions", &key, &r).send()
    };
    let err = expect_error(call("broken").await.unwrap(), 502, "upstream_error").await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("model exploded"),
        "{err}"
    );
    expect_error(call("slow").await.unwrap(), 504, "upstream_timeout").await;
    // The local engine's slot answers 503 until a model is loaded there.
    expect_error(call("small").await.unwrap(), 503, "model_unavailable").await;

    // A stream that stalls mid-way ends with an error event the SDKs raise.
    let mut request = hello();
    request["model"] = json!("stall");
    request["stream"] = json!(true);
    let text = s
        .post("/v1/chat/completions", &key, &request)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = sse_data(&text);
    let last: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(last["error"]["code"], "upstream_timeout", "{text}");

    // An upstream nobody listens on.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    let provider = cairn_server::providers::OpenAiProvider::new(
        "dead",
        &cairn_server::config::OpenAiProviderConfig {
            base_url: format!("http://{addr}/v1"),
            api_key: None,
            timeouts: cairn_server::config::UpstreamTimeouts {
                connect: std::time::Duration::from_secs(1),
                first_token: std::time::Duration::from_secs(1),
                between_chunks: std::time::Duration::from_secs(1),
                total: std::time::Duration::from_secs(1),
            },
        },
    )
    .unwrap();
    let Err(err) = provider.chat(hello(), false).await else {
        panic!("a dead upstream answered")
    };
    assert_eq!(
        (err.status().as_u16(), err.code()),
        (502, "upstream_unreachable")
    );
}
