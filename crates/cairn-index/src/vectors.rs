//! The vector side of the index on disk: an HNSW graph in memory, made durable by a
//! write-ahead log of operations plus periodic snapshots.
//!
//! Files in the vector directory:
//! - `vectors.log`: records `[len u32][crc32 u32][payload]`; payloads are `Add` (a document's
//!   chunks and vectors), `Delete` (a document id) and `Commit` (a generation number). Only
//!   operations followed by a `Commit` count.
//! - `snapshot.bin`: the whole state (graph, node → chunk map, document table) as of one
//!   generation, written to a temporary file, fsynced and renamed into place.
//!
//! Crash safety: the facade first appends and fsyncs a batch with `Commit(g)`, then commits
//! tantivy with payload `g`. On open, the log is replayed only up to the generation tantivy
//! holds; a batch beyond it (crash between the two commits) and any torn tail are cut off. So
//! a document is visible in both indexes or in neither.

mod log;
mod snapshot;

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::IndexError;
use crate::hnsw::{Hnsw, HnswParams};
use crate::index::SearchFilter;

pub(crate) use log::Op;

/// A document as the vector side knows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DocEntry {
    pub id: String,
    pub collection: String,
    pub metadata: Vec<(String, String)>,
    pub nodes: Vec<u32>,
    /// False while staged: the nodes are in the graph but searches skip them until commit.
    pub visible: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NodeInfo {
    pub doc: u32,
    pub ordinal: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DenseHit {
    pub doc_id: String,
    pub ordinal: u32,
    pub score: f32,
}

/// Vectors appended since the last snapshot before a new one is written: bounds replay time
/// at open (re-inserting into the graph) against snapshot cost.
const SNAPSHOT_EVERY_VECTORS: usize = 50_000;
/// Share of tombstoned nodes above which a snapshot rebuilds the graph from live nodes.
const REBUILD_TOMBSTONE_SHARE: f64 = 0.2;
/// A filter admitting at most this many nodes is answered by exact search: graph traversal
/// would visit most of the graph to find them anyway.
const EXACT_FILTER_MAX_NODES: usize = 4_000;

pub(crate) struct VectorStore {
    dir: PathBuf,
    pub(crate) graph: Hnsw,
    nodes: Vec<NodeInfo>,
    docs: Vec<Option<DocEntry>>,
    by_id: HashMap<String, u32>,
    generation: u64,
    log: File,
    log_len: u64,
    since_snapshot: usize,
    /// Staged operations, written to the log at commit.
    pending: Vec<Op>,
    /// For each staged `Add`, the doc slot its (invisible) nodes were inserted under.
    staged_slots: Vec<Option<u32>>,
}

impl VectorStore {
    /// Opens (or creates) the store and brings it to `committed` (tantivy's generation).
    pub fn open(
        dir: &Path,
        dims: usize,
        params: HnswParams,
        committed: u64,
    ) -> Result<Self, IndexError> {
        fs::create_dir_all(dir)?;
        let mut store = match snapshot::read(&dir.join("snapshot.bin"))? {
            Some(s) => {
                if s.graph.dims() != dims {
                    return Err(IndexError::Dimensions {
                        expected: dims,
                        got: s.graph.dims(),
                    });
                }
                let by_id = s
                    .docs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, d)| d.as_ref().map(|d| (d.id.clone(), i as u32)))
                    .collect();
                Self::assemble(dir, s.graph, s.nodes, s.docs, by_id, s.generation)?
            }
            None => Self::assemble(
                dir,
                Hnsw::new(dims, params),
                Vec::new(),
                Vec::new(),
                HashMap::new(),
                0,
            )?,
        };
        if store.generation > committed {
            return Err(IndexError::Corrupt {
                path: dir.to_path_buf(),
                reason: format!(
                    "vector snapshot is at generation {} but full text only at {committed}",
                    store.generation
                ),
            });
        }
        let path = dir.join("vectors.log");
        let snapshot_generation = store.generation;
        let replay = log::replay(&path, committed)?;
        for (generation, ops) in replay.batches {
            if generation > snapshot_generation {
                store.apply(ops)?;
                store.generation = generation;
            }
        }
        store.log.set_len(replay.valid_len)?;
        store.log.sync_all()?;
        store.log_len = replay.valid_len;
        Ok(store)
    }

    fn assemble(
        dir: &Path,
        graph: Hnsw,
        nodes: Vec<NodeInfo>,
        docs: Vec<Option<DocEntry>>,
        by_id: HashMap<String, u32>,
        generation: u64,
    ) -> Result<Self, IndexError> {
        let log = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(dir.join("vectors.log"))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            graph,
            nodes,
            docs,
            by_id,
            generation,
            log,
            log_len: 0,
            since_snapshot: 0,
            pending: Vec::new(),
            staged_slots: Vec::new(),
        })
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn dims(&self) -> usize {
        self.graph.dims()
    }

    /// Stages an operation. An `Add` is inserted into the graph right away but stays
    /// invisible until [`VectorStore::publish`], so the expensive graph insertion happens while
    /// ingesting, one document per write lock, and a commit only flips visibility: searches
    /// are never blocked for a whole batch.
    pub fn stage(&mut self, op: Op) -> Result<(), IndexError> {
        let slot = match &op {
            Op::Delete { .. } => None,
            Op::Add {
                doc_id,
                collection,
                metadata,
                chunks,
            } => {
                if let Some((_, v)) = chunks.iter().find(|(_, v)| v.len() != self.dims()) {
                    return Err(IndexError::Dimensions {
                        expected: self.dims(),
                        got: v.len(),
                    });
                }
                let slot = self.docs.len() as u32;
                let mut nodes = Vec::with_capacity(chunks.len());
                for (ordinal, vector) in chunks {
                    let node = self.graph.insert(vector);
                    debug_assert_eq!(node as usize, self.nodes.len());
                    self.nodes.push(NodeInfo {
                        doc: slot,
                        ordinal: *ordinal,
                    });
                    nodes.push(node);
                    self.since_snapshot += 1;
                }
                self.docs.push(Some(DocEntry {
                    id: doc_id.clone(),
                    collection: collection.clone(),
                    metadata: metadata.clone(),
                    nodes,
                    visible: false,
                }));
                Some(slot)
            }
        };
        self.pending.push(op);
        self.staged_slots.push(slot);
        Ok(())
    }

    /// Makes the pending batch durable as generation `g`; returns the log length before it,
    /// so a failed full-text commit can cut it off again with [`VectorStore::rollback`].
    pub fn write_pending(&mut self, generation: u64) -> Result<u64, IndexError> {
        let before = self.log_len;
        self.log_len = log::append(&mut self.log, before, &self.pending, generation)?;
        Ok(before)
    }

    pub fn rollback(&mut self, log_len: u64) -> Result<(), IndexError> {
        self.log.set_len(log_len)?;
        self.log.sync_all()?;
        self.log_len = log_len;
        Ok(())
    }

    /// Makes the durable pending batch visible, in staging order.
    pub fn publish(&mut self, generation: u64) -> Result<(), IndexError> {
        self.publish_staged();
        self.generation = generation;
        if self.since_snapshot >= SNAPSHOT_EVERY_VECTORS {
            self.snapshot()?;
        }
        Ok(())
    }

    fn publish_staged(&mut self) {
        let ops = std::mem::take(&mut self.pending);
        let slots = std::mem::take(&mut self.staged_slots);
        for (op, slot) in ops.into_iter().zip(slots) {
            match (op, slot) {
                (Op::Delete { doc_id }, _) => self.remove(&doc_id),
                (Op::Add { doc_id, .. }, Some(slot)) => {
                    self.remove(&doc_id);
                    if let Some(doc) = self.docs[slot as usize].as_mut() {
                        doc.visible = true;
                    }
                    self.by_id.insert(doc_id, slot);
                }
                (Op::Add { .. }, None) => unreachable!("every staged add has a slot"),
            }
        }
    }

    /// Drops staged work: staged nodes become tombstones.
    pub fn discard_pending(&mut self) {
        self.pending.clear();
        for slot in std::mem::take(&mut self.staged_slots).into_iter().flatten() {
            if let Some(doc) = self.docs[slot as usize].take() {
                for node in doc.nodes {
                    self.graph.delete(node);
                }
            }
        }
    }

    /// Replays a committed batch from the log.
    fn apply(&mut self, ops: Vec<Op>) -> Result<(), IndexError> {
        for op in ops {
            self.stage(op)?;
        }
        self.publish_staged();
        Ok(())
    }

    fn remove(&mut self, doc_id: &str) {
        if let Some(slot) = self.by_id.remove(doc_id)
            && let Some(doc) = self.docs[slot as usize].take()
        {
            for node in doc.nodes {
                self.graph.delete(node);
            }
        }
    }

    /// Writes a snapshot (rebuilding the graph first when tombstones pile up) and empties
    /// the log.
    pub fn snapshot(&mut self) -> Result<(), IndexError> {
        if !self.pending.is_empty() {
            return Err(IndexError::Invalid(
                "commit or roll back staged work before compacting".into(),
            ));
        }
        let dead = self.graph.len() - self.graph.live();
        if dead as f64 > REBUILD_TOMBSTONE_SHARE * self.graph.len() as f64 {
            self.rebuild();
        }
        snapshot::write(
            &self.dir,
            self.generation,
            &self.graph,
            &self.nodes,
            &self.docs,
        )?;
        self.rollback(0)?;
        self.since_snapshot = 0;
        Ok(())
    }

    /// Re-inserts live nodes into a fresh graph, dropping tombstones and empty doc slots.
    fn rebuild(&mut self) {
        let mut graph = Hnsw::new(self.dims(), self.graph.params());
        let mut nodes = Vec::with_capacity(self.graph.live());
        let mut docs = Vec::with_capacity(self.by_id.len());
        self.by_id.clear();
        for doc in self.docs.drain(..).flatten() {
            let slot = docs.len() as u32;
            let mut new_nodes = Vec::with_capacity(doc.nodes.len());
            for &old in &doc.nodes {
                new_nodes.push(graph.insert(self.graph.vector(old)));
                nodes.push(NodeInfo {
                    doc: slot,
                    ordinal: self.nodes[old as usize].ordinal,
                });
            }
            self.by_id.insert(doc.id.clone(), slot);
            docs.push(Some(DocEntry {
                nodes: new_nodes,
                ..doc
            }));
        }
        self.graph = graph;
        self.nodes = nodes;
        self.docs = docs;
    }

    pub fn document_ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }

    /// Vectors of committed documents.
    pub fn live_vectors(&self) -> usize {
        self.by_id
            .values()
            .map(|&slot| {
                self.docs[slot as usize]
                    .as_ref()
                    .map_or(0, |d| d.nodes.len())
            })
            .sum()
    }

    /// The `k` chunks most similar to `query` among those `filter` admits.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: Option<usize>,
        filter: &SearchFilter,
    ) -> Result<Vec<DenseHit>, IndexError> {
        if query.len() != self.dims() {
            return Err(IndexError::Dimensions {
                expected: self.dims(),
                got: query.len(),
            });
        }
        let found = if filter.is_empty() {
            let visible = |n: u32| {
                self.docs[self.nodes[n as usize].doc as usize]
                    .as_ref()
                    .is_some_and(|d| d.visible)
            };
            self.graph.search(query, k, ef, Some(&visible))
        } else {
            let admitted: Vec<bool> = self
                .docs
                .iter()
                .map(|d| {
                    d.as_ref()
                        .is_some_and(|d| d.visible && filter.admits(&d.collection, &d.metadata))
                })
                .collect();
            let count: usize = self
                .docs
                .iter()
                .zip(&admitted)
                .filter(|(_, a)| **a)
                .map(|(d, _)| d.as_ref().map_or(0, |d| d.nodes.len()))
                .sum();
            if count <= EXACT_FILTER_MAX_NODES.max(self.graph.live() / 20) {
                let nodes = self
                    .docs
                    .iter()
                    .zip(&admitted)
                    .filter(|(_, a)| **a)
                    .flat_map(|(d, _)| d.iter().flat_map(|d| d.nodes.iter().copied()));
                self.graph.exact_among(query, k, nodes)
            } else {
                let accept = |n: u32| admitted[self.nodes[n as usize].doc as usize];
                self.graph.search(query, k, ef, Some(&accept))
            }
        };
        Ok(found
            .into_iter()
            .map(|n| {
                let info = self.nodes[n.node as usize];
                let doc = self.docs[info.doc as usize]
                    .as_ref()
                    .expect("live node has a document");
                DenseHit {
                    doc_id: doc.id.clone(),
                    ordinal: info.ordinal,
                    score: n.score,
                }
            })
            .collect())
    }
}
