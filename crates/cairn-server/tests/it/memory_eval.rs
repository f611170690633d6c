//! How much of what memory stores is worth storing: 40 labelled user turns
//! (`bench/memory/turns.json`), each sent to a fresh conversation, then every stored memory
//! judged against the facts labelled for its turn. Reports precision (stored memories that
//! are real, durable facts), junk, and recall (labelled facts captured) for patterns alone,
//! each local model alone, and both together.
//!
//! Slow (real models) and a measurement rather than a check, so ignored by default:
//! `bench/memory/run.sh` runs it and prints the table BENCHMARKS.md reports.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::memory::{new_conversation, say};
use crate::support::TestServer;

const TURNS: &str = include_str!("../../../../bench/memory/turns.json");

#[derive(Deserialize)]
struct Turn {
    text: String,
    /// Each fact is a set of keywords a memory must all contain (lowercase).
    facts: Vec<Vec<String>>,
}

struct Variant {
    name: &'static str,
    patterns: bool,
    /// The extracting model's public name; `None`: no model extraction.
    model: Option<&'static str>,
}

const LOCAL: &str = r#"
[providers.local]
kind = "local"
threads = 2
max_sequences = 2
context_tokens = 2048
queue_capacity = 8
pull_on_start = false
"#;

fn config(base: String, variant: &Variant) -> String {
    let base = base
        .replace("[providers.local]\nkind = \"local\"\n", LOCAL)
        .replace(
            "\"small\", \"minilm\"]",
            "\"small\", \"minilm\", \"medium\"]",
        );
    format!(
        "{base}\n[models.medium]\nprovider = \"local\"\ntarget = \"qwen2.5-coder-0.5b\"\n\n\
         [memory]\nembedding_model = \"minilm\"\nextract_with_patterns = {}\n\
         extract_with_model = {}\nmodel = \"{}\"\n",
        variant.patterns,
        variant.model.is_some(),
        variant.model.unwrap_or(""),
    )
}

async fn ready(s: &TestServer) {
    s.app.start_background();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let body: Value = s.get_json("/readyz", "").await;
        let models = &body["local_models"];
        if models
            .as_object()
            .is_some_and(|m| !m.is_empty() && m.values().all(|v| v == "ready"))
        {
            return;
        }
        assert!(!models.to_string().contains("failed"), "{body}");
        assert!(Instant::now() < deadline, "the models did not load: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `cairn_memory_facts_total` by label set.
async fn fact_counters(s: &TestServer) -> BTreeMap<String, f64> {
    let text = s
        .client
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("cairn_memory_facts_total{"))
        .filter_map(|l| {
            let (labels, value) = l.rsplit_once("} ")?;
            Some((labels.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

fn matches(memory: &str, fact: &[String]) -> bool {
    let memory = memory.to_lowercase();
    fact.iter().all(|k| memory.contains(k.as_str()))
}

struct Report {
    stored: usize,
    correct: usize,
    facts_found: usize,
    junk: Vec<String>,
    counters: BTreeMap<String, f64>,
    seconds: f64,
}

async fn run(variant: &Variant, turns: &[Turn]) -> Report {
    let s = TestServer::start_with(|c| config(c, variant)).await;
    ready(&s).await;
    let (_, key) = s.user("free").await;
    let before = fact_counters(&s).await;
    let started = Instant::now();
    let mut turn_of_message = BTreeMap::new();
    for (i, turn) in turns.iter().enumerate() {
        // The answers come from the fake upstream: only extraction uses the local model.
        let id = new_conversation(&s, &key, json!({ "model": "gpt" })).await;
        let answer = say(&s, &key, &id, &turn.text, 8).await;
        let message_id = answer["user_message"]["id"].as_str().unwrap().to_string();
        turn_of_message.insert(message_id, i);
    }
    let seconds = started.elapsed().as_secs_f64();
    let listed: Value = s.get_json("/api/memories?limit=1000", &key).await;
    let memories = listed["data"].as_array().unwrap();
    let all_facts: Vec<&Vec<String>> = turns.iter().flat_map(|t| &t.facts).collect();
    let mut correct = 0;
    let mut junk = Vec::new();
    for m in memories {
        let text = m["text"].as_str().unwrap();
        let facts: Vec<&Vec<String>> = match m["source_message_id"]
            .as_str()
            .and_then(|id| turn_of_message.get(id))
        {
            Some(&i) => turns[i].facts.iter().collect(),
            None => all_facts.clone(),
        };
        if facts.iter().any(|f| matches(text, f)) {
            correct += 1;
        } else {
            junk.push(text.to_string());
        }
    }
    let facts_found = all_facts
        .iter()
        .filter(|f| {
            memories
                .iter()
                .any(|m| matches(m["text"].as_str().unwrap(), f))
        })
        .count();
    let after = fact_counters(&s).await;
    let counters = after
        .into_iter()
        .map(|(k, v)| {
            let d = v - before.get(&k).copied().unwrap_or(0.0);
            (k, d)
        })
        .filter(|(_, d)| *d > 0.0)
        .collect();
    Report {
        stored: memories.len(),
        correct,
        facts_found,
        junk,
        counters,
        seconds,
    }
}

#[tokio::test]
#[ignore = "a measurement with the real models: bench/memory/run.sh"]
async fn memory_precision() {
    let turns: Vec<Turn> = serde_json::from_str(TURNS).unwrap();
    let labelled: usize = turns.iter().map(|t| t.facts.len()).sum();
    let with_facts = turns.iter().filter(|t| !t.facts.is_empty()).count();
    let variants = [
        Variant {
            name: "patterns only",
            patterns: true,
            model: None,
        },
        Variant {
            name: "SmolLM2-135M only",
            patterns: false,
            model: Some("small"),
        },
        Variant {
            name: "patterns + SmolLM2-135M",
            patterns: true,
            model: Some("small"),
        },
        Variant {
            name: "Qwen2.5-Coder-0.5B only",
            patterns: false,
            model: Some("medium"),
        },
        Variant {
            name: "patterns + Qwen2.5-Coder-0.5B",
            patterns: true,
            model: Some("medium"),
        },
    ];
    let only = std::env::var("MEMORY_EVAL_ONLY").ok();
    println!(
        "\n{} turns, {with_facts} with durable facts, {labelled} labelled facts\n",
        turns.len()
    );
    println!(
        "| extractor | stored | correct | junk | precision | facts found (of {labelled}) | seconds for 40 turns |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut details = Vec::new();
    for variant in &variants {
        if only.as_deref().is_some_and(|o| !variant.name.contains(o)) {
            continue;
        }
        let r = run(variant, &turns).await;
        let precision = if r.stored == 0 {
            1.0
        } else {
            r.correct as f64 / r.stored as f64
        };
        println!(
            "| {} | {} | {} | {} | {:.0}% | {} ({:.0}%) | {:.1} |",
            variant.name,
            r.stored,
            r.correct,
            r.junk.len(),
            precision * 100.0,
            r.facts_found,
            r.facts_found as f64 * 100.0 / labelled as f64,
            r.seconds,
        );
        details.push((variant.name, r));
    }
    for (name, r) in &details {
        println!("\n{name}: candidates by source and outcome");
        for (labels, n) in &r.counters {
            println!("  {labels}: {n}");
        }
        for j in &r.junk {
            println!("  junk stored: {j:?}");
        }
    }
    // Patterns alone must stay precise: they are what recall relies on with small models.
    if let Some((_, r)) = details.iter().find(|(n, _)| *n == "patterns only") {
        assert!(
            r.correct * 10 >= r.stored * 9,
            "patterns stored junk: {:?}",
            r.junk
        );
    }
}
