//! Long-term memories: learnt after a turn, recalled before the next.
//!
//! Learning keeps little on purpose (see [`super::extract`] for the filters): a stored
//! memory is only useful if it is true, durable and not already known. Each candidate is
//! compared with the user's memories: at `duplicate_similarity` or above it is dropped, from
//! `update_similarity` it replaces the near match (a changed fact: a new name, a new
//! preference), below it is added. Similarity is the cosine of embeddings from the memory
//! embedding model; where a vector is missing (no embedding model, the embedder failed, a
//! vector from another model), word overlap stands in.

use std::collections::HashSet;

use cairn_store::{Memory, MemoryUpdate, Message};

use super::calls::{self, Caller};
use super::extract::{self, Candidate, Source};
use crate::error::ApiError;
use crate::state::AppState;
use crate::util::{new_id, now_ms};

/// Tokens the model may spend listing facts from one message.
const EXTRACT_MAX_TOKENS: u32 = 96;

/// Cosine similarity; 0 for vectors of different lengths or zero vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// Words worth comparing: everything but function words.
fn key_words(text: &str) -> HashSet<String> {
    const FUNCTION_WORDS: &[&str] = &[
        "the", "a", "an", "is", "are", "was", "be", "am", "to", "of", "in", "on", "at", "for",
        "with", "and", "or", "user", "user's", "i", "my", "me", "what", "which", "who", "how",
        "do", "does", "you", "your", "it", "that", "this",
    ];
    extract::words(text)
        .into_iter()
        .filter(|w| !FUNCTION_WORDS.contains(&w.as_str()))
        .collect()
}

/// Jaccard similarity of the key words: the stand-in when vectors are missing.
pub fn lexical_similarity(a: &str, b: &str) -> f32 {
    let (a, b) = (key_words(a), key_words(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f32 / union as f32
}

/// How alike a text (with its vector from `model`, if any) and a stored memory are.
fn similarity(text: &str, vector: Option<&[f32]>, model: Option<&str>, memory: &Memory) -> f32 {
    match (vector, &memory.embedding, model, &memory.embedding_model) {
        (Some(v), Some(m), Some(a), Some(b)) if a == b => cosine(v, m),
        _ => lexical_similarity(text, &memory.text),
    }
}

/// The embedding of one text for memory use, and the model that made it; `(None, None)`
/// when there is no embedding model or it failed (logged).
pub async fn embedding_of(
    app: &AppState,
    caller: &Caller,
    route: &'static str,
    text: &str,
) -> (Option<Vec<f32>>, Option<String>) {
    let Some(model) = calls::embedding_model(app, &caller.principal) else {
        return (None, None);
    };
    match calls::embed(app, caller, route, &model, vec![text.to_string()]).await {
        Ok(mut vectors) => (vectors.pop(), Some(model)),
        Err(err) => {
            tracing::warn!(error = %err, model, "cannot embed a memory; word overlap stands in");
            (None, None)
        }
    }
}

/// The user's memories most relevant to `user_text`, best first, within the configured
/// number and similarity. Empty when anything fails (logged).
pub async fn recall(app: &AppState, caller: &Caller, user_text: &str) -> Vec<String> {
    let config = &app.config.memory;
    if config.recall_max == 0 {
        return Vec::new();
    }
    let user_id = &caller.principal.user.id;
    let memories = match app
        .store
        .list_memories(user_id, config.max_per_user as u32)
        .await
    {
        Ok(m) => m,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read memories to recall");
            return Vec::new();
        }
    };
    if memories.is_empty() {
        return Vec::new();
    }
    let any_embedded = memories.iter().any(|m| m.embedding.is_some());
    let (vector, model) = if any_embedded {
        embedding_of(app, caller, calls::RECALL_ROUTE, user_text).await
    } else {
        (None, None)
    };
    let mut scored: Vec<(f32, Memory)> = memories
        .into_iter()
        .map(|m| {
            let lexical = vector.is_none() || m.embedding_model != model;
            let s = similarity(user_text, vector.as_deref(), model.as_deref(), &m);
            // Word overlap runs on another scale: any shared word counts.
            let keep = if lexical {
                s > 0.0
            } else {
                s >= config.recall_min_similarity
            };
            (if keep { s } else { f32::NEG_INFINITY }, m)
        })
        .filter(|(s, _)| s.is_finite())
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.truncate(config.recall_max);
    metrics::counter!("cairn_memory_recalled_total").increment(scored.len() as u64);
    scored.into_iter().map(|(_, m)| m.text).collect()
}

/// The "what you know about the user" block of the system message.
pub fn recall_block(memories: &[String]) -> String {
    let mut block = String::from(
        "What you know about the user (from earlier conversations; use it only when relevant):",
    );
    for m in memories {
        block.push_str("\n- ");
        block.push_str(m);
    }
    block
}

/// What happened to one candidate fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Added,
    Updated,
    Duplicate,
    /// The user has as many memories as allowed.
    Full,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Added => "added",
            Outcome::Updated => "updated",
            Outcome::Duplicate => "duplicate",
            Outcome::Full => "full",
        }
    }
}

