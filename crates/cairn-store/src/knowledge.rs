//! Collections and documents: what the knowledge layer persists besides its index.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Page, Result};

/// Who owns a collection: one user, or an organisation (readable by its members).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "lowercase")]
pub enum Owner {
    User(String),
    Org(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    pub id: String,
    pub owner: Owner,
    pub name: String,
    pub description: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where a document is on its way into the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentStatus {
    Queued,
    Parsing,
    Embedding,
    Indexed,
    Failed,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Queued => "queued",
            DocumentStatus::Parsing => "parsing",
            DocumentStatus::Embedding => "embedding",
            DocumentStatus::Indexed => "indexed",
            DocumentStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentStatus> {
        Some(match s {
            "queued" => DocumentStatus::Queued,
            "parsing" => DocumentStatus::Parsing,
            "embedding" => DocumentStatus::Embedding,
            "indexed" => DocumentStatus::Indexed,
            "failed" => DocumentStatus::Failed,
            _ => return None,
        })
    }

    /// Queued, parsing or embedding: work a restart must pick up again.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            DocumentStatus::Queued | DocumentStatus::Parsing | DocumentStatus::Embedding
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub id: String,
    pub collection_id: String,
    pub name: String,
    pub mime: Option<String>,
    pub bytes: i64,
    pub sha256: String,
    pub status: DocumentStatus,
    pub error: Option<String>,
    pub chunks_total: i64,
    pub chunks_done: i64,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What [`KnowledgeStore::add_document`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    New(Document),
    /// The collection already holds this content.
    Duplicate(Document),
}

#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    async fn create_collection(&self, collection: &Collection) -> Result<()>;
    async fn get_collection(&self, id: &str) -> Result<Option<Collection>>;
    /// Collections a user may read: their own and their organisation's, newest first.
    async fn list_collections(
        &self,
        user_id: &str,
        org_id: Option<&str>,
        page: Page,
    ) -> Result<Vec<Collection>>;
    async fn update_collection(
        &self,
        id: &str,
        name: Option<&str>,
        description: Option<&str>,
        at_ms: i64,
    ) -> Result<bool>;
    /// Deletes the collection and its documents; returns their ids (to drop from the index).
    async fn delete_collection(&self, id: &str) -> Result<Option<Vec<String>>>;

    /// Adds a document unless the collection holds the same content (same sha256).
    async fn add_document(&self, document: &Document) -> Result<Added>;
    async fn get_document(&self, id: &str) -> Result<Option<Document>>;
    async fn list_documents(&self, collection_id: &str, page: Page) -> Result<Vec<Document>>;
    /// Records progress; `error` is kept only for `Failed`.
    async fn set_document_status(
        &self,
        id: &str,
        status: DocumentStatus,
        error: Option<&str>,
        chunks_total: i64,
        chunks_done: i64,
        at_ms: i64,
    ) -> Result<bool>;
    async fn delete_document(&self, id: &str) -> Result<bool>;
    /// Documents whose ingestion a restart must resume, oldest first.
    async fn pending_documents(&self) -> Result<Vec<Document>>;
    /// Ids of every indexed document (for reconciling the index at start).
    async fn indexed_document_ids(&self) -> Result<Vec<String>>;
    /// Of `ids`, the documents that are indexed and in one of `collections`.
    async fn visible_documents(
        &self,
        ids: &[String],
        collections: &[String],
    ) -> Result<Vec<Document>>;

    /// Replaces the collections a conversation is grounded in.
    async fn set_conversation_collections(
        &self,
        conversation_id: &str,
        collection_ids: &[String],
    ) -> Result<()>;
    async fn conversation_collections(&self, conversation_id: &str) -> Result<Vec<String>>;
    /// Stores the citations (a JSON array) of an answer.
    async fn set_message_citations(
        &self,
        message_id: &str,
        citations: &serde_json::Value,
    ) -> Result<()>;
    /// The citations of a conversation's answers, by message id.
    async fn conversation_citations(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<(String, serde_json::Value)>>;
}
