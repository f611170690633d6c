//! Cairn's knowledge index: chunking, full-text BM25, approximate-nearest-neighbour vectors
//! and their fusion.
//!
//! The crate is a library with no IO beyond its own directory: it knows neither the store,
//! nor the engine, nor HTTP. The server feeds it parsed documents ([`DocumentBlock`]s),
//! chunks them ([`chunk::Chunker`]), embeds the chunks through an [`Embedder`] it owns, and
//! hands chunks plus vectors to a [`KnowledgeIndex`]. [`LocalIndex`] is the embedded default
//! (tantivy + an on-disk HNSW); a shared store at scale implements the same trait.
//! [`originality`] is the lexical near-duplicate check the article writer runs against
//! passages found with that search.

pub mod chunk;
mod embed;
mod error;
mod fulltext;
mod fusion;
pub mod hnsw;
mod index;
mod local;
pub mod originality;
mod simd;
mod vectors;
mod wire;

pub use chunk::{Chunk, Chunker, ChunkerConfig, HeuristicCounter, TokenCounter};
// The document vocabulary lives in cairn-types so the parser (cairn-docs) need not depend
// on the index; re-exported so users of the index keep naming it here.
pub use cairn_types::{BlockKind, DocumentBlock};
pub use embed::{Embedder, HashEmbedder, embedding_text};
pub use error::IndexError;
pub use fusion::{Fusion, Ranked, reciprocal_rank_fusion};
pub use index::{
    ChunkInput, ComponentScore, ConsistencyReport, DocumentInput, KnowledgeIndex, SearchFilter,
    SearchHit, SearchMode, SearchRequest,
};
pub use local::{LocalIndex, LocalIndexConfig, SearchOptions};
