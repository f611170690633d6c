//! The handle to a running chat model.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use cairn_types::{FinishReason, Usage};
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use tokio::sync::mpsc as async_mpsc;

use crate::EngineError;
use crate::backend::backend;
use crate::grammar::Grammar;
use crate::sampling::SamplingParams;
use crate::scheduler::{self, Job, SchedulerParams};
use crate::template::{ChatTemplate, PromptMessage};

#[derive(Debug, Clone)]
pub struct ChatEngineConfig {
    pub model_path: PathBuf,
    /// CPU threads for llama.cpp; `None` uses every core.
    pub threads: Option<u32>,
    /// Sequences decoded together (continuous batching width).
    pub max_sequences: u32,
    /// Context window of each sequence, in tokens (capped at what the model was trained on).
    pub context_tokens: u32,
    /// Requests allowed to wait for a free sequence before new ones are refused.
    pub queue_capacity: usize,
    /// Most tokens in one decode step (prompt slices plus one per running sequence).
    pub batch_tokens: u32,
}

impl ChatEngineConfig {
    pub fn new(model_path: impl Into<PathBuf>) -> ChatEngineConfig {
        ChatEngineConfig {
            model_path: model_path.into(),
            threads: None,
            max_sequences: 8,
            context_tokens: 4096,
            queue_capacity: 64,
            batch_tokens: 512,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// `general.name` from the GGUF metadata, or the file name.
    pub name: String,
    pub path: PathBuf,
    pub size_bytes: u64,
    pub context_tokens: u32,
    pub n_ctx_train: u32,
    pub max_sequences: u32,
    pub has_chat_template: bool,
}

pub struct GenerateRequest {
    /// The rendered prompt (see [`ChatEngine::render_prompt`]).
    pub prompt: String,
    pub sampling: SamplingParams,
}

#[derive(Debug, Clone)]
pub enum GenerationEvent {
    /// The next piece of text. Never empty; never part of a stop string.
    Text(String),
    Done {
        finish_reason: FinishReason,
        usage: Usage,
        time_to_first_token: Duration,
        /// Prompt tokens whose KV was reused from an earlier request instead of computed.
        cached_prompt_tokens: u32,
    },
    Failed(EngineError),
}

/// A generation in progress. Dropping it cancels the generation: the engine notices before
/// its next step and frees the sequence.
pub struct Generation {
    pub prompt_tokens: usize,
    events: async_mpsc::UnboundedReceiver<GenerationEvent>,
}

impl Generation {
    pub async fn next(&mut self) -> Option<GenerationEvent> {
        self.events.recv().await
    }

    pub fn into_receiver(self) -> async_mpsc::UnboundedReceiver<GenerationEvent> {
        self.events
    }
}

/// A loaded chat model and its engine thread. Cheap to clone; the thread stops when the last
/// clone is dropped.
#[derive(Clone)]
pub struct ChatEngine {
    inner: Arc<Inner>,
}

struct Inner {
    model: Arc<LlamaModel>,
    template: Option<ChatTemplate>,
    info: ModelInfo,
    jobs: mpsc::Sender<Job>,
    waiting: Arc<AtomicUsize>,
    queue_capacity: usize,
    bos_text: String,
    add_bos: bool,
}

impl ChatEngine {
    /// Loads the model and starts its engine thread. Blocking (reads the whole file): call it
    /// from a blocking context.
    pub fn start(config: ChatEngineConfig) -> Result<ChatEngine, EngineError> {
        let backend = backend()?;
        if config.max_sequences == 0 || config.context_tokens < 16 || config.batch_tokens == 0 {
            return Err(EngineError::InvalidRequest(
                "max_sequences and batch_tokens must be at least 1, context_tokens at least 16"
                    .into(),
            ));
        }
        let load_error = |reason: String| EngineError::Load {
            path: config.model_path.clone(),
            reason,
        };
        let size_bytes = std::fs::metadata(&config.model_path)
            .map_err(|e| load_error(e.to_string()))?
            .len();
        let model =
            LlamaModel::load_from_file(backend, &config.model_path, &LlamaModelParams::default())
                .map_err(|e| load_error(e.to_string()))?;
        let model = Arc::new(model);
        let vocab = model.vocab();
        let n_ctx_train = model.n_ctx_train();
        let context_tokens = if n_ctx_train > 0 {
            config.context_tokens.min(n_ctx_train)
        } else {
            config.context_tokens
        };
        let token_text = |t: LlamaToken| {
            String::from_utf8_lossy(&vocab.token_to_piece(t, true, None)).into_owned()
        };
        let bos_text = token_text(vocab.bos());
        let eos_text = token_text(vocab.eos());
        let template = match model.meta_val_str("tokenizer.chat_template") {
            Ok(source) => Some(ChatTemplate::new(source, bos_text.clone(), eos_text)?),
            Err(_) => None,
        };
        let name = model.meta_val_str("general.name").unwrap_or_else(|_| {
            config
                .model_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let info = ModelInfo {
            name,
            path: config.model_path.clone(),
            size_bytes,
            context_tokens,
            n_ctx_train,
            max_sequences: config.max_sequences,
            has_chat_template: template.is_some(),
        };
        let threads = config
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32));
        let params = SchedulerParams {
            threads: i32::try_from(threads.max(1)).unwrap_or(1),
            max_sequences: config.max_sequences,
            context_tokens,
            batch_tokens: config.batch_tokens,
            total_tokens: NonZeroU32::new(context_tokens.saturating_mul(config.max_sequences))
                .expect("both at least 1"),
        };
        let (jobs, receiver) = mpsc::channel();
        let waiting = Arc::new(AtomicUsize::new(0));
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread_model = model.clone();
        let thread_waiting = waiting.clone();
        std::thread::Builder::new()
            .name(format!("cairn-engine-{}", info.name))
            .spawn(move || scheduler::run(thread_model, params, receiver, thread_waiting, ready_tx))
            .map_err(|e| EngineError::Inference(format!("cannot start the engine thread: {e}")))?;
        ready_rx.recv().map_err(|_| EngineError::Stopped)??;
        let add_bos = vocab.should_add_bos();
        tracing::info!(model = %info.name, context_tokens, max_sequences = config.max_sequences, threads, "chat model loaded");
        Ok(ChatEngine {
            inner: Arc::new(Inner {
                model,
                template,
                info,
                jobs,
                waiting,
                queue_capacity: config.queue_capacity,
                bos_text,
                add_bos,
            }),
        })
    }

    pub fn model_info(&self) -> &ModelInfo {
        &self.inner.info
    }

    /// Requests waiting for a free sequence right now.
    pub fn queued(&self) -> usize {
        self.inner.waiting.load(Ordering::Acquire)
    }

    /// Renders messages (and tool definitions, where the template supports them) with the
    /// model's own chat template, ready for [`ChatEngine::generate`].
    pub fn render_prompt(
        &self,
        messages: &[PromptMessage],
        tools: Option<&serde_json::Value>,
    ) -> Result<String, EngineError> {
        let template = self.inner.template.as_ref().ok_or_else(|| {
            EngineError::InvalidRequest(format!(
                "the model '{}' has no chat template; it is a completion model",
                self.inner.info.name
            ))
        })?;
        template.render(messages, tools)
    }

    fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        // Templates usually write the BOS text themselves; add the token only when the model
        // wants one and the text does not start with it.
        let add_bos = self.inner.add_bos
            && (self.inner.bos_text.is_empty() || !text.starts_with(&self.inner.bos_text));
        let vocab = self.inner.model.vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), false, true);
        if add_bos {
            tokens.insert(0, vocab.bos());
        }
        tokens
    }

    pub fn count_tokens(&self, text: &str) -> usize {
        self.tokenize(text).len()
    }

    /// Queues a generation. Refuses at once, without queueing, when the prompt does not fit
    /// the context window or the queue is full.
    pub fn generate(&self, request: GenerateRequest) -> Result<Generation, EngineError> {
        request
            .sampling
            .validate()
            .map_err(EngineError::InvalidRequest)?;
        let grammar = request
            .sampling
            .grammar
            .as_ref()
            .map(|g| self.grammar_sampler(g))
            .transpose()?;
        let tokens = self.tokenize(&request.prompt);
        let context_tokens = self.inner.info.context_tokens as usize;
        if tokens.is_empty() {
            return Err(EngineError::InvalidRequest("the prompt is empty".into()));
        }
        if tokens.len() >= context_tokens {
            return Err(EngineError::ContextOverflow {
                prompt_tokens: tokens.len(),
                context_tokens,
            });
        }
        let room = (context_tokens - tokens.len()) as u32;
        let max_tokens = request.sampling.max_tokens.map_or(room, |m| m.min(room));
        let capacity = self.inner.queue_capacity;
        if self.inner.waiting.fetch_add(1, Ordering::AcqRel) >= capacity {
            self.inner.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(EngineError::QueueFull { capacity });
        }
        let (tx, events) = async_mpsc::unbounded_channel();
        let prompt_tokens = tokens.len();
        let seed = request.sampling.seed.map_or_else(random_seed, |s| s as u32);
        let job = Job {
            tokens,
            sampling: request.sampling,
            grammar,
            seed,
            max_tokens,
            tx,
            submitted: Instant::now(),
        };
        if self.inner.jobs.send(job).is_err() {
            self.inner.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(EngineError::Stopped);
        }
        Ok(Generation {
            prompt_tokens,
            events,
        })
    }

    /// llama.cpp's grammar sampler for this model's vocabulary. Built here, on the caller's
    /// thread (it reads only the immutable vocabulary), so a grammar llama.cpp cannot parse
    /// fails this request before it is queued.
    fn grammar_sampler(&self, grammar: &Grammar) -> Result<LlamaSampler, EngineError> {
        LlamaSampler::grammar(&self.inner.model, grammar.text(), grammar.root()).map_err(|e| {
            EngineError::Grammar(match e {
                llama_cpp_2::GrammarError::NullGrammar => "llama.cpp cannot use it: a syntax \
                     error, an undefined rule or left recursion (its log says which)"
                    .into(),
                other => other.to_string(),
            })
        })
    }

    /// Whether `grammar` accepts `text` as a whole answer, checked token by token exactly as
    /// the sampler would (with this model's tokenizer), ending where an end-of-generation
    /// token is allowed. For tests and for diagnosing a grammar.
    pub fn grammar_accepts(&self, grammar: &Grammar, text: &str) -> Result<bool, EngineError> {
        let mut sampler = self.grammar_sampler(grammar)?;
        let vocab = self.inner.model.vocab();
        let allowed = |sampler: &mut LlamaSampler, token: LlamaToken| {
            let mut one =
                LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 0.0, 0.0)], false);
            one.apply_sampler(sampler);
            one.data[0].logit().is_finite()
        };
        for token in vocab.tokenize(text.as_bytes(), false, false) {
            if !allowed(&mut sampler, token) {
                return Ok(false);
            }
            // Only an allowed token may be accepted: llama.cpp throws on any other.
            sampler.accept(token);
        }
        let end = if vocab.is_eog(vocab.eos()) {
            vocab.eos()
        } else {
            vocab.eot()
        };
        Ok(allowed(&mut sampler, end))
    }
}

fn random_seed() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now()) as u32
}
