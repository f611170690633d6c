//! Feedback on answers ([`crate::Store::put_feedback`] and its kin) on SQLite.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, cursor_binds};
use crate::records::*;
use crate::{Result, StoreError};

pub(super) async fn put(store: &SqliteStore, f: &NewFeedback) -> Result<Feedback> {
    // Only an answer in one of the user's own conversations: the join says so in the same
    // statement that writes, so a message deleted meanwhile is not rated.
    let row = sqlx::query(
        "INSERT INTO feedback (id, message_id, conversation_id, user_id, rating, comment, model, \
         created_at, updated_at) \
         SELECT ?1, m.id, m.conversation_id, c.user_id, ?4, ?5, m.model, ?6, ?6 \
         FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.id = ?2 AND c.user_id = ?3 AND m.role = 'assistant' \
         ON CONFLICT (message_id, user_id) DO UPDATE SET rating = excluded.rating, \
         comment = excluded.comment, updated_at = excluded.updated_at \
         RETURNING *",
    )
    .bind(&f.id)
    .bind(&f.message_id)
    .bind(&f.user_id)
    .bind(f.rating.score())
    .bind(&f.comment)
    .bind(f.at)
    .fetch_optional(&store.writer)
    .await?;
    match row {
        Some(row) => feedback_from_row(&row),
        None => Err(StoreError::NotFound { what: "answer" }),
    }
}

pub(super) async fn delete(store: &SqliteStore, user_id: &str, message_id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM feedback WHERE message_id = ? AND user_id = ?")
        .bind(message_id)
        .bind(user_id)
        .execute(&store.writer)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn of_conversation(
    store: &SqliteStore,
    user_id: &str,
    conversation_id: &str,
) -> Result<Vec<Feedback>> {
    let rows = sqlx::query(
        "SELECT * FROM feedback WHERE conversation_id = ? AND user_id = ? ORDER BY created_at, id",
    )
    .bind(conversation_id)
    .bind(user_id)
    .fetch_all(&store.reader)
    .await?;
    rows.iter().map(feedback_from_row).collect()
}

pub(super) async fn list(store: &SqliteStore, query: &FeedbackQuery) -> Result<Vec<FeedbackEntry>> {
    let (at, id) = cursor_binds(&query.page);
    // The prompt is the latest user message before the answer.
    let rows = sqlx::query(
        "SELECT f.*, m.content AS answer, c.system_prompt AS system_prompt, \
         (SELECT p.content FROM messages p WHERE p.conversation_id = m.conversation_id \
          AND p.seq < m.seq AND p.role = 'user' ORDER BY p.seq DESC LIMIT 1) AS prompt \
         FROM feedback f JOIN messages m ON m.id = f.message_id \
         JOIN conversations c ON c.id = f.conversation_id \
         WHERE (?1 IS NULL OR f.rating = ?1) AND (?2 IS NULL OR f.model = ?2) \
         AND (?3 IS NULL OR f.updated_at < ?3 OR (f.updated_at = ?3 AND f.id < ?4)) \
         ORDER BY f.updated_at DESC, f.id DESC LIMIT ?5",
    )
    .bind(query.rating.map(Rating::score))
    .bind(&query.model)
    .bind(at)
    .bind(id)
    .bind(query.page.limit)
    .fetch_all(&store.reader)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(FeedbackEntry {
                feedback: feedback_from_row(row)?,
                answer: row.try_get("answer")?,
                prompt: row.try_get("prompt")?,
                system_prompt: row.try_get("system_prompt")?,
            })
        })
        .collect()
}

fn feedback_from_row(row: &SqliteRow) -> Result<Feedback> {
    let score: i64 = row.try_get("rating")?;
    Ok(Feedback {
        id: row.try_get("id")?,
        message_id: row.try_get("message_id")?,
        conversation_id: row.try_get("conversation_id")?,
        user_id: row.try_get("user_id")?,
        rating: Rating::from_score(score).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Decode(
                format!("unknown rating {score}").into(),
            ))
        })?,
        comment: row.try_get("comment")?,
        model: row.try_get("model")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[cfg(test)]
mod tests;
