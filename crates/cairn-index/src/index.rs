//! The seam between the server and any knowledge index: the embedded default
//! ([`crate::LocalIndex`]) or a shared store at scale.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::chunk::Chunk;
use crate::error::IndexError;

/// A chunk with its embedding (unit length is not required; the index normalises).
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkInput {
    pub chunk: Chunk,
    pub vector: Vec<f32>,
}

/// Everything the index keeps about one document. Adding a document id that exists replaces
/// it, so re-running an interrupted ingestion is idempotent.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentInput {
    pub doc_id: String,
    pub collection_id: String,
    /// Exact-match filterable key/value pairs (e.g. `source=upload`, `lang=en`).
    pub metadata: BTreeMap<String, String>,
    pub chunks: Vec<ChunkInput>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    Bm25,
    Dense,
    #[default]
    Hybrid,
}

/// Restricts a search. Empty means "everything".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchFilter {
    /// The chunk's collection must be one of these (any collection when empty).
    #[serde(default)]
    pub collections: Vec<String>,
    /// Every pair must be present in the document's metadata.
    #[serde(default)]
    pub metadata: Vec<(String, String)>,
}

impl SearchFilter {
    pub fn collection(id: impl Into<String>) -> Self {
        Self {
            collections: vec![id.into()],
            metadata: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.collections.is_empty() && self.metadata.is_empty()
    }

    pub(crate) fn admits(&self, collection: &str, metadata: &[(String, String)]) -> bool {
        (self.collections.is_empty() || self.collections.iter().any(|c| c == collection))
            && self.metadata.iter().all(|kv| metadata.contains(kv))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct SearchRequest<'a> {
    pub text: &'a str,
    /// The query's embedding; required for `Dense` and `Hybrid`.
    pub vector: Option<&'a [f32]>,
    pub filter: &'a SearchFilter,
    pub k: usize,
    pub mode: SearchMode,
}

/// One component ranking's view of a hit: its 1-based rank and raw score in that list.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ComponentScore {
    pub rank: u32,
    pub score: f32,
}

/// A retrieved chunk with where it came from and why it ranked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub chunk_id: String,
    pub doc_id: String,
    pub collection_id: String,
    pub text: String,
    pub heading_path: Vec<String>,
    pub page: Option<u32>,
    pub ordinal: u32,
    /// The score the list is sorted by: BM25, cosine, or the fused score.
    pub score: f32,
    pub bm25: Option<ComponentScore>,
    pub dense: Option<ComponentScore>,
}

/// What a start-up reconciliation needs: which documents each side holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyReport {
    pub documents: usize,
    pub full_text_generation: u64,
    pub vector_generation: u64,
    /// In the full-text index but not in the vector index (and vice versa). Both empty and
    /// equal generations mean the two sides agree.
    pub full_text_only: Vec<String>,
    pub vectors_only: Vec<String>,
}

impl ConsistencyReport {
    pub fn is_consistent(&self) -> bool {
        self.full_text_only.is_empty()
            && self.vectors_only.is_empty()
            && self.full_text_generation == self.vector_generation
    }
}

/// A knowledge index. Writes are staged and become visible together at [`commit`]; a crash
/// before it loses them all, never some.
///
/// [`commit`]: KnowledgeIndex::commit
pub trait KnowledgeIndex: Send + Sync {
    /// Stages a document (replacing any document with the same id).
    fn add_document(&self, doc: DocumentInput) -> Result<(), IndexError>;
    /// Stages the removal of a document's chunks from every index.
    fn delete_document(&self, doc_id: &str) -> Result<(), IndexError>;
    /// Makes staged work durable and visible atomically; returns the new generation.
    fn commit(&self) -> Result<u64, IndexError>;
    /// Drops staged work.
    fn rollback(&self) -> Result<(), IndexError>;
    fn search(&self, request: &SearchRequest<'_>) -> Result<Vec<SearchHit>, IndexError>;
    /// Committed document ids, for reconciling with the database at start.
    fn document_ids(&self) -> Result<BTreeSet<String>, IndexError>;
    fn check_consistency(&self) -> Result<ConsistencyReport, IndexError>;
}

/// The id of a chunk: its document id and ordinal.
pub(crate) fn chunk_id(doc_id: &str, ordinal: u32) -> String {
    format!("{doc_id}#{ordinal}")
}
