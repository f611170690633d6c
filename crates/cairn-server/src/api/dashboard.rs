//! `/api/admin/dashboard`, `/api/admin/requests`, `/api/admin/providers` and
//! `/api/admin/tiers`: what the admin dashboard shows, for admins only.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use cairn_store::{Cursor, UsageFilter, UsageRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::dashboard::health::{self, RECENT_MS};
use crate::dashboard::series::{self, MAX_RECORDS, SplitBy, Window};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::util::now_ms;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesParams {
    /// `1h`, `6h`, `24h` (default), `7d` or `30d`.
    span: Option<String>,
    by: Option<SplitBy>,
    /// Only this user's calls (id or e-mail).
    user: Option<String>,
    model: Option<String>,
}

/// Usage over time: one dense series per model, user or provider, plus the whole window.
pub async fn series(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<SeriesParams>,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let span = params.span.as_deref().unwrap_or("24h");
    let window = Window::last(span, now_ms()).ok_or_else(|| {
        ApiError::invalid(
            format!("'span' must be one of 1h, 6h, 24h, 7d, 30d, not '{span}'"),
            Some("span"),
        )
    })?;
    let by = params.by.unwrap_or_default();
    let user_id = match &params.user {
        Some(user) => Some(find_user_id(&app, user).await?),
        None => None,
    };
    // What this server metered so far is stored before it is read back.
    app.meter.flush().await;
    let records = app
        .store
        .list_usage(&UsageFilter {
            from_ms: Some(window.from_ms),
            to_ms: Some(window.to_ms),
            before_id: None,
            user_id,
            model: params.model,
            limit: MAX_RECORDS,
        })
        .await?;
    let truncated = records.len() as u32 == MAX_RECORDS;
    let split = series::split(&records, window, by);
    let users = if by == SplitBy::User {
        user_emails(&app).await?
    } else {
        BTreeMap::new()
    };
    Ok(Json(json!({
        "span": span,
        "by": by,
        "window": window,
        "currency": app.config.metering.currency,
        "truncated": truncated,
        "overall": series::overall(&records, window),
        "series": split,
        "labels": users,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestParams {
    limit: Option<u32>,
    /// The `next_before` and `next_before_id` of the previous page.
    before: Option<i64>,
    before_id: Option<String>,
    user: Option<String>,
    model: Option<String>,
}

/// The newest metered calls, with who made them.
pub async fn requests(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<RequestParams>,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let limit = params.limit.unwrap_or(50).clamp(1, 500);
    let after = super::page::cursor(params.before, params.before_id)?;
    let user_id = match &params.user {
        Some(user) => Some(find_user_id(&app, user).await?),
        None => None,
    };
    app.meter.flush().await;
    let records = app
        .store
        .list_usage(&UsageFilter {
            from_ms: None,
            to_ms: after.as_ref().map(|c| c.at),
            before_id: after.map(|c| c.id),
            user_id,
            model: params.model,
            limit: limit + 1,
        })
        .await?;
    let emails = user_emails(&app).await?;
    let rows: Vec<Value> = records.iter().map(|r| request_json(r, &emails)).collect();
    Ok(super::page::cursor_page(rows, limit, |row| Cursor {
        at: row["at"].as_i64().unwrap_or_default(),
        id: row["id"].as_str().unwrap_or_default().to_string(),
    }))
}

fn request_json(r: &UsageRecord, emails: &BTreeMap<String, String>) -> Value {
    json!({
        "id": r.id,
        "at": r.at,
        "request_id": r.request_id,
        "user_id": r.user_id,
        "user_email": emails.get(&r.user_id),
        "key_id": r.key_id,
        "route": r.route,
        "model": r.model,
        "provider": r.provider,
        "status": r.status,
        "stream": r.stream,
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.completion_tokens,
        "cost": r.cost_nanos as f64 / 1e9,
        "latency_ms": r.latency_ms,
        "ttft_ms": r.ttft_ms,
    })
}

/// Every provider's health, with its recent calls.
pub async fn providers(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    app.meter.flush().await;
    let now = now_ms();
    let recent = app
        .store
        .list_usage(&UsageFilter {
            from_ms: Some(now - RECENT_MS),
            limit: MAX_RECORDS,
            ..UsageFilter::default()
        })
        .await?;
    let data = health::check(app.providers.iter(), &recent, now).await;
    Ok(Json(json!({ "object": "list", "data": data })))
}

/// The configured tiers, for choosing a user's.
pub async fn tiers(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let data: Vec<Value> = app
        .config
        .tiers
        .values()
        .map(|t| {
            json!({
                "name": t.name,
                "models": t.models,
                "default_model": t.default_model,
                "requests_per_minute": t.requests_per_minute,
                "tokens_per_minute": t.tokens_per_minute,
                "monthly_tokens": t.monthly_tokens,
                "default": t.name == app.config.default_tier,
            })
        })
        .collect();
    Ok(Json(json!({ "object": "list", "data": data })))
}

async fn find_user_id(app: &AppState, id_or_email: &str) -> Result<String, ApiError> {
    Ok(app
        .store
        .find_user(id_or_email)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?
        .id)
}

async fn user_emails(app: &AppState) -> Result<BTreeMap<String, String>, ApiError> {
    Ok(app
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect())
}
