//! nDCG@10 and recall@100 on SciFact for BM25, dense and hybrid (a grid of fusions).
//!
//! Each query's BM25 and dense chunk rankings are read once, `CHUNK_DEPTH` deep, through
//! `LocalIndex::search_with`; every fusion is then applied to prefixes of those two lists
//! with `Fusion::fuse`, the function `LocalIndex` itself calls, so the grid costs no extra
//! searches. The crate's default configuration is also run end to end through
//! `KnowledgeIndex::search` as a check that the two paths agree.
//!
//! Chunks are collapsed to documents (a document ranks where its best chunk ranks), since
//! SciFact judges documents.

use std::collections::BTreeMap;

use cairn_index::{
    ChunkInput, DocumentInput, Fusion, KnowledgeIndex, LocalIndex, LocalIndexConfig, Ranked,
    SearchFilter, SearchMode, SearchOptions, SearchRequest,
};

use crate::Args;
use crate::data::{self, read_vectors};
use crate::metrics::{ndcg_at, recall_at};

/// Chunks read per list: enough to leave ≥100 distinct documents after collapsing chunks.
const CHUNK_DEPTH: usize = 300;
/// Fusion depths (chunks read from each list before fusing) tried for nDCG@10.
const DEPTHS: [usize; 5] = [20, 50, 100, 200, 300];

/// Documents in order of their best chunk (chunk ids are `doc_id#ordinal`).
fn collapse(ranked: &[(String, f32)]) -> Vec<String> {
    let mut docs: Vec<String> = Vec::new();
    for (chunk, _) in ranked {
        let doc = chunk.rsplit_once('#').map_or(chunk.as_str(), |(d, _)| d);
        if !docs.iter().any(|d| d == doc) {
            docs.push(doc.to_string());
        }
    }
    docs
}

struct Eval<'a> {
    qrels: Vec<&'a [String]>,
}

impl Eval<'_> {
    /// Mean nDCG@10 and recall@100 of one ranking per query.
    fn score(&self, rankings: impl Iterator<Item = Ranked<String>>) -> (f64, f64) {
        let (mut ndcg, mut recall, mut n) = (0.0, 0.0, 0);
        for (ranked, relevant) in rankings.zip(&self.qrels) {
            let docs = collapse(&ranked);
            ndcg += ndcg_at(&docs, relevant, 10);
            recall += recall_at(&docs, relevant, 100);
            n += 1;
        }
        (ndcg / n as f64, recall / n as f64)
    }
}

fn fusions() -> Vec<(String, Fusion)> {
    let mut out = Vec::new();
    for k in [5.0, 10.0, 20.0, 40.0, 60.0, 100.0] {
        out.push((format!("rrf k={k}"), Fusion::Rrf { k }));
    }
    for w in [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] {
        out.push((
            format!("min-max w_dense={w}"),
            Fusion::Weighted { dense_weight: w },
        ));
    }
    for w in [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] {
        out.push((
            format!("z-score w_dense={w}"),
            Fusion::ZScore { dense_weight: w },
        ));
    }
    out
}

