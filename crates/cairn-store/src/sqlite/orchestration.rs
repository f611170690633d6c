//! [`OrchestrationStore`] on SQLite.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::orchestration::*;
use crate::{Page, Result, StoreError};

fn template_from_row(row: &SqliteRow) -> Result<PromptTemplate> {
    Ok(PromptTemplate {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        description: row.try_get("description")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
    })
}

fn json_column(row: &SqliteRow, column: &str) -> Result<Option<serde_json::Value>> {
    let text: Option<String> = row.try_get(column)?;
    Ok(text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t))))
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("unknown {what} '{value}' in the database").into(),
    ))
}

fn run_from_row(row: &SqliteRow) -> Result<Run> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    Ok(Run {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        kind: RunKind::parse(&kind).ok_or_else(|| corrupt("run kind", &kind))?,
        name: row.try_get("name")?,
        status: RunStatus::parse(&status).ok_or_else(|| corrupt("run status", &status))?,
        input: json_column(row, "input")?.unwrap_or(serde_json::Value::Null),
        definition: row.try_get("definition")?,
        output: json_column(row, "output")?,
        error: row.try_get("error")?,
        tokens: row.try_get("tokens")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn step_from_row(row: &SqliteRow) -> Result<RunStep> {
    let status: String = row.try_get("status")?;
    Ok(RunStep {
        run_id: row.try_get("run_id")?,
        key: row.try_get("key")?,
        seq: row.try_get("seq")?,
        kind: row.try_get("kind")?,
        status: StepStatus::parse(&status).ok_or_else(|| corrupt("step status", &status))?,
        input: json_column(row, "input")?,
        output: json_column(row, "output")?,
        error: row.try_get("error")?,
        tokens: row.try_get("tokens")?,
        elapsed_ms: row.try_get("elapsed_ms")?,
        attempts: row.try_get("attempts")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn to_text(value: &Option<serde_json::Value>) -> Option<String> {
    value.as_ref().map(|v| v.to_string())
}

const FINAL_STATUSES: &str = "('succeeded', 'failed', 'cancelled')";

#[async_trait]
impl OrchestrationStore for SqliteStore {
    async fn save_template(&self, t: &NewTemplate) -> Result<PromptTemplate> {
        // One statement picks the next version and inserts it, so two saves cannot take the
        // same number (the single writer connection serialises them).
        let row = sqlx::query(
            "INSERT INTO prompt_templates (id, user_id, name, version, description, body, \
             created_at) \
             SELECT ?1, ?2, ?3, COALESCE(MAX(version), 0) + 1, ?4, ?5, ?6 \
             FROM prompt_templates WHERE user_id = ?2 AND name = ?3 \
             RETURNING *",
        )
        .bind(&t.id)
        .bind(&t.user_id)
        .bind(&t.name)
        .bind(&t.description)
        .bind(&t.body)
        .bind(t.created_at)
        .fetch_one(&self.writer)
        .await
        .map_err(|e| super::unique_violation(e, "template version"))?;
        template_from_row(&row)
    }

    async fn list_templates(&self, user_id: &str) -> Result<Vec<PromptTemplate>> {
        let rows = sqlx::query(
            "SELECT t.* FROM prompt_templates t \
             WHERE t.user_id = ?1 AND t.version = \
               (SELECT MAX(version) FROM prompt_templates WHERE user_id = ?1 AND name = t.name) \
             ORDER BY t.name",
        )
        .bind(user_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(template_from_row).collect()
    }

    async fn get_template(
        &self,
        user_id: &str,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<PromptTemplate>> {
        let row = sqlx::query(
            "SELECT * FROM prompt_templates WHERE user_id = ? AND name = ? \
             AND (?3 IS NULL OR version = ?3) ORDER BY version DESC LIMIT 1",
        )
        .bind(user_id)
        .bind(name)
        .bind(version)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(template_from_row).transpose()
    }

    async fn template_versions(&self, user_id: &str, name: &str) -> Result<Vec<PromptTemplate>> {
        let rows = sqlx::query(
            "SELECT * FROM prompt_templates WHERE user_id = ? AND name = ? ORDER BY version DESC",
        )
        .bind(user_id)
        .bind(name)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(template_from_row).collect()
    }

    async fn delete_template(&self, user_id: &str, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM prompt_templates WHERE user_id = ? AND name = ?")
            .bind(user_id)
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_run(&self, run: &Run) -> Result<()> {
        sqlx::query(
            "INSERT INTO runs (id, user_id, kind, name, status, input, definition, output, \
             error, tokens, created_at, updated_at, finished_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&run.id)
        .bind(&run.user_id)
        .bind(run.kind.as_str())
        .bind(&run.name)
        .bind(run.status.as_str())
        .bind(run.input.to_string())
        .bind(&run.definition)
        .bind(to_text(&run.output))
        .bind(&run.error)
        .bind(run.tokens)
        .bind(run.created_at)
        .bind(run.updated_at)
        .bind(run.finished_at)
        .execute(&self.writer)
        .await
        .map_err(|e| super::unique_violation(e, "run"))?;
        Ok(())
    }

    async fn get_run(&self, user_id: &str, id: &str) -> Result<Option<Run>> {
        let row = sqlx::query("SELECT * FROM runs WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    async fn list_runs(&self, user_id: &str, kind: RunKind, page: Page) -> Result<Vec<Run>> {
        let rows = sqlx::query(
            "SELECT * FROM runs WHERE user_id = ? AND kind = ? \
             AND (?3 IS NULL OR updated_at < ?3) ORDER BY updated_at DESC, id DESC LIMIT ?4",
        )
        .bind(user_id)
        .bind(kind.as_str())
        .bind(page.before)
        .bind(page.limit)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    async fn update_run(&self, id: &str, u: &RunUpdate) -> Result<bool> {
        let finished = u.status.is_final().then_some(u.at_ms);
        let done = sqlx::query(&format!(
            "UPDATE runs SET status = ?, output = COALESCE(?, output), error = ?, tokens = ?, \
             updated_at = ?, finished_at = ? WHERE id = ? AND status NOT IN {FINAL_STATUSES}"
        ))
        .bind(u.status.as_str())
        .bind(to_text(&u.output))
        .bind(&u.error)
        .bind(u.tokens)
        .bind(u.at_ms)
        .bind(finished)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn reopen_run(&self, user_id: &str, id: &str, at_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'running', error = NULL, finished_at = NULL, updated_at = ? \
             WHERE id = ? AND user_id = ?",
        )
        .bind(at_ms)
        .bind(id)
        .bind(user_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_run_input(&self, id: &str, input: &serde_json::Value, at_ms: i64) -> Result<bool> {
        let done = sqlx::query(&format!(
            "UPDATE runs SET input = ?, updated_at = ? WHERE id = ? AND status NOT IN {FINAL_STATUSES}"
        ))
        .bind(input.to_string())
        .bind(at_ms)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_run_output(
        &self,
        user_id: &str,
        id: &str,
        output: &serde_json::Value,
        at_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE runs SET output = ?, updated_at = ? \
             WHERE id = ? AND user_id = ? AND status = 'succeeded'",
        )
        .bind(output.to_string())
        .bind(at_ms)
        .bind(id)
        .bind(user_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_run(&self, user_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM runs WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn unfinished_runs(&self) -> Result<Vec<Run>> {
        let rows = sqlx::query("SELECT * FROM runs WHERE status = 'running' ORDER BY created_at")
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    async fn put_step(&self, s: &RunStep) -> Result<()> {
        sqlx::query(
            "INSERT INTO run_steps (run_id, key, seq, kind, status, input, output, error, tokens, \
             elapsed_ms, attempts, started_at, finished_at) \
             VALUES (?1, ?2, \
               COALESCE((SELECT MAX(seq) + 1 FROM run_steps WHERE run_id = ?1), 0), \
               ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?11) \
             ON CONFLICT (run_id, key) DO UPDATE SET kind = excluded.kind, \
               status = excluded.status, input = excluded.input, output = excluded.output, \
               error = excluded.error, tokens = excluded.tokens, \
               elapsed_ms = excluded.elapsed_ms, finished_at = excluded.finished_at, \
               attempts = run_steps.attempts + \
                 (CASE WHEN excluded.status = 'running' THEN 1 ELSE 0 END), \
               started_at = excluded.started_at",
        )
        .bind(&s.run_id)
        .bind(&s.key)
        .bind(&s.kind)
        .bind(s.status.as_str())
        .bind(to_text(&s.input))
        .bind(to_text(&s.output))
        .bind(&s.error)
        .bind(s.tokens)
        .bind(s.elapsed_ms)
        .bind(s.started_at)
        .bind(s.finished_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn list_steps(&self, run_id: &str) -> Result<Vec<RunStep>> {
        let rows = sqlx::query("SELECT * FROM run_steps WHERE run_id = ? ORDER BY seq")
            .bind(run_id)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(step_from_row).collect()
    }

    async fn delete_steps(&self, run_id: &str, keys: &[String]) -> Result<u64> {
        let mut removed = 0;
        for key in keys {
            let done = sqlx::query(
                "DELETE FROM run_steps WHERE run_id = ?1 AND (key = ?2 \
                 OR substr(key, 1, length(?2) + 1) IN (?2 || '[', ?2 || '.'))",
            )
            .bind(run_id)
            .bind(key)
            .execute(&self.writer)
            .await?;
            removed += done.rows_affected();
        }
        Ok(removed)
    }
}
