//! Fusing the BM25 and dense rankings.
//!
//! Three methods, all measured on SciFact (BENCHMARKS.md, "Retrieval"): reciprocal rank
//! fusion, which needs no score calibration, and two convex combinations of per-list
//! normalised scores (min-max and z-score), which use how far apart the scores are and not
//! only their order.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Fusion {
    /// score = Σ 1 / (k + rank), ranks from 1.
    Rrf { k: f32 },
    /// score = w · dense' + (1 − w) · bm25', each min-max normalised over its own list
    /// (a list's missing entries count as its minimum).
    Weighted { dense_weight: f32 },
    /// score = w · dense' + (1 − w) · bm25', each standardised over its own list
    /// ((s − mean) / standard deviation; a list's missing entries count as its minimum).
    ZScore { dense_weight: f32 },
}

impl Default for Fusion {
    /// Min-max combination with 0.4 on the dense side. On SciFact (train, 809 claims,
    /// all-MiniLM-L6-v2, 256-token chunks; BENCHMARKS.md, "Retrieval") it gave nDCG@10 0.7344 and
    /// recall@100 0.9559 at a fusion depth of 100, against 0.6946 / 0.9295 for BM25 alone,
    /// 0.6758 / 0.9330 for dense alone and 0.7269 / 0.9547 for the best RRF there (k=20). Weights
    /// 0.4–0.5 and depths 50–300 all land within 0.729–0.735 (min-max and z-score alike),
    /// so this is a plateau, not a spike; 0.5 measured 0.7320.
    fn default() -> Self {
        Fusion::Weighted { dense_weight: 0.4 }
    }
}

impl Fusion {
    /// Fuses a BM25 and a dense ranking (each best first) into one, best first. Ties keep the
    /// order in which items were first seen (BM25 list first), so results are deterministic.
    pub fn fuse<K: Clone + Eq + std::hash::Hash>(
        &self,
        bm25: &[(K, f32)],
        dense: &[(K, f32)],
    ) -> Ranked<K> {
        match *self {
            Fusion::Rrf { k } => reciprocal_rank_fusion(&[bm25, dense], k),
            Fusion::Weighted { dense_weight } => {
                combine(bm25, dense, dense_weight, Normalise::MinMax)
            }
            Fusion::ZScore { dense_weight } => {
                combine(bm25, dense, dense_weight, Normalise::ZScore)
            }
        }
    }
}

/// One ranked list entry: an item key and its score, best first.
pub type Ranked<K> = Vec<(K, f32)>;

/// Scores keyed by item, remembering the order items were first seen in.
struct Accumulator<K> {
    slot: HashMap<K, usize>,
    items: Vec<(K, f32)>,
}

impl<K: Clone + Eq + std::hash::Hash> Accumulator<K> {
    fn new() -> Self {
        Self {
            slot: HashMap::new(),
            items: Vec::new(),
        }
    }

    fn add(&mut self, key: &K, score: f32) {
        match self.slot.get(key) {
            Some(&i) => self.items[i].1 += score,
            None => {
                self.slot.insert(key.clone(), self.items.len());
                self.items.push((key.clone(), score));
            }
        }
    }

    /// Best first; a stable sort, so ties stay in first-seen order.
    fn into_ranked(self) -> Ranked<K> {
        let mut out = self.items;
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

/// Reciprocal rank fusion of any number of ranked lists.
pub fn reciprocal_rank_fusion<K: Clone + Eq + std::hash::Hash>(
    lists: &[&[(K, f32)]],
    k: f32,
) -> Ranked<K> {
    let mut acc = Accumulator::new();
    for list in lists {
        for (rank, (key, _)) in list.iter().enumerate() {
            acc.add(key, 1.0 / (k + rank as f32 + 1.0));
        }
    }
    acc.into_ranked()
}

#[derive(Clone, Copy)]
enum Normalise {
    MinMax,
    ZScore,
}

/// `(offset, scale, floor)`: a score `s` normalises to `(s − offset) / scale`; `floor` is
/// what an entry missing from the list counts as (the normalised minimum).
fn normaliser<K>(list: &[(K, f32)], how: Normalise) -> (f32, f32, f32) {
    if list.is_empty() {
        return (0.0, 1.0, 0.0);
    }
    let (lo, hi) = list
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), (_, s)| {
            (lo.min(*s), hi.max(*s))
        });
    match how {
        Normalise::MinMax => (lo, if hi > lo { hi - lo } else { 1.0 }, 0.0),
        Normalise::ZScore => {
            let n = list.len() as f32;
            let mean = list.iter().map(|(_, s)| s).sum::<f32>() / n;
            let var = list.iter().map(|(_, s)| (s - mean).powi(2)).sum::<f32>() / n;
            let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
            (mean, sd, (lo - mean) / sd)
        }
    }
}

