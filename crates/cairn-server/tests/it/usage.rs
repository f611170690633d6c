use serde_json::{Value, json};

use crate::support::{TestServer, expect_error, hello};

#[tokio::test]
async fn usage_is_metered_per_model_key_and_day_with_cost() {
    let s = TestServer::start().await;
    let (user, key) = s.user("free").await;
    for _ in 0..3 {
        assert_eq!(s.chat(&key, hello()).await.0, 200);
    }
    let mut streamed = hello();
    streamed["stream"] = json!(true);
    s.post("/v1/chat/completions", &key, &streamed)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut failing = hello();
    failing["model"] = json!("broken");
    assert_eq!(s.chat(&key, failing).await.0, 502);

    let by_model: Value = s.get_json("/api/usage?group_by=model", &key).await;
    let rows = by_model["data"].as_array().unwrap();
    let gpt = rows.iter().find(|r| r["group"] == "gpt").unwrap();
    assert_eq!(gpt["requests"], 4);
    assert_eq!(gpt["prompt_tokens"], 28);
    assert_eq!(gpt["completion_tokens"], 12);
    // 28 prompt tokens at 2 per million plus 12 at 8 per million.
    assert_eq!(gpt["cost_nanos"], 28 * 2_000 + 12 * 8_000);
    assert_eq!(by_model["currency"], "USD");
    let broken = rows.iter().find(|r| r["group"] == "broken").unwrap();
    assert_eq!(
        (broken["requests"].as_u64(), broken["errors"].as_u64()),
        (Some(1), Some(1))
    );

    let by_day: Value = s.get_json("/api/usage", &key).await;
    assert_eq!(by_day["group_by"], "day");
    assert_eq!(
        by_day["data"][0]["group"],
        cairn_server::util::day_of(cairn_server::util::now_ms())
    );

    // A member sees only their own usage; an admin sees anyone's.
    let (_, other) = s.user("free").await;
    let theirs = s
        .get(&format!("/api/usage?user_id={}", user.id), &other)
        .send()
        .await
        .unwrap();
    expect_error(theirs, 403, "admin_required").await;
    let admin: Value = s
        .get_json(
            &format!("/api/usage?group_by=user&user_id={}", user.id),
            &s.admin_key,
        )
        .await;
    assert_eq!(admin["data"][0]["requests"], 5);
    expect_error(
        s.get("/api/usage?from=yesterday", &key)
            .send()
            .await
            .unwrap(),
        400,
        "invalid_value",
    )
    .await;
}

#[tokio::test]
async fn a_provider_without_usage_is_metered_by_estimate() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let mut request = hello();
    request["model"] = json!("nousage");
    let (status, body) = s.chat(&key, request).await;
    assert_eq!(status, 200);
    assert!(
        body["usage"]["prompt_tokens"].as_u64().unwrap() > 0,
        "{body}"
    );
    assert!(
        body["usage"]["completion_tokens"].as_u64().unwrap() > 0,
        "{body}"
    );
}

#[tokio::test]
async fn health_and_metrics_are_served() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let mut streamed = hello();
    streamed["stream"] = json!(true);
    s.post("/v1/chat/completions", &key, &streamed)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let health = s
        .client
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready: Value = s
        .client
        .get(format!("{}/readyz", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    let metrics = s
        .client
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "cairn_http_requests_total",
        "cairn_http_request_duration_seconds_bucket",
        "cairn_model_requests_total",
        "cairn_model_time_to_first_token_seconds_bucket",
        "cairn_model_tokens_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
    assert!(metrics.contains("route=\"/v1/chat/completions\""));
    assert!(!metrics.contains("sk-cairn-"), "no secrets in metrics");
}
