//! Sentence embeddings (BERT family: mean pooling, L2 normalisation) on llama.cpp.
//!
//! The model arrives as a Hugging Face folder (safetensors); it is converted once into a GGUF
//! file llama.cpp's `bert` architecture loads ([`bert::convert`]), then served by a thread of
//! its own. Requests that arrive while a batch runs are packed together into the next one, so
//! concurrent callers share decode steps.

mod bert;
mod gguf;

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::oneshot;

use crate::EngineError;
use crate::backend::backend;

#[derive(Debug, Clone)]
pub struct EmbeddingEngineConfig {
    /// The model folder: `config.json`, `vocab.txt`, `model.safetensors`.
    pub model_dir: PathBuf,
    /// Where the converted GGUF lives (made on first start when missing).
    pub gguf_path: PathBuf,
    pub threads: Option<u32>,
    /// Longer texts are truncated to this many tokens, as sentence-transformers does.
    pub max_tokens_per_text: usize,
    /// Most tokens in one decode step.
    pub batch_tokens: u32,
    /// Most texts in one decode step.
    pub batch_texts: u32,
}

impl EmbeddingEngineConfig {
    pub fn new(
        model_dir: impl Into<PathBuf>,
        gguf_path: impl Into<PathBuf>,
    ) -> EmbeddingEngineConfig {
        EmbeddingEngineConfig {
            model_dir: model_dir.into(),
            gguf_path: gguf_path.into(),
            threads: None,
            max_tokens_per_text: 256,
            batch_tokens: 4096,
            batch_texts: 64,
        }
    }
}

struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Vec<f32>>, EngineError>>,
}

/// A loaded embedding model and its thread. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddingEngine {
    jobs: mpsc::Sender<Job>,
    model: Arc<LlamaModel>,
    dims: usize,
    max_tokens_per_text: usize,
}

