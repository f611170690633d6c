//! Orchestration with the real local models and the real embedder: the originality check
//! flags a planted copy with its source and leaves original text alone; the article writer
//! produces a structured article with every stage stored (and the user's outline edit in
//! it); the agent answers arithmetic through the calculator and records the call.

use std::time::Duration;

use serde_json::{Value, json};

use crate::knowledge::{create_collection, settle, upload};
use crate::orchestration::step;
use crate::support::TestServer;

const LOCAL: &str = r#"
[providers.local]
kind = "local"
threads = 2
max_sequences = 4
context_tokens = 4096
pull_on_start = false

[models.medium]
provider = "local"
target = "qwen2.5-coder-0.5b"

[knowledge]
embedding_model = "minilm"
"#;

/// A server with the small and medium chat models and MiniLM, everything loaded.
pub async fn local_server() -> TestServer {
    let s = TestServer::start_with(|config| {
        format!(
            "{}{LOCAL}",
            config
                .replace("[providers.local]\nkind = \"local\"\n", "")
                .replace(
                    "\"small\", \"minilm\"]",
                    "\"small\", \"medium\", \"minilm\"]"
                )
        )
    })
    .await;
    s.app.start_background();
    s.wait_ready(Duration::from_secs(300), |body| {
        let models = &body["local_models"];
        body["knowledge"] == "ready"
            && models["smollm2-135m"] == "ready"
            && models["qwen2.5-coder-0.5b"] == "ready"
    })
    .await;
    s
}

const COMPOST: &str = "# Composting at home\n\n\
Composting turns kitchen scraps and garden waste into a dark, crumbly soil improver. \
A healthy heap needs a balance of green material such as vegetable peelings and grass \
cuttings, which supply nitrogen, and brown material such as dry leaves, straw and \
cardboard, which supply carbon.\n\n\
Turning the heap every two weeks lets air reach the microbes that do the work, and keeps \
the pile from turning slimy and sour. In warm weather a well-managed heap is ready in \
about three months, while a neglected one may take a year or more.\n";

const CHECK: &str = r#"
name = "check"
[inputs.sections]
type = "array"
required = true
[[steps]]
id = "originality"
kind = "originality"
sections = "inputs.sections"
"#;

#[tokio::test]
async fn the_originality_check_flags_a_planted_copy_with_its_source_and_not_original_text() {
    let s = local_server().await;
    let (_, key) = s.user("free").await;
    let collection = create_collection(&s, &key, "garden").await;
    let uploaded = upload(
        &s,
        &key,
        &collection,
        &[("compost.md", COMPOST.as_bytes().to_vec())],
    )
    .await;
    let id = uploaded[0]["document"]["id"].as_str().unwrap().to_string();
    assert_eq!(settle(&s, &key, &[id]).await[0]["status"], "indexed");

    // A copy of the second paragraph with a few words changed, between two original ones.
    let planted = "Bees are the quiet engine of a vegetable garden, and a patch of flowering herbs \
        keeps them visiting all summer long.\n\n\
        Turning the pile every two weeks lets air reach the microbes that do the work, and \
        keeps the heap from going slimy and sour. In warm weather a well-managed heap is \
        ready in about three months, while a neglected one can take a year or more.\n\n\
        Rain barrels under the gutters catch enough water for a small plot through most \
        dry spells, and the plants prefer it to tap water.";
    let original = "A worm bin fits under a kitchen sink and eats most of what a household throws \
        away. The worms need shredded newspaper for bedding, a little moisture, and food \
        buried rather than left on top, and they reward that care with rich castings that \
        seedlings love.";
    let run = s
        .post_json(
            "/api/workflows/runs",
            &key,
            &json!({
                "workflow": CHECK,
                "inputs": {"sections": [
                    {"heading": "Garden notes", "text": planted},
                    {"heading": "Worms", "text": original},
                ]},
                "wait": true,
            }),
        )
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let report = &step(&run, "originality")["output"];
    assert_eq!(report["flagged"], true, "{report}");
    let copied = &report["sections"][0];
    assert_eq!(copied["flagged"], true, "{copied}");
    let paragraphs = copied["paragraphs"].as_array().unwrap();
    let flagged: Vec<usize> = paragraphs
        .iter()
        .enumerate()
        .filter(|(_, p)| p["flagged"] == true)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(flagged, [1], "only the planted paragraph: {copied}");
    let source = &paragraphs[1]["matches"][0];
    assert_eq!(source["source"]["name"], "compost.md", "{source}");
    assert_eq!(source["copied"], true);
    let excerpt = source["excerpt"].as_str().unwrap();
    assert!(excerpt.contains("well-managed heap is ready"), "{source}");

    let clean = &report["sections"][1];
    assert_eq!(
        clean["flagged"], false,
        "original text was flagged: {clean}"
    );
    assert_eq!(report["similarity_checked"], true);
    assert_eq!(report["knowledge_checked"], true);
}

/// The real small model writes on two shared cores: up to 15 minutes.
async fn article_settled(s: &TestServer, key: &str, id: &str) -> Value {
    s.article_settled(key, id, Duration::from_secs(900)).await
}

