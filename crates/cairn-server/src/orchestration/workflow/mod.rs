//! Declarative workflows: the format ([`definition`]), its templates and expressions
//! ([`expr`]), and running them with checkpoints ([`run`]).

pub mod definition;
pub mod expr;
mod run;

use cairn_store::{Run, RunKind, RunStatus, RunStep, StepStatus};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

pub use definition::{Invalid, Workflow};
pub use run::ROUTE;

use super::{Interrupt, Outcome};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::memory::calls::Caller;
use crate::state::AppState;
use crate::util::{new_id, now_ms};

/// Runs (or resumes) a stored workflow run.
pub async fn execute(
    app: &AppState,
    caller: &Caller,
    run: &Run,
    cancel: &CancellationToken,
) -> Outcome {
    let workflow: Workflow = match serde_json::from_str(&run.definition) {
        Ok(w) => w,
        Err(e) => {
            return Outcome::Stopped(Interrupt::Failed(format!(
                "the stored workflow cannot be read: {e}"
            )));
        }
    };
    let runner = run::Runner {
        app,
        caller,
        run,
        workflow: &workflow,
        cancel,
    };
    match runner.drive().await {
        Ok(run::Drive::Finished(output)) => Outcome::Finished(output),
        Ok(run::Drive::Waiting) => Outcome::Waiting,
        Err(interrupt) => Outcome::Stopped(interrupt),
    }
}

fn invalid(problem: Invalid, param: &str) -> ApiError {
    ApiError::invalid(format!("invalid workflow: {problem}"), Some(param))
}

/// Reads a workflow given as TOML text or as a JSON object.
pub fn parse(definition: &Value) -> Result<Workflow, ApiError> {
    match definition {
        Value::String(source) => Workflow::from_toml(source).map_err(|e| invalid(e, "workflow")),
        Value::Object(_) => {
            Workflow::from_json(definition.clone()).map_err(|e| invalid(e, "workflow"))
        }
        _ => Err(ApiError::invalid(
            "'workflow' must be TOML text or a JSON object",
            Some("workflow"),
        )),
    }
}

/// Stores a new run of `workflow` and starts it.
pub async fn start(
    app: &AppState,
    principal: &Principal,
    kind: RunKind,
    workflow: &Workflow,
    inputs: &Map<String, Value>,
    model: Option<String>,
) -> Result<Run, ApiError> {
    let bound = workflow
        .bind_inputs(inputs)
        .map_err(|e| ApiError::invalid(format!("invalid inputs: {e}"), Some("inputs")))?;
    if let Some(model) = &model {
        super::check_model(app, principal, model)?;
    }
    let now = now_ms();
    let run = Run {
        id: new_id(),
        user_id: principal.user.id.clone(),
        kind,
        name: workflow.name.clone(),
        status: RunStatus::Running,
        input: json!({ "inputs": bound, "model": model }),
        definition: serde_json::to_string(workflow).map_err(ApiError::internal)?,
        output: None,
        error: None,
        tokens: 0,
        created_at: now,
        updated_at: now,
        finished_at: None,
    };
    app.store.create_run(&run).await?;
    super::spawn(app, run.clone(), principal.clone());
    Ok(run)
}

/// A run of the caller's, or 404.
pub async fn owned(app: &AppState, principal: &Principal, id: &str) -> Result<Run, ApiError> {
    app.store
        .get_run(&principal.user.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("run"))
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::WrongState {
        message: message.into(),
    }
}

/// Approves the review a waiting run stopped at (with the user's edited value, if any) and
/// continues the run.
pub async fn approve(
    app: &AppState,
    principal: &Principal,
    id: &str,
    edited: Option<Value>,
) -> Result<Run, ApiError> {
    let run = owned(app, principal, id).await?;
    if run.status != RunStatus::Waiting {
        return Err(conflict(format!(
            "the run is {}, not waiting for a review",
            run.status.as_str()
        )));
    }
    let steps = app.store.list_steps(&run.id).await?;
    let Some(review) = steps
        .into_iter()
        .find(|s| s.kind == "review" && s.status == StepStatus::Running)
    else {
        return Err(conflict("the run has no review waiting"));
    };
    let output = edited.or(review.output.clone());
    app.store
        .put_step(&RunStep {
            status: StepStatus::Succeeded,
            output,
            finished_at: Some(now_ms()),
            ..review
        })
        .await?;
    restart(app, principal, run).await
}

/// Runs one step again, and every later step that depends on it; the others keep their
/// outputs.
pub async fn rerun(
    app: &AppState,
    principal: &Principal,
    id: &str,
    step: &str,
) -> Result<Run, ApiError> {
    let run = owned(app, principal, id).await?;
    if app.runs.is_active(&run.id) {
        return Err(conflict(
            "the run is still running; cancel it or wait for it",
        ));
    }
    let workflow: Workflow = serde_json::from_str(&run.definition).map_err(ApiError::internal)?;
    if !workflow.steps.iter().any(|s| s.id == step) {
        return Err(ApiError::invalid(
            format!("the workflow has no step '{step}'"),
            Some("step"),
        ));
    }
    let stale = workflow.dependents(step);
    app.store.delete_steps(&run.id, &stale).await?;
    restart(app, principal, run).await
}

async fn restart(app: &AppState, principal: &Principal, run: Run) -> Result<Run, ApiError> {
    if !app
        .store
        .reopen_run(&principal.user.id, &run.id, now_ms())
        .await?
    {
        return Err(ApiError::not_found("run"));
    }
    let run = owned(app, principal, &run.id).await?;
    super::spawn(app, run.clone(), principal.clone());
    Ok(run)
}

/// Cancels a run that is running or waiting.
pub async fn cancel(app: &AppState, principal: &Principal, id: &str) -> Result<Run, ApiError> {
    let run = owned(app, principal, id).await?;
    if run.status.is_final() {
        return Err(conflict(format!("the run already {}", run.status.as_str())));
    }
    if !app.runs.cancel(&run.id) {
        // Not executing here (waiting for a review): end it directly.
        app.store
            .update_run(
                &run.id,
                &cairn_store::RunUpdate {
                    status: RunStatus::Cancelled,
                    output: None,
                    error: Some("cancelled".into()),
                    tokens: run.tokens,
                    at_ms: now_ms(),
                },
            )
            .await?;
    }
    owned(app, principal, id).await
}
