use serde_json::json;

use crate::support::{TestServer, expect_error, hello};

#[tokio::test]
async fn parallel_requests_against_an_rpm_limit_let_exactly_the_limit_through() {
    let s = TestServer::start().await;
    let (_, key) = s.user("tiny").await; // 5 requests per minute
    let calls = (0..20).map(|_| s.post("/v1/chat/completions", &key, &hello()).send());
    let responses = futures::future::join_all(calls).await;
    let mut ok = 0;
    let mut limited = Vec::new();
    for r in responses {
        let r = r.unwrap();
        match r.status().as_u16() {
            200 => {
                ok += 1;
                assert_eq!(r.headers()["x-ratelimit-limit-requests"], "5");
            }
            429 => limited.push(r),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok, 5);
    assert_eq!(limited.len(), 15);
    let r = limited.pop().unwrap();
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "retry-after {retry}");
    assert_eq!(r.headers()["x-ratelimit-remaining-requests"], "0");
    assert!(r.headers().contains_key("x-ratelimit-reset-requests"));
    expect_error(r, 429, "rate_limit_exceeded").await;
}

#[tokio::test]
async fn a_spent_monthly_budget_refuses_further_calls() {
    let s = TestServer::start().await;
    let (_, key) = s.user("budget").await; // 20 tokens a month; one echo call costs 7 + 3
    assert_eq!(s.chat(&key, hello()).await.0, 200);
    assert_eq!(s.chat(&key, hello()).await.0, 200);
    let response = s
        .post("/v1/chat/completions", &key, &hello())
        .send()
        .await
        .unwrap();
    let err = expect_error(response, 429, "insufficient_quota").await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("renews on"),
        "{err}"
    );
    assert_eq!(err["error"]["type"], "insufficient_quota");
}

#[tokio::test]
async fn a_key_can_be_tighter_than_its_tier() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let response = s
        .post(
            "/api/keys",
            &key,
            &json!({ "name": "ci", "requests_per_minute": 2 }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    let tight = created["key"].as_str().unwrap().to_string();
    assert_eq!(s.chat(&tight, hello()).await.0, 200);
    assert_eq!(s.chat(&tight, hello()).await.0, 200);
    assert_eq!(s.chat(&tight, hello()).await.0, 429);
    assert_eq!(
        s.chat(&key, hello()).await.0,
        200,
        "the user's other key is unaffected"
    );
}
