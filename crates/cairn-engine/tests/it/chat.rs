use cairn_engine::{EngineError, GenerateRequest, GenerationEvent, PromptMessage, SamplingParams};
use cairn_types::FinishReason;
use serde_json::Value;

use crate::support::{collect, engine, greedy, run};

fn reference() -> Value {
    serde_json::from_str(include_str!("../fixtures/llama_reference.json")).unwrap()
}

fn messages(case: &Value) -> Vec<PromptMessage> {
    case["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| PromptMessage::text(m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect()
}

/// The bar: with greedy sampling, the first 32 tokens equal llama.cpp's (llama-cpp-python,
/// same GGUF), and the prompt is rendered and tokenised exactly as it was there.
#[tokio::test]
async fn greedy_output_equals_llama_cpp_on_the_same_gguf() {
    for model in reference()["models"].as_array().unwrap() {
        let name = model["name"].as_str().unwrap();
        let engine = engine(name, |_| {});
        for case in model["cases"].as_array().unwrap() {
            let prompt = engine.render_prompt(&messages(case), None).unwrap();
            assert_eq!(
                prompt,
                case["prompt"].as_str().unwrap(),
                "{name}: template rendering differs"
            );
            let expected_tokens = case["prompt_token_ids"].as_array().unwrap().len();
            assert_eq!(
                engine.count_tokens(&prompt),
                expected_tokens,
                "{name}: tokenisation differs"
            );
            let out = run(&engine, &prompt, greedy(32)).await;
            assert_eq!(
                out.text,
                case["text"].as_str().unwrap(),
                "{name}: generation differs for {prompt:?}"
            );
            let expected_finish = if case["finish"] == "length" {
                FinishReason::Length
            } else {
                FinishReason::Stop
            };
            assert_eq!(out.finish_reason, expected_finish, "{name}");
            assert_eq!(out.usage.prompt_tokens as usize, expected_tokens);
            assert_eq!(
                out.usage.completion_tokens as usize,
                case["token_ids"].as_array().unwrap().len(),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn a_seed_makes_sampling_repeatable() {
    let engine = engine("smollm2-135m", |_| {});
    let prompt = engine
        .render_prompt(
            &[PromptMessage::text("user", "Tell me a story about a fox.")],
            None,
        )
        .unwrap();
    let sampling = |seed| SamplingParams {
        temperature: 0.9,
        top_p: 0.95,
        top_k: 40,
        seed: Some(seed),
        max_tokens: Some(24),
        ..SamplingParams::default()
    };
    let a = run(&engine, &prompt, sampling(7)).await.text;
    let b = run(&engine, &prompt, sampling(7)).await.text;
    assert_eq!(a, b, "same seed, same input, same output");
    let others: Vec<String> = run_each(&engine, &prompt, [8, 9, 10].map(sampling)).await;
    assert!(
        others.iter().any(|o| *o != a),
        "other seeds draw other tokens"
    );
}

async fn run_each(
    engine: &cairn_engine::ChatEngine,
    prompt: &str,
    params: [SamplingParams; 3],
) -> Vec<String> {
    let mut out = Vec::new();
    for p in params {
        out.push(run(engine, prompt, p).await.text);
    }
    out
}

#[tokio::test]
async fn stop_strings_end_the_answer_even_across_tokens() {
    let engine = engine("qwen2.5-coder-0.5b", |_| {});
    let prompt = engine
        .render_prompt(
            &[PromptMessage::text(
                "user",
                "What is the capital of France?",
            )],
            None,
        )
        .unwrap();
    let full = run(&engine, &prompt, greedy(32)).await.text;
    assert!(full.contains("capital of France"), "{full}");
    // "of Fr" spans the tokens " of" and " France": it must still stop, and never be sent.
    let stop = SamplingParams {
        stop: vec!["of Fr".into()],
        ..greedy(32)
    };
    let out = run(&engine, &prompt, stop).await;
    assert_eq!(out.finish_reason, FinishReason::Stop);
    assert_eq!(out.text, full[..full.find("of Fr").unwrap()]);
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_refused_with_the_numbers() {
    let engine = engine("smollm2-135m", |c| c.context_tokens = 64);
    let long = "word ".repeat(200);
    let Err(err) = engine.generate(GenerateRequest {
        prompt: long,
        sampling: greedy(8),
    }) else {
        panic!("accepted")
    };
    let EngineError::ContextOverflow {
        prompt_tokens,
        context_tokens,
    } = err
    else {
        panic!("{err}")
    };
    assert!(prompt_tokens >= 200, "{prompt_tokens}");
    assert_eq!(context_tokens, 64);
    assert!(err.to_string().contains(&prompt_tokens.to_string()));
}

#[tokio::test]
async fn a_full_queue_refuses_at_once_and_cancelling_frees_the_slot() {
    let engine = engine("smollm2-135m", |c| {
        c.max_sequences = 1;
        c.queue_capacity = 1;
    });
    let prompt = engine
        .render_prompt(
            &[PromptMessage::text("user", "Count to one thousand.")],
            None,
        )
        .unwrap();
    let request = |max| GenerateRequest {
        prompt: prompt.clone(),
        sampling: greedy(max),
    };
    let mut running = engine.generate(request(1000)).unwrap();
    // Once it streams, it holds the only sequence.
    assert!(matches!(
        running.next().await,
        Some(GenerationEvent::Text(_))
    ));
    let waiting = engine.generate(request(4)).unwrap();
    let Err(err) = engine.generate(request(4)) else {
        panic!("a third request was queued")
    };
    assert!(
        matches!(err, EngineError::QueueFull { capacity: 1 }),
        "{err}"
    );
    // Dropping the stream cancels it: the waiting request gets the sequence and finishes.
    drop(running);
    let out = collect(waiting).await.unwrap();
    assert_eq!(out.usage.completion_tokens, 4);
    assert_eq!(out.finish_reason, FinishReason::Length);
}

#[tokio::test]
async fn eight_concurrent_streams_all_finish_with_exact_usage() {
    let engine = engine("smollm2-135m", |c| c.max_sequences = 8);
    let mut generations = Vec::new();
    for i in 0..8 {
        let prompt = engine
            .render_prompt(
                &[PromptMessage::text(
                    "user",
                    &format!("Write {i} words about the sea."),
                )],
                None,
            )
            .unwrap();
        let g = engine
            .generate(GenerateRequest {
                prompt,
                sampling: greedy(16 + i),
            })
            .unwrap();
        generations.push((g.prompt_tokens, 16 + i, g));
    }
    let results = futures::future::join_all(generations.into_iter().map(
        |(prompt_tokens, max, g)| async move { (prompt_tokens, max, collect(g).await.unwrap()) },
    ))
    .await;
    for (prompt_tokens, max, out) in results {
        assert_eq!(out.usage.prompt_tokens as usize, prompt_tokens);
        match out.finish_reason {
            FinishReason::Length => assert_eq!(out.usage.completion_tokens, max),
            _ => assert!(out.usage.completion_tokens <= max),
        }
        assert!(!out.text.is_empty());
    }
}

#[tokio::test]
async fn a_repeated_system_prompt_reuses_its_cached_prefix() {
    let engine = engine("smollm2-135m", |c| c.max_sequences = 1);
    let system = "You are a careful assistant. ".repeat(20);
    let ask = |q: &str| {
        engine
            .render_prompt(
                &[
                    PromptMessage::text("system", &system),
                    PromptMessage::text("user", q),
                ],
                None,
            )
            .unwrap()
    };
    let first = run(&engine, &ask("Name a colour."), greedy(4)).await;
    assert_eq!(first.cached_prompt_tokens, 0);
    let second = run(&engine, &ask("Name an animal."), greedy(4)).await;
    assert!(
        second.cached_prompt_tokens > 100,
        "reused {} tokens",
        second.cached_prompt_tokens
    );
    // Reuse changes nothing in the answer.
    let fresh = engine_alone(&ask("Name an animal.")).await;
    assert_eq!(second.text, fresh);
}

async fn engine_alone(prompt: &str) -> String {
    let engine = engine("smollm2-135m", |c| c.max_sequences = 1);
    run(&engine, prompt, greedy(4)).await.text
}

#[tokio::test]
async fn tools_reach_a_template_that_supports_them() {
    let engine = engine("qwen2.5-coder-0.5b", |_| {});
    let tools = serde_json::json!([{ "type": "function", "function": { "name": "calculator", "parameters": { "type": "object" } } }]);
    let prompt = engine
        .render_prompt(&[PromptMessage::text("user", "What is 6*7?")], Some(&tools))
        .unwrap();
    assert!(prompt.contains(r#"{"type": "function", "function": {"name": "calculator", "parameters": {"type": "object"}}}"#), "{prompt}");
    assert!(prompt.contains("<tool_call>"));
}
