//! Tools over the caller's knowledge: `knowledge_search` and `read_file`. Both see only what
//! the caller may read; anything else is "not found".

use cairn_types::BlockKind;
use serde_json::{Value, json};

use super::{ToolFailure, ToolSpec};
use crate::knowledge::{SearchQuery, find_readable_document, search};
use crate::memory::calls::Caller;
use crate::state::AppState;

/// Characters `read_file` returns per call; the model pages with `offset`.
const READ_CHARS: usize = 6_000;

pub fn specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "knowledge_search".into(),
            description: "Search the user's documents. Returns the most relevant passages with \
                          their document names."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "minLength": 1, "maxLength": 500},
                    "k": {"type": "integer", "minimum": 1, "maximum": 10}
                },
                "required": ["query"],
                "additionalProperties": false
            }),
        },
        ToolSpec {
            name: "read_file".into(),
            description: "Read the text of an uploaded document, by its id or its file name."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "document": {"type": "string", "minLength": 1, "maxLength": 300},
                    "offset": {"type": "integer", "minimum": 0}
                },
                "required": ["document"],
                "additionalProperties": false
            }),
        },
    ]
}

pub async fn invoke(
    app: &AppState,
    caller: &Caller,
    name: &str,
    arguments: &Value,
) -> Option<Result<Value, ToolFailure>> {
    Some(match name {
        "knowledge_search" => knowledge_search(app, caller, arguments).await,
        "read_file" => read_file(app, caller, arguments).await,
        _ => return None,
    })
}

async fn knowledge_search(
    app: &AppState,
    caller: &Caller,
    arguments: &Value,
) -> Result<Value, ToolFailure> {
    let query = SearchQuery {
        query: arguments["query"].as_str().unwrap_or_default().to_string(),
        collections: None,
        k: Some(arguments["k"].as_u64().unwrap_or(5) as usize),
        mode: None,
        metadata: Default::default(),
    };
    let hits = search(app, &caller.principal.user, &query)
        .await
        .map_err(|e| ToolFailure(format!("the search failed: {}", e)))?;
    Ok(Value::Array(
        hits.into_iter()
            .map(|h| {
                json!({
                    "document": h.document_name,
                    "document_id": h.document_id,
                    "section": h.heading_path.join(" > "),
                    "page": h.page,
                    "text": h.text,
                })
            })
            .collect(),
    ))
}

async fn read_file(
    app: &AppState,
    caller: &Caller,
    arguments: &Value,
) -> Result<Value, ToolFailure> {
    let wanted = arguments["document"].as_str().unwrap_or_default();
    let offset = arguments["offset"].as_u64().unwrap_or(0) as usize;
    let document = find_readable_document(app, &caller.principal.user, wanted)
        .await
        .ok()
        .flatten()
        .ok_or_else(|| {
            ToolFailure(format!(
                "no readable document is called or has the id '{wanted}'"
            ))
        })?;
    let bytes = tokio::fs::read(app.knowledge.blobs.path(&document.id))
        .await
        .map_err(|e| {
            ToolFailure(format!(
                "the file of '{}' cannot be read: {e}",
                document.name
            ))
        })?;
    let name = document.name.clone();
    let mime = document.mime.clone();
    let text = tokio::task::spawn_blocking(move || {
        cairn_docs::parse(
            &bytes,
            &name,
            mime.as_deref(),
            &cairn_docs::Limits::default(),
        )
        .map(|parsed| {
            parsed
                .blocks
                .iter()
                .filter_map(|b| match &b.kind {
                    BlockKind::Heading { level, text } => {
                        Some(format!("{} {text}", "#".repeat(usize::from(*level))))
                    }
                    BlockKind::Paragraph { text } | BlockKind::Table { text } => Some(text.clone()),
                    BlockKind::ListItem { text } => Some(format!("- {text}")),
                    BlockKind::PageBreak => None,
                })
                .collect::<Vec<_>>()
                .join("\n\n")
        })
        .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| ToolFailure(format!("the parser stopped: {e}")))?
    .map_err(|e| ToolFailure(format!("'{}' cannot be read: {e}", document.name)))?;
    let total = text.chars().count();
    let part: String = text.chars().skip(offset).take(READ_CHARS).collect();
    let end = offset + part.chars().count();
    Ok(json!({
        "document": document.name,
        "document_id": document.id,
        "offset": offset,
        "total_chars": total,
        "next_offset": (end < total).then_some(end),
        "text": part,
    }))
}
