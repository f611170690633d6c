//! The embedded engine behind the HTTP API, with the real small model.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use crate::support::{TestServer, expect_error};

const LOCAL: &str = r#"
[providers.local]
kind = "local"
threads = 2
max_sequences = 1
context_tokens = 2048
queue_capacity = 1
pull_on_start = false
"#;

async fn server() -> TestServer {
    let s = TestServer::start_with(|config| {
        config.replace("[providers.local]\nkind = \"local\"\n", LOCAL)
    })
    .await;
    s.app.start_background();
    s.wait_ready(Duration::from_secs(120), |body| {
        body["local_models"]["smollm2-135m"] == "ready"
    })
    .await;
    s
}

fn ask(text: &str, max_tokens: u32, stream: bool) -> Value {
    json!({ "model": "small", "messages": [{ "role": "user", "content": text }], "max_tokens": max_tokens,
            "temperature": 0, "stream": stream })
}

#[tokio::test]
async fn the_local_model_answers_in_openai_shape() {
    let s = server().await;
    let (_, key) = s.user("free").await;
    let (status, body) = s
        .chat(&key, ask("What is the capital of France?", 8, false))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], "small");
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(body["usage"]["completion_tokens"], 8);
    let answer = body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!answer.is_empty());

    // Streamed, the same greedy answer arrives in pieces, with usage when asked.
    let mut request = ask("What is the capital of France?", 8, true);
    request["stream_options"] = json!({ "include_usage": true });
    let text = s
        .post("/v1/chat/completions", &key, &request)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let chunks: Vec<Value> = crate::support::sse_data(&text)
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let streamed: String = chunks
        .iter()
        .filter_map(|c| {
            c.pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
        })
        .collect();
    assert_eq!(streamed, answer);
    assert_eq!(chunks.last().unwrap()["usage"]["completion_tokens"], 8);
}

#[tokio::test]
async fn overflow_queue_and_disconnect_are_handled() {
    let s = server().await;
    let (_, key) = s.user("free").await;
    let long = "word ".repeat(2500);
    let response = s
        .post("/v1/chat/completions", &key, &ask(&long, 4, false))
        .send()
        .await
        .unwrap();
    let err = expect_error(response, 400, "context_length_exceeded").await;
    assert!(
        err["error"]["message"].as_str().unwrap().contains("2048"),
        "{err}"
    );

    // One sequence, one queue place: a stream holds the sequence, a second call waits,
    // a third is refused at once.
    // SmolLM2's end-of-generation tokens are forbidden, so this stream runs until cancelled.
    let mut holding = ask("Count slowly to one thousand.", 1500, true);
    holding["logit_bias"] = json!({ "0": -100, "1": -100, "2": -100 });
    let running = s
        .post("/v1/chat/completions", &key, &holding)
        .send()
        .await
        .unwrap();
    let mut body = running.bytes_stream();
    body.next().await.unwrap().unwrap();
    let waiting = tokio::spawn({
        let request = s.post("/v1/chat/completions", &key, &ask("Say hi.", 3, false));
        async move { request.send().await.unwrap() }
    });
    // Wait until the second call is in the engine's queue (the gauge says so).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let metrics = s
            .client
            .get(format!("{}/metrics", s.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains("cairn_engine_queued_requests{model=\"smollm2-135m\"} 1") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the second call never queued"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = s
        .post("/v1/chat/completions", &key, &ask("Say hi.", 3, false))
        .send()
        .await
        .unwrap();
    expect_error(refused, 429, "server_overloaded").await;

    // The client of the stream goes away: its sequence is freed and the waiting call runs.
    drop(body);
    let done = tokio::time::timeout(Duration::from_secs(120), waiting)
        .await
        .expect("the slot was never freed")
        .unwrap();
    assert_eq!(done.status(), 200);
    let usage: Value = s.get_json("/api/usage?group_by=model", &key).await;
    assert!(
        usage["data"][0]["errors"].as_u64().unwrap() >= 2,
        "the refused and the cancelled calls are metered: {usage}"
    );
}

#[tokio::test]
async fn local_embeddings_answer_in_openai_shape() {
    let s = server().await;
    let (_, key) = s.user("free").await;
    let request = json!({ "model": "minilm", "input": ["The cat sits on the mat.", "A kitten rests on a rug.", "Rates rose."] });
    let response = s
        .post("/v1/embeddings", &key, &request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["model"], "minilm");
    let vectors: Vec<Vec<f64>> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(vectors.len(), 3);
    assert!(vectors.iter().all(|v| v.len() == 384));
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    assert!((dot(&vectors[0], &vectors[0]) - 1.0).abs() < 1e-3);
    assert!(dot(&vectors[0], &vectors[1]) > dot(&vectors[0], &vectors[2]));
    assert!(body["usage"]["prompt_tokens"].as_u64().unwrap() >= 3 * 3);
    // base64, as the official SDKs ask by default: the same little-endian f32s.
    let mut b64 = request.clone();
    b64["encoding_format"] = json!("base64");
    let encoded: Value = s.post_json("/v1/embeddings", &key, &b64).await;
    let text = encoded["data"][0]["embedding"].as_str().unwrap();
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text).unwrap();
    let first: Vec<f64> = bytes
        .chunks_exact(4)
        .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect();
    assert!(
        first
            .iter()
            .zip(&vectors[0])
            .all(|(a, b)| (a - b).abs() < 1e-6)
    );
    let wrong = json!({ "model": "minilm", "input": "x", "dimensions": 128 });
    expect_error(
        s.post("/v1/embeddings", &key, &wrong).send().await.unwrap(),
        400,
        "invalid_value",
    )
    .await;
}
