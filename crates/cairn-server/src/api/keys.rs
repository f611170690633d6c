//! The caller's own account and API keys.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use cairn_store::ApiKey;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::{self, NewKey};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::util::now_ms;

pub async fn me(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let tier = app.tier_of(&principal.user.tier)?;
    Ok(Json(json!({
        "user": principal.user.as_ref(),
        "tier": {
            "name": tier.name,
            "models": tier.models,
            "default_model": tier.default_model,
            "requests_per_minute": tier.requests_per_minute,
            "tokens_per_minute": tier.tokens_per_minute,
            "monthly_tokens": tier.monthly_tokens,
        },
        "key": principal.key.as_deref(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub name: Option<String>,
    pub expires_in_days: Option<u32>,
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u32>,
}

impl From<CreateKey> for NewKey {
    fn from(c: CreateKey) -> NewKey {
        NewKey {
            name: c.name,
            expires_in_days: c.expires_in_days,
            requests_per_minute: c.requests_per_minute,
            tokens_per_minute: c.tokens_per_minute,
        }
    }
}

/// A new key with its secret: the only time the secret is shown.
pub fn created_key_json(key: &ApiKey, secret: &str) -> Value {
    let mut value = serde_json::to_value(key).expect("keys serialise");
    value["key"] = Value::String(secret.to_string());
    value
}

pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let keys = app.store.list_api_keys(Some(&principal.user.id)).await?;
    Ok(Json(json!({ "object": "list", "data": keys })))
}

pub async fn create(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (key, secret) =
        accounts::create_key(app.store.as_ref(), &principal.user, input.into()).await?;
    Ok((StatusCode::CREATED, Json(created_key_json(&key, &secret))))
}

pub async fn revoke(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = app.store.find_api_key(&id).await?;
    match key {
        Some(key) if key.user_id == principal.user.id || principal.is_admin() => {
            app.store.revoke_api_key(&key.id, now_ms()).await?;
            app.keys.clear();
            Ok(Json(json!({ "id": key.id, "revoked": true })))
        }
        _ => Err(ApiError::not_found("API key")),
    }
}
