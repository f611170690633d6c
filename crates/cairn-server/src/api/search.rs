//! `/api/search`: hybrid search over the caller's readable collections.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::knowledge::{SearchQuery, search as run_search};
use crate::state::AppState;

pub async fn search(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(query): ApiJson<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let hits = run_search(&app, &principal.user, &query).await?;
    Ok(Json(json!({ "object": "list", "data": hits })))
}
