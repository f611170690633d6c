//! Orchestration: prompt templates, tools, the agent loop and declarative workflows (the
//! article writer is a workflow, see `crate::writer`).
//!
//! Every agent run, workflow run and article is a [`cairn_store::Run`] with its steps in the
//! store. Runs execute in the background; [`Runs`] knows which are executing here and
//! cancels them. At start, [`resume`] picks up the runs a crash or restart interrupted.

pub mod agent;
pub mod model;
pub mod templates;
pub mod tools;
pub mod workflow;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cairn_store::{Run, RunKind, RunStatus, RunStep, RunUpdate, StepStatus};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::auth::Principal;
use crate::config::ModelKind;
use crate::error::ApiError;
use crate::memory::calls::Caller;
use crate::state::AppState;
use crate::util::now_ms;

/// Refuses a chat model the caller's tier does not offer, before a run starts with it.
pub fn check_model(app: &AppState, principal: &Principal, model: &str) -> Result<(), ApiError> {
    let tier = app.tier_of(&principal.user.tier)?;
    crate::pipeline::resolve_model(
        &app.config,
        app.route_policy.as_ref(),
        tier,
        Some(model),
        ModelKind::Chat,
    )
    .map(|_| ())
}

/// Why a run stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interrupt {
    Cancelled,
    /// With a message the user can act on.
    Failed(String),
}

/// The runs executing in this process, with the token that cancels each.
#[derive(Default)]
pub struct Runs {
    active: Mutex<HashMap<String, Active>>,
}

struct Active {
    cancel: CancellationToken,
    /// Asked to start again while it was finishing (an approval that raced the executor's
    /// last write): it is started again once this execution has ended.
    again: bool,
}

impl Runs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Active>> {
        self.active.lock().expect("the runs lock is never poisoned")
    }

    /// Claims a run for execution; `None` when it is already executing (it is then started
    /// again after that execution ends).
    fn claim(&self, id: &str) -> Option<CancellationToken> {
        let mut active = self.lock();
        if let Some(entry) = active.get_mut(id) {
            entry.again = true;
            return None;
        }
        let cancel = CancellationToken::new();
        active.insert(
            id.to_string(),
            Active {
                cancel: cancel.clone(),
                again: false,
            },
        );
        Some(cancel)
    }

    /// Ends an execution; whether the run asked to be started again meanwhile.
    fn release(&self, id: &str) -> bool {
        self.lock().remove(id).is_some_and(|entry| entry.again)
    }

    /// Cancels a run executing here; false when it is not.
    pub fn cancel(&self, id: &str) -> bool {
        match self.lock().get(id) {
            Some(entry) => {
                entry.cancel.cancel();
                true
            }
            None => false,
        }
    }

    pub fn is_active(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }
}

/// Starts executing a stored run in the background, unless it already is.
pub fn spawn(app: &AppState, run: Run, principal: Principal) {
    let Some(cancel) = app.runs.claim(&run.id) else {
        return;
    };
    let app = app.clone();
    tokio::spawn(async move {
        let caller = Caller {
            principal: principal.clone(),
            request_id: run.id.clone(),
        };
        let outcome = match run.kind {
            RunKind::Agent => agent::execute(&app, &caller, &run, &cancel).await,
            RunKind::Workflow | RunKind::Article => {
                workflow::execute(&app, &caller, &run, &cancel).await
            }
        };
        finish(&app, &run, outcome).await;
        if app.runs.release(&run.id) {
            // Someone continued the run while this execution was writing its end.
            if let Ok(Some(current)) = app.store.get_run(&run.user_id, &run.id).await
                && current.status == RunStatus::Running
            {
                spawn(&app, current, principal);
            }
        }
    });
}

