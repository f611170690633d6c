//! Retrieval metrics with binary relevance, as BEIR reports them.

/// nDCG@k: discounted gain of relevant documents in the top k over the ideal ordering.
pub fn ndcg_at(ranked: &[String], relevant: &[String], k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, d)| relevant.contains(d))
        .map(|(i, _)| 1.0 / (i as f64 + 2.0).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(k))
        .map(|i| 1.0 / (i as f64 + 2.0).log2())
        .sum();
    if ideal == 0.0 { 0.0 } else { dcg / ideal }
}

/// recall@k: share of relevant documents found in the top k.
pub fn recall_at(ranked: &[String], relevant: &[String], k: usize) -> f64 {
    if relevant.is_empty() {
        return 0.0;
    }
    relevant
        .iter()
        .filter(|r| ranked.iter().take(k).any(|d| d == *r))
        .count() as f64
        / relevant.len() as f64
}

/// Nearest-rank percentile of durations in microseconds.
pub fn percentile(sorted_us: &[f64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    sorted_us[i.clamp(1, sorted_us.len()) - 1]
}
