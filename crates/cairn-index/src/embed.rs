//! The embedding seam. The engine crate provides the real all-MiniLM-L6-v2 embedder (and the
//! server wires OpenAI-compatible providers); the index only needs this trait.

use crate::chunk::Chunk;
use crate::error::IndexError;

/// Turns texts into vectors. Implementations batch internally as they see fit and must
/// return one vector of [`Embedder::dims`] floats per input text, in order.
pub trait Embedder: Send + Sync {
    fn dims(&self) -> usize;
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, IndexError>;
}

/// The text a chunk is embedded from: its heading path as context, then its text.
///
/// Measured on SciFact (BENCHMARKS.md, "Retrieval"): prefixing the heading path (there, the
/// paper title) raises dense nDCG@10, because a chunk cut from the middle of a section
/// otherwise loses what it is about.
pub fn embedding_text(chunk: &Chunk) -> String {
    if chunk.heading_path.is_empty() {
        return chunk.text.clone();
    }
    format!("{}\n{}", chunk.heading_path.join(" / "), chunk.text)
}

/// A deterministic, dependency-free embedder for tests and offline runs: a signed hashed bag
/// of lower-cased words (feature hashing), L2-normalised. Texts sharing words are close, so it
/// exercises ranking and filtering for real, but it knows no synonyms.
#[derive(Debug, Clone, Copy)]
pub struct HashEmbedder {
    pub dims: usize,
}

impl Embedder for HashEmbedder {
    fn dims(&self) -> usize {
        self.dims
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, IndexError> {
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }
}

impl HashEmbedder {
    fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dims];
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            let h = fnv1a(word.to_lowercase().as_bytes());
            let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
            v[(h % self.dims as u64) as usize] += sign;
        }
        crate::simd::normalise(&mut v);
        v
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}
