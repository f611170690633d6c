//! Runs: agent runs (`/api/agent/runs`), workflow runs (`/api/workflows/runs`) and, for all
//! kinds, `/api/runs/{id}` to read one with its steps, cancel it, approve a review, or run a
//! step again. Every run is the caller's own; anyone else's answers 404.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use cairn_store::{Page, Run, RunKind};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::orchestration::agent::{self, AgentTask, Limits};
use crate::orchestration::{tools, workflow};
use crate::state::AppState;

/// Longest a `wait: true` request holds before answering with the run as it is.
const MAX_WAIT: Duration = Duration::from_secs(600);

/// `GET /api/tools`: the tools runs can use.
pub async fn list_tools(State(app): State<AppState>, _principal: Principal) -> Json<Value> {
    Json(json!({ "object": "list", "data": tools::specs(&app) }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartAgent {
    task: String,
    #[serde(default)]
    model: Option<String>,
    /// Tool names; every tool when absent.
    #[serde(default)]
    tools: Option<Vec<String>>,
    #[serde(default)]
    max_steps: Option<u32>,
    #[serde(default)]
    max_tokens: Option<u64>,
    #[serde(default)]
    timeout_ms: Option<u64>,
    #[serde(default)]
    max_cost_nanos: Option<i64>,
    /// Answer when the run ends instead of at once.
    #[serde(default)]
    wait: bool,
}

pub async fn start_agent(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<StartAgent>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let defaults = app.config.agent;
    let bounded = |value: Option<u64>, max: u64, name: &str| -> Result<u64, ApiError> {
        match value {
            None => Ok(max),
            Some(v) if (1..=max).contains(&v) => Ok(v),
            Some(_) => Err(ApiError::invalid(
                format!("'{name}' must be between 1 and {max}"),
                Some(name),
            )),
        }
    };
    let limits = Limits {
        max_steps: bounded(
            body.max_steps.map(u64::from),
            u64::from(defaults.max_steps),
            "max_steps",
        )? as u32,
        max_tokens: bounded(body.max_tokens, defaults.max_tokens, "max_tokens")?,
        timeout_ms: bounded(
            body.timeout_ms,
            defaults.timeout.as_millis() as u64,
            "timeout_ms",
        )?,
        max_cost_nanos: match body.max_cost_nanos {
            Some(c) if c < 0 => {
                return Err(ApiError::invalid(
                    "'max_cost_nanos' must be ≥ 0",
                    Some("max_cost_nanos"),
                ));
            }
            other => other,
        },
    };
    let tools = body
        .tools
        .unwrap_or_else(|| tools::specs(&app).into_iter().map(|s| s.name).collect());
    let run = agent::start(
        &app,
        &principal,
        AgentTask {
            task: body.task,
            model: body.model,
            tools,
            limits,
        },
    )
    .await?;
    respond(&app, &principal, run, body.wait).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartWorkflow {
    /// TOML text, or the same shape as a JSON object.
    workflow: Value,
    #[serde(default)]
    inputs: Map<String, Value>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    wait: bool,
}

pub async fn start_workflow(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<StartWorkflow>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let definition = workflow::parse(&body.workflow)?;
    let run = workflow::start(
        &app,
        &principal,
        RunKind::Workflow,
        &definition,
        &body.inputs,
        body.model,
    )
    .await?;
    respond(&app, &principal, run, body.wait).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateWorkflow {
    workflow: Value,
}

/// `POST /api/workflows/validate`: every problem at once, without running anything.
pub async fn validate_workflow(
    _principal: Principal,
    ApiJson(body): ApiJson<ValidateWorkflow>,
) -> Result<Json<Value>, ApiError> {
    let definition = workflow::parse(&body.workflow)?;
    Ok(Json(json!({
        "valid": true,
        "name": definition.name,
        "inputs": definition.inputs,
        "steps": definition.steps.iter().map(|s| json!({"id": s.id, "kind": s.action.kind()})).collect::<Vec<_>>(),
    })))
}

/// 201 with the run; with `wait`, once the run has stopped (or after [`MAX_WAIT`]).
async fn respond(
    app: &AppState,
    principal: &Principal,
    run: Run,
    wait: bool,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !wait {
        return Ok((StatusCode::CREATED, Json(with_steps(app, run).await?)));
    }
    let deadline = tokio::time::Instant::now() + MAX_WAIT;
    let mut delay = Duration::from_millis(50);
    loop {
        let current = workflow::owned(app, principal, &run.id).await?;
        if !app.runs.is_active(&current.id) || tokio::time::Instant::now() >= deadline {
            return Ok((StatusCode::CREATED, Json(with_steps(app, current).await?)));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

async fn with_steps(app: &AppState, run: Run) -> Result<Value, ApiError> {
    let steps = app.store.list_steps(&run.id).await?;
    let mut out = serde_json::to_value(&run).map_err(ApiError::internal)?;
    out["object"] = json!("run");
    out["steps"] = serde_json::to_value(steps).map_err(ApiError::internal)?;
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRuns {
    kind: Option<String>,
    limit: Option<u32>,
    before: Option<i64>,
}

pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListRuns>,
) -> Result<Json<Value>, ApiError> {
    let kind = match params.kind.as_deref() {
        None => RunKind::Workflow,
        Some(k) => RunKind::parse(k).ok_or_else(|| {
            ApiError::invalid("'kind' is agent, workflow or article", Some("kind"))
        })?,
    };
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let runs = app
        .store
        .list_runs(
            &principal.user.id,
            kind,
            Page {
                limit: limit + 1,
                before: params.before,
            },
        )
        .await?;
    Ok(super::page::page(runs, limit, |r| r.updated_at))
}

pub async fn read(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let run = workflow::owned(&app, &principal, &id).await?;
    Ok(Json(with_steps(&app, run).await?))
}

pub async fn cancel(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let run = workflow::cancel(&app, &principal, &id).await?;
    Ok(Json(with_steps(&app, run).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approve {
    /// The reviewed value, edited; the proposed one when absent.
    #[serde(default)]
    output: Option<Value>,
}

pub async fn approve(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    // The body is optional: no body approves the value as proposed.
    let body: Approve = if body.iter().all(u8::is_ascii_whitespace) {
        Approve::default()
    } else {
        crate::extract::parse_json(&body)?
    };
    let edited = body.output;
    let run = workflow::approve(&app, &principal, &id, edited).await?;
    Ok(Json(with_steps(&app, run).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rerun {
    step: String,
}

pub async fn rerun(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Rerun>,
) -> Result<Json<Value>, ApiError> {
    let run = workflow::rerun(&app, &principal, &id, &body.step).await?;
    Ok(Json(with_steps(&app, run).await?))
}

pub async fn delete(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let run = workflow::owned(&app, &principal, &id).await?;
    if app.runs.is_active(&run.id) {
        return Err(ApiError::WrongState {
            message: "the run is still running; cancel it first".into(),
        });
    }
    app.store.delete_run(&principal.user.id, &run.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
