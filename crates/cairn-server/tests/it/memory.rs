//! Session and long-term memory in stored conversations: exact prompts against the fake
//! upstream (its `up-emb` embeddings are bags of words), then end to end with the real
//! local models.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cairn_server::error::ApiError;
use cairn_server::openai::chat::ChatRequest;
use cairn_server::pipeline::{CallContext, Hook, HookDecision};
use serde_json::{Value, json};

use crate::support::{TestServer, expect_error};

pub async fn new_conversation(s: &TestServer, key: &str, body: Value) -> String {
    let created: Value = s.post_json("/api/conversations", key, &body).await;
    created["id"]
        .as_str()
        .expect("a conversation id")
        .to_string()
}

/// Posts a message, not streamed; the whole answer.
pub async fn say(s: &TestServer, key: &str, id: &str, content: &str, max_tokens: u32) -> Value {
    let response = s
        .post(
            &format!("/api/conversations/{id}/messages"),
            key,
            &json!({ "content": content, "stream": false, "max_tokens": max_tokens }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the turn failed");
    let body: Value = response.json().await.unwrap();
    // Extraction runs after the turn, in the background: wait for it.
    s.app.memory_tasks.idle().await;
    body
}

pub async fn memory_texts(s: &TestServer, key: &str) -> Vec<String> {
    let list: Value = s.get_json("/api/memories", key).await;
    let mut texts: Vec<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    texts.sort();
    texts
}

/// The last request the fake upstream got for a user turn ending with `text`.
fn turn_request(s: &TestServer, text: &str) -> Value {
    s.upstream
        .received
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|r| {
            r["messages"]
                .as_array()
                .and_then(|m| m.last())
                .is_some_and(|m| m["content"] == text)
        })
        .cloned()
        .expect("the model saw the turn")
}

fn system_text(request: &Value) -> String {
    let first = &request["messages"][0];
    if first["role"] == "system" {
        first["content"].as_str().unwrap_or_default().to_string()
    } else {
        String::new()
    }
}

/// Summarisation requests the fake upstream got.
fn summary_requests(s: &TestServer) -> Vec<Value> {
    s.upstream
        .received
        .lock()
        .unwrap()
        .iter()
        .filter(|r| system_text(r).starts_with("You keep a running summary"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_stated_fact_is_remembered_recalled_and_forgotten() {
    let s = TestServer::start().await;
    let (ada, key) = s.user("free").await;
    let first = new_conversation(&s, &key, json!({ "title": "intro" })).await;
    say(&s, &key, &first, "My name is Ada and I prefer Rust.", 16).await;
    assert_eq!(
        memory_texts(&s, &key).await,
        ["The user prefers Rust.", "The user's name is Ada."]
    );
    let listed: Value = s.get_json("/api/memories", &key).await;
    let name = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"] == "The user's name is Ada.")
        .unwrap()
        .clone();
    assert_eq!(name["source_conversation_id"], first.as_str());
    assert!(name.get("embedding").is_none(), "vectors stay inside");
    let stored = s
        .app
        .store
        .get_memory(&ada.id, name["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.embedding_model.as_deref(), Some("emb"));

    // A new conversation: the fact is recalled into the system message.
    let second = new_conversation(
        &s,
        &key,
        json!({ "title": "later", "system_prompt": "You are terse." }),
    )
    .await;
    say(&s, &key, &second, "What is my name?", 16).await;
    let system = system_text(&turn_request(&s, "What is my name?"));
    assert!(system.starts_with("You are terse.\n\n"), "{system}");
    assert!(system.contains("What you know about the user"), "{system}");
    assert!(system.contains("- The user's name is Ada."), "{system}");
    // Only what is relevant: nothing about Rust in a question about a name.
    assert!(!system.contains("Rust"), "{system}");

    // Deleted, it is no longer recalled.
    let id = name["id"].as_str().unwrap();
    let deleted = s
        .client
        .delete(format!("{}/api/memories/{id}", s.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    say(&s, &key, &second, "Tell me my name", 16).await;
    let system = system_text(&turn_request(&s, "Tell me my name"));
    assert_eq!(system, "You are terse.");
    assert_eq!(memory_texts(&s, &key).await, ["The user prefers Rust."]);
}

#[tokio::test]
async fn duplicates_are_dropped_and_near_matches_update() {
    let s = TestServer::start_with(|c| format!("{c}\n[memory]\nupdate_similarity = 0.5\n")).await;
    let (_, key) = s.user("free").await;
    let id = new_conversation(&s, &key, json!({})).await;
    say(&s, &key, &id, "My name is Ada and I prefer Rust.", 16).await;
    // The same facts again, in other words and other conversations.
    say(&s, &key, &id, "Remember that my name is Ada.", 16).await;
    let other = new_conversation(&s, &key, json!({})).await;
    say(&s, &key, &other, "my name is ada. I prefer Rust!", 16).await;
    assert_eq!(
        memory_texts(&s, &key).await,
        ["The user prefers Rust.", "The user's name is Ada."]
    );
    // A changed fact replaces the old one instead of contradicting it.
    say(&s, &key, &other, "My name is Ada Byron.", 16).await;
    assert_eq!(
        memory_texts(&s, &key).await,
        ["The user prefers Rust.", "The user's name is Ada Byron."]
    );
}

#[tokio::test]
async fn memory_off_means_no_extraction_and_no_recall() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let settings: Value = s.get_json("/api/memories/settings", &key).await;
    assert_eq!(settings, json!({ "enabled": true, "available": true }));
    let id = new_conversation(&s, &key, json!({})).await;
    say(&s, &key, &id, "I prefer Rust.", 16).await;
    assert_eq!(memory_texts(&s, &key).await, ["The user prefers Rust."]);

    let off = s
        .client
        .put(format!("{}/api/memories/settings", s.url))
        .bearer_auth(&key)
        .json(&json!({ "enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 200);
    assert_eq!(off.json::<Value>().await.unwrap()["enabled"], false);
    say(&s, &key, &id, "My name is Eve.", 16).await;
    assert_eq!(memory_texts(&s, &key).await, ["The user prefers Rust."]);
    let other = new_conversation(&s, &key, json!({})).await;
    say(&s, &key, &other, "Do I prefer Rust", 16).await;
    assert_eq!(system_text(&turn_request(&s, "Do I prefer Rust")), "");

    // On again: the same question recalls it (so it was the setting that stopped it).
    s.client
        .put(format!("{}/api/memories/settings", s.url))
        .bearer_auth(&key)
        .json(&json!({ "enabled": true }))
        .send()
        .await
        .unwrap();
    say(&s, &key, &other, "Do I prefer Rust", 16).await;
    assert!(system_text(&turn_request(&s, "Do I prefer Rust")).contains("The user prefers Rust."));
}

#[tokio::test]
async fn nobody_sees_another_users_memories() {
    let s = TestServer::start().await;
    let (_, alice) = s.user("free").await;
    let (_, bob) = s.user("free").await;
    let id = new_conversation(&s, &alice, json!({})).await;
    say(&s, &alice, &id, "My name is Alice.", 16).await;
    let listed: Value = s.get_json("/api/memories", &alice).await;
    let memory_id = listed["data"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/memories/{memory_id}");

    assert_eq!(memory_texts(&s, &bob).await, Vec::<String>::new());
    expect_error(s.get(&path, &bob).send().await.unwrap(), 404, "not_found").await;
    let edit = s
        .client
        .patch(format!("{}{path}", s.url))
        .bearer_auth(&bob)
        .json(&json!({ "text": "The user's name is Bob." }))
        .send()
        .await
        .unwrap();
    expect_error(edit, 404, "not_found").await;
    let delete = s
        .client
        .delete(format!("{}{path}", s.url))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    expect_error(delete, 404, "not_found").await;
    // Bob's own conversation recalls nothing of Alice's.
    let bobs = new_conversation(&s, &bob, json!({})).await;
    say(&s, &bob, &bobs, "What is my name?", 16).await;
    assert_eq!(system_text(&turn_request(&s, "What is my name?")), "");

    let still: Value = s.get_json(&path, &alice).await;
    assert_eq!(still["text"], "The user's name is Alice.");
}

#[tokio::test]
async fn memories_are_managed_through_the_api_with_validation() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let created = s
        .post(
            "/api/memories",
            &key,
            &json!({ "text": "  The user has a cat called Miso.  " }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let memory: Value = created.json().await.unwrap();
    assert_eq!(memory["text"], "The user has a cat called Miso.");
    assert_eq!(memory["source_conversation_id"], Value::Null);
    let path = format!("/api/memories/{}", memory["id"].as_str().unwrap());

    let edited: Value = s
        .client
        .patch(format!("{}{path}", s.url))
        .bearer_auth(&key)
        .json(&json!({ "text": "The user has two cats." }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(edited["text"], "The user has two cats.");
    assert_eq!(
        s.get_json(&path, &key).await["text"],
        "The user has two cats."
    );
    // Written memories are recalled like learnt ones.
    let id = new_conversation(&s, &key, json!({})).await;
    say(&s, &key, &id, "How many cats", 16).await;
    assert!(system_text(&turn_request(&s, "How many cats")).contains("The user has two cats."));

    for (body, param) in [
        (json!({ "text": "" }), Some("text")),
        (json!({ "text": "   " }), Some("text")),
        (json!({ "text": "x".repeat(501) }), Some("text")),
        (json!({ "text": 5 }), Some("text")),
        (json!({}), None),
        (json!({ "text": "ok text", "pinned": true }), None),
    ] {
        let response = s.post("/api/memories", &key, &body).send().await.unwrap();
        let error = expect_error(response, 400, "invalid_value").await;
        if let Some(param) = param {
            assert_eq!(error["error"]["param"], param, "{body}");
        }
    }
    let bad_setting = s
        .client
        .put(format!("{}/api/memories/settings", s.url))
        .bearer_auth(&key)
        .json(&json!({ "enabled": "yes" }))
        .send()
        .await
        .unwrap();
    expect_error(bad_setting, 400, "invalid_value").await;
    expect_error(
        s.get("/api/memories/nope", &key).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;

    let deleted = s
        .client
        .delete(format!("{}{path}", s.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    expect_error(s.get(&path, &key).send().await.unwrap(), 404, "not_found").await;
    expect_error(
        s.get("/api/memories", "not-a-key").send().await.unwrap(),
        401,
        "invalid_api_key",
    )
    .await;
}

/// The fake model with a small window: `gpt` is given 2,048 tokens.
fn small_window(config: String) -> String {
    config.replace(
        "[models.gpt]\nprovider = \"up\"\ntarget = \"up-echo\"\n",
        "[models.gpt]\nprovider = \"up\"\ntarget = \"up-echo\"\ncontext_tokens = 2048\n",
    )
}

/// The messages each summarisation request folded in.
fn folded_lines(request: &Value) -> usize {
    let prompt = request["messages"][1]["content"].as_str().unwrap();
    let (_, new) = prompt.rsplit_once("\n\nNew messages:\n").unwrap();
    let (lines, _) = new.split_once("\n\nUpdated summary:").unwrap();
    lines
        .lines()
        .filter(|l| l.starts_with("User: ") || l.starts_with("Assistant: "))
        .count()
}

fn long_turn(i: usize) -> String {
    format!(
        "Turn {i}: {}",
        "the quick brown fox jumps over the lazy dog again and again ".repeat(6)
    )
}

#[tokio::test]
async fn a_long_conversation_is_summarised_to_fit_the_window() {
    let s = TestServer::start_with(small_window).await;
    let (user, key) = s.user("free").await;
    let id = new_conversation(
        &s,
        &key,
        json!({ "title": "long", "system_prompt": "You are a patient tutor." }),
    )
    .await;
    let turns = 30;
    for i in 0..turns {
        let answer = say(&s, &key, &id, &long_turn(i), 64).await;
        assert!(
            answer["assistant_message"]["content"]
                .as_str()
                .is_some_and(|c| c.starts_with(&format!("echo: Turn {i}:"))),
            "{answer}"
        );
    }
    // Far beyond the window: 60 messages of about 100 tokens each.
    let last = turn_request(&s, &long_turn(turns - 1));
    let messages = last["messages"].as_array().unwrap();
    let system = system_text(&last);
    assert!(system.starts_with("You are a patient tutor."), "{system}");
    assert!(
        system.contains("Summary of the earlier part of this conversation:"),
        "{system}"
    );
    // The latest turns are there, in order, and the whole fits the window.
    let n = messages.len();
    assert!(n >= 4, "{last}");
    assert_eq!(messages[n - 2]["role"], "assistant");
    assert!(
        messages[n - 2]["content"]
            .as_str()
            .unwrap()
            .starts_with(&format!("echo: Turn {}:", turns - 2))
    );
    assert_eq!(messages[n - 3]["content"], long_turn(turns - 2));
    let chars: usize = messages
        .iter()
        .map(|m| m["content"].as_str().unwrap().chars().count() + 32)
        .sum();
    assert!(chars / 4 <= 2048 - 64, "{chars} characters sent");

    // The summary is stored with the last message it covers, and was extended a few
    // times, each message folded in once: never remade on every turn.
    let summary = s
        .app
        .store
        .get_summary(&user.id, &id)
        .await
        .unwrap()
        .unwrap();
    assert!(summary.through_seq > 0 && summary.through_seq < 2 * turns as i64 - 4);
    let calls = summary_requests(&s);
    assert!(
        calls.len() >= 2 && calls.len() <= turns / 3,
        "{} summary calls for {turns} turns",
        calls.len()
    );
    assert_eq!(
        calls.iter().map(folded_lines).sum::<usize>() as i64,
        summary.through_seq
    );
    let later = calls.last().unwrap()["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_string();
    // The fake model's summaries start "echo:": the later call extends the stored one.
    assert!(later.starts_with("Summary so far:\necho: "), "{later}");
    // Internal calls are metered as the user's own.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let usage: Value = s.get_json("/api/usage?group_by=user", &key).await;
        let requests = usage["data"][0]["requests"].as_u64().unwrap_or(0);
        if requests == (turns + calls.len()) as u64 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{usage}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn failing_memory_calls_never_fail_the_turn() {
    // Summaries and extraction go to a model that always fails.
    let s =
        TestServer::start_with(|c| format!("{}\n[memory]\nmodel = \"broken\"\n", small_window(c)))
            .await;
    let (user, key) = s.user("free").await;
    let id = new_conversation(&s, &key, json!({ "system_prompt": "Be brief." })).await;
    for i in 0..16 {
        say(&s, &key, &id, &long_turn(i), 64).await;
    }
    assert!(
        s.app
            .store
            .get_summary(&user.id, &id)
            .await
            .unwrap()
            .is_none()
    );
    let last = turn_request(&s, &long_turn(15));
    assert_eq!(system_text(&last), "Be brief.");
    assert_eq!(last["messages"].as_array().unwrap().len() % 2, 0);
    // Patterns still work when the model does not.
    say(&s, &key, &id, "I'm from Porto, and I like long walks.", 16).await;
    assert_eq!(memory_texts(&s, &key).await, ["The user is from Porto."]);
}

/// Records every chat request the pipeline sends, with its route.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<(&'static str, ChatRequest)>>);

#[async_trait]
impl Hook for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }

    async fn on_request(
        &self,
        cx: &CallContext,
        request: &mut ChatRequest,
    ) -> Result<HookDecision, ApiError> {
        self.0.lock().unwrap().push((cx.route, request.clone()));
        Ok(HookDecision::Continue)
    }
}

impl Recorder {
    pub fn last(&self, route: &str) -> Option<ChatRequest> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(r, _)| *r == route)
            .map(|(_, req)| req.clone())
    }

    pub fn count(&self, route: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(r, _)| *r == route)
            .count()
    }
}

/// A server with the real small chat model (a `context_tokens` window) and MiniLM as the
/// memory embedder, with a recorder of what is sent.
pub async fn local_server(context_tokens: u32, extra_config: &str) -> (TestServer, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let extra = extra_config.to_string();
    let local = format!(
        "[providers.local]\nkind = \"local\"\nthreads = 2\nmax_sequences = 2\n\
         context_tokens = {context_tokens}\nqueue_capacity = 8\npull_on_start = false\n"
    );
    let s = TestServer::start_with_hooks(vec![recorder.clone()], move |config| {
        format!(
            "{}\n[memory]\nembedding_model = \"minilm\"\n{extra}",
            config.replace("[providers.local]\nkind = \"local\"\n", &local)
        )
    })
    .await;
    s.app.start_background();
    s.wait_ready(Duration::from_secs(300), |body| {
        body["local_models"]
            .as_object()
            .is_some_and(|m| !m.is_empty() && m.values().all(|v| v == "ready"))
    })
    .await;
    (s, recorder)
}

#[tokio::test]
async fn the_real_model_keeps_answering_far_beyond_its_window() {
    // A 512-token window and summaries of at most 96 tokens keep the real model's work small.
    let (s, recorder) = local_server(512, "summary_max_tokens = 96\n").await;
    let (user, key) = s.user("free").await;
    let id = new_conversation(
        &s,
        &key,
        json!({ "model": "small", "system_prompt": "You are a helpful assistant who loves rivers." }),
    )
    .await;
    let rivers = [
        "Nile",
        "Amazon",
        "Yangtze",
        "Mississippi",
        "Danube",
        "Rhine",
        "Volga",
        "Ganges",
        "Mekong",
        "Thames",
        "Seine",
        "Loire",
        "Tagus",
        "Douro",
    ];
    for (i, river) in rivers.iter().enumerate() {
        let text =
            format!("Question {i}: where does the {river} river start, and where does it end?");
        let answer = say(&s, &key, &id, &text, 32).await;
        assert!(answer.get("error").is_none(), "{answer}");
        assert!(answer["user_message"]["content"] == text.as_str());
        // Counted exactly with the model's tokenizer: the prompt always leaves room to answer.
        let prompt_tokens = answer["usage"]["prompt_tokens"].as_u64().unwrap();
        assert!(prompt_tokens <= 512 - 32, "{answer}");
    }
    // 28 messages of 30-60 tokens each against a 512-token window: folded into a summary.
    let summary = s.app.store.get_summary(&user.id, &id).await.unwrap();
    let summary = summary.expect("a summary was stored");
    assert!(summary.through_seq > 0, "{summary:?}");
    assert!(recorder.count("internal/summary") >= 1);
    assert!(recorder.count("internal/summary") < rivers.len());
    let sent = recorder.last("/api/conversations/{id}/messages").unwrap();
    let first = sent.messages.first().unwrap().text();
    assert!(
        first.starts_with("You are a helpful assistant who loves rivers."),
        "{first}"
    );
    assert!(first.contains("Summary of the earlier part"), "{first}");
    assert!(sent.messages.last().unwrap().text().contains("Douro"));
    assert!(sent.messages.len() >= 2);
}

#[tokio::test]
async fn the_real_models_remember_a_name_across_conversations() {
    let (s, recorder) = local_server(1024, "").await;
    let (_, key) = s.user("free").await;
    let first = new_conversation(&s, &key, json!({ "model": "small" })).await;
    say(&s, &key, &first, "My name is Ada and I prefer Rust.", 24).await;
    let texts = memory_texts(&s, &key).await;
    assert!(texts.iter().any(|t| t.contains("Ada")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("Rust")), "{texts:?}");

    // Said again, in other words: nothing new is stored.
    say(&s, &key, &first, "Remember that my name is Ada.", 24).await;
    assert_eq!(memory_texts(&s, &key).await.len(), texts.len());

    let second = new_conversation(&s, &key, json!({ "model": "small" })).await;
    say(&s, &key, &second, "What is my name?", 24).await;
    let sent = recorder.last("/api/conversations/{id}/messages").unwrap();
    let system = sent.messages.first().unwrap().text();
    assert!(system.contains("What you know about the user"), "{system}");
    assert!(system.contains("Ada"), "{system}");
}
