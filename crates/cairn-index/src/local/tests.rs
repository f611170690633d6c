//! Crash windows that need the index's insides to reach.

use std::collections::BTreeMap;

use super::*;
use crate::chunk::Chunk;
use crate::index::ChunkInput;

fn doc(id: &str, text: &str) -> DocumentInput {
    let mut vector = vec![0.0; 4];
    vector[id.len() % 4] = 1.0;
    DocumentInput {
        doc_id: id.into(),
        collection_id: "c".into(),
        metadata: BTreeMap::new(),
        chunks: vec![ChunkInput {
            chunk: Chunk {
                text: text.into(),
                heading_path: vec![],
                page: None,
                ordinal: 0,
                token_estimate: 2,
            },
            vector,
        }],
    }
}

#[test]
fn a_crash_between_the_vector_and_full_text_commits_hides_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let config = LocalIndexConfig::new(4);
    {
        let index = LocalIndex::open(dir.path(), config).unwrap();
        index.add_document(doc("a", "alpha text")).unwrap();
        index.commit().unwrap();
        index.add_document(doc("bb", "beta text")).unwrap();
        // The vector batch reaches the disk; the process dies before tantivy commits.
        index.write().write_pending(2).unwrap();
    }
    let index = LocalIndex::open(dir.path(), config).unwrap();
    let report = index.check_consistency().unwrap();
    assert!(report.is_consistent(), "{report:?}");
    assert_eq!(
        index
            .document_ids()
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec!["a".to_string()]
    );
    assert_eq!(index.counts(), (1, 1));
    // The next commit reuses generation 2 cleanly.
    index.add_document(doc("ccc", "gamma")).unwrap();
    assert_eq!(index.commit().unwrap(), 2);
}
