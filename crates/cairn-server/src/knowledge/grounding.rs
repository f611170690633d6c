//! Grounded answers: the question's best chunks as numbered sources in the system prompt,
//! within a token budget, and the citation list a client links [1], [2] … to.

use cairn_store::User;
use serde::Serialize;

use super::search::{SearchQuery, search};
use crate::error::ApiError;
use crate::openai::chat::ChatMessage;
use crate::openai::estimate_tokens;
use crate::state::AppState;

/// Characters of a source's text shown as the citation's snippet.
const SNIPPET_CHARS: usize = 300;

#[derive(Debug, Clone, Serialize)]
pub struct Citation {
    /// The number the answer cites it by: `[1]` is index 1.
    pub index: usize,
    pub document_id: String,
    pub document_name: String,
    pub collection_id: String,
    pub chunk_id: String,
    pub heading_path: Vec<String>,
    pub page: Option<u32>,
    pub snippet: String,
}

pub struct Grounding {
    /// The instructions and numbered sources, for the system message.
    pub prompt: String,
    pub citations: Vec<Citation>,
}

impl Grounding {
    /// Puts the sources into the conversation: appended to its system message, or as one.
    pub fn apply(&self, messages: &mut Vec<ChatMessage>) {
        if let Some(first) = messages.first_mut()
            && first.role == cairn_types::Role::System
        {
            let text = first.text();
            first.content = Some(serde_json::Value::String(format!(
                "{text}\n\n{}",
                self.prompt
            )));
            return;
        }
        messages.insert(
            0,
            ChatMessage::plain(cairn_types::Role::System, &self.prompt),
        );
    }
}

/// Retrieves sources for `question` from `collections` (checked readable by `user`).
pub async fn ground(
    app: &AppState,
    user: &User,
    question: &str,
    collections: &[String],
) -> Result<Grounding, ApiError> {
    let config = &app.knowledge.config;
    let question: String = question
        .chars()
        .take(super::search::MAX_QUERY_CHARS)
        .collect();
    let hits = if question.trim().is_empty() {
        Vec::new()
    } else {
        search(
            app,
            user,
            &SearchQuery {
                query: question,
                collections: Some(collections.to_vec()),
                k: Some(config.grounding_sources),
                mode: None,
                metadata: Default::default(),
            },
        )
        .await?
    };
    let mut sources = String::new();
    let mut citations = Vec::new();
    let mut budget = config.grounding_tokens;
    for hit in hits {
        let mut label = hit.document_name.clone();
        if !hit.heading_path.is_empty() {
            label.push_str(" › ");
            label.push_str(&hit.heading_path.join(" › "));
        }
        if let Some(page) = hit.page {
            label.push_str(&format!(" (page {page})"));
        }
        let index = citations.len() + 1;
        let mut text = hit.text.clone();
        let cost = estimate_tokens(label.len() + text.len()) as usize;
        if cost > budget {
            if citations.is_empty() {
                // The best source alone is over budget: keep its start rather than nothing.
                text = text.chars().take(budget.saturating_mul(3)).collect();
            } else {
                break;
            }
        }
        budget = budget.saturating_sub(cost);
        sources.push_str(&format!("[{index}] {label}\n{text}\n\n"));
        citations.push(Citation {
            index,
            snippet: hit.text.chars().take(SNIPPET_CHARS).collect(),
            document_id: hit.document_id,
            document_name: hit.document_name,
            collection_id: hit.collection_id,
            chunk_id: hit.chunk_id,
            heading_path: hit.heading_path,
            page: hit.page,
        });
    }
    let prompt = if citations.is_empty() {
        "No document in the attached knowledge matches this question. Say so if the answer \
         would need them."
            .to_string()
    } else {
        format!(
            "Answer using the numbered sources below. Cite each source you use by its number \
             in square brackets, like [1] or [2]. If the sources do not hold the answer, say \
             so.\n\nSources:\n\n{}",
            sources.trim_end()
        )
    };
    Ok(Grounding { prompt, citations })
}
