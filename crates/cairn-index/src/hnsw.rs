//! A hand-written HNSW graph (Malkov & Yashunin, 2016) over unit-length f32 vectors.
//!
//! Why not a crate: the index needs, at once, (1) deletes, (2) filtering *during* traversal so
//! a search restricted to one collection still returns k results, (3) a persistence format
//! that the index's own write-ahead log and commit generation govern (crash safety is decided
//! one level up, in `vectors.rs`), and (4) a pure-Rust build. `hnsw_rs` has no deletes and
//! dumps in its own format; `instant-distance` builds once and cannot insert or delete;
//! `usearch` is a C++ build and its filtered search and persistence are its own. The core
//! algorithm is small (insert, greedy descent, beam search, neighbour-selection heuristic);
//! owning it keeps those four needs simple.
//!
//! Deleted nodes are tombstoned: they still route searches (removing them would cut the graph)
//! but never appear in results. `vectors.rs` rebuilds the graph when tombstones pile up.

mod persist;
mod search;
#[cfg(test)]
mod tests;

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::simd::dot;

pub use search::Neighbour;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HnswParams {
    /// Links per node on upper layers; layer 0 keeps twice as many.
    pub m: usize,
    /// Beam width while inserting: higher builds a better graph, slower.
    pub ef_construction: usize,
    /// Default beam width while searching (raised to k when k is larger).
    pub ef_search: usize,
    pub seed: u64,
}

impl Default for HnswParams {
    fn default() -> Self {
        Self {
            m: 16,
            ef_construction: 128,
            ef_search: 96,
            seed: 0x5eed_cafe,
        }
    }
}

pub struct Hnsw {
    params: HnswParams,
    dims: usize,
    /// Node vectors, `dims` floats each, node `i` at `i * dims`.
    vectors: Vec<f32>,
    /// Layer-0 links: `1 + 2m` slots per node, the first holding the count.
    layer0: Vec<u32>,
    /// Links on layers 1..=level for nodes whose level is above 0 (`upper[i][l - 1]`).
    upper: Vec<Vec<Vec<u32>>>,
    deleted: Vec<bool>,
    live: usize,
    entry: Option<u32>,
    max_level: usize,
    rng: u64,
    visited: Mutex<Vec<search::Visited>>,
}

impl Hnsw {
    pub fn new(dims: usize, params: HnswParams) -> Self {
        Self {
            params,
            dims,
            vectors: Vec::new(),
            layer0: Vec::new(),
            upper: Vec::new(),
            deleted: Vec::new(),
            live: 0,
            entry: None,
            max_level: 0,
            rng: params.seed | 1,
            visited: Mutex::new(Vec::new()),
        }
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn params(&self) -> HnswParams {
        self.params
    }

    /// Nodes ever inserted, tombstones included; node ids are `0..len()`.
    pub fn len(&self) -> usize {
        self.deleted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn live(&self) -> usize {
        self.live
    }

    pub fn vector(&self, node: u32) -> &[f32] {
        let i = node as usize * self.dims;
        &self.vectors[i..i + self.dims]
    }

    pub fn is_deleted(&self, node: u32) -> bool {
        self.deleted[node as usize]
    }

    /// Tombstones a node: it keeps routing searches but is never returned.
    pub fn delete(&mut self, node: u32) {
        if !std::mem::replace(&mut self.deleted[node as usize], true) {
            self.live -= 1;
        }
    }

    fn slots0(&self) -> usize {
        1 + 2 * self.params.m
    }

    pub(crate) fn links(&self, node: u32, level: usize) -> &[u32] {
        if level == 0 {
            let base = node as usize * self.slots0();
            let n = self.layer0[base] as usize;
            &self.layer0[base + 1..base + 1 + n]
        } else {
            &self.upper[node as usize][level - 1]
        }
    }

    fn set_links(&mut self, node: u32, level: usize, links: &[u32]) {
        if level == 0 {
            let base = node as usize * self.slots0();
            self.layer0[base] = links.len() as u32;
            self.layer0[base + 1..base + 1 + links.len()].copy_from_slice(links);
        } else {
            self.upper[node as usize][level - 1] = links.to_vec();
        }
    }

    fn similarity(&self, a: u32, b: u32) -> f32 {
        dot(self.vector(a), self.vector(b))
    }

    fn random_level(&mut self) -> usize {
        // xorshift64*: deterministic for a given seed, so builds are reproducible.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let u = ((r >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let ml = 1.0 / (self.params.m as f64).ln();
        ((-u.ln() * ml) as usize).min(16)
    }

    /// Inserts a unit vector and returns its node id.
    pub fn insert(&mut self, vector: &[f32]) -> u32 {
        assert_eq!(vector.len(), self.dims, "vector dimensions");
        let node = self.len() as u32;
        let level = self.random_level();
        self.vectors.extend_from_slice(vector);
        self.layer0.resize(self.layer0.len() + self.slots0(), 0);
        self.upper.push(vec![Vec::new(); level]);
        self.deleted.push(false);
        self.live += 1;

        let Some(mut entry) = self.entry else {
            self.entry = Some(node);
            self.max_level = level;
            return node;
        };
        for l in (level + 1..=self.max_level).rev() {
            entry = self.greedy(vector, entry, l);
        }
        for l in (0..=level.min(self.max_level)).rev() {
            let found = self.search_layer(vector, &[entry], self.params.ef_construction, l, None);
            let cap = if l == 0 {
                2 * self.params.m
            } else {
                self.params.m
            };
            let chosen = self.select(&found, self.params.m);
            self.set_links(node, l, &chosen.iter().map(|n| n.node).collect::<Vec<_>>());
            for n in &chosen {
                self.link_back(n.node, node, l, cap);
            }
            entry = found[0].node;
        }
        if level > self.max_level {
            self.max_level = level;
            self.entry = Some(node);
        }
        node
    }

    /// Adds `new` to `node`'s links on `level`, pruning with the heuristic when full.
    fn link_back(&mut self, node: u32, new: u32, level: usize, cap: usize) {
        let mut links = self.links(node, level).to_vec();
        links.push(new);
        if links.len() > cap {
            let mut candidates: Vec<Neighbour> = links
                .iter()
                .map(|&n| Neighbour {
                    node: n,
                    score: self.similarity(node, n),
                })
                .collect();
            candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
            links = self
                .select(&candidates, cap)
                .iter()
                .map(|n| n.node)
                .collect();
        }
        self.set_links(node, level, &links);
    }

    /// The neighbour-selection heuristic: take candidates best first, skipping one that is
    /// closer to an already chosen neighbour than to the base point, so links spread in
    /// different directions; then fill up with the best skipped ones.
    fn select(&self, candidates: &[Neighbour], m: usize) -> Vec<Neighbour> {
        let mut chosen: Vec<Neighbour> = Vec::with_capacity(m);
        let mut skipped = Vec::new();
        for c in candidates {
            if chosen.len() >= m {
                break;
            }
            if chosen
                .iter()
                .all(|r| self.similarity(c.node, r.node) < c.score)
            {
                chosen.push(*c);
            } else {
                skipped.push(*c);
            }
        }
        for c in skipped {
            if chosen.len() >= m {
                break;
            }
            chosen.push(c);
        }
        chosen
    }
}
