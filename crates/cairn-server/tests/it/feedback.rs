//! Feedback on answers over HTTP: given, changed, shown with the conversation, taken back;
//! only on the caller's own answers; everyone's listed for admins with the prompt before each
//! answer.

use reqwest::Response;
use serde_json::{Value, json};

use crate::support::{TestServer, expect_error};

/// A conversation of the key's user with one answered question; its id and the two messages.
async fn answered(s: &TestServer, key: &str, question: &str) -> (String, Value, Value) {
    let created: Value = s
        .post_json("/api/conversations", key, &json!({ "title": question }))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let turn: Value = s
        .post_json(
            &format!("/api/conversations/{id}/messages"),
            key,
            &json!({ "content": question, "stream": false }),
        )
        .await;
    (
        id,
        turn["user_message"].clone(),
        turn["assistant_message"].clone(),
    )
}

fn path(conversation: &str, message: &Value) -> String {
    format!(
        "/api/conversations/{conversation}/messages/{}/feedback",
        message["id"].as_str().unwrap()
    )
}

async fn put(s: &TestServer, key: &str, path: &str, body: Value) -> Response {
    s.client
        .put(format!("{}{path}", s.url))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The `feedback` of each message of a conversation, as read back.
async fn shown(s: &TestServer, key: &str, id: &str) -> Vec<Value> {
    let read = s.get_json(&format!("/api/conversations/{id}"), key).await;
    read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["feedback"].clone())
        .collect()
}