/// Stores one step of a run as the runners see it: (input, output, error) with its tokens and
/// times; finished unless `running`. A store failure interrupts the run.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_step(
    app: &AppState,
    run_id: &str,
    key: &str,
    kind: &str,
    status: StepStatus,
    (input, output, error): (Option<Value>, Option<Value>, Option<String>),
    tokens: i64,
    started_at: i64,
    elapsed_ms: i64,
) -> Result<(), Interrupt> {
    app.store
        .put_step(&RunStep {
            run_id: run_id.to_string(),
            key: key.to_string(),
            seq: 0,
            kind: kind.to_string(),
            status,
            input,
            output,
            error,
            tokens,
            elapsed_ms,
            attempts: 1,
            started_at,
            finished_at: (status != StepStatus::Running).then(now_ms),
        })
        .await
        .map_err(|e| Interrupt::Failed(format!("the store failed: {e}")))
}

/// What an executor reports.
pub enum Outcome {
    Finished(Value),
    Waiting,
    Stopped(Interrupt),
}

async fn finish(app: &AppState, run: &Run, outcome: Outcome) {
    let steps = app.store.list_steps(&run.id).await.unwrap_or_default();
    let tokens = steps.iter().map(|s| s.tokens).sum();
    // A stopped run leaves no step looking as if it were still running.
    if let Outcome::Stopped(interrupt) = &outcome {
        let why = match interrupt {
            Interrupt::Cancelled => "cancelled",
            Interrupt::Failed(_) => "the run stopped",
        };
        for step in steps
            .into_iter()
            .filter(|s| s.status == StepStatus::Running)
        {
            let ended = RunStep {
                status: StepStatus::Failed,
                error: Some(why.to_string()),
                finished_at: Some(now_ms()),
                ..step
            };
            if let Err(e) = app.store.put_step(&ended).await {
                tracing::warn!(run = %run.id, error = %e, "could not close a step");
            }
        }
    }
    let (status, output, error) = match outcome {
        Outcome::Finished(mut output) => {
            if run.kind == RunKind::Article {
                crate::writer::carry_edit(run.output.as_ref(), &mut output);
            }
            (RunStatus::Succeeded, Some(output), None)
        }
        Outcome::Waiting => (RunStatus::Waiting, None, None),
        Outcome::Stopped(Interrupt::Cancelled) => {
            (RunStatus::Cancelled, None, Some("cancelled".to_string()))
        }
        Outcome::Stopped(Interrupt::Failed(message)) => (RunStatus::Failed, None, Some(message)),
    };
    let update = RunUpdate {
        status,
        output,
        error,
        tokens,
        at_ms: now_ms(),
    };
    if let Err(e) = app.store.update_run(&run.id, &update).await {
        tracing::error!(run = %run.id, error = %e, "could not store the end of a run");
    }
}

/// Picks up the runs left `running` by a crash or a restart: workflows and articles continue
/// after their last finished step; an agent run cannot be continued faithfully (its model's
/// next step depends on a conversation in flight), so it ends with an error saying so.
pub async fn resume(app: &AppState) {
    let runs = match app.store.unfinished_runs().await {
        Ok(runs) => runs,
        Err(e) => {
            tracing::error!(error = %e, "cannot list the runs to resume");
            return;
        }
    };
    for run in runs {
        let user = match app.store.find_user(&run.user_id).await {
            Ok(Some(user)) if !user.disabled => user,
            _ => {
                let update = RunUpdate {
                    status: RunStatus::Failed,
                    output: None,
                    error: Some("its owner no longer exists or is disabled".into()),
                    tokens: run.tokens,
                    at_ms: now_ms(),
                };
                let _ = app.store.update_run(&run.id, &update).await;
                continue;
            }
        };
        if run.kind == RunKind::Agent {
            let update = RunUpdate {
                status: RunStatus::Failed,
                output: None,
                error: Some("interrupted by a server restart; start it again".into()),
                tokens: run.tokens,
                at_ms: now_ms(),
            };
            let _ = app.store.update_run(&run.id, &update).await;
            continue;
        }
        tracing::info!(run = %run.id, kind = run.kind.as_str(), "resuming an interrupted run");
        let principal = Principal {
            user: Arc::new(user),
            key: None,
        };
        spawn(app, run, principal);
    }
}
