//! The engine thread: continuous batching over one llama.cpp context.
//!
//! Each loop turn:
//! 1. takes new jobs off the channel (blocking only when there is nothing to do);
//! 2. frees the sequences and queued jobs whose caller has gone away;
//! 3. gives free sequences to queued jobs, choosing for each the sequence whose cached
//!    tokens share the longest prefix with its prompt, so a repeated system prompt is
//!    decoded once and reused;
//! 4. builds one batch: the last sampled token of every generating sequence, then slices of
//!    prompts still being read, up to `batch_tokens`;
//! 5. decodes it, samples a token for every sequence that has logits, and streams its text.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use cairn_types::{FinishReason, Usage};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::UnboundedSender;

use crate::EngineError;
use crate::backend::backend;
use crate::chat::GenerationEvent;
use crate::sampling::SamplingParams;
use crate::stop::{StopMatcher, Utf8Buffer};

/// `LLAMA_FLASH_ATTN_TYPE_DISABLED` in llama.h.
const FLASH_ATTENTION_DISABLED: i32 = 0;

pub(crate) struct SchedulerParams {
    pub threads: i32,
    pub max_sequences: u32,
    pub context_tokens: u32,
    pub batch_tokens: u32,
    pub total_tokens: NonZeroU32,
}

pub(crate) struct Job {
    pub tokens: Vec<LlamaToken>,
    pub sampling: SamplingParams,
    /// The grammar sampler for `sampling.grammar`, built (and so checked) by the caller.
    pub grammar: Option<LlamaSampler>,
    pub seed: u32,
    pub max_tokens: u32,
    pub tx: UnboundedSender<GenerationEvent>,
    pub submitted: Instant,
}

/// One sequence of the KV cache. `cached` mirrors what the cache holds for it (positions
/// 0..len), kept after a request ends so the next one can reuse a common prefix.
struct Slot {
    seq: i32,
    cached: Vec<LlamaToken>,
    active: Option<Active>,
}

struct Active {
    prompt: Vec<LlamaToken>,
    reused: usize,
    sampler: LlamaSampler,
    /// Under a grammar, control tokens are written as their text: the grammar matched that
    /// text, so the answer stays exactly what the grammar accepted.
    special: bool,
    tx: UnboundedSender<GenerationEvent>,
    max_tokens: u32,
    generated: u32,
    stop: StopMatcher,
    utf8: Utf8Buffer,
    submitted: Instant,
    first_token: Option<Duration>,
    /// Sampled but not yet decoded into the cache.
    next: Option<LlamaToken>,
    /// Where this sequence's logits are in the current batch.
    logits_at: Option<i32>,
}

impl Active {
    /// Sends the last text and the summary. `flush` sends what was held back for a possible
    /// stop string too (not when a stop string is what ended it).
    fn finish(&mut self, reason: FinishReason, text_before: String, flush: bool) {
        let mut tail = text_before;
        if flush {
            let rest = self.utf8.finish();
            let (text, _) = self.stop.push(&rest);
            tail.push_str(&text);
            tail.push_str(&self.stop.finish());
        }
        if !tail.is_empty() {
            let _ = self.tx.send(GenerationEvent::Text(tail));
        }
        let _ = self.tx.send(GenerationEvent::Done {
            finish_reason: reason,
            usage: Usage {
                prompt_tokens: self.prompt.len() as u32,
                completion_tokens: self.generated,
            },
            time_to_first_token: self.first_token.unwrap_or_default(),
            cached_prompt_tokens: self.reused as u32,
        });
    }
}

