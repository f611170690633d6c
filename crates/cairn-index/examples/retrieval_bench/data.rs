//! Loading the BEIR-format data set and the vector files the embedding script writes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::Path;

use cairn_index::{Chunk, Chunker, ChunkerConfig, DocumentBlock, embedding_text};

pub struct Corpus {
    /// (doc id, title, text) in file order.
    pub docs: Vec<(String, String, String)>,
    /// (query id, text) for queries that have relevance judgments.
    pub queries: Vec<(String, String)>,
    /// query id → relevant doc ids.
    pub qrels: HashMap<String, Vec<String>>,
}

fn field(v: &serde_json::Value, name: &str) -> String {
    v.get(name)
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_string()
}

pub fn load(dir: &Path) -> Corpus {
    let read = |name: &str| {
        fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
    };
    let docs = read("corpus.jsonl")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("corpus line");
            (field(&v, "_id"), field(&v, "title"), field(&v, "text"))
        })
        .collect();
    let mut qrels: HashMap<String, Vec<String>> = HashMap::new();
    for line in read("qrels/train.tsv").lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() >= 3 && cols[2].trim() != "0" {
            qrels
                .entry(cols[0].to_string())
                .or_default()
                .push(cols[1].to_string());
        }
    }
    let queries = read("queries.jsonl")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("query line");
            (field(&v, "_id"), field(&v, "text"))
        })
        .filter(|(id, _)| qrels.contains_key(id))
        .collect();
    Corpus {
        docs,
        queries,
        qrels,
    }
}

/// A paper as the parser would hand it over: the title as a heading, the abstract as a paragraph.
pub fn blocks(title: &str, text: &str) -> Vec<DocumentBlock> {
    vec![
        DocumentBlock::heading(1, title),
        DocumentBlock::paragraph(text),
    ]
}

/// Every document's chunks, in corpus order (deterministic, so texts and vectors line up).
pub fn chunk_all(corpus: &Corpus, max_tokens: usize) -> Vec<Vec<Chunk>> {
    let chunker = Chunker::new(ChunkerConfig {
        max_tokens,
        overlap_tokens: max_tokens * 15 / 100,
    });
    corpus
        .docs
        .iter()
        .map(|(_, title, text)| chunker.chunk(&blocks(title, text)))
        .collect()
}

/// The text the embedder sees for a chunk: with or without its heading path as context.
pub fn chunk_embedding_text(chunk: &Chunk, context: bool) -> String {
    if context {
        embedding_text(chunk)
    } else {
        chunk.text.clone()
    }
}

/// One chunking of the corpus in the speed set: its token bound, and whether chunks are
/// embedded with their heading path (the paper title) in front, as the quality run does.
#[derive(Debug, Clone, Copy)]
pub struct Cut {
    pub max_tokens: usize,
    pub context: bool,
}

/// Parses `256+title,32,16`.
pub fn parse_cuts(spec: &str) -> Vec<Cut> {
    spec.split(',')
        .map(|c| {
            let (n, context) = match c.trim().strip_suffix("+title") {
                Some(n) => (n, true),
                None => (c.trim(), false),
            };
            Cut {
                max_tokens: n.parse().unwrap_or_else(|_| panic!("cut {c:?}")),
                context,
            }
        })
        .collect()
}

/// A document of the speed set: one paper as cut by one chunking.
pub struct SpeedDoc {
    pub doc_id: String,
    /// Chunks with the text each is embedded from.
    pub chunks: Vec<(Chunk, String)>,
}

/// The ~100k-chunk speed set, all real text: the corpus chunked by each cut in turn (a paper
/// cut at 32 tokens is a different document from the same paper cut at 256), dropping any
/// chunk whose embedding text is already in the set, until `target` chunks. Deterministic,
/// so the texts written for embedding and the vectors read back line up.
pub fn speed_corpus(corpus: &Corpus, cuts: &[Cut], target: usize) -> Vec<SpeedDoc> {
    let mut seen = HashSet::new();
    let mut docs = Vec::new();
    let mut total = 0;
    for cut in cuts {
        for ((id, _, _), doc_chunks) in corpus.docs.iter().zip(chunk_all(corpus, cut.max_tokens)) {
            if total == target {
                return docs;
            }
            let mut chunks = Vec::new();
            for c in doc_chunks {
                let t = chunk_embedding_text(&c, cut.context);
                if total + chunks.len() < target && seen.insert(t.clone()) {
                    chunks.push((c, t));
                }
            }
            total += chunks.len();
            if !chunks.is_empty() {
                docs.push(SpeedDoc {
                    doc_id: format!("{id}@{}", cut.max_tokens),
                    chunks,
                });
            }
        }
    }
    docs
}

pub fn write_texts(path: &Path, texts: impl Iterator<Item = String>) {
    let mut out = String::new();
    for t in texts {
        out.push_str(&serde_json::to_string(&BTreeMap::from([("text", t)])).expect("json"));
        out.push('\n');
    }
    fs::write(path, out).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Raw little-endian f32 rows of `dims` floats.
pub fn read_vectors(path: &Path, dims: usize) -> Vec<Vec<f32>> {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        bytes.len() % (dims * 4),
        0,
        "{} is not a multiple of {dims} floats",
        path.display()
    );
    bytes
        .chunks_exact(dims * 4)
        .map(|row| {
            row.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
        .collect()
}

pub fn write_vectors(path: &Path, rows: &[Vec<f32>]) {
    let bytes: Vec<u8> = rows
        .iter()
        .flatten()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