#[tokio::test]
async fn feedback_is_given_changed_shown_and_taken_back() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let (id, _, answer) = answered(&s, &key, "Lisbon in May?").await;
    let path = path(&id, &answer);

    let up = put(&s, &key, &path, json!({ "rating": "up" })).await;
    assert_eq!(up.status(), 200);
    let up: Value = up.json().await.unwrap();
    assert_eq!(up["rating"], "up");
    assert_eq!(up["comment"], Value::Null);
    assert_eq!(up["message_id"], answer["id"]);
    assert_eq!(up["conversation_id"], id.as_str());
    // The model that wrote the answer is kept with the feedback.
    assert_eq!(up["model"], answer["model"]);
    assert!(up["model"].is_string());
    assert_eq!(
        shown(&s, &key, &id).await,
        [
            Value::Null,
            json!({ "rating": "up", "comment": null, "updated_at": up["updated_at"] })
        ]
    );

    // Changing it keeps one record: the same id, a new rating and comment.
    let down: Value = put(
        &s,
        &key,
        &path,
        json!({ "rating": "down", "comment": "  Too vague.  " }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(down["id"], up["id"]);
    assert_eq!(down["rating"], "down");
    assert_eq!(down["comment"], "Too vague.");
    assert_eq!(down["created_at"], up["created_at"]);
    assert_eq!(shown(&s, &key, &id).await[1]["comment"], "Too vague.");

    // A blank comment is none.
    let blank: Value = put(&s, &key, &path, json!({ "rating": "down", "comment": " " }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(blank["comment"], Value::Null);

    let deleted = s.delete(&path, &key).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    let deleted: Value = deleted.json().await.unwrap();
    assert_eq!(deleted["deleted"], true);
    assert_eq!(shown(&s, &key, &id).await, [Value::Null, Value::Null]);
    expect_error(
        s.delete(&path, &key).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn feedback_is_only_on_the_callers_own_answers_and_is_checked() {
    let s = TestServer::start().await;
    let (_, alice) = s.user("free").await;
    let (_, mallory) = s.user("free").await;
    let (id, question, answer) = answered(&s, &alice, "private question").await;
    let on_answer = path(&id, &answer);

    // Someone else's answer does not exist for them, to rate or to take back.
    expect_error(
        put(&s, &mallory, &on_answer, json!({ "rating": "down" })).await,
        404,
        "not_found",
    )
    .await;
    put(&s, &alice, &on_answer, json!({ "rating": "up" })).await;
    expect_error(
        s.delete(&on_answer, &mallory).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_eq!(shown(&s, &alice, &id).await[1]["rating"], "up");

    // The user's own message is not an answer.
    let body = expect_error(
        put(&s, &alice, &path(&id, &question), json!({ "rating": "up" })).await,
        400,
        "not_an_answer",
    )
    .await;
    assert_eq!(body["error"]["param"], "message_id");
    // A message of another conversation, or none at all.
    let (other, _, other_answer) = answered(&s, &alice, "another").await;
    expect_error(
        put(
            &s,
            &alice,
            &path(&id, &other_answer),
            json!({ "rating": "up" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        put(
            &s,
            &alice,
            &format!("/api/conversations/{other}/messages/nope/feedback"),
            json!({ "rating": "up" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // Bad bodies name the field.
    for (body, param) in [
        (json!({ "rating": "meh" }), "rating"),
        (json!({ "comment": "no rating" }), "."),
        (
            json!({ "rating": "up", "comment": "x".repeat(2_001) }),
            "comment",
        ),
        (json!({ "rating": "up", "stars": 5 }), "."),
    ] {
        let error = expect_error(
            put(&s, &alice, &on_answer, body).await,
            400,
            "invalid_value",
        )
        .await;
        if param != "." {
            assert_eq!(error["error"]["param"], param, "{error}");
        }
    }
    // The longest comment allowed is kept whole.
    let longest: Value = put(
        &s,
        &alice,
        &on_answer,
        json!({ "rating": "down", "comment": "é".repeat(2_000) }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(longest["comment"].as_str().unwrap().chars().count(), 2_000);
}

#[tokio::test]
async fn admins_list_everyones_feedback_with_the_prompt_filtered_and_paged() {
    let s = TestServer::start().await;
    let (_, alice) = s.user("free").await;
    let (_, bob) = s.user("free").await;
    let (a, _, a_answer) = answered(&s, &alice, "alice asks").await;
    let (b, _, b_answer) = answered(&s, &bob, "bob asks").await;
    put(
        &s,
        &alice,
        &path(&a, &a_answer),
        json!({ "rating": "down", "comment": "wrong" }),
    )
    .await;
    put(&s, &bob, &path(&b, &b_answer), json!({ "rating": "up" })).await;

    expect_error(
        s.get("/api/admin/feedback", &alice).send().await.unwrap(),
        403,
        "admin_required",
    )
    .await;

    let all = s.get_json("/api/admin/feedback", &s.admin_key).await;
    let data = all["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(all["has_more"], false);
    // Newest first: Bob's, then Alice's with everything a training example needs.
    assert_eq!(data[0]["rating"], "up");
    let alices = &data[1];
    assert_eq!(alices["rating"], "down");
    assert_eq!(alices["comment"], "wrong");
    assert_eq!(alices["prompt"], "alice asks");
    assert_eq!(alices["answer"], a_answer["content"]);
    assert_eq!(alices["message_id"], a_answer["id"]);
    assert_eq!(alices["conversation_id"], a.as_str());
    assert!(alices["user_id"].is_string());
    assert_eq!(alices["model"], a_answer["model"]);

    let down = s
        .get_json("/api/admin/feedback?rating=down", &s.admin_key)
        .await;
    assert_eq!(down["data"].as_array().unwrap().len(), 1);
    assert_eq!(down["data"][0]["comment"], "wrong");
    let model = a_answer["model"].as_str().unwrap();
    let by_model = s
        .get_json(&format!("/api/admin/feedback?model={model}"), &s.admin_key)
        .await;
    assert_eq!(by_model["data"].as_array().unwrap().len(), 2);
    let none = s
        .get_json("/api/admin/feedback?model=no-such-model", &s.admin_key)
        .await;
    assert_eq!(none["data"], json!([]));
    expect_error(
        s.get("/api/admin/feedback?rating=sideways", &s.admin_key)
            .send()
            .await
            .unwrap(),
        400,
        "invalid_value",
    )
    .await;

    // One at a time, by the cursor of the page before.
    let first = s
        .get_json("/api/admin/feedback?limit=1", &s.admin_key)
        .await;
    assert_eq!(first["has_more"], true);
    let next = s
        .get_json(
            &format!(
                "/api/admin/feedback?limit=1&before={}&before_id={}",
                first["next_before"],
                first["next_before_id"].as_str().unwrap()
            ),
            &s.admin_key,
        )
        .await;
    assert_eq!(next["data"][0]["id"], data[1]["id"]);
    assert_eq!(next["has_more"], false);

    // Deleting the conversation takes its feedback with it.
    s.delete(&format!("/api/conversations/{a}"), &alice)
        .send()
        .await
        .unwrap();
    let left = s.get_json("/api/admin/feedback", &s.admin_key).await;
    assert_eq!(left["data"].as_array().unwrap().len(), 1);
}