pub(crate) fn run(
    model: Arc<LlamaModel>,
    params: SchedulerParams,
    jobs: mpsc::Receiver<Job>,
    waiting: Arc<AtomicUsize>,
    ready: mpsc::SyncSender<Result<(), EngineError>>,
) {
    let context = backend().and_then(|backend| {
        let ctx_params = LlamaContextParams::default()
            .with_n_ctx(Some(params.total_tokens))
            .with_n_batch(params.batch_tokens)
            .with_n_ubatch(params.batch_tokens)
            .with_n_seq_max(params.max_sequences)
            .with_n_threads(params.threads)
            .with_n_threads_batch(params.threads)
            // One cache shared by all sequences; each is kept within `context_tokens` here.
            .with_kv_unified(true)
            // llama.cpp's own default elsewhere (llama-cpp-python, the reference): on CPU,
            // flash attention changes numerics, and greedy output with it.
            .with_flash_attention_policy(FLASH_ATTENTION_DISABLED);
        model
            .new_context(backend, ctx_params)
            .map_err(|e| EngineError::Inference(format!("cannot create a context: {e}")))
    });
    let mut ctx = match context {
        Ok(ctx) => {
            let _ = ready.send(Ok(()));
            ctx
        }
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    let mut engine = Scheduler {
        slots: (0..params.max_sequences as i32)
            .map(|seq| Slot {
                seq,
                cached: Vec::new(),
                active: None,
            })
            .collect(),
        queue: VecDeque::new(),
        batch: LlamaBatch::new(params.batch_tokens as usize, 1),
        n_vocab: model.n_vocab(),
        params,
        waiting,
    };
    loop {
        if !engine.receive(&jobs) {
            return;
        }
        engine.drop_cancelled(&mut ctx);
        engine.admit(&mut ctx);
        if engine.build_batch() == 0 {
            continue;
        }
        engine.step(&model, &mut ctx);
    }
}

struct Scheduler {
    slots: Vec<Slot>,
    queue: VecDeque<Job>,
    batch: LlamaBatch<'static>,
    n_vocab: i32,
    params: SchedulerParams,
    waiting: Arc<AtomicUsize>,
}

impl Scheduler {
    fn busy(&self) -> bool {
        !self.queue.is_empty() || self.slots.iter().any(|s| s.active.is_some())
    }

    /// Returns false when every handle is gone and nothing is left to do.
    fn receive(&mut self, jobs: &mpsc::Receiver<Job>) -> bool {
        if !self.busy() {
            match jobs.recv() {
                Ok(job) => self.queue.push_back(job),
                Err(_) => return false,
            }
        }
        while let Ok(job) = jobs.try_recv() {
            self.queue.push_back(job);
        }
        true
    }

    fn drop_cancelled(&mut self, ctx: &mut LlamaContext<'_>) {
        let before = self.queue.len();
        self.queue.retain(|job| !job.tx.is_closed());
        self.waiting
            .fetch_sub(before - self.queue.len(), Ordering::AcqRel);
        for slot in &mut self.slots {
            if slot.active.as_ref().is_some_and(|a| a.tx.is_closed()) {
                release(slot, ctx, false);
            }
        }
    }

    /// Idle slots keep their cache for a later request that continues or shares it (the next
    /// turn of a chat, a common system prompt). But every cell in use widens attention for
    /// every sequence, and stale tails made long prompts read twice as slowly (measured:
    /// BENCHMARKS.md, local inference). So when requests wait, each idle cache keeps only the
    /// prefix one of them can reuse.
    fn trim_idle(&mut self, ctx: &mut LlamaContext<'_>) {
        for slot in self.slots.iter_mut().filter(|s| s.active.is_none()) {
            let useful = self
                .queue
                .iter()
                .map(|job| common_prefix(&slot.cached, &job.tokens))
                .max()
                .unwrap_or(0);
            if useful >= slot.cached.len() {
                continue;
            }
            if ctx
                .clear_kv_cache_seq(Some(slot.seq as u32), Some(useful as u32), None)
                .is_err()
            {
                ctx.clear_kv_cache_seq(Some(slot.seq as u32), None, None)
                    .ok();
                slot.cached.clear();
            }
            slot.cached.truncate(useful);
        }
    }

    fn admit(&mut self, ctx: &mut LlamaContext<'_>) {
        if !self.queue.is_empty() {
            self.trim_idle(ctx);
        }
        while !self.queue.is_empty() {
            let job = &self.queue[0];
            let best = self
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.active.is_none())
                .map(|(i, s)| (i, common_prefix(&s.cached, &job.tokens)))
                .max_by_key(|&(i, common)| (common, std::cmp::Reverse(i)));
            let Some((index, common)) = best else { return };
            let job = self.queue.pop_front().expect("checked above");
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            // At least the last prompt token is decoded again: its logits pick the first token.
            let keep = common.min(job.tokens.len() - 1);
            let slot = &mut self.slots[index];
            if ctx
                .clear_kv_cache_seq(Some(slot.seq as u32), Some(keep as u32), None)
                .is_err()
            {
                ctx.clear_kv_cache_seq(Some(slot.seq as u32), None, None)
                    .ok();
                slot.cached.clear();
            }
            slot.cached.truncate(keep);
            let reused = slot.cached.len();
            slot.active = Some(Active {
                special: job.grammar.is_some(),
                sampler: job.sampling.sampler(job.seed, self.n_vocab, job.grammar),
                stop: StopMatcher::new(job.sampling.stop),
                prompt: job.tokens,
                reused,
                tx: job.tx,
                max_tokens: job.max_tokens,
                generated: 0,
                utf8: Utf8Buffer::default(),
                submitted: job.submitted,
                first_token: None,
                next: None,
                logits_at: None,
            });
        }
    }

    /// Fills the batch; returns how many tokens it holds.
    fn build_batch(&mut self) -> usize {
        self.batch.clear();
        let mut budget = self.params.batch_tokens as usize;
        // Generating sequences first: one token each keeps every stream moving.
        for slot in &mut self.slots {
            let Some(active) = &mut slot.active else {
                continue;
            };
            if let Some(token) = active.next.take() {
                let pos = slot.cached.len() as i32;
                if self.batch.add(token, pos, &[slot.seq], true).is_err() {
                    active.next = Some(token);
                    break;
                }
                active.logits_at = Some(self.batch.n_tokens() - 1);
                slot.cached.push(token);
                budget -= 1;
            }
        }
        // Then slices of prompts still being read.
        for slot in &mut self.slots {
            let Some(active) = &mut slot.active else {
                continue;
            };
            let done = slot.cached.len();
            if budget == 0
                || active.next.is_some()
                || active.logits_at.is_some()
                || done >= active.prompt.len()
            {
                continue;
            }
            let take = budget.min(active.prompt.len() - done);
            for i in done..done + take {
                let last = i + 1 == active.prompt.len();
                if self
                    .batch
                    .add(active.prompt[i], i as i32, &[slot.seq], last)
                    .is_err()
                {
                    break;
                }
                slot.cached.push(active.prompt[i]);
                budget -= 1;
                if last {
                    active.logits_at = Some(self.batch.n_tokens() - 1);
                }
            }
        }
        self.batch.n_tokens() as usize
    }

    fn step(&mut self, model: &LlamaModel, ctx: &mut LlamaContext<'_>) {
        if let Err(err) = ctx.decode(&mut self.batch) {
            // Every sequence in the failed batch is in an unknown state: fail them all.
            let reason = format!("llama_decode failed: {err}");
            tracing::error!(%reason, "decode step failed");
            for slot in &mut self.slots {
                if let Some(active) = &slot.active {
                    let _ = active
                        .tx
                        .send(GenerationEvent::Failed(EngineError::Inference(
                            reason.clone(),
                        )));
                    release(slot, ctx, true);
                }
            }
            return;
        }
        let vocab = model.vocab();
        let context_tokens = self.params.context_tokens as usize;
        for slot in &mut self.slots {
            let Some(active) = &mut slot.active else {
                continue;
            };
            let Some(at) = active.logits_at.take() else {
                continue;
            };
            let token = active.sampler.sample(ctx, at);
            active.generated += 1;
            active
                .first_token
                .get_or_insert_with(|| active.submitted.elapsed());
            if vocab.is_eog(token) {
                active.finish(FinishReason::Stop, String::new(), true);
                release(slot, ctx, false);
                continue;
            }
            let piece = vocab.token_to_piece(token, active.special, None);
            let text = active.utf8.push(&piece);
            let (text, stopped) = active.stop.push(&text);
            if stopped {
                active.finish(FinishReason::Stop, text, false);
                release(slot, ctx, false);
                continue;
            }
            if !text.is_empty() && active.tx.send(GenerationEvent::Text(text)).is_err() {
                release(slot, ctx, false);
                continue;
            }
            if active.generated >= active.max_tokens || slot.cached.len() + 1 >= context_tokens {
                active.finish(FinishReason::Length, String::new(), true);
                release(slot, ctx, false);
                continue;
            }
            active.next = Some(token);
        }
    }
}

/// Ends a slot's request. The cache keeps its tokens for prefix reuse unless `wipe`.
fn release(slot: &mut Slot, ctx: &mut LlamaContext<'_>, wipe: bool) {
    slot.active = None;
    if wipe {
        ctx.clear_kv_cache_seq(Some(slot.seq as u32), None, None)
            .ok();
        slot.cached.clear();
    }
}

fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
