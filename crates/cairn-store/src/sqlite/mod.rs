//! The embedded default: SQLite in WAL mode.
//!
//! One connection writes and a small pool reads. SQLite serialises writers anyway; giving
//! them a single connection turns lock contention (and `SQLITE_BUSY` on read-to-write
//! upgrades) into an orderly queue, while readers proceed in parallel under WAL.

mod feedback;
mod knowledge;
mod memory;
mod migrations;
mod orchestration;
mod rows;
mod web;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool as Pool};

use crate::records::*;
use crate::{Result, Store, StoreError};
use rows::{
    api_key_from_row, conversation_from_row, message_from_row, org_from_row, usage_from_row,
    user_from_row,
};

const READERS: u32 = 4;
const USAGE_ROWS_PER_STATEMENT: usize = 500;
const MESSAGE_ROWS_PER_STATEMENT: usize = 500;
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SqliteStore {
    writer: Pool,
    reader: Pool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to
    /// date.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before we acknowledge it, even across a power cut.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        migrations::run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore { writer, reader })
    }
}

fn unique_violation(err: sqlx::Error, what: &'static str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { what },
        _ => StoreError::Database(err),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn create_org(&self, org: &Org) -> Result<()> {
        sqlx::query("INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)")
            .bind(&org.id)
            .bind(&org.name)
            .bind(org.created_at)
            .execute(&self.writer)
            .await
            .map_err(|e| unique_violation(e, "organisation"))?;
        Ok(())
    }

    async fn list_orgs(&self) -> Result<Vec<Org>> {
        let rows = sqlx::query("SELECT * FROM orgs ORDER BY name")
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(org_from_row).collect()
    }

    async fn find_org(&self, id_or_name: &str) -> Result<Option<Org>> {
        let row = sqlx::query("SELECT * FROM orgs WHERE id = ?1 OR name = ?1")
            .bind(id_or_name)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    async fn create_user(&self, user: &User) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, email, name, role, tier, org_id, password_hash, disabled, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&user.id)
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(&user.tier)
        .bind(&user.org_id)
        .bind(&user.password_hash)
        .bind(user.disabled)
        .bind(user.created_at)
        .execute(&self.writer)
        .await
        .map_err(|e| unique_violation(e, "user"))?;
        Ok(())
    }

    async fn count_users(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.reader)
            .await?;
        Ok(n as u64)
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY created_at, email")
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn find_user(&self, id_or_email: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = ?1 OR email = ?1")
            .bind(id_or_email)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn update_user(&self, id: &str, update: &UserUpdate) -> Result<Option<User>> {
        let row = sqlx::query(
            "UPDATE users SET name = COALESCE(?2, name), role = COALESCE(?3, role), \
             tier = COALESCE(?4, tier), disabled = COALESCE(?5, disabled) WHERE id = ?1 RETURNING *",
        )
        .bind(id)
        .bind(&update.name)
        .bind(update.role.map(UserRole::as_str))
        .bind(&update.tier)
        .bind(update.disabled)
        .fetch_optional(&self.writer)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn create_api_key(&self, key: &ApiKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, hash, created_at, expires_at, revoked_at, \
             requests_per_minute, tokens_per_minute) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.id)
        .bind(&key.user_id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.hash)
        .bind(key.created_at)
        .bind(key.expires_at)
        .bind(key.revoked_at)
        .bind(key.requests_per_minute)
        .bind(key.tokens_per_minute)
        .execute(&self.writer)
        .await
        .map_err(|e| unique_violation(e, "api key"))?;
        Ok(())
    }

    async fn find_api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE hash = ?")
            .bind(hash)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    async fn find_api_key(&self, id_or_prefix: &str) -> Result<Option<ApiKey>> {
        let rows = sqlx::query("SELECT * FROM api_keys WHERE id = ?1 OR prefix = ?1 LIMIT 2")
            .bind(id_or_prefix)
            .fetch_all(&self.reader)
            .await?;
        // A prefix shared by two keys is ambiguous: refuse rather than pick one.
        match rows.as_slice() {
            [row] => api_key_from_row(row).map(Some),
            _ => Ok(None),
        }
    }

    async fn list_api_keys(&self, user_id: Option<&str>) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT * FROM api_keys WHERE ?1 IS NULL OR user_id = ?1 ORDER BY created_at DESC, id",
        )
        .bind(user_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(api_key_from_row).collect()
    }

    async fn revoke_api_key(&self, id: &str, at_ms: i64) -> Result<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1")
                .bind(id)
                .bind(at_ms)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_usage(&self, records: &[UsageRecord]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        // Multi-row statements: one round trip to SQLite's thread per 500 records instead of
        // one per record (17 parameters each stays far below SQLite's 32,766 limit).
        for chunk in records.chunks(USAGE_ROWS_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT OR IGNORE INTO usage (id, at, day, request_id, user_id, key_id, org_id, route, model, \
                 provider, status, stream, prompt_tokens, completion_tokens, cost_nanos, latency_ms, ttft_ms) ",
            );
            insert.push_values(chunk, |mut row, r| {
                row.push_bind(&r.id)
                    .push_bind(r.at)
                    .push_bind(&r.day)
                    .push_bind(&r.request_id)
                    .push_bind(&r.user_id)
                    .push_bind(&r.key_id)
                    .push_bind(&r.org_id)
                    .push_bind(&r.route)
                    .push_bind(&r.model)
                    .push_bind(&r.provider)
                    .push_bind(r.status)
                    .push_bind(r.stream)
                    .push_bind(r.prompt_tokens)
                    .push_bind(r.completion_tokens)
                    .push_bind(r.cost_nanos)
                    .push_bind(r.latency_ms)
                    .push_bind(r.ttft_ms);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn usage_summary(&self, query: &UsageQuery) -> Result<Vec<UsageRow>> {
        // The grouping column comes from a closed enum, never from the caller's text.
        let column = match query.group_by {
            UsageGroup::Day => "day",
            UsageGroup::Model => "model",
            UsageGroup::Key => "COALESCE(key_id, '')",
            UsageGroup::User => "user_id",
        };
        let sql = format!(
            "SELECT {column} AS grp, COUNT(*) AS requests, SUM(status >= 400) AS errors, \
             SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens, \
             SUM(cost_nanos) AS cost_nanos, AVG(latency_ms) AS avg_latency_ms \
             FROM usage WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR key_id = ?2) \
             AND (?3 IS NULL OR day >= ?3) AND (?4 IS NULL OR day <= ?4) \
             GROUP BY grp ORDER BY grp"
        );
        let rows = sqlx::query(&sql)
            .bind(&query.user_id)
            .bind(&query.key_id)
            .bind(&query.from_day)
            .bind(&query.to_day)
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(UsageRow {
                    group: row.try_get("grp")?,
                    requests: row.try_get::<i64, _>("requests")? as u64,
                    errors: row.try_get::<i64, _>("errors")? as u64,
                    prompt_tokens: row.try_get::<i64, _>("prompt_tokens")? as u64,
                    completion_tokens: row.try_get::<i64, _>("completion_tokens")? as u64,
                    cost_nanos: row.try_get("cost_nanos")?,
                    avg_latency_ms: row.try_get("avg_latency_ms")?,
                })
            })
            .collect()
    }

    async fn list_usage(&self, filter: &UsageFilter) -> Result<Vec<UsageRecord>> {
        let rows = sqlx::query(
            "SELECT id, at, day, request_id, user_id, key_id, org_id, route, model, provider, \
             status, stream, prompt_tokens, completion_tokens, cost_nanos, latency_ms, ttft_ms \
             FROM usage WHERE (?1 IS NULL OR at >= ?1) \
             AND (?2 IS NULL OR at < ?2 OR (at = ?2 AND id < ?6)) \
             AND (?3 IS NULL OR user_id = ?3) AND (?4 IS NULL OR model = ?4) \
             ORDER BY at DESC, id DESC LIMIT ?5",
        )
        .bind(filter.from_ms)
        .bind(filter.to_ms)
        .bind(&filter.user_id)
        .bind(&filter.model)
        .bind(filter.limit)
        .bind(&filter.before_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(usage_from_row).collect()
    }

    async fn user_tokens_since(&self, user_id: &str, since_ms: i64) -> Result<u64> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT SUM(prompt_tokens + completion_tokens) FROM usage WHERE user_id = ? AND at >= ?",
        )
        .bind(user_id)
        .bind(since_ms)
        .fetch_one(&self.reader)
        .await?;
        Ok(n.unwrap_or(0) as u64)
    }

    async fn create_conversation(&self, c: &Conversation) -> Result<()> {
        sqlx::query(
            "INSERT INTO conversations (id, user_id, title, model, system_prompt, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.id)
        .bind(&c.user_id)
        .bind(&c.title)
        .bind(&c.model)
        .bind(&c.system_prompt)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&self.writer)
        .await
        .map_err(|e| unique_violation(e, "conversation"))?;
        Ok(())
    }

    async fn import_conversation(
        &self,
        c: &Conversation,
        messages: &[NewMessage],
    ) -> Result<Vec<Message>> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO conversations (id, user_id, title, model, system_prompt, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.id)
        .bind(&c.user_id)
        .bind(&c.title)
        .bind(&c.model)
        .bind(&c.system_prompt)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, "conversation"))?;
        let stored: Vec<Message> = messages
            .iter()
            .zip(1..)
            .map(|(m, seq)| Message {
                id: m.id.clone(),
                conversation_id: c.id.clone(),
                seq,
                role: m.role.clone(),
                content: m.content.clone(),
                model: m.model.clone(),
                prompt_tokens: m.prompt_tokens,
                completion_tokens: m.completion_tokens,
                created_at: m.created_at,
            })
            .collect();
        // Nine parameters a row: far below SQLite's 32,766 per statement.
        for chunk in stored.chunks(MESSAGE_ROWS_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO messages (id, conversation_id, seq, role, content, model, prompt_tokens, \
                 completion_tokens, created_at) ",
            );
            insert.push_values(chunk, |mut row, m| {
                row.push_bind(&m.id)
                    .push_bind(&m.conversation_id)
                    .push_bind(m.seq)
                    .push_bind(&m.role)
                    .push_bind(&m.content)
                    .push_bind(&m.model)
                    .push_bind(m.prompt_tokens)
                    .push_bind(m.completion_tokens)
                    .push_bind(m.created_at);
            });
            insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(|e| unique_violation(e, "message"))?;
        }
        tx.commit().await?;
        Ok(stored)
    }

    async fn list_conversations(
        &self,
        user_id: &str,
        page: &CursorPage,
    ) -> Result<Vec<Conversation>> {
        let (at, id) = cursor_binds(page);
        let rows = sqlx::query(
            "SELECT * FROM conversations WHERE user_id = ?1 \
             AND (?2 IS NULL OR updated_at < ?2 OR (updated_at = ?2 AND id < ?3)) \
             ORDER BY updated_at DESC, id DESC LIMIT ?4",
        )
        .bind(user_id)
        .bind(at)
        .bind(id)
        .bind(page.limit)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(conversation_from_row).collect()
    }

    async fn get_conversation(&self, user_id: &str, id: &str) -> Result<Option<Conversation>> {
        let row = sqlx::query("SELECT * FROM conversations WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    async fn rename_conversation(
        &self,
        user_id: &str,
        id: &str,
        title: &str,
        at_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ? AND user_id = ?",
        )
        .bind(title)
        .bind(at_ms)
        .bind(id)
        .bind(user_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_conversation(&self, user_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM conversations WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn append_message(&self, user_id: &str, m: NewMessage) -> Result<Message> {
        let mut tx = self.writer.begin().await?;
        let touched =
            sqlx::query("UPDATE conversations SET updated_at = ? WHERE id = ? AND user_id = ?")
                .bind(m.created_at)
                .bind(&m.conversation_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        if touched.rows_affected() != 1 {
            return Err(StoreError::NotFound {
                what: "conversation",
            });
        }
        let row = sqlx::query(
            "INSERT INTO messages (id, conversation_id, seq, role, content, model, prompt_tokens, \
             completion_tokens, created_at) \
             SELECT ?1, ?2, COALESCE(MAX(seq), 0) + 1, ?3, ?4, ?5, ?6, ?7, ?8 FROM messages \
             WHERE conversation_id = ?2 RETURNING *",
        )
        .bind(&m.id)
        .bind(&m.conversation_id)
        .bind(&m.role)
        .bind(&m.content)
        .bind(&m.model)
        .bind(m.prompt_tokens)
        .bind(m.completion_tokens)
        .bind(m.created_at)
        .fetch_one(&mut *tx)
        .await?;
        let message = message_from_row(&row)?;
        tx.commit().await?;
        Ok(message)
    }

    async fn list_messages(&self, conversation_id: &str) -> Result<Vec<Message>> {
        let rows = sqlx::query("SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq")
            .bind(conversation_id)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(message_from_row).collect()
    }

    async fn get_message(&self, conversation_id: &str, id: &str) -> Result<Option<Message>> {
        let row = sqlx::query("SELECT * FROM messages WHERE conversation_id = ? AND id = ?")
            .bind(conversation_id)
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(message_from_row).transpose()
    }

    async fn search_conversations(
        &self,
        user_id: &str,
        text: &str,
        page: &CursorPage,
    ) -> Result<Vec<Conversation>> {
        // LIKE with the caller's text as a literal: escape the wildcards.
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let (at, id) = cursor_binds(page);
        let rows = sqlx::query(
            "SELECT c.* FROM conversations c WHERE c.user_id = ?1 \
             AND (?2 IS NULL OR c.updated_at < ?2 OR (c.updated_at = ?2 AND c.id < ?5)) \
             AND (c.title LIKE ?4 ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m \
                  WHERE m.conversation_id = c.id AND m.content LIKE ?4 ESCAPE '\\')) \
             ORDER BY c.updated_at DESC, c.id DESC LIMIT ?3",
        )
        .bind(user_id)
        .bind(at)
        .bind(page.limit)
        .bind(pattern)
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(conversation_from_row).collect()
    }

    async fn truncate_conversation(
        &self,
        user_id: &str,
        conversation_id: &str,
        from_seq: i64,
        at_ms: i64,
    ) -> Result<u64> {
        let mut tx = self.writer.begin().await?;
        let touched =
            sqlx::query("UPDATE conversations SET updated_at = ? WHERE id = ? AND user_id = ?")
                .bind(at_ms)
                .bind(conversation_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        if touched.rows_affected() != 1 {
            return Err(StoreError::NotFound {
                what: "conversation",
            });
        }
        let deleted = sqlx::query("DELETE FROM messages WHERE conversation_id = ? AND seq >= ?")
            .bind(conversation_id)
            .bind(from_seq)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // A summary covering deleted turns would bring them back into the prompt.
        sqlx::query(
            "DELETE FROM conversation_summaries WHERE conversation_id = ? AND through_seq >= ?",
        )
        .bind(conversation_id)
        .bind(from_seq)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(deleted)
    }

    async fn put_feedback(&self, feedback: &NewFeedback) -> Result<Feedback> {
        feedback::put(self, feedback).await
    }

    async fn delete_feedback(&self, user_id: &str, message_id: &str) -> Result<bool> {
        feedback::delete(self, user_id, message_id).await
    }

    async fn conversation_feedback(
        &self,
        user_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<Feedback>> {
        feedback::of_conversation(self, user_id, conversation_id).await
    }

    async fn list_feedback(&self, query: &FeedbackQuery) -> Result<Vec<FeedbackEntry>> {
        feedback::list(self, query).await
    }
}

/// The time and id of a cursor as query parameters (`NULL` and `""` without one).
pub(super) fn cursor_binds(page: &CursorPage) -> (Option<i64>, &str) {
    match &page.after {
        Some(c) => (Some(c.at), c.id.as_str()),
        None => (None, ""),
    }
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
