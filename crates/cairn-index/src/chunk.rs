//! Heading-aware, token-bounded chunking with overlap.
//!
//! Why this shape: retrieval quality depends on chunks that are about one thing (so a heading
//! always starts a new chunk and each chunk remembers its heading path), that fit the embedding
//! model's window (so chunks are bounded in tokens, counted by a pluggable [`TokenCounter`]),
//! and that do not lose a fact cut in half at a boundary (so consecutive chunks of a section
//! overlap by about 15%). Cuts prefer block boundaries, then sentence boundaries, and only
//! fall back to word boundaries inside an over-long sentence; a word is never split.

mod split;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{BlockKind, DocumentBlock};

/// Counts tokens the way the embedding model will. The engine provides the real tokenizer;
/// [`HeuristicCounter`] is a close-enough default for English prose.
pub trait TokenCounter: Send + Sync {
    fn count(&self, text: &str) -> usize;
}

/// Estimates WordPiece tokens without a vocabulary: each punctuation character is a token and
/// each run of letters and digits is a token per six characters (long words split into
/// several word pieces). Within ~15% of all-MiniLM-L6-v2's tokenizer on English prose.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeuristicCounter;

impl TokenCounter for HeuristicCounter {
    fn count(&self, text: &str) -> usize {
        let mut tokens = 0;
        let mut run = 0usize;
        for c in text.chars() {
            if c.is_alphanumeric() {
                run += 1;
                continue;
            }
            tokens += run.div_ceil(6);
            run = 0;
            if !c.is_whitespace() {
                tokens += 1;
            }
        }
        tokens + run.div_ceil(6)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkerConfig {
    /// Upper bound on a chunk's tokens (all-MiniLM-L6-v2 reads 256 word pieces).
    pub max_tokens: usize,
    /// Tokens repeated from the end of the previous chunk of the same section.
    pub overlap_tokens: usize,
}

impl Default for ChunkerConfig {
    fn default() -> Self {
        Self {
            max_tokens: 256,
            overlap_tokens: 38,
        }
    }
}

/// One retrievable piece of a document, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub text: String,
    /// Titles of the enclosing headings, outermost first.
    pub heading_path: Vec<String>,
    /// The page the chunk starts on, when the document has pages.
    pub page: Option<u32>,
    /// Position of the chunk in its document, from 0.
    pub ordinal: u32,
    pub token_estimate: u32,
}

#[derive(Clone)]
pub struct Chunker {
    config: ChunkerConfig,
    counter: Arc<dyn TokenCounter>,
}

impl Chunker {
    pub fn new(config: ChunkerConfig) -> Self {
        Self::with_counter(config, Arc::new(HeuristicCounter))
    }

    pub fn with_counter(config: ChunkerConfig, counter: Arc<dyn TokenCounter>) -> Self {
        let max_tokens = config.max_tokens.max(1);
        let overlap_tokens = config.overlap_tokens.min(max_tokens / 2);
        Self {
            config: ChunkerConfig {
                max_tokens,
                overlap_tokens,
            },
            counter,
        }
    }

    pub fn config(&self) -> ChunkerConfig {
        self.config
    }

    pub fn chunk(&self, blocks: &[DocumentBlock]) -> Vec<Chunk> {
        let mut state = State {
            chunker: self,
            headings: Vec::new(),
            page: None,
            open: Vec::new(),
            chunks: Vec::new(),
        };
        for block in blocks {
            if let Some(page) = block.page {
                state.page = Some(page);
            }
            match &block.kind {
                BlockKind::Heading { level, text } => state.heading(*level, text),
                BlockKind::PageBreak => {
                    if block.page.is_none() {
                        state.page = Some(state.page.map_or(2, |p| p + 1));
                    }
                }
                BlockKind::Paragraph { text }
                | BlockKind::ListItem { text }
                | BlockKind::Table { text } => state.block(text),
            }
        }
        state.flush(false);
        state.chunks
    }
}

/// A unit the chunker never cuts: a sentence, a line of a table, or a word window of an
/// over-long sentence.
#[derive(Debug, Clone)]
struct Piece {
    text: String,
    tokens: usize,
    /// Starts a new block, so it is joined with a newline rather than a space.
    starts_block: bool,
    page: Option<u32>,
    /// Repeated from the previous chunk; a chunk made only of these is not emitted.
    overlap: bool,
}

struct State<'a> {
    chunker: &'a Chunker,
    headings: Vec<(u8, String)>,
    page: Option<u32>,
    open: Vec<Piece>,
    chunks: Vec<Chunk>,
}

