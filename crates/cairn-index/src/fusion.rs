//! Fusing the BM25 and dense rankings.
//!
//! Two methods, both measured on SciFact (BENCHMARKS.md, "Retrieval"): reciprocal rank
//! fusion, which needs no score calibration, and a convex combination of min-max normalised
//! scores, which uses how far apart the scores are and not only their order.

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
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Weighted { dense_weight: 0.5 }
    }
}

/// One ranked list entry: an item key and its score, best first.
pub type Ranked<K> = Vec<(K, f32)>;

/// Reciprocal rank fusion of any number of ranked lists.
pub fn reciprocal_rank_fusion<K: Clone + Eq + std::hash::Hash>(
    lists: &[Ranked<K>],
    k: f32,
) -> Ranked<K> {
    let mut scores: HashMap<K, f32> = HashMap::new();
    for list in lists {
        for (rank, (key, _)) in list.iter().enumerate() {
            *scores.entry(key.clone()).or_default() += 1.0 / (k + rank as f32 + 1.0);
        }
    }
    sorted(scores)
}

/// Convex combination of min-max normalised scores of two lists.
pub fn weighted_fusion<K: Clone + Eq + std::hash::Hash>(
    bm25: &Ranked<K>,
    dense: &Ranked<K>,
    dense_weight: f32,
) -> Ranked<K> {
    let mut scores: HashMap<K, f32> = HashMap::new();
    for (list, weight) in [(bm25, 1.0 - dense_weight), (dense, dense_weight)] {
        let (lo, hi) = list
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), (_, s)| {
                (lo.min(*s), hi.max(*s))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        for (key, s) in list {
            *scores.entry(key.clone()).or_default() += weight * (s - lo) / span;
        }
    }
    sorted(scores)
}

pub(crate) fn fuse<K: Clone + Eq + std::hash::Hash>(
    fusion: Fusion,
    bm25: &Ranked<K>,
    dense: &Ranked<K>,
) -> Ranked<K> {
    match fusion {
        Fusion::Rrf { k } => reciprocal_rank_fusion(&[bm25.clone(), dense.clone()], k),
        Fusion::Weighted { dense_weight } => weighted_fusion(bm25, dense, dense_weight),
    }
}

fn sorted<K>(scores: HashMap<K, f32>) -> Ranked<K> {
    let mut out: Vec<(K, f32)> = scores.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrf_rewards_agreement_between_lists() {
        let a = vec![("x", 9.0), ("y", 8.0), ("z", 7.0)];
        let b = vec![("w", 0.9), ("y", 0.8), ("z", 0.7)];
        let fused = reciprocal_rank_fusion(&[a, b], 60.0);
        assert_eq!(fused[0].0, "y"); // rank 2 in both beats rank 1 in one
        assert_eq!(fused.len(), 4);
    }

    #[test]
    fn weighted_fusion_follows_the_weight() {
        let bm25 = vec![("a", 10.0), ("b", 1.0)];
        let dense = vec![("b", 0.9), ("a", 0.1)];
        assert_eq!(weighted_fusion(&bm25, &dense, 0.2)[0].0, "a");
        assert_eq!(weighted_fusion(&bm25, &dense, 0.8)[0].0, "b");
    }
}
