use serde_json::json;

use crate::support::{TestServer, expect_error, hello};

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_the_server_keeps_serving() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let url = format!("{}/v1/chat/completions", s.url);
    let raw = |body: Vec<u8>| {
        s.client
            .post(&url)
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    expect_error(
        raw(b"{\"model\": \"gpt\", \"messages\": [".to_vec())
            .await
            .unwrap(),
        400,
        "invalid_json",
    )
    .await;
    expect_error(
        raw(b"\xc3\x28 not utf-8".to_vec()).await.unwrap(),
        400,
        "invalid_encoding",
    )
    .await;
    let cases = [
        (json!({ "model": "gpt", "messages": "hi" }), "messages"),
        (json!({ "model": "gpt" }), ""),
        (json!({ "model": "gpt", "messages": [] }), "messages"),
        (
            json!({ "model": "gpt", "messages": [{ "role": "wizard", "content": "x" }] }),
            "messages[0].role",
        ),
        (
            json!({ "model": "gpt", "messages": [{ "role": "user", "content": 5 }] }),
            "messages[0].content",
        ),
        (
            json!({ "model": "gpt", "messages": [{ "role": "user", "content": "x" }], "max_tokens": -5 }),
            "max_tokens",
        ),
        (
            json!({ "model": "gpt", "messages": [{ "role": "user", "content": "x" }], "temperature": "hot" }),
            "temperature",
        ),
        (
            json!({ "model": "gpt", "messages": [{ "role": "user", "content": "x" }], "stream_options": { "include_usage": true } }),
            "stream_options",
        ),
    ];
    for (body, param) in cases {
        let response = s
            .post("/v1/chat/completions", &key, &body)
            .send()
            .await
            .unwrap();
        let err = expect_error(response, 400, "invalid_value").await;
        if !param.is_empty() {
            assert_eq!(err["error"]["param"], param, "{body} -> {err}");
        }
    }

    // 50 MB: refused as too large, without the server reading it all.
    let huge = vec![b' '; 50 << 20];
    match raw(huge).await {
        Ok(response) => {
            expect_error(response, 413, "payload_too_large").await;
        }
        // The server may close the connection before the client finishes sending; what
        // matters is that it refused and stays up.
        Err(err) => assert!(err.is_request() || err.is_body(), "{err}"),
    }

    expect_error(
        s.get("/v1/nope", &key).send().await.unwrap(),
        404,
        "unknown_url",
    )
    .await;
    expect_error(
        s.client
            .delete(&url)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        405,
        "method_not_allowed",
    )
    .await;

    let (status, _) = s.chat(&key, hello()).await;
    assert_eq!(status, 200, "the server still serves");
}

#[tokio::test]
async fn keys_are_checked() {
    let s = TestServer::start().await;
    let url = format!("{}/v1/chat/completions", s.url);
    let no_key = s.client.post(&url).json(&hello()).send().await.unwrap();
    expect_error(no_key, 401, "invalid_api_key").await;
    let wrong = s
        .post("/v1/chat/completions", "sk-cairn-wrong", &hello())
        .send()
        .await
        .unwrap();
    expect_error(wrong, 401, "invalid_api_key").await;

    let (user, _) = s.user("free").await;
    let store = s.app.store.as_ref();
    let (expiring, expiring_secret) = cairn_server::accounts::create_key(
        store,
        &user,
        cairn_server::accounts::NewKey {
            name: None,
            expires_in_days: Some(1),
            requests_per_minute: None,
            tokens_per_minute: None,
        },
    )
    .await
    .unwrap();
    assert!(expiring.expires_at.is_some());
    let (status, _) = s.chat(&expiring_secret, hello()).await;
    assert_eq!(status, 200);
    // A key whose expiry has passed.
    let generated = cairn_server::auth::generate_key();
    let now = cairn_server::util::now_ms();
    store
        .create_api_key(&cairn_store::ApiKey {
            id: cairn_server::util::new_id(),
            user_id: user.id.clone(),
            name: "old".into(),
            prefix: generated.prefix.clone(),
            hash: generated.hash.clone(),
            created_at: now - 10_000,
            expires_at: Some(now - 1),
            revoked_at: None,
            requests_per_minute: None,
            tokens_per_minute: None,
        })
        .await
        .unwrap();
    let expired = s
        .post("/v1/chat/completions", &generated.secret, &hello())
        .send()
        .await
        .unwrap();
    let err = expect_error(expired, 401, "invalid_api_key").await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{err}"
    );

    let (_, secret) = cairn_server::accounts::create_key(
        store,
        &user,
        cairn_server::accounts::NewKey {
            name: None,
            expires_in_days: None,
            requests_per_minute: None,
            tokens_per_minute: None,
        },
    )
    .await
    .unwrap();
    let listed = s
        .get("/api/keys", &secret)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 4);
    assert!(
        !listed.to_string().contains(&secret),
        "secrets are never listed"
    );
    assert!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("hash").is_none()),
        "hashes are never listed"
    );
    let response = s
        .client
        .delete(format!("{}/api/keys/{}", s.url, expiring.id))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let revoked = s
        .post("/v1/chat/completions", &expiring_secret, &hello())
        .send()
        .await
        .unwrap();
    let err = expect_error(revoked, 401, "invalid_api_key").await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{err}"
    );
}
