//! What the store keeps for memory: a user's long-term memories, the rolling summaries of
//! long conversations, and each user's memory setting.
//!
//! Every method is scoped by the owner's user id: another user's memory or conversation is
//! answered exactly like one that does not exist.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::Result;

/// One thing remembered about a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    pub id: String,
    pub user_id: String,
    pub text: String,
    /// The text's embedding, when an embedder answered; never shown to clients.
    #[serde(skip)]
    pub embedding: Option<Vec<f32>>,
    /// The model that made `embedding`: vectors of different models are not comparable.
    #[serde(skip)]
    pub embedding_model: Option<String>,
    /// The conversation and message it was learned from; `None` for memories the user wrote.
    pub source_conversation_id: Option<String>,
    pub source_message_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A changed memory: new text and the embedding of that text (or none).
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryUpdate {
    pub text: String,
    pub embedding: Option<Vec<f32>>,
    pub embedding_model: Option<String>,
    pub at_ms: i64,
}

/// The rolling summary of a conversation: the model's summary of every message up to and
/// including `through_seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub conversation_id: String,
    pub summary: String,
    pub through_seq: i64,
    pub updated_at: i64,
}

#[async_trait]
pub trait MemoryStore: Send + Sync {
    /// Stores a new memory.
    async fn insert_memory(&self, memory: &Memory) -> Result<()>;
    /// A user's memories, most recently updated first, at most `limit`.
    async fn list_memories(&self, user_id: &str, limit: u32) -> Result<Vec<Memory>>;
    async fn count_memories(&self, user_id: &str) -> Result<u64>;
    async fn get_memory(&self, user_id: &str, id: &str) -> Result<Option<Memory>>;
    /// Replaces a memory's text and embedding; `None` when it is not the user's.
    async fn update_memory(
        &self,
        user_id: &str,
        id: &str,
        update: &MemoryUpdate,
    ) -> Result<Option<Memory>>;
    /// Returns false when there was no such memory of this user.
    async fn delete_memory(&self, user_id: &str, id: &str) -> Result<bool>;

    /// The user's memory switch; `None` when they never set it.
    async fn memory_enabled(&self, user_id: &str) -> Result<Option<bool>>;
    async fn set_memory_enabled(&self, user_id: &str, enabled: bool, at_ms: i64) -> Result<()>;

    /// The summary of one of the user's conversations, if one was made.
    async fn get_summary(
        &self,
        user_id: &str,
        conversation_id: &str,
    ) -> Result<Option<ConversationSummary>>;
    /// Stores a summary if the conversation is the user's and the summary covers more than
    /// the stored one (two turns summarising at once never move it backwards). Returns
    /// whether it was stored.
    async fn put_summary(&self, user_id: &str, summary: &ConversationSummary) -> Result<bool>;
}

/// Little-endian f32s, as stored in `memories.embedding`.
pub fn embedding_to_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The inverse of [`embedding_to_bytes`]; `None` for a length that is not a whole number of
/// f32s.
pub fn embedding_from_bytes(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}