/// Convex combination of the two lists' normalised scores.
fn combine<K: Clone + Eq + std::hash::Hash>(
    bm25: &[(K, f32)],
    dense: &[(K, f32)],
    dense_weight: f32,
    how: Normalise,
) -> Ranked<K> {
    let mut acc = Accumulator::new();
    // Every item starts at both lists' floor, so one missing from a list gets its minimum.
    let floors: Vec<(f32, f32, f32)> = [bm25, dense].iter().map(|l| normaliser(l, how)).collect();
    let base = (1.0 - dense_weight) * floors[0].2 + dense_weight * floors[1].2;
    for (list, weight, (offset, scale, floor)) in [
        (bm25, 1.0 - dense_weight, floors[0]),
        (dense, dense_weight, floors[1]),
    ] {
        for (key, s) in list {
            acc.add(key, weight * ((s - offset) / scale - floor));
        }
    }
    let mut out = acc.into_ranked();
    out.iter_mut().for_each(|(_, s)| *s += base);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrf_rewards_agreement_between_lists() {
        let a = vec![("x", 9.0), ("y", 8.0), ("z", 7.0)];
        let b = vec![("w", 0.9), ("y", 0.8), ("z", 0.7)];
        let fused = reciprocal_rank_fusion(&[a.as_slice(), b.as_slice()], 60.0);
        assert_eq!(fused[0].0, "y"); // rank 2 in both beats rank 1 in one
        assert_eq!(fused.len(), 4);
    }

    #[test]
    fn rrf_ties_keep_first_seen_order() {
        let a = vec![("x", 9.0), ("y", 8.0)];
        let b = vec![("w", 0.9), ("v", 0.8)];
        for _ in 0..10 {
            let fused = reciprocal_rank_fusion(&[a.as_slice(), b.as_slice()], 60.0);
            let keys: Vec<_> = fused.iter().map(|(k, _)| *k).collect();
            assert_eq!(keys, ["x", "w", "y", "v"]);
        }
    }

    #[test]
    fn weighted_fusion_follows_the_weight() {
        let bm25 = vec![("a", 10.0), ("b", 1.0)];
        let dense = vec![("b", 0.9), ("a", 0.1)];
        let methods: [fn(f32) -> Fusion; 2] = [
            |w| Fusion::Weighted { dense_weight: w },
            |w| Fusion::ZScore { dense_weight: w },
        ];
        for method in methods {
            assert_eq!(method(0.2).fuse(&bm25, &dense)[0].0, "a");
            assert_eq!(method(0.8).fuse(&bm25, &dense)[0].0, "b");
        }
    }

    #[test]
    fn an_item_missing_from_a_list_counts_as_its_minimum() {
        let bm25 = vec![("a", 10.0), ("b", 5.0), ("c", 0.0)];
        let dense = vec![("a", 0.9), ("b", 0.5)];
        let fused = Fusion::Weighted { dense_weight: 0.5 }.fuse(&bm25, &dense);
        let score = |k| fused.iter().find(|(x, _)| *x == k).map(|(_, s)| *s);
        assert_eq!(score("a"), Some(1.0));
        assert_eq!(score("c"), Some(0.0));
        // z-scores: the same order, and "c" (missing from dense) sits at dense's floor.
        let fused = Fusion::ZScore { dense_weight: 0.5 }.fuse(&bm25, &dense);
        let keys: Vec<_> = fused.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }
}
