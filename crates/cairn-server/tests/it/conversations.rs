use serde_json::{Value, json};

use crate::support::{TestServer, expect_error, sse_events};

#[tokio::test]
async fn a_conversation_streams_and_stores_both_turns() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let created = s
        .post(
            "/api/conversations",
            &key,
            &json!({ "title": "Trip", "system_prompt": "You plan trips." }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let conversation: Value = created.json().await.unwrap();
    let id = conversation["id"].as_str().unwrap();

    let response = s
        .post(
            &format!("/api/conversations/{id}/messages"),
            &key,
            &json!({ "content": "Lisbon in May?" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let events = sse_events(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message"));
    assert_eq!(names.last(), Some(&"done"));
    let text: String = events
        .iter()
        .filter(|(n, _)| n == "delta")
        .map(|(_, d)| d["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, "echo: Lisbon in May?");
    let done = &events.last().unwrap().1;
    assert_eq!(done["message"]["content"], text);
    assert_eq!(done["usage"]["completion_tokens"], 4);

    // The system prompt and the history reach the model.
    let sent = s.upstream.last_request();
    assert_eq!(
        sent["messages"][0],
        json!({ "role": "system", "content": "You plan trips." })
    );

    // Not streamed, a second turn; the model sees the whole history.
    let second: Value = s
        .post_json(
            &format!("/api/conversations/{id}/messages"),
            &key,
            &json!({ "content": "And June?", "stream": false }),
        )
        .await;
    assert_eq!(second["assistant_message"]["content"], "echo: And June?");
    assert_eq!(
        s.upstream.last_request()["messages"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let read: Value = s.get_json(&format!("/api/conversations/{id}"), &key).await;
    let turns: Vec<(&str, i64)> = read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["seq"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        turns,
        [("user", 1), ("assistant", 2), ("user", 3), ("assistant", 4)]
    );

    let renamed: Value = s
        .client
        .patch(format!("{}/api/conversations/{id}", s.url))
        .bearer_auth(&key)
        .json(&json!({ "title": "Lisbon" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["title"], "Lisbon");
    let list: Value = s.get_json("/api/conversations", &key).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let deleted = s
        .client
        .delete(format!("{}/api/conversations/{id}", s.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    expect_error(
        s.get(&format!("/api/conversations/{id}"), &key)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn nobody_sees_another_users_conversations() {
    let s = TestServer::start().await;
    let (_, alice) = s.user("free").await;
    let (_, mallory) = s.user("free").await;
    let conversation: Value = s
        .post_json("/api/conversations", &alice, &json!({ "title": "private" }))
        .await;
    let id = conversation["id"].as_str().unwrap();
    let path = format!("/api/conversations/{id}");

    expect_error(
        s.get(&path, &mallory).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    let post = s
        .post(
            &format!("{path}/messages"),
            &mallory,
            &json!({ "content": "hi" }),
        )
        .send()
        .await
        .unwrap();
    expect_error(post, 404, "not_found").await;
    let rename = s
        .client
        .patch(format!("{}{path}", s.url))
        .bearer_auth(&mallory)
        .json(&json!({ "title": "x" }))
        .send()
        .await
        .unwrap();
    expect_error(rename, 404, "not_found").await;
    let delete = s
        .client
        .delete(format!("{}{path}", s.url))
        .bearer_auth(&mallory)
        .send()
        .await
        .unwrap();
    expect_error(delete, 404, "not_found").await;
    let list: Value = s.get_json("/api/conversations", &mallory).await;
    assert_eq!(list["data"], json!([]));

    let still: Value = s.get_json(&path, &alice).await;
    assert_eq!(still["title"], "private");
    assert_eq!(still["messages"], json!([]));
}

#[tokio::test]
async fn conversation_lists_page_by_update_time() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    for i in 0..5 {
        s.post(
            "/api/conversations",
            &key,
            &json!({ "title": format!("c{i}") }),
        )
        .send()
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let page: Value = s.get_json("/api/conversations?limit=2", &key).await;
    assert_eq!(page["has_more"], true);
    let titles = |v: &Value| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["title"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(titles(&page), ["c4", "c3"]);
    let next = format!("/api/conversations?limit=10&before={}", page["next_before"]);
    let rest: Value = s.get_json(&next, &key).await;
    assert_eq!(titles(&rest), ["c2", "c1", "c0"]);
    assert_eq!(rest["has_more"], false);
}

#[tokio::test]
async fn a_conversation_is_imported_with_its_turns_and_continues() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let created = s
        .post(
            "/api/conversations",
            &key,
            &json!({
                "system_prompt": "You are terse.",
                "messages": [
                    { "role": "user", "content": "\n  Where is Lisbon?\nAnd why?" },
                    { "role": "assistant", "content": "Portugal.", "model": "elsewhere-7b" },
                    { "role": "user", "content": "Thanks" },
                    { "role": "assistant", "content": "You're welcome." },
                ],
            }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    // Untitled: named after the first question.
    assert_eq!(created["title"], "Where is Lisbon?");
    let stored = created["messages"].as_array().unwrap();
    assert_eq!(stored.len(), 4);
    assert_eq!(stored[1]["model"], "elsewhere-7b");
    let id = created["id"].as_str().unwrap();

    let read: Value = s.get_json(&format!("/api/conversations/{id}"), &key).await;
    assert_eq!(read["messages"], created["messages"]);
    let seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);

    // The next turn follows them, and the model sees them.
    let turn: Value = s
        .post_json(
            &format!("/api/conversations/{id}/messages"),
            &key,
            &json!({ "content": "And Porto?", "stream": false }),
        )
        .await;
    assert_eq!(turn["user_message"]["seq"], 5);
    let sent = s.upstream.last_request();
    let sent = sent["messages"].as_array().unwrap();
    assert_eq!(sent.len(), 6);
    assert_eq!(sent[0]["content"], "You are terse.");
    assert_eq!(sent[2]["content"], "Portugal.");
}

#[tokio::test]
async fn an_import_is_checked_whole_before_anything_is_stored() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let user = |c: &str| json!({ "role": "user", "content": c });
    for (messages, param) in [
        (
            json!([{ "role": "system", "content": "x" }]),
            "messages[0].role",
        ),
        (json!([user("hi"), user("  ")]), "messages[1].content"),
        (
            json!([{ "role": "user", "content": "hi", "model": "m" }]),
            "messages[0].model",
        ),
        (
            json!([{ "role": "assistant", "content": "hi", "model": "" }]),
            "messages[0].model",
        ),
        (json!([{ "role": "user" }]), "messages[0]"),
    ] {
        let error = expect_error(
            s.post("/api/conversations", &key, &json!({ "messages": messages }))
                .send()
                .await
                .unwrap(),
            400,
            "invalid_value",
        )
        .await;
        assert_eq!(error["error"]["param"], param, "{error}");
    }
    let too_many: Vec<Value> = (0..5_001).map(|_| user("hi")).collect();
    expect_error(
        s.post("/api/conversations", &key, &json!({ "messages": too_many }))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_value",
    )
    .await;
    let list: Value = s.get_json("/api/conversations", &key).await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn conversation_pages_carry_a_cursor_that_skips_none() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    for i in 0..7 {
        s.post(
            "/api/conversations",
            &key,
            &json!({ "title": format!("c{i}") }),
        )
        .send()
        .await
        .unwrap();
    }
    let mut titles = Vec::new();
    let mut next = "/api/conversations?limit=3".to_string();
    loop {
        let page: Value = s.get_json(&next, &key).await;
        titles.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["title"].as_str().unwrap().to_string()),
        );
        if page["has_more"] == false {
            assert_eq!(page["next_before_id"], Value::Null);
            break;
        }
        next = format!(
            "/api/conversations?limit=3&before={}&before_id={}",
            page["next_before"],
            page["next_before_id"].as_str().unwrap()
        );
    }
    assert_eq!(titles, ["c6", "c5", "c4", "c3", "c2", "c1", "c0"]);
    expect_error(
        s.get("/api/conversations?before_id=abc", &key)
            .send()
            .await
            .unwrap(),
        400,
        "invalid_value",
    )
    .await;
}
