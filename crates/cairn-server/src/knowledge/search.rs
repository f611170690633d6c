//! Search over the collections a user may read: BM25, dense vectors, or their fusion.

use std::collections::{BTreeMap, HashMap};

use cairn_index::{ComponentScore, SearchFilter, SearchMode, SearchRequest};
use cairn_store::{Page, User};
use serde::{Deserialize, Serialize};

use super::{KnowledgeEmbedder, can_read};
use crate::error::ApiError;
use crate::state::AppState;

pub const MAX_QUERY_CHARS: usize = 4_000;
pub const MAX_K: usize = 100;
/// More than a user can own or read: "all of them" for search.
const MAX_READABLE_COLLECTIONS: u32 = 10_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    pub query: String,
    /// Collection ids; every collection the caller may read when absent.
    #[serde(default)]
    pub collections: Option<Vec<String>>,
    #[serde(default)]
    pub k: Option<usize>,
    #[serde(default)]
    pub mode: Option<SearchMode>,
    /// Exact matches on document metadata (`name` is always there).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// A retrieved chunk with its document and where in it the text is.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub chunk_id: String,
    pub document_id: String,
    pub document_name: String,
    pub collection_id: String,
    pub text: String,
    pub heading_path: Vec<String>,
    pub page: Option<u32>,
    pub score: f32,
    pub bm25: Option<ComponentScore>,
    pub dense: Option<ComponentScore>,
}

impl SearchQuery {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.query.trim().is_empty() {
            return Err(ApiError::invalid(
                "'query' must not be empty",
                Some("query"),
            ));
        }
        if self.query.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::invalid(
                format!("'query' must have at most {MAX_QUERY_CHARS} characters"),
                Some("query"),
            ));
        }
        if let Some(k) = self.k
            && !(1..=MAX_K).contains(&k)
        {
            return Err(ApiError::invalid(
                format!("'k' must be between 1 and {MAX_K}"),
                Some("k"),
            ));
        }
        Ok(())
    }
}

/// The ids of the collections `user` searches: the ones asked for (each must exist and be
/// readable, else 404 as if it did not exist), or every readable one.
pub async fn readable_collections(
    app: &AppState,
    user: &User,
    asked: Option<&[String]>,
) -> Result<Vec<String>, ApiError> {
    match asked {
        Some(ids) => {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                match app.store.get_collection(id).await? {
                    Some(c) if can_read(user, &c) => out.push(c.id),
                    _ => {
                        return Err(ApiError::NotFound {
                            message: format!("collection '{id}' not found"),
                            param: Some("collections".into()),
                            code: "not_found",
                        });
                    }
                }
            }
            Ok(out)
        }
        None => Ok(app
            .store
            .list_collections(
                &user.id,
                user.org_id.as_deref(),
                Page {
                    limit: MAX_READABLE_COLLECTIONS,
                    before: None,
                },
            )
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect()),
    }
}

/// Runs a validated query for `user`.
pub async fn search(
    app: &AppState,
    user: &User,
    query: &SearchQuery,
) -> Result<Vec<SearchHit>, ApiError> {
    query.validate()?;
    let collections = readable_collections(app, user, query.collections.as_deref()).await?;
    if collections.is_empty() {
        return Ok(Vec::new());
    }
    let index = app.knowledge.index()?;
    let mode = query.mode.unwrap_or_default();
    let k = query.k.unwrap_or(10);
    let vector = match mode {
        SearchMode::Bm25 => None,
        SearchMode::Dense | SearchMode::Hybrid => KnowledgeEmbedder::configured(app)?
            .embed(app, vec![query.query.clone()])
            .await?
            .pop(),
    };
    let filter = SearchFilter {
        collections: collections.clone(),
        metadata: query.metadata.clone().into_iter().collect(),
    };
    let text = query.query.clone();
    // Ask for more than k: hits of documents being deleted right now are filtered below.
    let hits = tokio::task::spawn_blocking(move || {
        index.search(&SearchRequest {
            text: &text,
            vector: vector.as_deref(),
            filter: &filter,
            k: k + k / 2,
            mode,
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| match e {
        cairn_index::IndexError::Invalid(message) => ApiError::invalid(message, Some("query")),
        other => ApiError::internal(other),
    })?;
    let ids: Vec<String> = hits.iter().map(|h| h.doc_id.clone()).collect();
    let documents: HashMap<String, String> = app
        .store
        .visible_documents(&ids, &collections)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    Ok(hits
        .into_iter()
        .filter_map(|hit| {
            let name = documents.get(&hit.doc_id)?.clone();
            Some(SearchHit {
                chunk_id: hit.chunk_id,
                document_id: hit.doc_id,
                document_name: name,
                collection_id: hit.collection_id,
                text: hit.text,
                heading_path: hit.heading_path,
                page: hit.page,
                score: hit.score,
                bm25: hit.bm25,
                dense: hit.dense,
            })
        })
        .take(k)
        .collect())
}
