//! Restarts: committed work survives, uncommitted work vanishes whole.

use std::fs::OpenOptions;
use std::io::Write;

use cairn_index::{KnowledgeIndex, SearchFilter, SearchMode};

use crate::support::*;

#[test]
fn reopening_after_commit_keeps_everything_searchable() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = open(dir.path());
        for d in corpus() {
            index.add_document(d).unwrap();
        }
        index.commit().unwrap();
        index.delete_document("pasta").unwrap();
        index.commit().unwrap();
    }
    let index = open(dir.path());
    let ids: Vec<String> = index.document_ids().unwrap().into_iter().collect();
    assert_eq!(ids, vec!["bread", "glacier", "rust", "volcano"]);
    assert!(index.check_consistency().unwrap().is_consistent());
    for mode in ALL_MODES {
        assert_eq!(
            search(&index, "glaciers of ice", &SearchFilter::default(), 1, mode)[0].doc_id,
            "glacier",
            "{mode:?}"
        );
    }
}

#[test]
fn uncommitted_documents_are_invisible_before_and_after_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = open(dir.path());
        index.add_document(corpus().remove(0)).unwrap();
        index.commit().unwrap();
        for d in corpus().into_iter().skip(1) {
            index.add_document(d).unwrap();
        }
        // Not committed: searches do not see the staged documents.
        assert_eq!(index.document_ids().unwrap().len(), 1);
        for mode in ALL_MODES {
            assert!(
                search(
                    &index,
                    "bread dough yeast",
                    &SearchFilter::default(),
                    10,
                    mode
                )
                .iter()
                .all(|h| h.doc_id == "volcano")
            );
        }
        // Dropped without commit: the process "dies" mid-ingestion.
    }
    let index = open(dir.path());
    assert_eq!(
        index
            .document_ids()
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec!["volcano"]
    );
    assert_eq!(index.counts(), (1, 1));
    assert!(index.check_consistency().unwrap().is_consistent());
    // Resuming ingestion is just adding the documents again.
    for d in corpus() {
        index.add_document(d).unwrap();
    }
    index.commit().unwrap();
    assert_eq!(index.counts(), (5, 5));
}

#[test]
fn a_torn_vector_log_tail_is_cut_off_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = open(dir.path());
        for d in corpus() {
            index.add_document(d).unwrap();
        }
        index.commit().unwrap();
    }
    let log = dir.path().join("vectors").join("vectors.log");
    let len = std::fs::metadata(&log).unwrap().len();
    OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&[7, 0, 0, 0, 1, 2, 3])
        .unwrap();
    let index = open(dir.path());
    assert_eq!(std::fs::metadata(&log).unwrap().len(), len);
    assert!(index.check_consistency().unwrap().is_consistent());
    index
        .add_document(document("new", "c", "New", &["Brand new text."]))
        .unwrap();
    index.commit().unwrap();
    drop(index);
    assert_eq!(open(dir.path()).counts(), (6, 6));
}

#[test]
fn a_snapshot_with_deletes_reopens_to_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let before;
    {
        let index = open(dir.path());
        for d in corpus() {
            index.add_document(d).unwrap();
        }
        index.commit().unwrap();
        index.delete_document("rust").unwrap();
        index.delete_document("pasta").unwrap();
        index.commit().unwrap();
        index.compact().unwrap(); // 2 of 5 tombstoned: the graph is rebuilt
        index
            .add_document(document(
                "tea",
                "food",
                "Tea",
                &["Steep green tea leaves in hot water."],
            ))
            .unwrap();
        index.commit().unwrap();
        before = search(
            &index,
            "green tea leaves",
            &SearchFilter::default(),
            5,
            SearchMode::Dense,
        );
    }
    assert!(std::fs::metadata(dir.path().join("vectors").join("snapshot.bin")).is_ok());
    let index = open(dir.path());
    let after = search(
        &index,
        "green tea leaves",
        &SearchFilter::default(),
        5,
        SearchMode::Dense,
    );
    assert_eq!(before, after);
    assert_eq!(after[0].doc_id, "tea");
    assert_eq!(index.counts(), (4, 4));
    assert!(index.check_consistency().unwrap().is_consistent());
}

#[test]
fn rollback_drops_staged_work_from_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    let mut docs = corpus().into_iter();
    index.add_document(docs.next().unwrap()).unwrap();
    index.commit().unwrap();
    for d in docs {
        index.add_document(d).unwrap();
    }
    index.delete_document("volcano").unwrap();
    index.rollback().unwrap();
    index.commit().unwrap();
    assert_eq!(index.counts(), (1, 1));
    for mode in ALL_MODES {
        let hits = search(
            &index,
            "bread dough yeast lava",
            &SearchFilter::default(),
            10,
            mode,
        );
        assert_eq!(doc_ids(&hits), vec!["volcano"], "{mode:?}");
    }
    assert!(index.check_consistency().unwrap().is_consistent());
}
