//! The retrieval benchmark runner (driven by `bench/retrieval/run.sh`).
//!
//! Subcommands:
//! - `texts`   chunk the corpus and write the texts to embed (chunks, then queries) as JSONL;
//! - `speed-texts` the same for the ~100k-chunk speed set (several chunkings of the corpus);
//! - `quality` index the corpus with precomputed vectors and report nDCG@10 / recall@100 for
//!   BM25, dense and the fusion variants;
//! - `speed`   ingestion throughput and query latency at ~100k chunks, and the HNSW graph's
//!   recall@10 against exact search and queries/s (exports the vectors for the FAISS peer).
//!
//! Without `--vectors`, `quality` measures BM25 alone (for trying analyzers and chunk sizes
//! without re-embedding).
//!
//! Vectors come from files so the embedder is swappable: today `embed.py` (sentence-transformers
//! all-MiniLM-L6-v2); once the engine's embedder is wired, a flag can compute them in-process.

mod data;
mod metrics;
mod quality;
mod speed;

use std::collections::HashMap;
use std::path::PathBuf;

/// `--name value` pairs.
pub struct Args(HashMap<String, String>);

impl Args {
    fn parse(items: impl Iterator<Item = String>) -> Self {
        let items: Vec<String> = items.collect();
        let mut map = HashMap::new();
        for pair in items.chunks(2) {
            let name = pair[0]
                .strip_prefix("--")
                .unwrap_or_else(|| panic!("expected --name, got {}", pair[0]));
            map.insert(name.to_string(), pair.get(1).cloned().unwrap_or_default());
        }
        Self(map)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        PathBuf::from(
            self.0
                .get(name)
                .unwrap_or_else(|| panic!("missing --{name}")),
        )
    }

    pub fn num(&self, name: &str, default: usize) -> usize {
        self.0.get(name).map_or(default, |v| {
            v.parse().unwrap_or_else(|_| panic!("--{name} {v}"))
        })
    }

    pub fn text(&self, name: &str, default: &str) -> String {
        self.0
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    pub fn flag(&self, name: &str, default: bool) -> bool {
        self.0
            .get(name)
            .map_or(default, |v| v == "true" || v == "1")
    }
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let command = argv.next().unwrap_or_default();
    let args = Args::parse(argv);
    match command.as_str() {
        "texts" => {
            let corpus = data::load(&args.path("data"));
            let chunks = data::chunk_all(&corpus, args.num("max-tokens", 256));
            let context = args.flag("context", true);
            let n: usize = chunks.iter().map(Vec::len).sum();
            let texts = chunks
                .iter()
                .flatten()
                .map(|c| data::chunk_embedding_text(c, context))
                .chain(corpus.queries.iter().map(|(_, q)| q.clone()));
            data::write_texts(&args.path("out"), texts);
            eprintln!(
                "{} documents → {n} chunks; {} queries",
                corpus.docs.len(),
                corpus.queries.len()
            );
            println!("{n}");
        }
        "speed-texts" => {
            let corpus = data::load(&args.path("data"));
            let docs = data::speed_corpus(
                &corpus,
                &data::parse_cuts(&args.text("cuts", speed::DEFAULT_CUTS)),
                args.num("chunks", speed::DEFAULT_CHUNKS),
            );
            let n: usize = docs.iter().map(|d| d.chunks.len()).sum();
            let texts = docs
                .iter()
                .flat_map(|d| d.chunks.iter().map(|(_, t)| t.clone()))
                .chain(corpus.queries.iter().map(|(_, q)| q.clone()));
            data::write_texts(&args.path("out"), texts);
            eprintln!(
                "{} documents → {n} chunks; {} queries",
                docs.len(),
                corpus.queries.len()
            );
            println!("{n}");
        }
        "quality" => quality::run(&args),
        "speed" => speed::run(&args),
        _ => {
            eprintln!("usage: retrieval_bench texts|speed-texts|quality|speed --data DIR ...");
            std::process::exit(2);
        }
    }
}
