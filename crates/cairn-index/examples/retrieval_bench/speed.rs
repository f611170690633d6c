//! Speed at ~100k chunks: ingestion, query latency, and the HNSW graph against exact search.
//!
//! The 100k chunks are SciFact's chunks replicated with variation: replica r of a chunk drops
//! every (r + 3)-th word of its text (so BM25 statistics differ) and adds Gaussian noise to its
//! real all-MiniLM vector before re-normalising (cosine to the original ≈ 0.9), so the vector
//! distribution stays that of real text embeddings rather than uniform random points.

use std::collections::BTreeMap;
use std::time::Instant;

use cairn_index::hnsw::{Hnsw, HnswParams};
use cairn_index::{
    ChunkInput, DocumentInput, KnowledgeIndex, LocalIndex, LocalIndexConfig, SearchFilter,
    SearchMode, SearchRequest,
};

use crate::Args;
use crate::data::{self, read_vectors, write_vectors};
use crate::metrics::percentile;

struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn gaussian(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        ((-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()) as f32
    }
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

pub fn run(args: &Args) {
    let dims = args.num("dims", 384);
    let target = args.num("chunks", 100_000);
    let out = args.path("out");
    std::fs::create_dir_all(&out).expect("out dir");
    let corpus = data::load(&args.path("data"));
    let chunks = data::chunk_all(&corpus, args.num("max-tokens", 256));
    let vectors = read_vectors(&args.path("vectors"), dims);
    let n_chunks: usize = chunks.iter().map(Vec::len).sum();
    let (chunk_vectors, query_vectors) = vectors.split_at(n_chunks);

    // Synthesise documents until `target` chunks.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let sigma = args.num("noise-permille", 25) as f32 / 1000.0;
    let mut docs = Vec::new();
    let mut base = Vec::with_capacity(target);
    'outer: for replica in 0.. {
        let mut next = chunk_vectors.iter();
        for ((id, _, _), doc_chunks) in corpus.docs.iter().zip(&chunks) {
            let mut inputs = Vec::new();
            for c in doc_chunks {
                let v = next.next().expect("vector");
                let mut chunk = c.clone();
                let vector = if replica == 0 {
                    v.clone()
                } else {
                    let drop = replica + 3;
                    chunk.text = chunk
                        .text
                        .split_whitespace()
                        .enumerate()
                        .filter(|(i, _)| (i + 1) % drop != 0)
                        .map(|(_, w)| w)
                        .collect::<Vec<_>>()
                        .join(" ");
                    unit(v.iter().map(|x| x + sigma * rng.gaussian()).collect())
                };
                base.push(vector.clone());
                inputs.push(ChunkInput { chunk, vector });
            }
            docs.push(DocumentInput {
                doc_id: format!("{id}~{replica}"),
                collection_id: format!("c{}", replica % 4),
                metadata: BTreeMap::new(),
                chunks: inputs,
            });
            if base.len() >= target {
                break 'outer;
            }
        }
    }
    let total = base.len();
    write_vectors(&out.join("base.f32"), &base);
    write_vectors(&out.join("queries.f32"), query_vectors);

    // Ingestion (embedding excluded): stage + commit every 500 documents.
    let dir = tempfile::tempdir().expect("temp dir");
    let index = LocalIndex::open(dir.path(), LocalIndexConfig::new(dims)).expect("open");
    let start = Instant::now();
    for batch in docs.chunks(500) {
        for d in batch {
            index.add_document(d.clone()).expect("add");
        }
        index.commit().expect("commit");
    }
    let ingest_s = start.elapsed().as_secs_f64();
    println!(
        "ingest: {total} chunks in {ingest_s:.1} s = {:.0} chunks/s (embedding excluded)",
        total as f64 / ingest_s
    );

    let start = Instant::now();
    drop(index);
    let index = LocalIndex::open(dir.path(), LocalIndexConfig::new(dims)).expect("reopen");
    let reopen_s = start.elapsed().as_secs_f64();
    println!("reopen (snapshot load + log replay): {reopen_s:.2} s");

    let filter = SearchFilter::default();
    let one = SearchFilter::collection("c1");
    let mut json = serde_json::Map::new();
    json.insert("chunks".into(), total.into());
    json.insert(
        "ingest_chunks_per_s".into(),
        (total as f64 / ingest_s).into(),
    );
    json.insert("reopen_s".into(), reopen_s.into());
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
        for ((_, text), qv) in corpus.queries.iter().zip(query_vectors) {
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
            us.push(t.elapsed().as_secs_f64() * 1e6);
            assert!(!hits.is_empty());
        }
        us.sort_by(f64::total_cmp);
        let (p50, p99) = (
            percentile(&us, 50.0) / 1000.0,
            percentile(&us, 99.0) / 1000.0,
        );
        println!(
            "query {name}: p50 {p50:.2} ms, p99 {p99:.2} ms (k=10, {} queries)",
            us.len()
        );
        json.insert(format!("{name} p50_ms"), p50.into());
        json.insert(format!("{name} p99_ms"), p99.into());
    }
    drop(index);

    // The graph alone, against exact search, on the same vectors FAISS gets.
    let params = HnswParams {
        m: 16,
        ef_construction: 128,
        ..HnswParams::default()
    };
    let start = Instant::now();
    let mut graph = Hnsw::new(dims, params);
    for v in &base {
        graph.insert(v);
    }
    let build_s = start.elapsed().as_secs_f64();
    println!("hnsw build: {total} vectors in {build_s:.1} s (M=16, efConstruction=128, 1 thread)");
    json.insert("hnsw_build_s".into(), build_s.into());
    let truth: Vec<Vec<u32>> = query_vectors
        .iter()
        .map(|q| graph.exact(q, 10, None).iter().map(|n| n.node).collect())
        .collect();
    let t = Instant::now();
    for q in query_vectors {
        std::hint::black_box(graph.exact(q, 10, None));
    }
    let exact_qps = query_vectors.len() as f64 / t.elapsed().as_secs_f64();
    println!("exact: {exact_qps:.0} queries/s");
    json.insert("exact_qps".into(), exact_qps.into());
    let mut truth_out = Vec::new();
    for t in &truth {
        truth_out.extend(t.iter().map(|&n| n as f32));
    }
    write_vectors(&out.join("truth.f32"), &[truth_out]);
    println!("| ef | recall@10 | queries/s |");
    for ef in [16, 32, 64, 96, 128, 256] {
        let reps = 3;
        let mut hit = 0;
        let t = Instant::now();
        for _ in 0..reps {
            hit = 0;
            for (q, tr) in query_vectors.iter().zip(&truth) {
                let got = graph.search(q, 10, Some(ef), None);
                hit += got.iter().filter(|n| tr.contains(&n.node)).count();
            }
        }
        let qps = (reps * query_vectors.len()) as f64 / t.elapsed().as_secs_f64();
        let recall = hit as f64 / (query_vectors.len() * 10) as f64;
        println!("| {ef} | {recall:.4} | {qps:.0} |");
        json.insert(
            format!("cairn ef={ef}"),
            serde_json::json!({"recall_at_10": recall, "qps": qps}),
        );
    }
    std::fs::write(
        out.join("speed.json"),
        serde_json::to_string_pretty(&json).expect("json"),
    )
    .expect("write");
}
