//! Collection and metadata filters; deletes reach both indexes.

use cairn_index::{KnowledgeIndex, SearchFilter, SearchMode};

use crate::support::*;

fn indexed(dir: &std::path::Path) -> cairn_index::LocalIndex {
    let index = open(dir);
    for d in corpus() {
        index.add_document(d).unwrap();
    }
    index.commit().unwrap();
    index
}

#[test]
fn a_collection_filter_returns_only_that_collection_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let index = indexed(dir.path());
    let food = SearchFilter::collection("food");
    for mode in ALL_MODES {
        // The query is about volcanoes, but only food may come back.
        let hits = search(&index, "magma dough lava", &food, 10, mode);
        assert!(!hits.is_empty(), "{mode:?}");
        assert!(
            hits.iter().all(|h| h.collection_id == "food"),
            "{mode:?}: {hits:#?}"
        );
    }
}

#[test]
fn a_metadata_filter_must_match_every_pair() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    for (id, lang, tier) in [
        ("en-free", "en", "free"),
        ("en-pro", "en", "pro"),
        ("de-pro", "de", "pro"),
    ] {
        let mut d = document(id, "c", "Pricing", &["Plans and prices for the service."]);
        d.metadata.insert("lang".into(), lang.into());
        d.metadata.insert("tier".into(), tier.into());
        index.add_document(d).unwrap();
    }
    index.commit().unwrap();
    let filter = SearchFilter {
        collections: vec![],
        metadata: vec![("lang".into(), "en".into()), ("tier".into(), "pro".into())],
    };
    for mode in ALL_MODES {
        let hits = search(&index, "plans prices", &filter, 10, mode);
        assert_eq!(doc_ids(&hits), vec!["en-pro"], "{mode:?}");
    }
}

#[test]
fn deleting_a_document_removes_it_from_both_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let index = indexed(dir.path());
    index.delete_document("volcano").unwrap();
    // Staged only: still visible until commit.
    assert_eq!(
        search(
            &index,
            "lava magma",
            &SearchFilter::default(),
            1,
            SearchMode::Bm25
        )[0]
        .doc_id,
        "volcano"
    );
    index.commit().unwrap();
    for mode in ALL_MODES {
        let hits = search(
            &index,
            "lava magma eruptions",
            &SearchFilter::default(),
            10,
            mode,
        );
        assert!(hits.iter().all(|h| h.doc_id != "volcano"), "{mode:?}");
    }
    assert!(!index.document_ids().unwrap().contains("volcano"));
    assert!(index.check_consistency().unwrap().is_consistent());
    assert_eq!(index.counts().0 as usize, index.counts().1);
}

#[test]
fn re_adding_a_document_replaces_its_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let index = indexed(dir.path());
    index
        .add_document(document(
            "bread",
            "food",
            "Baking bread",
            &["Sourdough uses a starter instead of yeast."],
        ))
        .unwrap();
    index.commit().unwrap();
    for mode in ALL_MODES {
        let hits = search(
            &index,
            "sourdough starter",
            &SearchFilter::default(),
            10,
            mode,
        );
        let bread: Vec<_> = hits.iter().filter(|h| h.doc_id == "bread").collect();
        assert_eq!(bread.len(), 1, "{mode:?}");
        assert!(bread[0].text.contains("Sourdough"));
    }
    assert_eq!(index.counts(), (5, 5));
}

#[test]
fn a_wrong_vector_size_is_rejected_before_anything_is_staged() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    let mut d = document("x", "c", "T", &["Some text."]);
    d.chunks[0].vector.pop();
    assert!(matches!(
        index.add_document(d),
        Err(cairn_index::IndexError::Dimensions { .. })
    ));
    index.commit().unwrap();
    assert!(index.document_ids().unwrap().is_empty());
}
