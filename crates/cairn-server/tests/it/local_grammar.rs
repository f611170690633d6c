//! Constrained output through `/v1/chat/completions` with the real local models:
//! `response_format` and a forced `tool_choice` become grammars the model cannot leave.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestServer, expect_error, sse_data};

const LOCAL: &str = r#"
[providers.local]
kind = "local"
threads = 2
max_sequences = 1
context_tokens = 2048
queue_capacity = 4
pull_on_start = false
"#;

/// The small model as `small`, Qwen2.5-Coder-0.5B (which knows the `<tool_call>` format) as
/// `medium`.
async fn server() -> TestServer {
    let s = TestServer::start_with(|config| {
        let config = config
            .replace("[providers.local]\nkind = \"local\"\n", LOCAL)
            .replace(
                "\"small\", \"minilm\"]",
                "\"small\", \"minilm\", \"medium\"]",
            );
        format!(
            "{config}\n[models.medium]\nprovider = \"local\"\ntarget = \"qwen2.5-coder-0.5b\"\n"
        )
    })
    .await;
    s.app.start_background();
    s.wait_ready(Duration::from_secs(300), |body| {
        ["smollm2-135m", "qwen2.5-coder-0.5b"]
            .iter()
            .all(|m| body["local_models"][m] == "ready")
    })
    .await;
    s
}

fn order_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "item": { "type": "string", "minLength": 1, "maxLength": 30 },
            "size": { "type": "string", "enum": ["small", "medium", "large"] },
            "quantity": { "type": "integer" },
            "gift": { "type": "boolean" }
        },
        "required": ["item", "size", "quantity"],
        "additionalProperties": false
    })
}

/// What the order schema requires, checked by hand.
fn assert_order(content: &str) {
    let order: Value = serde_json::from_str(content).unwrap_or_else(|e| panic!("{e}: {content:?}"));
    let order = order.as_object().unwrap_or_else(|| panic!("{content}"));
    let item = order["item"].as_str().unwrap();
    assert!((1..=30).contains(&item.chars().count()), "{content}");
    assert!(
        ["small", "medium", "large"].contains(&order["size"].as_str().unwrap()),
        "{content}"
    );
    assert!(order["quantity"].is_i64(), "{content}");
    assert!(order.get("gift").is_none_or(Value::is_boolean), "{content}");
    assert!(
        order
            .keys()
            .all(|k| ["item", "size", "quantity", "gift"].contains(&k.as_str())),
        "{content}"
    );
}

fn order_request(seed: u64, stream: bool) -> Value {
    json!({
        "model": "small",
        "messages": [{ "role": "user", "content": "Order a coffee for me, in JSON." }],
        "temperature": 0.8,
        "seed": seed,
        "max_tokens": 200,
        "stream": stream,
        "response_format": { "type": "json_schema",
            "json_schema": { "name": "order", "strict": true, "schema": order_schema() } }
    })
}

