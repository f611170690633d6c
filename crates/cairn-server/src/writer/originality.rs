//! The writer's originality check: each section against the user's knowledge base and their
//! earlier articles.
//!
//! Candidates come from the knowledge index (a hybrid search per paragraph, so the check
//! scales with the size of the article, not of the knowledge base) and from the paragraphs
//! of the user's earlier articles. Each paragraph is then compared with them two ways:
//! shingle overlap (`cairn_index::originality`: copied wording, with the copied excerpt) and
//! embedding similarity (a close paraphrase). A paragraph is flagged when either crosses its
//! threshold; the report names the sources it resembles.

use std::collections::HashMap;

use cairn_index::originality::{OriginalityConfig, Thresholds, compare_with, paragraphs};
use cairn_store::{Page, RunKind, RunStatus};
use serde_json::{Value, json};

use crate::knowledge::{KnowledgeEmbedder, SearchQuery, search};
use crate::memory::calls::Caller;
use crate::state::AppState;

/// Cosine similarity from which a paragraph counts as a paraphrase of a source. Texts on the
/// same topic by different writers score 0.5–0.85 with MiniLM; a reworded copy above 0.9.
pub const SIMILARITY_THRESHOLD: f32 = 0.92;
/// Earlier articles compared against (the most recent ones).
const EARLIER_ARTICLES: u32 = 50;
/// Passages retrieved from the knowledge base per paragraph.
const HITS_PER_PARAGRAPH: usize = 4;
const QUERY_CHARS: usize = 1_500;

/// A passage a section might copy.
struct Candidate {
    /// `document:<id>` or `article:<id>`.
    source_id: String,
    kind: &'static str,
    id: String,
    name: String,
    text: String,
}

/// Checks `sections` (a list of strings, or of objects with `text` and maybe `heading`);
/// the report, and the tokens spent (none: embeddings are not counted as model tokens).
pub async fn check(
    app: &AppState,
    caller: &Caller,
    run_id: &str,
    sections: &Value,
    collections: Option<Vec<String>>,
) -> Result<(Value, i64), String> {
    let sections: Vec<(String, String)> = match sections {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(text) => (format!("section {}", i + 1), text.clone()),
                other => (
                    other["heading"]
                        .as_str()
                        .map_or_else(|| format!("section {}", i + 1), str::to_string),
                    other["text"].as_str().unwrap_or_default().to_string(),
                ),
            })
            .collect(),
        Value::Null => Vec::new(),
        _ => return Err("'sections' must be a list".into()),
    };
    let config = OriginalityConfig::default();
    let thresholds = Thresholds::default();
    let mut candidates = earlier_articles(app, caller, run_id, config.min_paragraph_words).await?;
    let knowledge_checked = app.knowledge.index().is_ok();
    if knowledge_checked {
        for (_, text) in &sections {
            for paragraph in paragraphs(text, config.min_paragraph_words) {
                let query: String = paragraph.text.chars().take(QUERY_CHARS).collect();
                let hits = search(
                    app,
                    &caller.principal.user,
                    &SearchQuery {
                        query,
                        collections: collections.clone(),
                        k: Some(HITS_PER_PARAGRAPH),
                        mode: None,
                        metadata: Default::default(),
                    },
                )
                .await
                .map_err(|e| format!("the knowledge search failed: {e}"))?;
                for hit in hits {
                    if !candidates.iter().any(|c| c.text == hit.text) {
                        candidates.push(Candidate {
                            source_id: format!("document:{}", hit.document_id),
                            kind: "document",
                            id: hit.document_id,
                            name: hit.document_name,
                            text: hit.text,
                        });
                    }
                }
            }
        }
    }
    let similarity =
        Similarity::compute(app, &sections, &candidates, config.min_paragraph_words).await;
    let by_source: HashMap<&str, &Candidate> = candidates
        .iter()
        .map(|c| (c.source_id.as_str(), c))
        .collect();
    let pairs: Vec<(&str, &str)> = candidates
        .iter()
        .map(|c| (c.source_id.as_str(), c.text.as_str()))
        .collect();
    let mut any_flagged = false;
    let mut reports = Vec::new();
    for (index, (heading, text)) in sections.iter().enumerate() {
        let lexical = compare_with(&config, text, &pairs);
        let mut section_flagged = false;
        let mut max_similarity = 0f32;
        let mut paragraphs_out = Vec::new();
        for (p_index, paragraph) in lexical.paragraphs.iter().enumerate() {
            let mut matches: Vec<Value> = paragraph
                .best
                .iter()
                .map(|m| {
                    let source = by_source.get(m.source_id.as_str());
                    json!({
                        "source": source_json(source.copied()),
                        "containment": round(m.containment),
                        "jaccard": round(m.jaccard),
                        "excerpt": m.matched_excerpt,
                        "copied": thresholds.flags(m),
                    })
                })
                .collect();
            let mut flagged = paragraph.is_flagged(&thresholds);
            if let Some((score, source_id)) = similarity.best(index, p_index) {
                max_similarity = max_similarity.max(score);
                let paraphrase = score >= SIMILARITY_THRESHOLD;
                flagged |= paraphrase;
                if paraphrase || matches.is_empty() {
                    matches.push(json!({
                        "source": source_json(by_source.get(source_id).copied()),
                        "similarity": round(f64::from(score)),
                        "paraphrase": paraphrase,
                    }));
                }
            }
            section_flagged |= flagged;
            paragraphs_out.push(json!({
                "preview": paragraph.text_preview,
                "span": [paragraph.span.start, paragraph.span.end],
                "flagged": flagged,
                "matches": matches,
            }));
        }
        any_flagged |= section_flagged;
        reports.push(json!({
            "index": index,
            "heading": heading,
            "flagged": section_flagged,
            "max_containment": round(lexical.max_containment),
            "max_jaccard": round(lexical.max_jaccard),
            "max_similarity": round(f64::from(max_similarity)),
            "paragraphs": paragraphs_out,
        }));
    }
    Ok((
        json!({
            "flagged": any_flagged,
            "thresholds": {
                "containment": thresholds.containment,
                "jaccard": thresholds.jaccard,
                "similarity": SIMILARITY_THRESHOLD,
            },
            "knowledge_checked": knowledge_checked,
            "similarity_checked": similarity.available,
            "candidates": candidates.len(),
            "sections": reports,
        }),
        0,
    ))
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn source_json(candidate: Option<&Candidate>) -> Value {
    match candidate {
        Some(c) => json!({"kind": c.kind, "id": c.id, "name": c.name}),
        None => Value::Null,
    }
}

