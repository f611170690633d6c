//! A Hugging Face BERT sentence-embedding model (safetensors, `vocab.txt`, `config.json`)
//! turned into the GGUF layout llama.cpp's `bert` architecture loads: the same tensors under
//! llama.cpp's names, and the WordPiece vocabulary in its "phantom space" form (a word-start
//! piece is written with a leading `▁`, a continuation piece without its `##`).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::MatrixFormat;
use super::gguf::{self, Tensor, TensorData, Value};
use crate::EngineError;

#[derive(Deserialize)]
struct Config {
    hidden_size: u32,
    intermediate_size: u32,
    num_hidden_layers: u32,
    num_attention_heads: u32,
    max_position_embeddings: u32,
    layer_norm_eps: f32,
    #[serde(default = "two")]
    type_vocab_size: u32,
}

fn two() -> u32 {
    2
}

#[derive(Deserialize)]
struct TokenizerConfig {
    #[serde(default)]
    do_lower_case: bool,
}

/// HF name suffix → llama.cpp name suffix, per layer.
const LAYER_TENSORS: &[(&str, &str)] = &[
    ("attention.self.query", "attn_q"),
    ("attention.self.key", "attn_k"),
    ("attention.self.value", "attn_v"),
    ("attention.output.dense", "attn_output"),
    ("attention.output.LayerNorm", "attn_output_norm"),
    ("intermediate.dense", "ffn_up"),
    ("output.dense", "ffn_down"),
    ("output.LayerNorm", "layer_output_norm"),
];

const TOP_TENSORS: &[(&str, &str)] = &[
    ("embeddings.word_embeddings.weight", "token_embd.weight"),
    (
        "embeddings.position_embeddings.weight",
        "position_embd.weight",
    ),
    (
        "embeddings.token_type_embeddings.weight",
        "token_types.weight",
    ),
    ("embeddings.LayerNorm.weight", "token_embd_norm.weight"),
    ("embeddings.LayerNorm.bias", "token_embd_norm.bias"),
];

