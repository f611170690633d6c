//! Cairn's relational store.
//!
//! Everything the server persists (users, organisations, API keys, usage records,
//! conversations, knowledge collections and documents) goes through the [`Store`] trait
//! (with its parts, such as [`KnowledgeStore`]), so the embedded SQLite default and a
//! PostgreSQL store for multi-replica deployments are interchangeable behind
//! `Arc<dyn Store>`. The store knows nothing of HTTP or of any wire format.
//!
//! Durability: every method returns only after its transaction committed; the SQLite store
//! runs in WAL mode with `synchronous = FULL`, so an acknowledged write survives a killed
//! process and a power cut.

mod error;
mod knowledge;
mod memory;
mod orchestration;
mod records;
mod sqlite;
mod web;

pub use error::StoreError;
pub use knowledge::*;
pub use memory::{
    ConversationSummary, Memory, MemoryStore, MemoryUpdate, embedding_from_bytes,
    embedding_to_bytes,
};
pub use orchestration::*;
pub use records::*;
pub use sqlite::SqliteStore;
pub use web::{Invitation, Session, WebStore};

use async_trait::async_trait;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The persistence seam. Implementations must be cheap to share (`Arc<dyn Store>`). Areas
/// with their own trait (memory) are supertraits, so `Arc<dyn Store>` has their methods.
#[async_trait]
pub trait Store:
    KnowledgeStore + MemoryStore + OrchestrationStore + WebStore + Send + Sync + 'static
{
    /// Checks that the store answers (for `/readyz`).
    async fn ping(&self) -> Result<()>;

    // Organisations
    async fn create_org(&self, org: &Org) -> Result<()>;
    async fn list_orgs(&self) -> Result<Vec<Org>>;
    async fn find_org(&self, id_or_name: &str) -> Result<Option<Org>>;

    // Users
    async fn create_user(&self, user: &User) -> Result<()>;
    async fn count_users(&self) -> Result<u64>;
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn find_user(&self, id_or_email: &str) -> Result<Option<User>>;
    async fn update_user(&self, id: &str, update: &UserUpdate) -> Result<Option<User>>;

    // API keys
    async fn create_api_key(&self, key: &ApiKey) -> Result<()>;
    async fn find_api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>>;
    async fn find_api_key(&self, id_or_prefix: &str) -> Result<Option<ApiKey>>;
    /// Keys of one user, or of everyone when `user_id` is `None`; newest first.
    async fn list_api_keys(&self, user_id: Option<&str>) -> Result<Vec<ApiKey>>;
    /// Marks a key revoked at `at_ms`; returns false when no such key exists.
    async fn revoke_api_key(&self, id: &str, at_ms: i64) -> Result<bool>;

    // Usage
    /// Inserts a batch in one transaction. Records are idempotent by id: replaying a batch
    /// after a crash inserts nothing twice.
    async fn insert_usage(&self, records: &[UsageRecord]) -> Result<()>;
    async fn usage_summary(&self, query: &UsageQuery) -> Result<Vec<UsageRow>>;
    /// Records in a time window, newest first, at most `filter.limit` of them.
    async fn list_usage(&self, filter: &UsageFilter) -> Result<Vec<UsageRecord>>;
    /// Total tokens a user consumed since `since_ms` (for monthly budgets).
    async fn user_tokens_since(&self, user_id: &str, since_ms: i64) -> Result<u64>;

    // Conversations
    async fn create_conversation(&self, conversation: &Conversation) -> Result<()>;
    /// Creates a conversation with the messages it starts with (an imported chat), in one
    /// transaction: numbered from 1 in the order given.
    async fn import_conversation(
        &self,
        conversation: &Conversation,
        messages: &[NewMessage],
    ) -> Result<Vec<Message>>;
    /// A user's conversations, most recently updated first (ties: larger id first).
    async fn list_conversations(
        &self,
        user_id: &str,
        page: &CursorPage,
    ) -> Result<Vec<Conversation>>;
    async fn get_conversation(&self, user_id: &str, id: &str) -> Result<Option<Conversation>>;
    async fn rename_conversation(
        &self,
        user_id: &str,
        id: &str,
        title: &str,
        at_ms: i64,
    ) -> Result<bool>;
    async fn delete_conversation(&self, user_id: &str, id: &str) -> Result<bool>;
    /// Appends a message, assigning the next sequence number; bumps the conversation's
    /// `updated_at`. Fails with [`StoreError::NotFound`] if the conversation does not belong
    /// to `user_id`.
    async fn append_message(&self, user_id: &str, message: NewMessage) -> Result<Message>;
    async fn list_messages(&self, conversation_id: &str) -> Result<Vec<Message>>;
    /// One message of a conversation.
    async fn get_message(&self, conversation_id: &str, id: &str) -> Result<Option<Message>>;
    /// A user's conversations whose title or any message contains `text` (case-insensitive
    /// for ASCII), most recently updated first, paged like [`Store::list_conversations`].
    async fn search_conversations(
        &self,
        user_id: &str,
        text: &str,
        page: &CursorPage,
    ) -> Result<Vec<Conversation>>;
    /// Deletes the messages numbered `from_seq` and later (to regenerate or edit a turn),
    /// and the rolling summary if it covered any of them. Returns how many messages went;
    /// [`StoreError::NotFound`] if the conversation is not `user_id`'s.
    async fn truncate_conversation(
        &self,
        user_id: &str,
        conversation_id: &str,
        from_seq: i64,
        at_ms: i64,
    ) -> Result<u64>;

    // Feedback on answers
    /// Rates an assistant message of one of `feedback.user_id`'s conversations, or changes
    /// the rating and comment given before (one per message and user). The conversation and
    /// the model are the message's. [`StoreError::NotFound`] when the message is not an
    /// assistant message of a conversation of that user.
    async fn put_feedback(&self, feedback: &NewFeedback) -> Result<Feedback>;
    /// Takes back a user's feedback on a message; false when they had given none.
    async fn delete_feedback(&self, user_id: &str, message_id: &str) -> Result<bool>;
    /// The feedback a user gave on the messages of one conversation.
    async fn conversation_feedback(
        &self,
        user_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<Feedback>>;
    /// Everyone's feedback (for admins and exports), most recently changed first, with the
    /// rated answer and the prompt before it.
    async fn list_feedback(&self, query: &FeedbackQuery) -> Result<Vec<FeedbackEntry>>;
}