/// The paragraphs of the user's recent finished articles, this one excepted.
async fn earlier_articles(
    app: &AppState,
    caller: &Caller,
    run_id: &str,
    min_words: usize,
) -> Result<Vec<Candidate>, String> {
    let runs = app
        .store
        .list_runs(
            &caller.principal.user.id,
            RunKind::Article,
            Page {
                limit: EARLIER_ARTICLES,
                before: None,
            },
        )
        .await
        .map_err(|e| format!("the store failed: {e}"))?;
    let mut out = Vec::new();
    for run in runs
        .into_iter()
        .filter(|r| r.id != run_id && r.status == RunStatus::Succeeded)
    {
        let Some(output) = &run.output else { continue };
        // What the user kept: their edit, if they made one.
        let markdown = super::current_markdown(output).unwrap_or_default();
        let title = output["title"].as_str().unwrap_or(&run.name).to_string();
        for paragraph in paragraphs(markdown, min_words) {
            out.push(Candidate {
                source_id: format!("article:{}", run.id),
                kind: "article",
                id: run.id.clone(),
                name: title.clone(),
                text: paragraph.text.to_string(),
            });
        }
    }
    Ok(out)
}

/// Embedding similarity of each paragraph to its nearest candidate.
struct Similarity {
    available: bool,
    /// (section, paragraph) → (cosine, source id).
    best: HashMap<(usize, usize), (f32, String)>,
}

impl Similarity {
    async fn compute(
        app: &AppState,
        sections: &[(String, String)],
        candidates: &[Candidate],
        min_words: usize,
    ) -> Similarity {
        let mut out = Similarity {
            available: false,
            best: HashMap::new(),
        };
        let Ok(embedder) = KnowledgeEmbedder::configured(app) else {
            return out;
        };
        let mut keys = Vec::new();
        let mut texts = Vec::new();
        for (s, (_, text)) in sections.iter().enumerate() {
            for (p, paragraph) in paragraphs(text, min_words).iter().enumerate() {
                keys.push((s, p));
                texts.push(paragraph.text.to_string());
            }
        }
        if keys.is_empty() || candidates.is_empty() {
            out.available = true;
            return out;
        }
        texts.extend(candidates.iter().map(|c| c.text.clone()));
        let Ok(vectors) = embedder.embed(app, texts).await else {
            return out;
        };
        let (mine, theirs) = vectors.split_at(keys.len());
        for (key, vector) in keys.into_iter().zip(mine) {
            let best = theirs
                .iter()
                .zip(candidates)
                .map(|(v, c)| (cosine(vector, v), c))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((score, candidate)) = best {
                out.best.insert(key, (score, candidate.source_id.clone()));
            }
        }
        out.available = true;
        out
    }

    fn best(&self, section: usize, paragraph: usize) -> Option<(f32, &str)> {
        self.best
            .get(&(section, paragraph))
            .map(|(score, id)| (*score, id.as_str()))
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}
