//! `/api/admin/invitations`: sign-up links (shown once), their list, and revoking them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::util::now_ms;
use crate::web::invitations::{self, NewInvitation};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    email: Option<String>,
    tier: Option<String>,
    expires_in_hours: Option<u32>,
}

pub async fn create(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<CreateInvitation>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    principal.require_admin()?;
    let (invitation, token) = invitations::create(
        app.store.as_ref(),
        &app.config,
        NewInvitation {
            email: input.email,
            tier: input.tier,
            expires_in_hours: input.expires_in_hours,
            created_by: Some(principal.user.id.clone()),
        },
    )
    .await?;
    let mut value = json!(invitation);
    value["token"] = json!(token);
    value["path"] = json!(invitations::signup_path(&token));
    Ok((StatusCode::CREATED, Json(value)))
}

pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let data = app.store.list_invitations().await?;
    Ok(Json(json!({ "object": "list", "data": data })))
}

pub async fn revoke(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    if !app.store.revoke_invitation(&id, now_ms()).await? {
        return Err(ApiError::not_found("invitation"));
    }
    Ok(Json(json!({ "id": id, "revoked": true })))
}