#[tokio::test]
async fn the_writer_produces_a_structured_article_with_every_stage_stored() {
    let s = local_server().await;
    let (_, key) = s.user("free").await;
    let created = s
        .post_json(
            "/api/articles",
            &key,
            &json!({
                "topic": "Why to water tomato plants in the morning",
                "mode": "blog",
                "model": "medium",
                "sections": 2,
                "words_per_section": 60,
                "review_outline": true,
            }),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();

    // It stops at the outline for the user.
    let waiting = article_settled(&s, &key, &id).await;
    assert_eq!(waiting["status"], "waiting", "{waiting}");
    let outline = waiting["outline"].clone();
    assert!(
        outline["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{outline}"
    );
    let sections = outline["sections"].as_array().unwrap();
    assert!(sections.len() >= 2, "{outline}");
    let keywords = &waiting["stages"][0];
    assert_eq!(keywords["stage"], "keywords");
    assert!(keywords["output"]["keywords"].as_array().unwrap().len() >= 3);

    // The user renames a heading and keeps two sections.
    let mut edited = outline.clone();
    edited["sections"] = json!([sections[0].clone(), sections[1].clone()]);
    edited["sections"][1]["heading"] = json!("Morning watering and leaf disease");
    let response = s
        .post(
            &format!("/api/articles/{id}/continue"),
            &key,
            &json!({"outline": {"title": ""}}),
        )
        .send()
        .await
        .unwrap();
    crate::support::expect_error(response, 400, "invalid_value").await;
    s.post_json(
        &format!("/api/articles/{id}/continue"),
        &key,
        &json!({"outline": edited}),
    )
    .await;

    let done = article_settled(&s, &key, &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let stages: Vec<&str> = done["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    for stage in [
        "keywords",
        "outline",
        "approved_outline",
        "drafts",
        "edited",
        "originality",
        "meta",
        "article",
    ] {
        assert!(stages.contains(&stage), "{stage} missing from {stages:?}");
    }
    for stage in done["stages"].as_array().unwrap() {
        assert!(
            stage["status"] == "succeeded" || stage["status"] == "skipped",
            "{stage}"
        );
    }
    let drafts = done["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "drafts")
        .unwrap();
    assert_eq!(
        drafts["items"].as_array().unwrap().len(),
        2,
        "a draft per section"
    );
    let article = &done["article"];
    let markdown = article["markdown"].as_str().unwrap();
    assert!(
        markdown.starts_with(&format!("# {}", edited["title"].as_str().unwrap())),
        "{markdown}"
    );
    assert!(
        markdown.contains("\n## Morning watering and leaf disease\n"),
        "{markdown}"
    );
    assert_eq!(markdown.matches("\n## ").count(), 2, "{markdown}");
    assert!(article["words"].as_u64().unwrap() > 40, "{article}");
    assert!(article["reading_minutes"].as_u64().unwrap() >= 1);
    assert!(!article["meta_description"].as_str().unwrap().is_empty());
    assert!(done["originality"]["sections"].as_array().unwrap().len() == 2);
    assert!(done["tokens"].as_i64().unwrap() > 0);

    // Export, and re-running one stage alone.
    let html = s
        .get(&format!("/api/articles/{id}/export?format=html"), &key)
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    assert!(
        html.text()
            .await
            .unwrap()
            .contains("<h2>Morning watering and leaf disease</h2>")
    );
    let before = done["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "keywords")
        .unwrap()["output"]
        .clone();
    s.post_json(
        &format!("/api/articles/{id}/stages/meta/rerun"),
        &key,
        &json!({}),
    )
    .await;
    let again = article_settled(&s, &key, &id).await;
    assert_eq!(again["status"], "succeeded", "{again}");
    let keywords_after = again["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "keywords")
        .unwrap();
    assert_eq!(
        keywords_after["output"], before,
        "an unrelated stage was kept"
    );
    let listed = s.get_json("/api/articles", &key).await;
    assert_eq!(listed["data"][0]["id"], id.as_str());
}

#[tokio::test]
async fn the_agent_answers_arithmetic_through_the_calculator_with_a_local_model() {
    let s = local_server().await;
    let (_, key) = s.user("free").await;
    let run = s
        .post_json(
            "/api/agent/runs",
            &key,
            &json!({
                "task": "What is 1234 * 5678?",
                "model": "medium",
                "tools": ["calculator", "current_time"],
                "wait": true,
            }),
        )
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let steps = run["steps"].as_array().unwrap();
    let call = steps
        .iter()
        .find(|s| s["kind"] == "tool" && s["input"]["tool"] == "calculator")
        .unwrap_or_else(|| panic!("no calculator call: {run}"));
    assert_eq!(call["status"], "succeeded", "{call}");
    assert_eq!(call["output"]["result"], "7006652", "{call}");
    let answer = run["output"]["answer"].as_str().unwrap().replace(',', "");
    assert!(answer.contains("7006652"), "{answer}");
    // Each model turn was held to the JSON protocol: a tool call or an answer.
    for turn in steps.iter().filter(|s| s["kind"] == "model") {
        let output = &turn["output"];
        assert!(
            output.get("answer").is_some() || output.get("tool_calls").is_some(),
            "{turn}"
        );
    }
}