fn load_error(dir: &Path, reason: impl std::fmt::Display) -> EngineError {
    EngineError::Load {
        path: dir.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Converts the model folder `dir` into a GGUF file at `out` (written to a temporary name
/// first, then renamed, so a half-written file is never used).
pub fn convert(dir: &Path, out: &Path, matrices: MatrixFormat) -> Result<(), EngineError> {
    let read = |name: &str| {
        std::fs::read(dir.join(name)).map_err(|e| load_error(dir, format!("{name}: {e}")))
    };
    let config: Config = serde_json::from_slice(&read("config.json")?)
        .map_err(|e| load_error(dir, format!("config.json: {e}")))?;
    let lowercase = match read("tokenizer_config.json") {
        Ok(bytes) => serde_json::from_slice::<TokenizerConfig>(&bytes)
            .map(|c| c.do_lower_case)
            .unwrap_or(true),
        Err(_) => true,
    };
    let vocab_text = String::from_utf8(read("vocab.txt")?)
        .map_err(|e| load_error(dir, format!("vocab.txt: {e}")))?;
    let vocab: Vec<&str> = vocab_text.lines().collect();
    let id = |token: &str| vocab.iter().position(|t| *t == token).map(|i| i as u32);

    let weights = read("model.safetensors")?;
    let tensors = safetensors::SafeTensors::deserialize(&weights)
        .map_err(|e| load_error(dir, format!("model.safetensors: {e}")))?;
    let mut by_name: HashMap<String, Tensor> = HashMap::new();
    for (name, view) in tensors.tensors() {
        let name = name.strip_prefix("bert.").unwrap_or(&name).to_string();
        if view.dtype() != safetensors::Dtype::F32 {
            continue; // position ids and the like; the weights of these models are F32
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        // Matrices are F32 or F16. Biases and norms, added rather than multiplied, stay F32,
        // and so do the token-type embeddings: the graph adds a row of them as it is, and
        // ggml adds no F16 to F32.
        let matrix = view.shape().len() >= 2 && !name.contains("token_type_embeddings");
        let data = if matrix && matrices == MatrixFormat::F16 {
            TensorData::F16(values.map(|v| half::f16::from_f32(v).to_bits()).collect())
        } else {
            TensorData::F32(values.collect())
        };
        let shape = view.shape().iter().map(|&d| d as u64).collect();
        by_name.insert(name.clone(), Tensor { name, shape, data });
    }
    let mut take = |hf: &str, gguf: String| -> Result<Tensor, EngineError> {
        let mut t = by_name
            .remove(hf)
            .ok_or_else(|| load_error(dir, format!("missing tensor {hf}")))?;
        t.name = gguf;
        Ok(t)
    };
    let mut out_tensors = Vec::new();
    for (hf, gguf) in TOP_TENSORS {
        out_tensors.push(take(hf, gguf.to_string())?);
    }
    for layer in 0..config.num_hidden_layers {
        for (hf, gguf) in LAYER_TENSORS {
            for part in ["weight", "bias"] {
                out_tensors.push(take(
                    &format!("encoder.layer.{layer}.{hf}.{part}"),
                    format!("blk.{layer}.{gguf}.{part}"),
                )?);
            }
        }
    }

    let special = ["[PAD]", "[CLS]", "[SEP]", "[MASK]"];
    let tokens: Vec<String> = vocab
        .iter()
        .map(|t| {
            if t.starts_with('[') && t.ends_with(']') {
                t.to_string()
            } else if let Some(rest) = t.strip_prefix("##") {
                rest.to_string()
            } else {
                format!("\u{2581}{t}")
            }
        })
        .collect();
    let token_types: Vec<i32> = vocab
        .iter()
        .map(|t| {
            if *t == "[UNK]" {
                2
            } else if special.contains(t) {
                3
            } else {
                1
            }
        })
        .collect();
    let special_id = |token: &str, fallback: u32| Value::U32(id(token).unwrap_or(fallback));
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let metadata = vec![
        ("general.architecture", Value::Str("bert".into())),
        ("general.name", Value::Str(name)),
        (
            "bert.context_length",
            Value::U32(config.max_position_embeddings),
        ),
        ("bert.embedding_length", Value::U32(config.hidden_size)),
        (
            "bert.feed_forward_length",
            Value::U32(config.intermediate_size),
        ),
        ("bert.block_count", Value::U32(config.num_hidden_layers)),
        (
            "bert.attention.head_count",
            Value::U32(config.num_attention_heads),
        ),
        (
            "bert.attention.layer_norm_epsilon",
            Value::F32(config.layer_norm_eps),
        ),
        ("bert.attention.causal", Value::Bool(false)),
        // 1 = mean pooling, as sentence-transformers configures these models.
        ("bert.pooling_type", Value::U32(1)),
        ("tokenizer.ggml.model", Value::Str("bert".into())),
        ("tokenizer.ggml.tokens", Value::StrArray(tokens)),
        ("tokenizer.ggml.token_type", Value::I32Array(token_types)),
        (
            "tokenizer.ggml.token_type_count",
            Value::U32(config.type_vocab_size),
        ),
        (
            "tokenizer.ggml.normalizer.lowercase",
            Value::Bool(lowercase),
        ),
        ("tokenizer.ggml.bos_token_id", special_id("[CLS]", 101)),
        ("tokenizer.ggml.cls_token_id", special_id("[CLS]", 101)),
        (
            "tokenizer.ggml.seperator_token_id",
            special_id("[SEP]", 102),
        ),
        ("tokenizer.ggml.unknown_token_id", special_id("[UNK]", 100)),
        ("tokenizer.ggml.padding_token_id", special_id("[PAD]", 0)),
        ("tokenizer.ggml.mask_token_id", special_id("[MASK]", 103)),
        ("tokenizer.ggml.add_bos_token", Value::Bool(true)),
        ("tokenizer.ggml.add_sep_token", Value::Bool(true)),
    ];
    // A name of its own: servers starting together (tests, replicas sharing a cache) may
    // convert at once, and each must write its own file; the rename then replaces whole.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let partial = out.with_extension(format!("gguf.{}-{nanos}.partial", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&partial)?);
        gguf::write(&mut file, &metadata, &out_tensors)?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&partial, out)
    };
    write().map_err(|e| load_error(dir, format!("cannot write {}: {e}", out.display())))
}
