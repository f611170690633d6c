//! Speed at ~100k chunks: ingestion, query latency, and the HNSW graph against exact search.
//!
//! SciFact has about 10k chunks at 256 tokens, so the speed set is made of real text only:
//! the corpus chunked again at a smaller size (`data::speed_corpus`, default cuts
//! `256+title,16`: the quality run's 9,974 chunks, then the abstracts cut at 16 tokens
//! until 100k), every chunk embedded with all-MiniLM-L6-v2 by `embed.py`. The vectors are
//! real text embeddings; most texts are much shorter than a typical chunk (16 tokens: cheap
//! enough to embed 90k of them with sentence-transformers on 2 cores), which makes BM25
//! postings shorter per chunk than with 256-token chunks.

use std::collections::BTreeMap;
use std::time::Instant;

use cairn_index::hnsw::{Hnsw, HnswParams, Neighbour};
use cairn_index::{
    ChunkInput, DocumentInput, Fusion, KnowledgeIndex, LocalIndex, LocalIndexConfig, SearchFilter,
    SearchMode, SearchRequest,
};

use crate::Args;
use crate::data::{self, read_vectors, write_vectors};
use crate::metrics::percentile;

pub const DEFAULT_CUTS: &str = "256+title,16";
pub const DEFAULT_CHUNKS: usize = 100_000;
/// The beam widths swept for the graph, on both sides (FAISS reads them from params.json).
const EFS: [usize; 6] = [16, 32, 64, 96, 128, 256];

/// Queries per second of `search` over all `queries`, split across `threads` threads
/// (each thread answers its share one query at a time), best of `reps` passes.
fn throughput(
    queries: &[Vec<f32>],
    threads: usize,
    reps: usize,
    search: &(dyn Fn(&[f32]) -> Vec<Neighbour> + Sync),
) -> f64 {
    let mut best = 0f64;
    for _ in 0..reps {
        let t = Instant::now();
        std::thread::scope(|s| {
            for part in queries.chunks(queries.len().div_ceil(threads)) {
                s.spawn(move || {
                    for q in part {
                        std::hint::black_box(search(q.as_slice()));
                    }
                });
            }
        });
        best = best.max(queries.len() as f64 / t.elapsed().as_secs_f64());
    }
    best
}

pub fn run(args: &Args) {
    let dims = args.num("dims", 384);
    let out = args.path("out");
    std::fs::create_dir_all(&out).expect("out dir");
    let corpus = data::load(&args.path("data"));
    let docs = data::speed_corpus(
        &corpus,
        &data::parse_cuts(&args.text("cuts", DEFAULT_CUTS)),
        args.num("chunks", DEFAULT_CHUNKS),
    );
    let vectors = read_vectors(&args.path("vectors"), dims);
    let total: usize = docs.iter().map(|d| d.chunks.len()).sum();
    assert_eq!(
        vectors.len(),
        total + corpus.queries.len(),
        "vectors file does not match the speed set"
    );
    let (base, query_vectors) = vectors.split_at(total);
    write_vectors(&out.join("base.f32"), base);
    write_vectors(&out.join("queries.f32"), query_vectors);
    let mut next = base.iter();
    let inputs: Vec<DocumentInput> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| DocumentInput {
            doc_id: d.doc_id.clone(),
            collection_id: format!("c{}", i % 4),
            metadata: BTreeMap::new(),
            chunks: d
                .chunks
                .iter()
                .map(|(c, _)| ChunkInput {
                    chunk: c.clone(),
                    vector: next.next().expect("vector").clone(),
                })
                .collect(),
        })
        .collect();
    println!(
        "speed set: {total} chunks in {} documents; {} queries",
        docs.len(),
        corpus.queries.len()
    );
    let mut per_cut: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for d in &docs {
        let cut = d.doc_id.rsplit_once('@').map_or("", |(_, c)| c);
        let e = per_cut.entry(cut).or_default();
        e.0 += 1;
        e.1 += d.chunks.len();
    }
    for (cut, (n_docs, n_chunks)) in &per_cut {
        println!("  cut at {cut} tokens: {n_chunks} chunks from {n_docs} abstracts");
    }
    let mut json = serde_json::Map::new();
    json.insert("chunks".into(), total.into());
    if !args.flag("graph-only", false) {
        let mut config = LocalIndexConfig::new(dims);
        if let Some(f) = args.0.get("fusion") {
            config.fusion = parse_fusion(f);
        }
        config.fusion_depth = args.num("fusion-depth", config.fusion_depth);
        whole_index(config, inputs, &corpus.queries, query_vectors, &mut json);
    }
    graph_alone(dims, base, query_vectors, &out, &mut json);
    std::fs::write(
        out.join("speed.json"),
        serde_json::to_string_pretty(&json).expect("json"),
    )
    .expect("write");
}