#[tokio::test]
async fn response_format_and_a_forced_tool_call_shape_local_answers() {
    let s = server().await;
    let (_, key) = s.user("free").await;

    // A JSON schema: whatever the seed, the content parses and matches.
    for seed in 1..=4 {
        let (status, body) = s.chat(&key, order_request(seed, false)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["choices"][0]["finish_reason"], "stop", "{body}");
        assert_order(body["choices"][0]["message"]["content"].as_str().unwrap());
    }
    // Streamed, the pieces join into a valid answer too.
    let text = s
        .post("/v1/chat/completions", &key, &order_request(9, true))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let streamed: String = sse_data(&text)
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str::<Value>(d).unwrap())
        .filter_map(|c| {
            c.pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    assert_order(&streamed);

    // `json_object`: some JSON object.
    let mut any = order_request(3, false);
    any["response_format"] = json!({ "type": "json_object" });
    any["temperature"] = json!(0);
    let (status, body) = s.chat(&key, any).await;
    assert_eq!(status, 200, "{body}");
    if body["choices"][0]["finish_reason"] == "stop" {
        let content = body["choices"][0]["message"]["content"].as_str().unwrap();
        assert!(
            serde_json::from_str::<Value>(content).unwrap().is_object(),
            "{content}"
        );
    }

    // A schema the grammar cannot express, or no schema name: 400, naming the parameter.
    for format in [
        json!({ "type": "json_schema", "json_schema": { "name": "n", "schema": { "type": "integer", "minimum": 1 } } }),
        json!({ "type": "json_schema", "json_schema": { "schema": { "type": "integer" } } }),
        json!({ "type": "xml" }),
    ] {
        let mut bad = order_request(1, false);
        bad["response_format"] = format;
        let response = s
            .post("/v1/chat/completions", &key, &bad)
            .send()
            .await
            .unwrap();
        let err = expect_error(response, 400, "invalid_value").await;
        assert_eq!(err["error"]["param"], "response_format", "{err}");
    }

    // A named function: a proper tool call whose arguments match the parameters.
    let parameters = json!({
        "type": "object",
        "properties": {
            "city": { "type": "string", "maxLength": 40 },
            "unit": { "type": "string", "enum": ["celsius", "fahrenheit"] },
            "days": { "type": "integer" }
        },
        "required": ["city", "unit"],
        "additionalProperties": false
    });
    let tools = json!([
        { "type": "function", "function": { "name": "get_weather",
            "description": "The weather forecast for a city.", "parameters": parameters } },
        { "type": "function", "function": { "name": "get_time",
            "description": "The time now in a city.",
            "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } } }
    ]);
    for (model, seed) in [("medium", 1), ("medium", 2), ("small", 3)] {
        let request = json!({
            "model": model,
            "messages": [{ "role": "user", "content": "Is it going to rain in Bergen tomorrow?" }],
            "tools": tools,
            "tool_choice": { "type": "function", "function": { "name": "get_weather" } },
            "temperature": 0.8,
            "seed": seed,
            "max_tokens": 200
        });
        let (status, body) = s.chat(&key, request).await;
        assert_eq!(status, 200, "{body}");
        let choice = &body["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls", "{model}: {body}");
        assert!(choice["message"]["content"].is_null(), "{body}");
        let calls = choice["message"]["tool_calls"].as_array().unwrap();
        assert_eq!(calls.len(), 1, "{body}");
        assert_eq!(calls[0]["type"], "function");
        assert_eq!(calls[0]["function"]["name"], "get_weather");
        let arguments: Value =
            serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
        assert!(
            arguments["city"]
                .as_str()
                .is_some_and(|c| c.chars().count() <= 40),
            "{arguments}"
        );
        assert!(["celsius", "fahrenheit"].contains(&arguments["unit"].as_str().unwrap()));
        assert!(
            arguments.get("days").is_none_or(Value::is_i64),
            "{arguments}"
        );
    }

    // `required` picks one of the functions; a name that is not offered is refused.
    let required = json!({
        "model": "medium",
        "messages": [{ "role": "user", "content": "What time is it in Lima?" }],
        "tools": tools, "tool_choice": "required", "temperature": 0, "max_tokens": 200
    });
    let (status, body) = s.chat(&key, required).await;
    assert_eq!(status, 200, "{body}");
    let call = &body["choices"][0]["message"]["tool_calls"][0]["function"];
    assert!(
        ["get_weather", "get_time"].contains(&call["name"].as_str().unwrap()),
        "{body}"
    );
    let arguments: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert!(arguments["city"].is_string(), "{body}");
    let unknown = json!({
        "model": "medium",
        "messages": [{ "role": "user", "content": "Hi" }],
        "tools": tools, "tool_choice": { "type": "function", "function": { "name": "fly" } }
    });
    let response = s
        .post("/v1/chat/completions", &key, &unknown)
        .send()
        .await
        .unwrap();
    let err = expect_error(response, 400, "invalid_value").await;
    assert_eq!(err["error"]["param"], "tool_choice", "{err}");
}
