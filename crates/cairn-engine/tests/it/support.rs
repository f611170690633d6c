use std::path::PathBuf;
use std::time::Duration;

use cairn_engine::{
    ChatEngine, ChatEngineConfig, EngineError, GenerateRequest, Generation, GenerationEvent,
    SamplingParams,
};
use cairn_types::{FinishReason, Usage};

/// The installed model file for a catalog name; fails with the fix when it is missing.
pub fn model_path(name: &str) -> PathBuf {
    let models = cairn_models::Models::from_env().expect("the model cache is readable");
    match models.installed(name).expect("the model cache is readable") {
        Some(m) => m.path,
        None => panic!(
            "model {name} is not installed: run `cargo run -p cairn-server -- models pull {name}` (scripts/test does)"
        ),
    }
}

pub fn engine(name: &str, tune: impl FnOnce(&mut ChatEngineConfig)) -> ChatEngine {
    let mut config = ChatEngineConfig::new(model_path(name));
    config.threads = Some(2);
    config.context_tokens = 2048;
    tune(&mut config);
    ChatEngine::start(config).unwrap()
}

pub fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams {
        temperature: 0.0,
        max_tokens: Some(max_tokens),
        ..SamplingParams::default()
    }
}

pub struct Output {
    pub text: String,
    pub finish_reason: FinishReason,
    pub usage: Usage,
    pub cached_prompt_tokens: u32,
}

/// Runs a generation to its end. The timeout only guards against a hang (a freed slot that
/// never comes back); it says nothing about speed.
pub async fn collect(mut generation: Generation) -> Result<Output, EngineError> {
    let mut text = String::new();
    let deadline = Duration::from_secs(300);
    loop {
        let event = tokio::time::timeout(deadline, generation.next())
            .await
            .expect("the engine hung");
        match event.expect("the engine closed the stream without an end") {
            GenerationEvent::Text(t) => {
                assert!(!t.is_empty(), "empty text events are never sent");
                text.push_str(&t);
            }
            GenerationEvent::Done {
                finish_reason,
                usage,
                cached_prompt_tokens,
                ..
            } => {
                return Ok(Output {
                    text,
                    finish_reason,
                    usage,
                    cached_prompt_tokens,
                });
            }
            GenerationEvent::Failed(err) => return Err(err),
        }
    }
}

pub async fn run(engine: &ChatEngine, prompt: &str, sampling: SamplingParams) -> Output {
    collect(
        engine
            .generate(GenerateRequest {
                prompt: prompt.into(),
                sampling,
            })
            .unwrap(),
    )
    .await
    .unwrap()
}
