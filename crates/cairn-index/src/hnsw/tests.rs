use super::*;

/// Deterministic pseudo-random unit vectors.
pub(crate) fn random_unit_vectors(n: usize, dims: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    (0..n)
        .map(|_| {
            let mut v: Vec<f32> = (0..dims).map(|_| next()).collect();
            crate::simd::normalise(&mut v);
            v
        })
        .collect()
}

fn recall_at_10(graph: &Hnsw, queries: &[Vec<f32>], accept: Option<search::Accept<'_>>) -> f64 {
    let mut hit = 0;
    for q in queries {
        let truth: Vec<u32> = graph.exact(q, 10, accept).iter().map(|n| n.node).collect();
        let got: Vec<u32> = graph
            .search(q, 10, None, accept)
            .iter()
            .map(|n| n.node)
            .collect();
        hit += got.iter().filter(|n| truth.contains(n)).count();
    }
    hit as f64 / (queries.len() * 10) as f64
}

#[test]
fn recall_against_exact_search_is_high_at_default_parameters() {
    let data = random_unit_vectors(3000, 32, 7);
    let mut graph = Hnsw::new(32, HnswParams::default());
    for v in &data {
        graph.insert(v);
    }
    let queries = random_unit_vectors(100, 32, 99);
    let recall = recall_at_10(&graph, &queries, None);
    assert!(recall >= 0.95, "recall@10 {recall}");
}

#[test]
fn finds_an_inserted_vector_as_its_own_nearest_neighbour() {
    let data = random_unit_vectors(500, 16, 3);
    let mut graph = Hnsw::new(16, HnswParams::default());
    for v in &data {
        graph.insert(v);
    }
    for (i, v) in data.iter().enumerate().step_by(37) {
        let top = graph.search(v, 1, None, None);
        assert_eq!(top[0].node, i as u32);
        assert!((top[0].score - 1.0).abs() < 1e-5);
    }
}

#[test]
fn deleted_nodes_are_never_returned_and_recall_holds() {
    let data = random_unit_vectors(2000, 24, 11);
    let mut graph = Hnsw::new(24, HnswParams::default());
    for v in &data {
        graph.insert(v);
    }
    for n in (0..2000).step_by(3) {
        graph.delete(n);
    }
    assert_eq!(graph.live(), 2000 - 667);
    let queries = random_unit_vectors(50, 24, 5);
    for q in &queries {
        assert!(
            graph
                .search(q, 10, None, None)
                .iter()
                .all(|n| n.node % 3 != 0)
        );
    }
    assert!(recall_at_10(&graph, &queries, None) >= 0.95);
}

#[test]
fn filtered_search_returns_k_admitted_nodes() {
    let data = random_unit_vectors(2000, 24, 13);
    let mut graph = Hnsw::new(24, HnswParams::default());
    for v in &data {
        graph.insert(v);
    }
    let only_tenth = |n: u32| n % 10 == 4;
    let queries = random_unit_vectors(50, 24, 17);
    for q in &queries {
        let got = graph.search(q, 10, None, Some(&only_tenth));
        assert_eq!(got.len(), 10);
        assert!(got.iter().all(|n| n.node % 10 == 4));
    }
    assert!(recall_at_10(&graph, &queries, Some(&only_tenth)) >= 0.9);
}

#[test]
fn graph_image_round_trips() {
    let data = random_unit_vectors(300, 8, 21);
    let mut graph = Hnsw::new(8, HnswParams::default());
    for v in &data {
        graph.insert(v);
    }
    graph.delete(5);
    let mut bytes = Vec::new();
    graph.write_to(&mut bytes).unwrap();
    let back = Hnsw::read_from(&mut bytes.as_slice()).unwrap();
    assert_eq!(back.live(), 299);
    let q = &data[42];
    assert_eq!(
        graph.search(q, 5, None, None),
        back.search(q, 5, None, None)
    );
    assert!(Hnsw::read_from(&mut &bytes[..bytes.len() / 2]).is_err());
}
