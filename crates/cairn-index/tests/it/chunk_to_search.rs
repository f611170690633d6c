//! From blocks to ranked hits with their source locations.

use cairn_index::{DocumentBlock, KnowledgeIndex, SearchFilter, SearchMode};

use crate::support::*;

#[test]
fn each_mode_ranks_the_document_about_the_query_first() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    for d in corpus() {
        index.add_document(d).unwrap();
    }
    index.commit().unwrap();
    for mode in ALL_MODES {
        for (query, expected) in [
            ("lava eruptions from magma", "volcano"),
            ("dough with yeast rises", "bread"),
            ("ownership and borrowing", "rust"),
        ] {
            let hits = search(&index, query, &SearchFilter::default(), 3, mode);
            assert_eq!(hits[0].doc_id, expected, "{mode:?} {query:?}: {hits:#?}");
        }
    }
}

#[test]
fn stemming_matches_other_word_forms() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    for d in corpus() {
        index.add_document(d).unwrap();
    }
    index.commit().unwrap();
    let hits = search(
        &index,
        "erupting volcano",
        &SearchFilter::default(),
        3,
        SearchMode::Bm25,
    );
    assert_eq!(hits[0].doc_id, "volcano");
}

#[test]
fn hits_carry_location_and_both_component_scores() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    let blocks = [
        DocumentBlock::heading(1, "Manual").on_page(1),
        DocumentBlock::paragraph("General safety notes for the device."),
        DocumentBlock::page_break(),
        DocumentBlock::heading(2, "Battery"),
        DocumentBlock::paragraph("Charge the lithium battery for four hours before first use."),
    ];
    let chunks = cairn_index::Chunker::new(cairn_index::ChunkerConfig::default()).chunk(&blocks);
    let mut doc = document("manual", "docs", "unused", &[]);
    let texts: Vec<String> = chunks.iter().map(cairn_index::embedding_text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    use cairn_index::Embedder;
    let vectors = embedder().embed(&refs).unwrap();
    doc.chunks = chunks
        .into_iter()
        .zip(vectors)
        .map(|(chunk, vector)| cairn_index::ChunkInput { chunk, vector })
        .collect();
    index.add_document(doc).unwrap();
    index.commit().unwrap();

    let hits = search(
        &index,
        "charge lithium battery",
        &SearchFilter::default(),
        5,
        SearchMode::Hybrid,
    );
    let top = &hits[0];
    assert_eq!(top.chunk_id, "manual#1");
    assert_eq!(top.heading_path, vec!["Manual", "Battery"]);
    assert_eq!(top.page, Some(2));
    assert_eq!(top.collection_id, "docs");
    assert!(top.text.starts_with("Charge the lithium battery"));
    let (bm25, dense) = (top.bm25.unwrap(), top.dense.unwrap());
    assert_eq!((bm25.rank, dense.rank), (1, 1));
    assert!(bm25.score > 0.0 && dense.score > 0.0);
}

#[test]
fn a_query_with_only_stop_words_finds_nothing_by_bm25() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    for d in corpus() {
        index.add_document(d).unwrap();
    }
    index.commit().unwrap();
    assert!(
        search(
            &index,
            "the of and",
            &SearchFilter::default(),
            5,
            SearchMode::Bm25
        )
        .is_empty()
    );
}
