//! `GET /api/usage`: tokens, cost and latency per day, model, key or user.

use axum::Json;
use axum::extract::State;
use cairn_store::{UsageGroup, UsageQuery};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::util::is_day;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    group_by: Option<UsageGroup>,
    from: Option<String>,
    to: Option<String>,
    user_id: Option<String>,
    key_id: Option<String>,
}

/// Members see their own usage; admins anyone's, or everyone's when no user is named.
pub async fn summary(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<Params>,
) -> Result<Json<Value>, ApiError> {
    for (name, day) in [("from", &params.from), ("to", &params.to)] {
        if let Some(day) = day
            && !is_day(day)
        {
            return Err(ApiError::invalid(
                format!("'{name}' must be a day like 2026-11-23"),
                Some(name),
            ));
        }
    }
    let user_id = match params.user_id {
        Some(id) if id != principal.user.id => {
            principal.require_admin()?;
            Some(id)
        }
        Some(id) => Some(id),
        None if principal.is_admin() => None,
        None => Some(principal.user.id.clone()),
    };
    if let Some(key_id) = &params.key_id
        && !principal.is_admin()
    {
        let key = app.store.find_api_key(key_id).await?;
        if key.is_none_or(|k| k.user_id != principal.user.id) {
            return Err(ApiError::not_found("API key"));
        }
    }
    // Read your writes: what this server metered so far is stored before we sum.
    app.meter.flush().await;
    let group_by = params.group_by.unwrap_or(UsageGroup::Day);
    let rows = app
        .store
        .usage_summary(&UsageQuery {
            user_id,
            key_id: params.key_id,
            from_day: params.from,
            to_day: params.to,
            group_by,
        })
        .await?;
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "group": r.group,
                "requests": r.requests,
                "errors": r.errors,
                "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens,
                "total_tokens": r.prompt_tokens + r.completion_tokens,
                "cost": r.cost_nanos as f64 / 1e9,
                "cost_nanos": r.cost_nanos,
                "avg_latency_ms": r.avg_latency_ms,
            })
        })
        .collect();
    Ok(Json(json!({
        "object": "list",
        "group_by": group_by,
        "currency": app.config.metering.currency,
        "data": data,
    })))
}
