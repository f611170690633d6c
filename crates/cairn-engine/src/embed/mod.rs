//! Sentence embeddings (BERT family: mean pooling, L2 normalisation) on llama.cpp.
//!
//! The model arrives as a Hugging Face folder (safetensors); it is converted once into a GGUF
//! file llama.cpp's `bert` architecture loads ([`bert::convert`]), then served by worker
//! threads, each with a llama.cpp context of its own. A request is split across the idle
//! workers; requests that arrive while every worker is busy are packed into the next batch,
//! so concurrent callers share decode steps.
//!
//! Several single-threaded workers rather than one multi-threaded context: a MiniLM layer is
//! small enough that ggml's per-operation thread synchronisation costs more than the second
//! thread gains, while two independent batches keep both cores busy.

mod bert;
mod gguf;

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::oneshot;

use crate::EngineError;
use crate::backend::backend;

/// How the converted model stores its matrices. Biases, norms and the token-type
/// embeddings are F32 in both.
///
/// F32 is the default: on a 2-core AVX2 machine it embedded 11% faster than F16 and is exact
/// (BENCHMARKS.md, "Embeddings"), for 45 MB more memory on MiniLM. ggml's 8-bit Q8_0 blocks
/// were tried too: no faster here, and 0.998 cosine to sentence-transformers on short texts,
/// under the 0.999 bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatrixFormat {
    #[default]
    F32,
    /// Half the bytes, as llama.cpp's own converter writes them.
    F16,
}

impl MatrixFormat {
    /// A short name for file names: `f32`, `f16`.
    pub fn name(self) -> &'static str {
        match self {
            MatrixFormat::F32 => "f32",
            MatrixFormat::F16 => "f16",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EmbeddingEngineConfig {
    /// The model folder: `config.json`, `vocab.txt`, `model.safetensors`.
    pub model_dir: PathBuf,
    /// Where the converted GGUF lives (made on first start when missing). Name it after
    /// `matrices` too: a file converted in another format is used as it is.
    pub gguf_path: PathBuf,
    /// The matrices' format in a file converted here.
    pub matrices: MatrixFormat,
    /// Threads in all (default: the machine's cores).
    pub threads: Option<u32>,
    /// Workers sharing those threads, each with its own context (default: one per thread).
    pub workers: Option<u32>,
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
            matrices: MatrixFormat::default(),
            threads: None,
            workers: None,
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

/// A request is split into at most one piece per worker, and no piece smaller than this.
const MIN_TEXTS_PER_PIECE: usize = 4;

/// A loaded embedding model and its workers. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddingEngine {
    jobs: mpsc::Sender<Job>,
    model: Arc<LlamaModel>,
    dims: usize,
    workers: usize,
    max_tokens_per_text: usize,
}

/// What the workers share: the job queue and how many of them wait for work.
struct Queue {
    jobs: Mutex<mpsc::Receiver<Job>>,
    idle: AtomicUsize,
}

impl EmbeddingEngine {
    /// Converts the model when needed, loads it and starts its workers. Blocking.
    pub fn start(config: EmbeddingEngineConfig) -> Result<EmbeddingEngine, EngineError> {
        let backend = backend()?;
        if !config.gguf_path.exists() {
            tracing::info!(model = %config.model_dir.display(), "converting the embedding model for llama.cpp");
            bert::convert(&config.model_dir, &config.gguf_path, config.matrices)?;
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
        let threads = config
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32))
            .max(1);
        let workers = config.workers.unwrap_or(threads).clamp(1, threads);
        let threads_per_worker = (threads / workers).max(1);
        let (jobs, receiver) = mpsc::channel();
        let queue = Arc::new(Queue {
            jobs: Mutex::new(receiver),
            idle: AtomicUsize::new(workers as usize),
        });
        let (ready_tx, ready_rx) = mpsc::sync_channel(workers as usize);
        for i in 0..workers {
            let (model, config, queue, ready) = (
                model.clone(),
                config.clone(),
                queue.clone(),
                ready_tx.clone(),
            );
            std::thread::Builder::new()
                .name(format!("cairn-embeddings-{i}"))
                .spawn(move || run(model, config, threads_per_worker, queue, ready))
                .map_err(|e| {
                    EngineError::Inference(format!("cannot start an embedding thread: {e}"))
                })?;
        }
        for _ in 0..workers {
            ready_rx.recv().map_err(|_| EngineError::Stopped)??;
        }
        Ok(EmbeddingEngine {
            jobs,
            model,
            dims,
            workers: workers as usize,
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
        let total = texts.len();
        let pieces = self.workers.min(total.div_ceil(MIN_TEXTS_PER_PIECE)).max(1);
        let per_piece = total.div_ceil(pieces);
        let mut texts = texts.into_iter();
        let mut results = Vec::with_capacity(pieces);
        loop {
            let piece: Vec<String> = texts.by_ref().take(per_piece).collect();
            if piece.is_empty() {
                break;
            }
            let (reply, result) = oneshot::channel();
            self.jobs
                .send(Job {
                    texts: piece,
                    reply,
                })
                .map_err(|_| EngineError::Stopped)?;
            results.push(result);
        }
        let mut vectors = Vec::with_capacity(total);
        for result in results {
            vectors.extend(result.await.map_err(|_| EngineError::Stopped)??);
        }
        Ok(vectors)
    }

    pub fn max_tokens_per_text(&self) -> usize {
        self.max_tokens_per_text
    }
}

fn run(
    model: Arc<LlamaModel>,
    config: EmbeddingEngineConfig,
    threads: u32,
    queue: Arc<Queue>,
    ready: mpsc::SyncSender<Result<(), EngineError>>,
) {
    let threads = i32::try_from(threads).unwrap_or(1);
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
    while let Some(round) = next_round(&queue, batch_texts as usize) {
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
        queue.idle.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits for a job; when no other worker is idle, everything else waiting (up to a batch)
/// joins it. Leaves the worker counted as busy. `None` once the engine is dropped.
fn next_round(queue: &Queue, batch_texts: usize) -> Option<Vec<Job>> {
    let jobs = queue.jobs.lock().unwrap_or_else(|e| e.into_inner());
    let first = jobs.recv().ok()?;
    let others_idle = queue.idle.fetch_sub(1, Ordering::SeqCst) > 1;
    let mut texts = first.texts.len();
    let mut round = vec![first];
    if !others_idle {
        while texts < batch_texts {
            match jobs.try_recv() {
                Ok(job) => {
                    texts += job.texts.len();
                    round.push(job);
                }
                Err(_) => break,
            }
        }
    }
    Some(round)
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
