//! [`WebStore`] on SQLite.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, unique_violation};
use crate::web::*;
use crate::{Result, StoreError, User};

fn session_from_row(row: &SqliteRow) -> Result<Session> {
    Ok(Session {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        token_hash: row.try_get("token_hash")?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn invitation_from_row(row: &SqliteRow) -> Result<Invitation> {
    Ok(Invitation {
        id: row.try_get("id")?,
        token_hash: row.try_get("token_hash")?,
        email: row.try_get("email")?,
        tier: row.try_get("tier")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        used_by: row.try_get("used_by")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[async_trait]
impl WebStore for SqliteStore {
    async fn set_password_hash(&self, user_id: &str, hash: Option<&str>) -> Result<bool> {
        let done = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_session(&self, s: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, token_hash, csrf_token, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&s.id)
        .bind(&s.user_id)
        .bind(&s.token_hash)
        .bind(&s.csrf_token)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(&self.writer)
        .await
        .map_err(|e| unique_violation(e, "session"))?;
        Ok(())
    }

    async fn find_session(&self, token_hash: &str, now_ms: i64) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE token_hash = ? AND expires_at > ?")
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn delete_session(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE id = ?")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_user_sessions(&self, user_id: &str, keep: Option<&str>) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR id <> ?2)")
                .bind(user_id)
                .bind(keep)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected())
    }

    async fn delete_expired_sessions(&self, now_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now_ms)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    async fn create_invitation(&self, i: &Invitation) -> Result<()> {
        sqlx::query(
            "INSERT INTO invitations (id, token_hash, email, tier, created_by, created_at, \
             expires_at, used_at, used_by, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&i.id)
        .bind(&i.token_hash)
        .bind(&i.email)
        .bind(&i.tier)
        .bind(&i.created_by)
        .bind(i.created_at)
        .bind(i.expires_at)
        .bind(i.used_at)
        .bind(&i.used_by)
        .bind(i.revoked_at)
        .execute(&self.writer)
        .await
        .map_err(|e| unique_violation(e, "invitation"))?;
        Ok(())
    }

    async fn list_invitations(&self) -> Result<Vec<Invitation>> {
        let rows = sqlx::query("SELECT * FROM invitations ORDER BY created_at DESC, id DESC")
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(invitation_from_row).collect()
    }

    async fn find_invitation(&self, token_hash: &str) -> Result<Option<Invitation>> {
        let row = sqlx::query("SELECT * FROM invitations WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(invitation_from_row).transpose()
    }

    async fn revoke_invitation(&self, id: &str, at_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        )
        .bind(id)
        .bind(at_ms)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_user_with_invitation(&self, user: &User, token_hash: &str) -> Result<()> {
        let mut tx = self.writer.begin().await?;
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
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, "user"))?;
        // The check and the use are one statement, so two sign-ups racing for one
        // invitation cannot both win.
        let used = sqlx::query(
            "UPDATE invitations SET used_at = ?1, used_by = ?2 WHERE token_hash = ?3 \
             AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?1 \
             AND (email IS NULL OR email = ?4)",
        )
        .bind(user.created_at)
        .bind(&user.id)
        .bind(token_hash)
        .bind(&user.email)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(StoreError::NotFound { what: "invitation" });
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