/// Candidate facts from the user's message: patterns and the model, filtered, without
/// repeats, at most [`extract::MAX_FACTS_PER_TURN`].
pub async fn candidates(
    app: &AppState,
    caller: &Caller,
    model: Option<String>,
    user_text: &str,
) -> Vec<Candidate> {
    let config = &app.config.memory;
    let mut found = Vec::new();
    if config.extract_with_patterns {
        found.extend(
            extract::pattern_facts(user_text)
                .into_iter()
                .map(|text| Candidate {
                    text,
                    source: Source::Pattern,
                }),
        );
    }
    if config.extract_with_model && extract::has_first_person_statement(user_text) {
        match calls::complete(
            app,
            caller,
            calls::EXTRACT_ROUTE,
            config.model.clone().or(model),
            extract::extraction_messages(user_text),
            EXTRACT_MAX_TOKENS,
        )
        .await
        {
            Ok(answer) => {
                found.extend(extract::parse_model_facts(&answer).into_iter().map(|text| {
                    Candidate {
                        text,
                        source: Source::Model,
                    }
                }))
            }
            Err(err) => {
                tracing::warn!(error = %err, "the model could not extract memories; patterns only")
            }
        }
    }
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    for candidate in found {
        if let Err(reject) = extract::check(&candidate.text, user_text) {
            metrics::counter!("cairn_memory_facts_total", "source" => candidate.source.as_str(), "outcome" => reject.as_str())
                .increment(1);
            continue;
        }
        if seen.insert(extract::normalised(&candidate.text))
            && kept.len() < extract::MAX_FACTS_PER_TURN
        {
            kept.push(candidate);
        }
    }
    kept
}

/// Learns from one finished turn: extracts candidates from the user's message and adds,
/// updates or drops each against the user's memories.
pub async fn learn(
    app: &AppState,
    caller: &Caller,
    user_message: &Message,
    assistant_message: &Message,
) -> Result<Vec<(Candidate, Outcome)>, ApiError> {
    let user_id = caller.principal.user.id.clone();
    if !super::enabled_for(app, &user_id).await? {
        return Ok(Vec::new());
    }
    let found = candidates(
        app,
        caller,
        assistant_message.model.clone(),
        &user_message.content,
    )
    .await;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let config = &app.config.memory;
    let mut known = app
        .store
        .list_memories(&user_id, config.max_per_user as u32)
        .await?;
    let mut count = app.store.count_memories(&user_id).await?;
    let model = calls::embedding_model(app, &caller.principal);
    let vectors = match &model {
        Some(m) => {
            let texts = found.iter().map(|c| c.text.clone()).collect();
            match calls::embed(app, caller, calls::EMBED_ROUTE, m, texts).await {
                Ok(v) => Some(v),
                Err(err) => {
                    tracing::warn!(error = %err, model = m, "cannot embed new memories; word overlap stands in");
                    None
                }
            }
        }
        None => None,
    };
    let model = vectors.as_ref().and(model);
    let mut added_now = HashSet::new();
    let mut outcomes = Vec::new();
    for (i, candidate) in found.into_iter().enumerate() {
        let vector = vectors.as_ref().and_then(|v| v.get(i)).cloned();
        let key = extract::normalised(&candidate.text);
        let best = known
            .iter()
            .enumerate()
            .map(|(j, m)| {
                let s = if extract::normalised(&m.text) == key {
                    1.0
                } else {
                    similarity(&candidate.text, vector.as_deref(), model.as_deref(), m)
                };
                (j, s)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let now = now_ms();
        let outcome = match best {
            Some((_, s)) if s >= config.duplicate_similarity => Outcome::Duplicate,
            // Two facts from the same message are both kept or, when near, the first wins.
            Some((j, s)) if s >= config.update_similarity && added_now.contains(&known[j].id) => {
                Outcome::Duplicate
            }
            Some((j, s)) if s >= config.update_similarity => {
                let update = MemoryUpdate {
                    text: candidate.text.clone(),
                    embedding: vector.clone(),
                    embedding_model: vector.as_ref().and(model.clone()),
                    at_ms: now,
                };
                match app
                    .store
                    .update_memory(&user_id, &known[j].id, &update)
                    .await?
                {
                    Some(updated) => {
                        known[j] = updated;
                        Outcome::Updated
                    }
                    // Deleted by the user meanwhile: nothing to update, nothing to add.
                    None => Outcome::Duplicate,
                }
            }
            _ if count >= config.max_per_user => Outcome::Full,
            _ => {
                let memory = Memory {
                    id: new_id(),
                    user_id: user_id.clone(),
                    text: candidate.text.clone(),
                    embedding_model: vector.as_ref().and(model.clone()),
                    embedding: vector,
                    source_conversation_id: Some(user_message.conversation_id.clone()),
                    source_message_id: Some(user_message.id.clone()),
                    created_at: now,
                    updated_at: now,
                };
                app.store.insert_memory(&memory).await?;
                added_now.insert(memory.id.clone());
                known.push(memory);
                count += 1;
                Outcome::Added
            }
        };
        metrics::counter!("cairn_memory_facts_total", "source" => candidate.source.as_str(), "outcome" => outcome.as_str())
            .increment(1);
        tracing::debug!(
            source = candidate.source.as_str(),
            outcome = outcome.as_str(),
            "memory candidate"
        );
        outcomes.push((candidate, outcome));
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarities() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 2.0]), 0.0);
        assert_eq!(
            lexical_similarity("The user prefers Rust.", "the user prefers rust"),
            1.0
        );
        assert!(lexical_similarity("What is my name?", "The user's name is Ada.") > 0.0);
        assert_eq!(
            lexical_similarity("Lisbon in May?", "The user prefers Rust."),
            0.0
        );
    }
}