impl EmbeddingEngine {
    /// Converts the model when needed, loads it and starts its thread. Blocking.
    pub fn start(config: EmbeddingEngineConfig) -> Result<EmbeddingEngine, EngineError> {
        let backend = backend()?;
        if !config.gguf_path.exists() {
            tracing::info!(model = %config.model_dir.display(), "converting the embedding model for llama.cpp");
            bert::convert(&config.model_dir, &config.gguf_path)?;
        }
        let model =
            LlamaModel::load_from_file(backend, &config.gguf_path, &LlamaModelParams::default())
                .map_err(|e| EngineError::Load {
                    path: config.gguf_path.clone(),
                    reason: e.to_string(),
                })?;
        let model = Arc::new(model);
        let dims = usize::try_from(model.n_embd()).unwrap_or(0);
        let max_tokens_per_text = config
            .max_tokens_per_text
            .clamp(2, config.batch_tokens as usize);
        let (jobs, receiver) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread_model = model.clone();
        std::thread::Builder::new()
            .name("cairn-embeddings".into())
            .spawn(move || run(thread_model, config, receiver, ready_tx))
            .map_err(|e| {
                EngineError::Inference(format!("cannot start the embedding thread: {e}"))
            })?;
        ready_rx.recv().map_err(|_| EngineError::Stopped)??;
        Ok(EmbeddingEngine {
            jobs,
            model,
            dims,
            max_tokens_per_text,
        })
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Token ids of `text` as the model reads it ([CLS] and [SEP] included, before
    /// truncation): what chunkers count to fit a text into the model.
    pub fn token_ids(&self, text: &str) -> Vec<i32> {
        self.model
            .vocab()
            .tokenize(text.as_bytes(), true, false)
            .into_iter()
            .map(|t| t.0)
            .collect()
    }

    /// Embeds texts: one unit-length vector each, in order.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EngineError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, result) = oneshot::channel();
        self.jobs
            .send(Job { texts, reply })
            .map_err(|_| EngineError::Stopped)?;
        result.await.map_err(|_| EngineError::Stopped)?
    }

    pub fn max_tokens_per_text(&self) -> usize {
        self.max_tokens_per_text
    }
}

fn run(
    model: Arc<LlamaModel>,
    config: EmbeddingEngineConfig,
    jobs: mpsc::Receiver<Job>,
    ready: mpsc::SyncSender<Result<(), EngineError>>,
) {
    let threads = config
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32));
    let threads = i32::try_from(threads.max(1)).unwrap_or(1);
    let batch_texts = config.batch_texts.clamp(1, 256);
    let context = backend().and_then(|backend| {
        let params = LlamaContextParams::default()
            .with_embeddings(true)
            .with_n_ctx(NonZeroU32::new(config.batch_tokens))
            // A bidirectional model reads each text whole: one micro-batch holds the batch.
            .with_n_batch(config.batch_tokens)
            .with_n_ubatch(config.batch_tokens)
            .with_n_seq_max(batch_texts)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        model
            .new_context(backend, params)
            .map_err(|e| EngineError::Inference(format!("cannot create an embedding context: {e}")))
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
    let vocab = model.vocab();
    let max_tokens = config
        .max_tokens_per_text
        .clamp(2, config.batch_tokens as usize);
    let sep = model.vocab().sep();
    let mut batch = LlamaBatch::new(config.batch_tokens as usize, 1);
    while let Ok(first) = jobs.recv() {
        // Everything waiting joins this round.
        let mut round = vec![first];
        while let Ok(job) = jobs.try_recv() {
            round.push(job);
        }
        let texts: Vec<Vec<LlamaToken>> = round
            .iter()
            .flat_map(|job| job.texts.iter())
            .map(|text| {
                let mut tokens = vocab.tokenize(text.as_bytes(), true, false);
                if tokens.len() > max_tokens {
                    tokens.truncate(max_tokens - 1);
                    tokens.push(sep);
                }
                tokens
            })
            .collect();
        let result = embed_all(
            &mut ctx,
            &mut batch,
            &texts,
            config.batch_tokens as usize,
            batch_texts as usize,
        );
        let mut vectors = result.map(|v| v.into_iter());
        for job in round {
            let reply = match &mut vectors {
                Ok(it) => Ok(it.by_ref().take(job.texts.len()).collect()),
                Err(err) => Err(err.clone()),
            };
            let _ = job.reply.send(reply);
        }
    }
}

/// Embeds token sequences in as few decode steps as the batch limits allow.
fn embed_all(
    ctx: &mut llama_cpp_2::context::LlamaContext<'_>,
    batch: &mut LlamaBatch<'_>,
    texts: &[Vec<LlamaToken>],
    batch_tokens: usize,
    batch_texts: usize,
) -> Result<Vec<Vec<f32>>, EngineError> {
    let mut out = Vec::with_capacity(texts.len());
    let mut start = 0;
    while start < texts.len() {
        batch.clear();
        let mut end = start;
        let mut used = 0;
        while end < texts.len()
            && end - start < batch_texts
            && used + texts[end].len() <= batch_tokens
        {
            let seq = (end - start) as i32;
            for (pos, token) in texts[end].iter().enumerate() {
                batch
                    .add(*token, pos as i32, &[seq], true)
                    .map_err(|e| EngineError::Inference(e.to_string()))?;
            }
            used += texts[end].len();
            end += 1;
        }
        ctx.clear_kv_cache();
        ctx.decode(batch)
            .map_err(|e| EngineError::Inference(format!("embedding decode failed: {e}")))?;
        for seq in 0..(end - start) as i32 {
            let pooled = ctx
                .embeddings_seq_ith(seq)
                .map_err(|e| EngineError::Inference(format!("no pooled embedding: {e}")))?;
            out.push(normalised(pooled));
        }
        start = end;
    }
    Ok(out)
}

fn normalised(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        v.to_vec()
    } else {
        v.iter().map(|x| x / norm).collect()
    }
}
