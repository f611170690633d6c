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
