//! `/api/admin`: users, organisations and keys, for admins only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use cairn_store::{UserRole, UserUpdate};
use serde::Deserialize;
use serde_json::{Value, json};

use super::keys::{CreateKey, created_key_json};
use crate::accounts::{self, NewUser};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use crate::util::now_ms;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    email: String,
    name: Option<String>,
    role: Option<UserRole>,
    tier: Option<String>,
    org: Option<String>,
}

pub async fn create_user(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    principal.require_admin()?;
    let user = accounts::create_user(
        app.store.as_ref(),
        &app.config,
        NewUser {
            email: input.email,
            name: input.name,
            role: input.role.unwrap_or(UserRole::Member),
            tier: input.tier,
            org: input.org,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!(user))))
}

pub async fn list_users(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    Ok(Json(
        json!({ "object": "list", "data": app.store.list_users().await? }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    name: Option<String>,
    role: Option<UserRole>,
    tier: Option<String>,
    disabled: Option<bool>,
}

pub async fn update_user(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<PatchUser>,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    if let Some(tier) = &patch.tier
        && app.config.tier(tier).is_none()
    {
        return Err(ApiError::invalid(
            format!("there is no tier '{tier}'"),
            Some("tier"),
        ));
    }
    let update = UserUpdate {
        name: patch.name,
        role: patch.role,
        tier: patch.tier,
        disabled: patch.disabled,
    };
    let user = app
        .store
        .update_user(&id, &update)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    // Tier and status changes apply to the next request, not after the cache expires.
    app.keys.clear();
    Ok(Json(json!(user)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    name: String,
}

pub async fn create_org(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<CreateOrg>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    principal.require_admin()?;
    let org = accounts::create_org(app.store.as_ref(), &input.name).await?;
    Ok((StatusCode::CREATED, Json(json!(org))))
}

pub async fn list_orgs(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    Ok(Json(
        json!({ "object": "list", "data": app.store.list_orgs().await? }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminCreateKey {
    /// The user's id or e-mail.
    user: String,
    #[serde(flatten)]
    key: CreateKey,
}

pub async fn create_key(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<AdminCreateKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    principal.require_admin()?;
    let user = app
        .store
        .find_user(&input.user)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let (key, secret) = accounts::create_key(app.store.as_ref(), &user, input.key.into()).await?;
    Ok((StatusCode::CREATED, Json(created_key_json(&key, &secret))))
}

#[derive(Debug, Deserialize)]
pub struct KeyFilter {
    user: Option<String>,
}

pub async fn list_keys(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(filter): ApiQuery<KeyFilter>,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let user_id = match filter.user {
        Some(u) => Some(
            app.store
                .find_user(&u)
                .await?
                .ok_or_else(|| ApiError::not_found("user"))?
                .id,
        ),
        None => None,
    };
    Ok(Json(
        json!({ "object": "list", "data": app.store.list_api_keys(user_id.as_deref()).await? }),
    ))
}

pub async fn revoke_key(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let key = app
        .store
        .find_api_key(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("API key"))?;
    app.store.revoke_api_key(&key.id, now_ms()).await?;
    app.keys.clear();
    Ok(Json(json!({ "id": key.id, "revoked": true })))
}
