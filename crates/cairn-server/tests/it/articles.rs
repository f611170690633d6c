//! The article writer over HTTP against the fake upstream (`writer`: JSON answers made from
//! the schema asked for): the writing modes, the multi-agent mode, and the user's edit of a
//! finished article (saved, read, exported, kept across a re-run that leaves the text
//! alone, set aside by one that rewrites it, taken back). The real model writing a real
//! article is in `orchestration_local.rs`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestServer, expect_error};

/// The fake upstream answers at once: two minutes is ample.
async fn settled(s: &TestServer, key: &str, id: &str) -> Value {
    s.article_settled(key, id, Duration::from_secs(120)).await
}

fn edit(s: &TestServer, key: &str, id: &str, body: &Value) -> reqwest::RequestBuilder {
    s.client
        .patch(format!("{}/api/articles/{id}", s.url))
        .bearer_auth(key)
        .json(body)
}

async fn edit_json(s: &TestServer, key: &str, id: &str, body: &Value) -> Value {
    let response = edit(s, key, id, body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn export(s: &TestServer, key: &str, id: &str, format: &str) -> String {
    let response = s
        .get(&format!("/api/articles/{id}/export?format={format}"), key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

fn stage_names(article: &Value) -> Vec<String> {
    article["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_writing_modes_are_listed_with_what_they_are_for() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let modes = s.get_json("/api/articles/modes", &key).await;
    let names: Vec<&str> = modes["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["blog", "technical", "academic", "social"]);
    assert_eq!(modes["data"][0]["description"], "Blog / SEO writing mode");
}

#[tokio::test]
async fn the_team_mode_writes_with_a_researcher_and_an_editor() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let created = s
        .post_json(
            "/api/articles",
            &key,
            &json!({"topic": "Cairns", "model": "writer", "sections": 2, "team": true}),
        )
        .await;
    assert_eq!(created["team"], true, "{created}");
    let done = settled(&s, &key, created["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let stages = stage_names(&done);
    for role in ["notes", "drafts", "critique", "edited"] {
        assert!(stages.iter().any(|s| s == role), "{role}: {stages:?}");
    }

    let plain = s
        .post_json(
            "/api/articles",
            &key,
            &json!({"topic": "Cairns", "model": "writer", "sections": 2}),
        )
        .await;
    assert_eq!(plain["team"], false);
    let done = settled(&s, &key, plain["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(!stage_names(&done).iter().any(|s| s == "critique"));
}

#[tokio::test]
async fn an_edited_article_is_read_and_exported_as_edited_and_survives_a_rerun() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let (_, other) = s.user("free").await;
    let created = s
        .post_json(
            "/api/articles",
            &key,
            &json!({
                "topic": "Stone cairns on mountain paths",
                "model": "writer",
                "sections": 2,
                "words_per_section": 30,
                "review_outline": true,
            }),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();

    // Nothing to edit before the article is written.
    let waiting = settled(&s, &key, &id).await;
    assert_eq!(waiting["status"], "waiting", "{waiting}");
    let early = edit(&s, &key, &id, &json!({"markdown": "# Mine"}))
        .send()
        .await
        .unwrap();
    expect_error(early, 409, "wrong_state").await;
    s.post_json(
        &format!("/api/articles/{id}/continue"),
        &key,
        &json!({"outline": waiting["outline"]}),
    )
    .await;
    let done = settled(&s, &key, &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let generated = done["article"]["markdown"].as_str().unwrap().to_string();
    assert_eq!(done["article"]["edited_at"], Value::Null);
    assert_eq!(export(&s, &key, &id, "md").await, generated);

    // Bad edits, and someone else's article.
    for bad in [
        json!({"markdown": "  \n"}),
        json!({"markdown": 3}),
        json!({}),
        json!({"markdown": "x", "title": "y"}),
    ] {
        let response = edit(&s, &key, &id, &bad).send().await.unwrap();
        assert_eq!(response.status(), 400, "{bad}");
    }
    let theirs = edit(&s, &other, &id, &json!({"markdown": "# Taken"}))
        .send()
        .await
        .unwrap();
    expect_error(theirs, 404, "not_found").await;

    // The edit is what is read, listed and exported from now on.
    let mine = "# Cairns, by hand\n\nEach stone is placed *carefully*.\n\n## Why\n\nSo walkers find the way.\n";
    let edited = edit_json(&s, &key, &id, &json!({"markdown": mine})).await;
    assert_eq!(edited["article"]["markdown"], mine.trim());
    assert_eq!(edited["article"]["title"], "Cairns, by hand");
    assert!(edited["article"]["edited_at"].as_i64().is_some());
    let read = s.get_json(&format!("/api/articles/{id}"), &key).await;
    assert_eq!(read["article"], edited["article"]);
    assert_eq!(
        s.get_json(&format!("/api/articles/{id}"), &other).await["error"]["code"],
        "not_found"
    );
    let listed = s.get_json("/api/articles", &key).await;
    assert_eq!(listed["data"][0]["title"], "Cairns, by hand");
    assert_eq!(export(&s, &key, &id, "md").await, mine.trim());
    let html = export(&s, &key, &id, "html").await;
    assert!(html.contains("<title>Cairns, by hand</title>"), "{html}");
    assert!(html.contains("<em>carefully</em>"), "{html}");

    // A re-run that leaves the text as it was keeps the edit.
    s.post_json(
        &format!("/api/articles/{id}/stages/meta/rerun"),
        &key,
        &json!({}),
    )
    .await;
    let again = settled(&s, &key, &id).await;
    assert_eq!(again["status"], "succeeded", "{again}");
    assert_eq!(again["article"]["markdown"], mine.trim());

    // One that rewrites it shows the new text and keeps the edit aside, to take back.
    s.post_json(
        &format!("/api/articles/{id}/stages/outline/rerun"),
        &key,
        &json!({}),
    )
    .await;
    let review = settled(&s, &key, &id).await;
    assert_eq!(review["status"], "waiting", "{review}");
    let mut outline = review["outline"].clone();
    outline["sections"][0]["heading"] = json!("A heading of my own");
    s.post_json(
        &format!("/api/articles/{id}/continue"),
        &key,
        &json!({"outline": outline}),
    )
    .await;
    let rewritten = settled(&s, &key, &id).await;
    assert_eq!(rewritten["status"], "succeeded", "{rewritten}");
    let article = &rewritten["article"];
    assert!(
        article["markdown"]
            .as_str()
            .unwrap()
            .contains("## A heading of my own"),
        "{article}"
    );
    assert_eq!(article["edited_at"], Value::Null);
    assert_eq!(article["outdated_edit"], mine.trim());
    let restored = edit_json(&s, &key, &id, &json!({"markdown": mine})).await;
    assert_eq!(restored["article"]["markdown"], mine.trim());
    assert_eq!(restored["article"]["outdated_edit"], Value::Null);

    // Back to the generated text.
    let reverted = edit_json(&s, &key, &id, &json!({"markdown": null})).await;
    assert_eq!(reverted["article"]["edited_at"], Value::Null);
    assert_ne!(reverted["article"]["markdown"], mine.trim());
    assert!(
        export(&s, &key, &id, "md")
            .await
            .contains("## A heading of my own")
    );
}
