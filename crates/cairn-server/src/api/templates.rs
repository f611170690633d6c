//! `/api/templates`: prompt templates. Built-in ones (the writer's modes, chat presets) and
//! the caller's own, versioned: each save is a new version; `name@2` reads version 2.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::orchestration::templates::{self, TemplateView};
use crate::state::AppState;

pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let all = templates::list(&app, &principal.user.id).await?;
    Ok(Json(json!({ "object": "list", "data": all })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveTemplate {
    name: String,
    #[serde(default)]
    description: String,
    body: String,
}

pub async fn save(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<SaveTemplate>,
) -> Result<(StatusCode, Json<TemplateView>), ApiError> {
    let saved = templates::save(
        &app,
        &principal.user.id,
        body.name.trim(),
        body.description.trim(),
        &body.body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// One template (`name` or `name@version`), with the versions the caller saved.
pub async fn read(
    State(app): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let template = templates::resolve(&app, &principal.user.id, &name, None).await?;
    let bare = name.rsplit_once('@').map_or(name.as_str(), |(n, _)| n);
    let versions: Vec<Value> = app
        .store
        .template_versions(&principal.user.id, bare)
        .await?
        .into_iter()
        .map(|t| json!({"version": t.version, "created_at": t.created_at, "description": t.description}))
        .collect();
    let mut out = serde_json::to_value(template).map_err(ApiError::internal)?;
    out["versions"] = Value::Array(versions);
    Ok(Json(out))
}

/// Deletes every version of one of the caller's templates.
pub async fn delete(
    State(app): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    if app.store.delete_template(&principal.user.id, &name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("template"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderTemplate {
    name: String,
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    variables: Map<String, Value>,
}

/// Renders a template with variables: what a preset or a workflow step would send.
pub async fn render(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<RenderTemplate>,
) -> Result<Json<Value>, ApiError> {
    let template = templates::resolve(&app, &principal.user.id, &body.name, body.version).await?;
    let text = templates::render(&template, &Value::Object(body.variables))?;
    Ok(Json(json!({
        "name": template.name,
        "version": template.version,
        "text": text,
    })))
}
