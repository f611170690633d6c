//! [`MemoryStore`] on SQLite.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::Result;
use crate::memory::*;

fn memory_from_row(row: &SqliteRow) -> Result<Memory> {
    let embedding: Option<Vec<u8>> = row.try_get("embedding")?;
    Ok(Memory {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        text: row.try_get("text")?,
        embedding: embedding.as_deref().and_then(embedding_from_bytes),
        embedding_model: row.try_get("embedding_model")?,
        source_conversation_id: row.try_get("source_conversation_id")?,
        source_message_id: row.try_get("source_message_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[async_trait]
impl MemoryStore for SqliteStore {
    async fn insert_memory(&self, m: &Memory) -> Result<()> {
        sqlx::query(
            "INSERT INTO memories (id, user_id, text, embedding, embedding_model, \
             source_conversation_id, source_message_id, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&m.id)
        .bind(&m.user_id)
        .bind(&m.text)
        .bind(m.embedding.as_deref().map(embedding_to_bytes))
        .bind(&m.embedding_model)
        .bind(&m.source_conversation_id)
        .bind(&m.source_message_id)
        .bind(m.created_at)
        .bind(m.updated_at)
        .execute(&self.writer)
        .await
        .map_err(|e| super::unique_violation(e, "memory"))?;
        Ok(())
    }

    async fn list_memories(&self, user_id: &str, limit: u32) -> Result<Vec<Memory>> {
        let rows = sqlx::query(
            "SELECT * FROM memories WHERE user_id = ? ORDER BY updated_at DESC, id DESC LIMIT ?",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(memory_from_row).collect()
    }

    async fn count_memories(&self, user_id: &str) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memories WHERE user_id = ?")
            .bind(user_id)
            .fetch_one(&self.reader)
            .await?;
        Ok(n as u64)
    }

    async fn get_memory(&self, user_id: &str, id: &str) -> Result<Option<Memory>> {
        let row = sqlx::query("SELECT * FROM memories WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(memory_from_row).transpose()
    }

    async fn update_memory(
        &self,
        user_id: &str,
        id: &str,
        update: &MemoryUpdate,
    ) -> Result<Option<Memory>> {
        let row = sqlx::query(
            "UPDATE memories SET text = ?, embedding = ?, embedding_model = ?, updated_at = ? \
             WHERE id = ? AND user_id = ? RETURNING *",
        )
        .bind(&update.text)
        .bind(update.embedding.as_deref().map(embedding_to_bytes))
        .bind(&update.embedding_model)
        .bind(update.at_ms)
        .bind(id)
        .bind(user_id)
        .fetch_optional(&self.writer)
        .await?;
        row.as_ref().map(memory_from_row).transpose()
    }

    async fn delete_memory(&self, user_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM memories WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn memory_enabled(&self, user_id: &str) -> Result<Option<bool>> {
        let enabled: Option<bool> =
            sqlx::query_scalar("SELECT enabled FROM memory_settings WHERE user_id = ?")
                .bind(user_id)
                .fetch_optional(&self.reader)
                .await?;
        Ok(enabled)
    }

    async fn set_memory_enabled(&self, user_id: &str, enabled: bool, at_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO memory_settings (user_id, enabled, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (user_id) DO UPDATE SET enabled = ?2, updated_at = ?3",
        )
        .bind(user_id)
        .bind(enabled)
        .bind(at_ms)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn get_summary(
        &self,
        user_id: &str,
        conversation_id: &str,
    ) -> Result<Option<ConversationSummary>> {
        let row = sqlx::query(
            "SELECT s.* FROM conversation_summaries s JOIN conversations c ON c.id = s.conversation_id \
             WHERE s.conversation_id = ? AND c.user_id = ?",
        )
        .bind(conversation_id)
        .bind(user_id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|row| {
            Ok(ConversationSummary {
                conversation_id: row.try_get("conversation_id")?,
                summary: row.try_get("summary")?,
                through_seq: row.try_get("through_seq")?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    async fn put_summary(&self, user_id: &str, s: &ConversationSummary) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO conversation_summaries (conversation_id, summary, through_seq, updated_at) \
             SELECT ?1, ?2, ?3, ?4 WHERE EXISTS \
               (SELECT 1 FROM conversations WHERE id = ?1 AND user_id = ?5) \
             ON CONFLICT (conversation_id) DO UPDATE SET summary = excluded.summary, \
               through_seq = excluded.through_seq, updated_at = excluded.updated_at \
             WHERE excluded.through_seq > conversation_summaries.through_seq",
        )
        .bind(&s.conversation_id)
        .bind(&s.summary)
        .bind(s.through_seq)
        .bind(s.updated_at)
        .bind(user_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests;
