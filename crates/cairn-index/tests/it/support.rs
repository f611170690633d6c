//! Builds small indexes from text with the deterministic hash embedder.

use std::collections::BTreeMap;
use std::path::Path;

use cairn_index::{
    ChunkInput, Chunker, ChunkerConfig, DocumentBlock, DocumentInput, Embedder, HashEmbedder,
    KnowledgeIndex, LocalIndex, LocalIndexConfig, SearchFilter, SearchHit, SearchMode,
    SearchRequest, embedding_text,
};

pub const DIMS: usize = 64;

pub fn embedder() -> HashEmbedder {
    HashEmbedder { dims: DIMS }
}

pub fn open(dir: &Path) -> LocalIndex {
    LocalIndex::open(dir, LocalIndexConfig::new(DIMS)).expect("open index")
}

/// A document of one heading and paragraphs, chunked and embedded as the server would.
pub fn document(doc_id: &str, collection: &str, title: &str, paragraphs: &[&str]) -> DocumentInput {
    let mut blocks = vec![DocumentBlock::heading(1, title)];
    blocks.extend(paragraphs.iter().map(|p| DocumentBlock::paragraph(*p)));
    let chunks = Chunker::new(ChunkerConfig {
        max_tokens: 40,
        overlap_tokens: 6,
    })
    .chunk(&blocks);
    let texts: Vec<String> = chunks.iter().map(embedding_text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let vectors = embedder().embed(&refs).expect("embed");
    DocumentInput {
        doc_id: doc_id.into(),
        collection_id: collection.into(),
        metadata: BTreeMap::new(),
        chunks: chunks
            .into_iter()
            .zip(vectors)
            .map(|(chunk, vector)| ChunkInput { chunk, vector })
            .collect(),
    }
}

pub fn search(
    index: &LocalIndex,
    text: &str,
    filter: &SearchFilter,
    k: usize,
    mode: SearchMode,
) -> Vec<SearchHit> {
    let vector = embedder().embed(&[text]).expect("embed").remove(0);
    index
        .search(&SearchRequest {
            text,
            vector: Some(&vector),
            filter,
            k,
            mode,
        })
        .expect("search")
}

pub fn doc_ids(hits: &[SearchHit]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for h in hits {
        if !out.contains(&h.doc_id.as_str()) {
            out.push(&h.doc_id);
        }
    }
    out
}

pub const ALL_MODES: [SearchMode; 3] = [SearchMode::Bm25, SearchMode::Dense, SearchMode::Hybrid];

/// A small corpus on distinct topics.
pub fn corpus() -> Vec<DocumentInput> {
    vec![
        document(
            "volcano",
            "geo",
            "Volcanoes",
            &[
                "Magma rises through the crust and erupts as lava. Eruptions release ash and sulfur gases.",
            ],
        ),
        document(
            "glacier",
            "geo",
            "Glaciers",
            &["Glaciers are rivers of ice that carve valleys. Melting glaciers raise sea levels."],
        ),
        document(
            "bread",
            "food",
            "Baking bread",
            &["Yeast ferments the dough and releases carbon dioxide, so bread rises in the oven."],
        ),
        document(
            "pasta",
            "food",
            "Fresh pasta",
            &["Knead flour and eggs into a dough, rest it, then roll thin sheets of pasta."],
        ),
        document(
            "rust",
            "code",
            "Rust ownership",
            &[
                "Every value in Rust has one owner; borrowing lends access without moving ownership.",
            ],
        ),
    ]
}
