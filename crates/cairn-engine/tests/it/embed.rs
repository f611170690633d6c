use cairn_engine::{EmbeddingEngine, EmbeddingEngineConfig, MatrixFormat};
use serde_json::Value;

use crate::support::model_path;

fn reference() -> Value {
    serde_json::from_str(include_str!("../fixtures/embeddings_reference.json")).unwrap()
}

fn engine(dir: &tempfile::TempDir, matrices: MatrixFormat) -> EmbeddingEngine {
    let mut config = EmbeddingEngineConfig::new(
        model_path("all-minilm-l6-v2"),
        dir.path().join(format!("minilm.{}.gguf", matrices.name())),
    );
    config.threads = Some(2);
    config.matrices = matrices;
    EmbeddingEngine::start(config).unwrap()
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * y).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|y| y.powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// The bar: the same tokens as the model's own tokenizer, and vectors within cosine 0.999 of
/// sentence-transformers' on 20 sentences (one longer than the 256-token limit), in every
/// matrix format.
#[tokio::test]
async fn embeddings_match_sentence_transformers() {
    for format in [MatrixFormat::F32, MatrixFormat::F16] {
        embeddings_match_in(format).await;
    }
}

async fn embeddings_match_in(format: MatrixFormat) {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir, format);
    assert_eq!(engine.dims(), 384);
    let reference = reference();
    let sentences: Vec<String> = reference["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    for (sentence, ids) in sentences
        .iter()
        .zip(reference["token_ids"].as_array().unwrap())
    {
        let expected: Vec<i64> = ids
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let mut ours: Vec<i64> = engine
            .token_ids(sentence)
            .into_iter()
            .map(i64::from)
            .collect();
        if ours.len() > expected.len() {
            // sentence-transformers truncates to 256: the first 255 tokens, then [SEP].
            let sep = *ours.last().unwrap();
            ours.truncate(expected.len() - 1);
            ours.push(sep);
        }
        assert_eq!(ours, expected, "tokens differ for {sentence:?}");
    }
    let vectors = engine.embed(sentences.clone()).await.unwrap();
    for ((sentence, ours), theirs) in sentences
        .iter()
        .zip(&vectors)
        .zip(reference["embeddings"].as_array().unwrap())
    {
        let theirs: Vec<f64> = theirs
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let norm: f32 = ours.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "not unit length: {norm}");
        let c = cosine(ours, &theirs);
        assert!(
            c >= 0.999,
            "cosine {c} for {sentence:?} in {}",
            format.name()
        );
    }
}

#[tokio::test]
async fn concurrent_callers_are_batched_and_get_their_own_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir, MatrixFormat::default());
    let texts: Vec<String> = (0..40)
        .map(|i| format!("Sentence number {i} talks about topic {}.", i % 7))
        .collect();
    let alone = engine.embed(texts.clone()).await.unwrap();
    let calls = texts.chunks(5).map(|chunk| {
        let engine = engine.clone();
        let chunk = chunk.to_vec();
        tokio::spawn(async move { engine.embed(chunk).await.unwrap() })
    });
    let together: Vec<Vec<f32>> = futures::future::join_all(calls)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap())
        .collect();
    assert_eq!(together.len(), alone.len());
    for (a, b) in alone.iter().zip(&together) {
        let b: Vec<f64> = b.iter().map(|x| f64::from(*x)).collect();
        assert!(cosine(a, &b) > 0.9999);
    }
    // Similar sentences are closer than unrelated ones.
    let v = engine
        .embed(vec![
            "A cat sits on the mat.".into(),
            "A kitten rests on a rug.".into(),
            "Interest rates rose again.".into(),
        ])
        .await
        .unwrap();
    let as64 = |x: &Vec<f32>| x.iter().map(|v| f64::from(*v)).collect::<Vec<_>>();
    assert!(cosine(&v[0], &as64(&v[1])) > cosine(&v[0], &as64(&v[2])));
}
