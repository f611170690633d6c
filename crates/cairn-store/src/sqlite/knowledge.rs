//! [`KnowledgeStore`] on SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::{SqliteStore, unique_violation};
use crate::knowledge::*;
use crate::{Page, Result, StoreError};

fn decode_error(what: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(what.into()))
}

fn collection_from_row(row: &SqliteRow) -> Result<Collection> {
    let user: Option<String> = row.try_get("user_id")?;
    let org: Option<String> = row.try_get("org_id")?;
    let owner = match (user, org) {
        (Some(user), None) => Owner::User(user),
        (None, Some(org)) => Owner::Org(org),
        _ => {
            return Err(decode_error(
                "a collection without exactly one owner".into(),
            ));
        }
    };
    Ok(Collection {
        id: row.try_get("id")?,
        owner,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn document_from_row(row: &SqliteRow) -> Result<Document> {
    let status: String = row.try_get("status")?;
    let metadata: String = row.try_get("metadata")?;
    Ok(Document {
        id: row.try_get("id")?,
        collection_id: row.try_get("collection_id")?,
        name: row.try_get("name")?,
        mime: row.try_get("mime")?,
        bytes: row.try_get("bytes")?,
        sha256: row.try_get("sha256")?,
        status: DocumentStatus::parse(&status)
            .ok_or_else(|| decode_error(format!("unknown document status {status:?}")))?,
        error: row.try_get("error")?,
        chunks_total: row.try_get("chunks_total")?,
        chunks_done: row.try_get("chunks_done")?,
        metadata: serde_json::from_str(&metadata)
            .map_err(|e| decode_error(format!("document metadata: {e}")))?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[async_trait]
impl KnowledgeStore for SqliteStore {
    async fn create_collection(&self, c: &Collection) -> Result<()> {
        let (user, org) = match &c.owner {
            Owner::User(id) => (Some(id), None),
            Owner::Org(id) => (None, Some(id)),
        };
        sqlx::query(
            "INSERT INTO collections (id, user_id, org_id, name, description, created_by, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.id)
        .bind(user)
        .bind(org)
        .bind(&c.name)
        .bind(&c.description)
        .bind(&c.created_by)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&self.writer)
        .await
        .map_err(|e| unique_violation(e, "collection"))?;
        Ok(())
    }

    async fn get_collection(&self, id: &str) -> Result<Option<Collection>> {
        let row = sqlx::query("SELECT * FROM collections WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(collection_from_row).transpose()
    }

    async fn list_collections(
        &self,
        user_id: &str,
        org_id: Option<&str>,
        page: Page,
    ) -> Result<Vec<Collection>> {
        let rows = sqlx::query(
            "SELECT * FROM collections WHERE (user_id = ?1 OR (?2 IS NOT NULL AND org_id = ?2)) \
             AND (?3 IS NULL OR created_at < ?3) ORDER BY created_at DESC, id DESC LIMIT ?4",
        )
        .bind(user_id)
        .bind(org_id)
        .bind(page.before)
        .bind(page.limit)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(collection_from_row).collect()
    }

    async fn update_collection(
        &self,
        id: &str,
        name: Option<&str>,
        description: Option<&str>,
        at_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE collections SET name = COALESCE(?2, name), \
             description = COALESCE(?3, description), updated_at = ?4 WHERE id = ?1",
        )
        .bind(id)
        .bind(name)
        .bind(description)
        .bind(at_ms)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_collection(&self, id: &str) -> Result<Option<Vec<String>>> {
        let mut tx = self.writer.begin().await?;
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM documents WHERE collection_id = ?")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        let done = sqlx::query("DELETE FROM collections WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((done.rows_affected() > 0).then_some(ids))
    }

    async fn add_document(&self, d: &Document) -> Result<Added> {
        let mut tx = self.writer.begin().await?;
        let existing =
            sqlx::query("SELECT * FROM documents WHERE collection_id = ? AND sha256 = ?")
                .bind(&d.collection_id)
                .bind(&d.sha256)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(row) = existing {
            return Ok(Added::Duplicate(document_from_row(&row)?));
        }
        let metadata = serde_json::Value::Object(d.metadata.clone()).to_string();
        sqlx::query(
            "INSERT INTO documents (id, collection_id, name, mime, bytes, sha256, status, error, \
             chunks_total, chunks_done, metadata, created_by, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&d.id)
        .bind(&d.collection_id)
        .bind(&d.name)
        .bind(&d.mime)
        .bind(d.bytes)
        .bind(&d.sha256)
        .bind(d.status.as_str())
        .bind(&d.error)
        .bind(d.chunks_total)
        .bind(d.chunks_done)
        .bind(metadata)
        .bind(&d.created_by)
        .bind(d.created_at)
        .bind(d.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, "document"))?;
        sqlx::query("UPDATE collections SET updated_at = ? WHERE id = ?")
            .bind(d.created_at)
            .bind(&d.collection_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Added::New(d.clone()))
    }

    async fn get_document(&self, id: &str) -> Result<Option<Document>> {
        let row = sqlx::query("SELECT * FROM documents WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(document_from_row).transpose()
    }

    async fn list_documents(&self, collection_id: &str, page: Page) -> Result<Vec<Document>> {
        let rows = sqlx::query(
            "SELECT * FROM documents WHERE collection_id = ?1 AND (?2 IS NULL OR created_at < ?2) \
             ORDER BY created_at DESC, id DESC LIMIT ?3",
        )
        .bind(collection_id)
        .bind(page.before)
        .bind(page.limit)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(document_from_row).collect()
    }

    async fn set_document_status(
        &self,
        id: &str,
        status: DocumentStatus,
        error: Option<&str>,
        chunks_total: i64,
        chunks_done: i64,
        at_ms: i64,
    ) -> Result<bool> {
        let error = if status == DocumentStatus::Failed {
            error
        } else {
            None
        };
        let done = sqlx::query(
            "UPDATE documents SET status = ?2, error = ?3, chunks_total = ?4, chunks_done = ?5, \
             updated_at = ?6 WHERE id = ?1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(error)
        .bind(chunks_total)
        .bind(chunks_done)
        .bind(at_ms)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_document(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM documents WHERE id = ?")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn pending_documents(&self) -> Result<Vec<Document>> {
        let rows = sqlx::query(
            "SELECT * FROM documents WHERE status IN ('queued', 'parsing', 'embedding') \
             ORDER BY created_at, id",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(document_from_row).collect()
    }

    async fn indexed_document_ids(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM documents WHERE status = 'indexed'")
                .fetch_all(&self.reader)
                .await?,
        )
    }

    async fn visible_documents(
        &self,
        ids: &[String],
        collections: &[String],
    ) -> Result<Vec<Document>> {
        if ids.is_empty() || collections.is_empty() {
            return Ok(Vec::new());
        }
        let mut query: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT * FROM documents WHERE status = 'indexed' AND id IN (");
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(id);
        }
        query.push(") AND collection_id IN (");
        let mut list = query.separated(", ");
        for c in collections {
            list.push_bind(c);
        }
        query.push(")");
        let rows = query.build().fetch_all(&self.reader).await?;
        rows.iter().map(document_from_row).collect()
    }

    async fn set_conversation_collections(
        &self,
        conversation_id: &str,
        collection_ids: &[String],
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM conversation_collections WHERE conversation_id = ?")
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        for id in collection_ids {
            sqlx::query(
                "INSERT OR IGNORE INTO conversation_collections (conversation_id, collection_id) VALUES (?, ?)",
            )
            .bind(conversation_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn conversation_collections(&self, conversation_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT collection_id FROM conversation_collections WHERE conversation_id = ? ORDER BY collection_id",
        )
        .bind(conversation_id)
        .fetch_all(&self.reader)
        .await?)
    }

    async fn set_message_citations(
        &self,
        message_id: &str,
        citations: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO message_citations (message_id, citations) VALUES (?, ?)",
        )
        .bind(message_id)
        .bind(citations.to_string())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn conversation_citations(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<(String, serde_json::Value)>> {
        let rows = sqlx::query(
            "SELECT c.message_id, c.citations FROM message_citations c \
             JOIN messages m ON m.id = c.message_id WHERE m.conversation_id = ? ORDER BY m.seq",
        )
        .bind(conversation_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("message_id")?;
                let text: String = row.try_get("citations")?;
                let value = serde_json::from_str(&text)
                    .map_err(|e| decode_error(format!("message citations: {e}")))?;
                Ok((id, value))
            })
            .collect()
    }
}