pub fn run(args: &Args) {
    let corpus = data::load(&args.path("data"));
    let chunks = data::chunk_all(&corpus, args.num("max-tokens", 256));
    let n_chunks: usize = chunks.iter().map(Vec::len).sum();
    // Without vectors only BM25 is measured (a one-dimensional placeholder vector per chunk):
    // for trying analyzers and chunk sizes without re-embedding.
    let bm25_only = !args.0.contains_key("vectors");
    let dims = if bm25_only { 1 } else { args.num("dims", 384) };
    let vectors = if bm25_only {
        vec![vec![1.0]; n_chunks + corpus.queries.len()]
    } else {
        read_vectors(&args.path("vectors"), dims)
    };
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
    eprintln!(
        "{} docs, {n_chunks} chunks, {} queries",
        corpus.docs.len(),
        corpus.queries.len()
    );

    let filter = SearchFilter::default();
    let list = |text: &str, vector: &[f32], mode: SearchMode| -> Ranked<String> {
        let request = SearchRequest {
            text,
            vector: Some(vector),
            filter: &filter,
            k: CHUNK_DEPTH,
            mode,
        };
        let options = SearchOptions {
            fusion: Fusion::default(),
            fusion_depth: CHUNK_DEPTH,
            ef: Some(CHUNK_DEPTH),
        };
        index
            .search_with(&request, options)
            .expect("search")
            .into_iter()
            .map(|h| (h.chunk_id, h.score))
            .collect()
    };
    let mut bm25 = Vec::new();
    let mut dense = Vec::new();
    for ((_, text), qv) in corpus.queries.iter().zip(query_vectors) {
        bm25.push(list(text, qv, SearchMode::Bm25));
        if !bm25_only {
            dense.push(list(text, qv, SearchMode::Dense));
        }
    }
    let eval = Eval {
        qrels: corpus
            .queries
            .iter()
            .map(|(qid, _)| corpus.qrels[qid].as_slice())
            .collect(),
    };

    let mut json = Vec::new();
    let (n, r) = eval.score(bm25.iter().cloned());
    println!("| run | nDCG@10 | recall@100 |");
    println!("|---|---:|---:|");
    println!("| BM25 | {n:.4} | {r:.4} |");
    json.push(serde_json::json!({"run": "bm25", "ndcg_at_10": n, "recall_at_100": r}));
    if bm25_only {
        write_json(args, &json);
        return;
    }
    let (n, r) = eval.score(dense.iter().cloned());
    println!("| dense | {n:.4} | {r:.4} |");
    json.push(serde_json::json!({"run": "dense", "ndcg_at_10": n, "recall_at_100": r}));

    // The grid: nDCG@10 at each fusion depth; recall@100 needs ≥100 documents, so it is
    // taken from the lists fused at full depth (what LocalIndex does when asked for k=300).
    println!();
    print!("| hybrid fusion |");
    for d in DEPTHS {
        print!(" nDCG@10, depth {d} |");
    }
    println!(" recall@100 |");
    println!("|---|{}---:|", "---:|".repeat(DEPTHS.len()));
    let mut best: Vec<(f64, String)> = Vec::new();
    for (name, fusion) in fusions() {
        let fused_at = |d: usize| {
            bm25.iter()
                .zip(&dense)
                .map(move |(b, v)| fusion.fuse(&b[..d.min(b.len())], &v[..d.min(v.len())]))
        };
        print!("| {name} |");
        let mut row = serde_json::Map::new();
        row.insert("run".into(), format!("hybrid {name}").into());
        for d in DEPTHS {
            let (n, _) = eval.score(fused_at(d));
            print!(" {n:.4} |");
            row.insert(format!("ndcg_at_10 depth={d}"), n.into());
            best.push((n, format!("{name}, depth {d}")));
        }
        let (_, r) = eval.score(fused_at(CHUNK_DEPTH));
        println!(" {r:.4} |");
        row.insert("recall_at_100".into(), r.into());
        json.push(row.into());
    }
    best.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!();
    println!("best nDCG@10 in the grid:");
    for (n, name) in best.iter().take(8) {
        println!("  {n:.4}  {name}");
    }

    // The crate's defaults end to end (KnowledgeIndex::search, default ef): nDCG@10 from a
    // request for `fusion_depth` chunks (the depth the index reads for any k up to it),
    // recall@100 from a request for CHUNK_DEPTH.
    let config = index.config();
    let (index, filter) = (&index, &filter);
    let end_to_end = |k: usize| {
        corpus
            .queries
            .iter()
            .zip(query_vectors)
            .map(move |((_, text), qv)| {
                let hits = index
                    .search(&SearchRequest {
                        text,
                        vector: Some(qv),
                        filter,
                        k,
                        mode: SearchMode::Hybrid,
                    })
                    .expect("search");
                hits.into_iter()
                    .map(|h| (h.chunk_id, h.score))
                    .collect::<Ranked<String>>()
            })
    };
    let (n, _) = eval.score(end_to_end(config.fusion_depth));
    let (_, r) = eval.score(end_to_end(CHUNK_DEPTH));
    println!();
    println!(
        "crate default ({:?}, fusion_depth {}) through KnowledgeIndex::search: nDCG@10 {n:.4}, recall@100 {r:.4}",
        config.fusion, config.fusion_depth
    );
    json.push(serde_json::json!({
        "run": "hybrid, crate default, end to end",
        "fusion": config.fusion,
        "fusion_depth": config.fusion_depth,
        "ndcg_at_10": n,
        "recall_at_100": r,
    }));
    write_json(args, &json);
}

fn write_json(args: &Args, json: &[serde_json::Value]) {
    if let Some(out) = args.0.get("json") {
        std::fs::write(out, serde_json::to_string_pretty(json).expect("json")).expect("write json");
    }
}
