//! Row → record mapping.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::records::*;
use crate::{Result, StoreError};

pub(super) fn org_from_row(row: &SqliteRow) -> Result<Org> {
    Ok(Org {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) fn user_from_row(row: &SqliteRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: UserRole::parse(&role).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Decode(
                format!("unknown user role {role:?}").into(),
            ))
        })?,
        tier: row.try_get("tier")?,
        org_id: row.try_get("org_id")?,
        password_hash: row.try_get("password_hash")?,
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) fn api_key_from_row(row: &SqliteRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        hash: row.try_get("hash")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        requests_per_minute: row.try_get("requests_per_minute")?,
        tokens_per_minute: row.try_get("tokens_per_minute")?,
    })
}

pub(super) fn conversation_from_row(row: &SqliteRow) -> Result<Conversation> {
    Ok(Conversation {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        title: row.try_get("title")?,
        model: row.try_get("model")?,
        system_prompt: row.try_get("system_prompt")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn message_from_row(row: &SqliteRow) -> Result<Message> {
    Ok(Message {
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        seq: row.try_get("seq")?,
        role: row.try_get("role")?,
        content: row.try_get("content")?,
        model: row.try_get("model")?,
        prompt_tokens: row.try_get("prompt_tokens")?,
        completion_tokens: row.try_get("completion_tokens")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) fn usage_from_row(row: &SqliteRow) -> Result<UsageRecord> {
    Ok(UsageRecord {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        day: row.try_get("day")?,
        request_id: row.try_get("request_id")?,
        user_id: row.try_get("user_id")?,
        key_id: row.try_get("key_id")?,
        org_id: row.try_get("org_id")?,
        route: row.try_get("route")?,
        model: row.try_get("model")?,
        provider: row.try_get("provider")?,
        status: row.try_get("status")?,
        stream: row.try_get("stream")?,
        prompt_tokens: row.try_get("prompt_tokens")?,
        completion_tokens: row.try_get("completion_tokens")?,
        cost_nanos: row.try_get("cost_nanos")?,
        latency_ms: row.try_get("latency_ms")?,
        ttft_ms: row.try_get("ttft_ms")?,
    })
}
