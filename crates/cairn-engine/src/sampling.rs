//! Sampling parameters and the llama.cpp sampler chain built from them.

use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::logit_bias::LlamaLogitBias;

use crate::grammar::Grammar;

/// How to pick each next token. Defaults follow OpenAI's (temperature 1, top_p 1).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// 0 picks the most likely token every time (greedy).
    pub temperature: f32,
    pub top_p: f32,
    /// 0 disables top-k.
    pub top_k: u32,
    /// 0 disables min-p.
    pub min_p: f32,
    /// 1 disables the repetition penalty.
    pub repetition_penalty: f32,
    pub frequency_penalty: f32,
    pub presence_penalty: f32,
    /// Same seed and same input give the same output. `None` draws one.
    pub seed: Option<u64>,
    /// `None`: until the context window is full.
    pub max_tokens: Option<u32>,
    pub stop: Vec<String>,
    /// Added to the logits of these token ids before sampling (OpenAI's `logit_bias`; -100
    /// forbids a token, 100 forces it).
    pub logit_bias: Vec<(i32, f32)>,
    /// Every token must keep the answer inside this grammar; the answer ends when the grammar
    /// is complete.
    pub grammar: Option<Grammar>,
}

impl Default for SamplingParams {
    fn default() -> SamplingParams {
        SamplingParams {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            min_p: 0.0,
            repetition_penalty: 1.0,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            seed: None,
            max_tokens: None,
            stop: Vec::new(),
            logit_bias: Vec::new(),
            grammar: None,
        }
    }
}

/// How many recent tokens the penalties look at (llama.cpp's default).
const PENALTY_WINDOW: i32 = 64;

impl SamplingParams {
    pub(crate) fn validate(&self) -> Result<(), String> {
        let finite = [
            self.temperature,
            self.top_p,
            self.min_p,
            self.repetition_penalty,
            self.frequency_penalty,
            self.presence_penalty,
        ];
        if finite.iter().any(|v| !v.is_finite()) {
            return Err("sampling parameters must be finite numbers".into());
        }
        if self.temperature < 0.0
            || !(0.0..=1.0).contains(&self.top_p)
            || !(0.0..=1.0).contains(&self.min_p)
        {
            return Err("temperature must be ≥ 0, top_p and min_p between 0 and 1".into());
        }
        if self.repetition_penalty <= 0.0 {
            return Err("repetition_penalty must be > 0".into());
        }
        if self
            .logit_bias
            .iter()
            .any(|(_, b)| !b.is_finite() || !(-100.0..=100.0).contains(b))
        {
            return Err("logit_bias values must be between -100 and 100".into());
        }
        if self.max_tokens == Some(0) {
            return Err("max_tokens must be at least 1".into());
        }
        Ok(())
    }

    /// The chain llama.cpp's own server uses, in its order: logit bias, penalties, top-k,
    /// top-p, min-p, temperature, then a seeded draw (or greedy at temperature 0).
    ///
    /// The grammar sampler (built by the caller from `self.grammar`, see
    /// `ChatEngine::generate`) goes right after the penalties and before any truncation: it
    /// sets every token the grammar forbids to -inf, so top-k/top-p and the final pick only
    /// ever see allowed tokens (after a truncation it could be left with none, and the pick
    /// would be a forbidden token, which llama.cpp aborts on when the grammar accepts it).
    /// End-of-generation tokens are allowed only once the grammar is complete, and are then
    /// the only ones allowed, so a finished answer ends. `LlamaSampler::sample` applies the
    /// chain and then accepts the picked token in every sampler of it, which is how the
    /// grammar follows the answer; prompt tokens are never accepted.
    pub(crate) fn sampler(
        &self,
        seed: u32,
        n_vocab: i32,
        grammar: Option<LlamaSampler>,
    ) -> LlamaSampler {
        let mut chain = Vec::new();
        let biases: Vec<LlamaLogitBias> = self
            .logit_bias
            .iter()
            .filter(|(token, _)| (0..n_vocab).contains(token))
            .map(|&(token, bias)| LlamaLogitBias::new(LlamaToken(token), bias))
            .collect();
        if !biases.is_empty() {
            chain.push(LlamaSampler::logit_bias(n_vocab, &biases));
        }
        if self.repetition_penalty != 1.0
            || self.frequency_penalty != 0.0
            || self.presence_penalty != 0.0
        {
            chain.push(LlamaSampler::penalties(
                n_vocab,
                PENALTY_WINDOW,
                self.repetition_penalty,
                self.frequency_penalty,
                self.presence_penalty,
            ));
        }
        chain.extend(grammar);
        if self.temperature <= 0.0 {
            chain.push(LlamaSampler::greedy());
            return LlamaSampler::chain_simple(chain);
        }
        if self.top_k > 0 {
            chain.push(LlamaSampler::top_k(self.top_k.min(i32::MAX as u32) as i32));
        }
        if self.top_p < 1.0 {
            chain.push(LlamaSampler::top_p(self.top_p, 1));
        }
        if self.min_p > 0.0 {
            chain.push(LlamaSampler::min_p(self.min_p, 1));
        }
        chain.push(LlamaSampler::temp(self.temperature));
        chain.push(LlamaSampler::dist(seed));
        LlamaSampler::chain_simple(chain)
    }
}