/// Ingestion, reopening and query latency of the whole `LocalIndex` (BM25 + HNSW + fusion).
fn whole_index(
    config: LocalIndexConfig,
    inputs: Vec<DocumentInput>,
    queries: &[(String, String)],
    query_vectors: &[Vec<f32>],
    json: &mut serde_json::Map<String, serde_json::Value>,
) {
    let total: usize = inputs.iter().map(|d| d.chunks.len()).sum();
    // Ingestion (embedding excluded): stage + commit every 500 documents; the crate's default
    // config unless --fusion / --fusion-depth say otherwise.
    let dir = tempfile::tempdir().expect("temp dir");
    let index = LocalIndex::open(dir.path(), config).expect("open");
    let start = Instant::now();
    for batch in inputs.chunks(500) {
        for d in batch {
            index.add_document(d.clone()).expect("add");
        }
        index.commit().expect("commit");
    }
    let ingest_s = start.elapsed().as_secs_f64();
    println!(
        "ingest: {total} chunks in {ingest_s:.1} s = {:.0} chunks/s (embedding excluded; BM25 + HNSW + log, 1 thread)",
        total as f64 / ingest_s
    );
    json.insert("ingest_s".into(), ingest_s.into());

    let start = Instant::now();
    drop(index);
    let index = LocalIndex::open(dir.path(), config).expect("reopen");
    let reopen_s = start.elapsed().as_secs_f64();
    println!("reopen (snapshot load + log replay): {reopen_s:.2} s");
    json.insert("reopen_s".into(), reopen_s.into());

    // Query latency through KnowledgeIndex::search with the default config, k = 10; one
    // warm-up pass, then three timed passes over all queries, one at a time.
    let filter = SearchFilter::default();
    let one = SearchFilter::collection("c1");
    println!(
        "| query (k=10, {:?}, fusion_depth {}, ef {}) | p50 ms | p99 ms |",
        config.fusion, config.fusion_depth, config.hnsw.ef_search
    );
    println!("|---|---:|---:|");
    for (name, mode, f) in [
        ("bm25", SearchMode::Bm25, &filter),
        ("dense", SearchMode::Dense, &filter),
        ("hybrid", SearchMode::Hybrid, &filter),
        (
            "hybrid, filter 1 of 4 collections",
            SearchMode::Hybrid,
            &one,
        ),
    ] {
        let mut us = Vec::new();
        for pass in 0..4 {
            for ((_, text), qv) in queries.iter().zip(query_vectors) {
                let t = Instant::now();
                let hits = index
                    .search(&SearchRequest {
                        text,
                        vector: Some(qv),
                        filter: f,
                        k: 10,
                        mode,
                    })
                    .expect("search");
                if pass > 0 {
                    us.push(t.elapsed().as_secs_f64() * 1e6);
                }
                assert!(!hits.is_empty());
            }
        }
        us.sort_by(f64::total_cmp);
        let (p50, p99) = (
            percentile(&us, 50.0) / 1000.0,
            percentile(&us, 99.0) / 1000.0,
        );
        println!("| {name} | {p50:.2} | {p99:.2} |");
        json.insert(format!("{name} p50_ms"), p50.into());
        json.insert(format!("{name} p99_ms"), p99.into());
    }
}

/// The graph alone, against exact search, on the same vectors FAISS gets.
fn graph_alone(
    dims: usize,
    base: &[Vec<f32>],
    query_vectors: &[Vec<f32>],
    out: &std::path::Path,
    json: &mut serde_json::Map<String, serde_json::Value>,
) {
    let total = base.len();
    let params = HnswParams::default();
    std::fs::write(
        out.join("params.json"),
        serde_json::json!({
            "m": params.m,
            "ef_construction": params.ef_construction,
            "ef_search": EFS,
        })
        .to_string(),
    )
    .expect("write params");
    let start = Instant::now();
    let mut graph = Hnsw::new(dims, params);
    for v in base {
        graph.insert(v);
    }
    let build_s = start.elapsed().as_secs_f64();
    println!(
        "hnsw build: {total} vectors in {build_s:.1} s (M={}, efConstruction={}, 1 thread)",
        params.m, params.ef_construction
    );
    json.insert("hnsw_build_s".into(), build_s.into());
    let truth: Vec<Vec<u32>> = query_vectors
        .iter()
        .map(|q| graph.exact(q, 10, None).iter().map(|n| n.node).collect())
        .collect();
    let exact_qps = throughput(query_vectors, 1, 1, &|q: &[f32]| graph.exact(q, 10, None));
    println!("exact: {exact_qps:.0} queries/s (1 thread)");
    json.insert("exact_qps".into(), exact_qps.into());
    let mut truth_out = Vec::new();
    for t in &truth {
        truth_out.extend(t.iter().map(|&n| n as f32));
    }
    write_vectors(&out.join("truth.f32"), &[truth_out]);
    println!("| efSearch | recall@10 | queries/s, 1 thread | queries/s, 2 threads |");
    println!("|---:|---:|---:|---:|");
    for ef in EFS {
        let hit: usize = query_vectors
            .iter()
            .zip(&truth)
            .map(|(q, tr)| {
                let got = graph.search(q, 10, Some(ef), None);
                got.iter().filter(|n| tr.contains(&n.node)).count()
            })
            .sum();
        let recall = hit as f64 / (query_vectors.len() * 10) as f64;
        let search = |q: &[f32]| graph.search(q, 10, Some(ef), None);
        let qps1 = throughput(query_vectors, 1, 3, &search);
        let qps2 = throughput(query_vectors, 2, 3, &search);
        println!("| {ef} | {recall:.4} | {qps1:.0} | {qps2:.0} |");
        json.insert(
            format!("cairn ef={ef}"),
            serde_json::json!({"recall_at_10": recall, "qps_1_thread": qps1, "qps_2_threads": qps2}),
        );
    }
}

/// `rrf:60`, `minmax:0.5` or `zscore:0.5` (the weight is the dense side's).
fn parse_fusion(spec: &str) -> Fusion {
    let (method, value) = spec.split_once(':').expect("--fusion method:value");
    let value: f32 = value.parse().expect("--fusion value");
    match method {
        "rrf" => Fusion::Rrf { k: value },
        "minmax" => Fusion::Weighted {
            dense_weight: value,
        },
        "zscore" => Fusion::ZScore {
            dense_weight: value,
        },
        _ => panic!("--fusion {spec}"),
    }
}