impl State<'_> {
    fn heading(&mut self, level: u8, text: &str) {
        self.flush(false);
        self.headings.retain(|(l, _)| *l < level);
        let text = split::normalise_space(text);
        if !text.is_empty() {
            self.headings.push((level, text));
        }
    }

    fn block(&mut self, text: &str) {
        let config = self.chunker.config;
        // Windows of an over-long sentence leave room for the overlap carried before them.
        let window = (config.max_tokens - config.overlap_tokens).max(1);
        let counter = self.chunker.counter.as_ref();
        for (sentence, starts_line) in split::sentences(text) {
            let mut first = starts_line;
            for part in split::bounded(&sentence, window, counter) {
                let tokens = counter.count(&part);
                self.push(Piece {
                    text: part,
                    tokens,
                    starts_block: first,
                    page: self.page,
                    overlap: false,
                });
                first = false;
            }
        }
    }

    fn push(&mut self, piece: Piece) {
        let used: usize = self.open.iter().map(|p| p.tokens).sum();
        // Joining costs nothing in WordPiece (whitespace is free), so sums are exact enough.
        if !self.open.is_empty() && used + piece.tokens > self.chunker.config.max_tokens {
            self.flush(true);
            let used: usize = self.open.iter().map(|p| p.tokens).sum();
            if used + piece.tokens > self.chunker.config.max_tokens {
                self.open.clear();
            }
        }
        self.open.push(piece);
    }

    /// Emits the open chunk. With `carry`, keeps its tail as the overlap of the next one.
    fn flush(&mut self, carry: bool) {
        if self.open.iter().all(|p| p.overlap) {
            self.open.clear();
            return;
        }
        let pieces = std::mem::take(&mut self.open);
        let mut text = String::new();
        for (i, p) in pieces.iter().enumerate() {
            if i > 0 {
                text.push(if p.starts_block { '\n' } else { ' ' });
            }
            text.push_str(&p.text);
        }
        let token_estimate = self.chunker.counter.count(&text) as u32;
        self.chunks.push(Chunk {
            text,
            heading_path: self.headings.iter().map(|(_, t)| t.clone()).collect(),
            page: pieces[0].page,
            ordinal: self.chunks.len() as u32,
            token_estimate,
        });
        if carry {
            self.open = self.overlap_tail(&pieces);
        }
    }

    /// The last whole pieces that fit the overlap budget; if even the last piece is too big,
    /// its last words.
    fn overlap_tail(&self, pieces: &[Piece]) -> Vec<Piece> {
        let budget = self.chunker.config.overlap_tokens;
        if budget == 0 {
            return Vec::new();
        }
        let mut tail = Vec::new();
        let mut used = 0;
        for p in pieces.iter().rev() {
            if used + p.tokens > budget {
                break;
            }
            used += p.tokens;
            tail.push(Piece {
                overlap: true,
                ..p.clone()
            });
        }
        if tail.is_empty()
            && let Some(last) = pieces.last()
        {
            let counter = self.chunker.counter.as_ref();
            let words = split::last_words(&last.text, budget, counter);
            if !words.is_empty() {
                let tokens = counter.count(&words);
                tail.push(Piece {
                    text: words,
                    tokens,
                    starts_block: false,
                    page: last.page,
                    overlap: true,
                });
            }
        }
        tail.reverse();
        tail
    }
}
