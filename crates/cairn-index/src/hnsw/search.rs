//! Search on the graph: greedy descent on upper layers, beam search on a layer.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::Hnsw;
use crate::simd::dot;

/// A node and its similarity (dot product) to the query; higher is closer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    pub node: u32,
    pub score: f32,
}

/// Orders by similarity, best greatest (for a max-heap of candidates).
#[derive(Clone, Copy)]
struct Best(Neighbour);
/// Orders by similarity, worst greatest (for a max-heap of results to evict the worst).
#[derive(Clone, Copy)]
struct Worst(Neighbour);

impl PartialEq for Best {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Best {}
impl PartialOrd for Best {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Best {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.score.total_cmp(&o.0.score)
    }
}
impl PartialEq for Worst {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Worst {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.score.total_cmp(&self.0.score)
    }
}

/// A visited set cleared in O(1) by bumping an epoch; pooled so searches do not allocate.
pub(super) struct Visited {
    marks: Vec<u32>,
    epoch: u32,
}

impl Visited {
    fn reset(&mut self, n: usize) {
        if self.marks.len() < n {
            self.marks.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.epoch = 1;
        }
    }

    /// Marks `node`; true if it was not marked before.
    fn insert(&mut self, node: u32) -> bool {
        let m = &mut self.marks[node as usize];
        let fresh = *m != self.epoch;
        *m = self.epoch;
        fresh
    }
}

/// Decides which nodes may be returned (deleted nodes never are).
pub type Accept<'a> = &'a dyn Fn(u32) -> bool;

impl Hnsw {
    /// The `k` live nodes most similar to `query` that `accept` admits, best first.
    /// `ef` is the beam width (at least `k` is used).
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: Option<usize>,
        accept: Option<Accept<'_>>,
    ) -> Vec<Neighbour> {
        let Some(mut entry) = self.entry else {
            return Vec::new();
        };
        if k == 0 || self.live == 0 {
            return Vec::new();
        }
        for l in (1..=self.max_level).rev() {
            entry = self.greedy(query, entry, l);
        }
        let ef = ef.unwrap_or(self.params.ef_search).max(k);
        let deleted = &self.deleted;
        let keep = |n: u32| !deleted[n as usize] && accept.is_none_or(|f| f(n));
        let mut found = self.search_layer(query, &[entry], ef, 0, Some(&keep));
        found.truncate(k);
        found
    }

    /// Exact search over every live node `accept` admits: the ground truth for recall, and
    /// the fallback when a filter admits so few nodes that graph traversal would wander.
    pub fn exact(&self, query: &[f32], k: usize, accept: Option<Accept<'_>>) -> Vec<Neighbour> {
        let nodes = (0..self.len() as u32)
            .filter(|&n| !self.deleted[n as usize] && accept.is_none_or(|f| f(n)));
        self.exact_among(query, k, nodes)
    }

    pub fn exact_among(
        &self,
        query: &[f32],
        k: usize,
        nodes: impl Iterator<Item = u32>,
    ) -> Vec<Neighbour> {
        let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(k + 1);
        for node in nodes {
            let score = dot(query, self.vector(node));
            if heap.len() < k {
                heap.push(Worst(Neighbour { node, score }));
            } else if heap.peek().is_some_and(|w| score > w.0.score) {
                heap.pop();
                heap.push(Worst(Neighbour { node, score }));
            }
        }
        let mut out: Vec<Neighbour> = heap.into_iter().map(|w| w.0).collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out
    }

    /// Walks to the most similar node on `level`, one best neighbour at a time.
    pub(super) fn greedy(&self, query: &[f32], mut node: u32, level: usize) -> u32 {
        let mut best = dot(query, self.vector(node));
        loop {
            let mut moved = false;
            for &n in self.links(node, level) {
                let s = dot(query, self.vector(n));
                if s > best {
                    best = s;
                    node = n;
                    moved = true;
                }
            }
            if !moved {
                return node;
            }
        }
    }

    /// Beam search on one layer. Every node routes; only nodes `keep` admits (all, when
    /// `None`) enter the results. Returns up to `ef` results, best first.
    pub(super) fn search_layer(
        &self,
        query: &[f32],
        entries: &[u32],
        ef: usize,
        level: usize,
        keep: Option<Accept<'_>>,
    ) -> Vec<Neighbour> {
        let mut visited = self
            .visited
            .lock()
            .expect("visited pool")
            .pop()
            .unwrap_or(Visited {
                marks: Vec::new(),
                epoch: 0,
            });
        visited.reset(self.len());
        let admits = |n: u32| keep.is_none_or(|f| f(n));

        let mut candidates: BinaryHeap<Best> = BinaryHeap::new();
        let mut results: BinaryHeap<Worst> = BinaryHeap::new();
        for &e in entries {
            visited.insert(e);
            let nb = Neighbour {
                node: e,
                score: dot(query, self.vector(e)),
            };
            candidates.push(Best(nb));
            if admits(e) {
                results.push(Worst(nb));
            }
        }
        while let Some(Best(c)) = candidates.pop() {
            if results.len() >= ef && results.peek().is_some_and(|w| c.score < w.0.score) {
                break;
            }
            for &n in self.links(c.node, level) {
                if !visited.insert(n) {
                    continue;
                }
                let score = dot(query, self.vector(n));
                let full = results.len() >= ef;
                if full && results.peek().is_some_and(|w| score <= w.0.score) {
                    continue;
                }
                let nb = Neighbour { node: n, score };
                candidates.push(Best(nb));
                if admits(n) {
                    results.push(Worst(nb));
                    if results.len() > ef {
                        results.pop();
                    }
                }
            }
        }
        self.visited.lock().expect("visited pool").push(visited);
        let mut out: Vec<Neighbour> = results.into_iter().map(|w| w.0).collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out
    }
}
