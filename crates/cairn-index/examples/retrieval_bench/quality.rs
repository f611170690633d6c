//! nDCG@10 and recall@100 on SciFact for BM25, dense and hybrid (several fusions).

use std::collections::BTreeMap;

use cairn_index::{
    ChunkInput, DocumentInput, Fusion, KnowledgeIndex, LocalIndex, LocalIndexConfig, SearchFilter,
    SearchMode, SearchOptions, SearchRequest,
};

use crate::Args;
use crate::data::{self, read_vectors};
use crate::metrics::{ndcg_at, recall_at};

/// Chunks read per query: enough to leave ≥100 distinct documents after collapsing chunks.
const CHUNK_DEPTH: usize = 300;

pub fn run(args: &Args) {
    let dims = args.num("dims", 384);
    let corpus = data::load(&args.path("data"));
    let chunks = data::chunk_all(&corpus, args.num("max-tokens", 256));
    let vectors = read_vectors(&args.path("vectors"), dims);
    let n_chunks: usize = chunks.iter().map(Vec::len).sum();
    assert_eq!(
        vectors.len(),
        n_chunks + corpus.queries.len(),
        "vectors file does not match the chunking"
    );
    let (chunk_vectors, query_vectors) = vectors.split_at(n_chunks);

    let dir = tempfile::tempdir().expect("temp dir");
    let index = LocalIndex::open(dir.path(), LocalIndexConfig::new(dims)).expect("open index");
    let mut next = chunk_vectors.iter();
    for ((id, _, _), doc_chunks) in corpus.docs.iter().zip(&chunks) {
        let chunks = doc_chunks
            .iter()
            .map(|c| ChunkInput {
                chunk: c.clone(),
                vector: next.next().expect("vector").clone(),
            })
            .collect();
        index
            .add_document(DocumentInput {
                doc_id: id.clone(),
                collection_id: "scifact".into(),
                metadata: BTreeMap::new(),
                chunks,
            })
            .expect("add");
    }
    index.commit().expect("commit");

    let mut runs: Vec<(String, SearchMode, Fusion)> = vec![
        ("bm25".into(), SearchMode::Bm25, Fusion::default()),
        ("dense".into(), SearchMode::Dense, Fusion::default()),
    ];
    for k in [20.0, 60.0] {
        runs.push((
            format!("hybrid rrf k={k}"),
            SearchMode::Hybrid,
            Fusion::Rrf { k },
        ));
    }
    for w in [0.3, 0.4, 0.5, 0.6, 0.7] {
        runs.push((
            format!("hybrid weighted w_dense={w}"),
            SearchMode::Hybrid,
            Fusion::Weighted { dense_weight: w },
        ));
    }

    let filter = SearchFilter::default();
    println!("| run | nDCG@10 | recall@100 |");
    println!("|---|---|---|");
    let mut json = Vec::new();
    for (name, mode, fusion) in runs {
        let (mut ndcg, mut recall) = (0.0, 0.0);
        for ((qid, text), qv) in corpus.queries.iter().zip(query_vectors) {
            let request = SearchRequest {
                text,
                vector: Some(qv),
                filter: &filter,
                k: CHUNK_DEPTH,
                mode,
            };
            let options = SearchOptions {
                fusion,
                fusion_depth: CHUNK_DEPTH,
                ef: Some(CHUNK_DEPTH),
            };
            let hits = index.search_with(&request, options).expect("search");
            // A document ranks where its best chunk ranks.
            let mut docs: Vec<String> = Vec::new();
            for h in hits {
                if !docs.contains(&h.doc_id) {
                    docs.push(h.doc_id);
                }
            }
            let relevant = &corpus.qrels[qid];
            ndcg += ndcg_at(&docs, relevant, 10);
            recall += recall_at(&docs, relevant, 100);
        }
        let q = corpus.queries.len() as f64;
        println!("| {name} | {:.4} | {:.4} |", ndcg / q, recall / q);
        json.push(
            serde_json::json!({"run": name, "ndcg_at_10": ndcg / q, "recall_at_100": recall / q}),
        );
    }
    eprintln!(
        "{} docs, {n_chunks} chunks, {} queries",
        corpus.docs.len(),
        corpus.queries.len()
    );
    if let Some(out) = args.0.get("json") {
        std::fs::write(out, serde_json::to_string_pretty(&json).expect("json"))
            .expect("write json");
    }
}
