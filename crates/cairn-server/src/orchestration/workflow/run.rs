//! Running a workflow: steps in order, each one stored when it starts and when it ends, so
//! that a run interrupted by a crash or a restart resumes after its last finished step.
//!
//! A step's outcome is stored before the next step starts; a finished step (`succeeded` or
//! `skipped`) is never run again on resume, its stored output is used instead. A step that
//! was running when the process died is run again (its `attempts` count says so). Map items
//! are steps of their own (`sections[2]`), so a resumed map only runs its unfinished items.

use std::collections::HashMap;
use std::time::Instant;

use cairn_store::{Run, RunStep, StepStatus};
use futures::StreamExt;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::definition::{Action, MAX_MAP_ITEMS, ModelStep, OutputFormat, Workflow};
use super::expr;
use crate::knowledge::{SearchQuery, search};
use crate::memory::calls::Caller;
use crate::orchestration::agent::{self, AgentTask, Limits};
use crate::orchestration::model::{self, ModelCall};
use crate::orchestration::{Interrupt, templates, tools};
use crate::state::AppState;
use crate::util::now_ms;

/// Metered route of workflow model calls.
pub const ROUTE: &str = "internal/workflow";

/// How a drive of the run ended (when it did not fail).
pub enum Drive {
    Finished(Value),
    /// Stopped at a review step; continued through the API.
    Waiting,
}

/// What a single step produced.
struct Produced {
    output: Value,
    tokens: i64,
}

pub struct Runner<'a> {
    pub app: &'a AppState,
    pub caller: &'a Caller,
    pub run: &'a Run,
    pub workflow: &'a Workflow,
    pub cancel: &'a CancellationToken,
}

impl Runner<'_> {
    /// Runs (or resumes) the workflow up to its end or its next review.
    pub async fn drive(&self) -> Result<Drive, Interrupt> {
        let stored: HashMap<String, RunStep> = self
            .app
            .store
            .list_steps(&self.run.id)
            .await
            .map_err(|e| Interrupt::Failed(format!("the store failed: {e}")))?
            .into_iter()
            .map(|s| (s.key.clone(), s))
            .collect();
        let mut context = json!({
            "inputs": self.run.input.get("inputs").cloned().unwrap_or(json!({})),
            "steps": {},
        });
        for step in &self.workflow.steps {
            if self.cancel.is_cancelled() {
                return Err(Interrupt::Cancelled);
            }
            if let Some(done) = stored.get(&step.id).filter(|s| s.status.is_done()) {
                context["steps"][&step.id] = done.output.clone().unwrap_or(Value::Null);
                continue;
            }
            let run_it = match &step.when {
                Some(when) => expr::eval(when, &context)
                    .map(|v| expr::truthy(&v))
                    .map_err(|e| Interrupt::Failed(format!("step '{}': when: {e}", step.id)))?,
                None => true,
            };
            if let Action::Review(review) = &step.action {
                let value = expr::eval(&review.value, &context)
                    .map_err(|e| Interrupt::Failed(format!("step '{}': {e}", step.id)))?;
                if run_it {
                    // Shown to the user; their approval (maybe edited) becomes the output.
                    self.put(
                        &step.id,
                        "review",
                        StepStatus::Running,
                        Some(json!({"message": review.message})),
                        Some(value),
                        None,
                        0,
                        0,
                    )
                    .await?;
                    return Ok(Drive::Waiting);
                }
                // Not asked for: approved as it is.
                self.put(
                    &step.id,
                    "review",
                    StepStatus::Skipped,
                    None,
                    Some(value.clone()),
                    None,
                    0,
                    0,
                )
                .await?;
                context["steps"][&step.id] = value;
                continue;
            }
            if !run_it {
                self.put(
                    &step.id,
                    step.action.kind(),
                    StepStatus::Skipped,
                    None,
                    None,
                    None,
                    0,
                    0,
                )
                .await?;
                context["steps"][&step.id] = Value::Null;
                continue;
            }
            let output = match &step.action {
                Action::Map(map) => self.map(&step.id, map, &context, &stored).await?,
                action => self.step(&step.id, action, &context).await?,
            };
            context["steps"][&step.id] = output;
        }
        let output = match &self.workflow.output {
            Some(expression) => expr::eval(expression, &context)
                .map_err(|e| Interrupt::Failed(format!("output: {e}")))?,
            None => self
                .workflow
                .steps
                .last()
                .map(|s| context["steps"][&s.id].clone())
                .unwrap_or(Value::Null),
        };
        Ok(Drive::Finished(output))
    }

    /// Runs one step (or one map item) and stores its outcome.
    async fn step(&self, key: &str, action: &Action, context: &Value) -> Result<Value, Interrupt> {
        let started = Instant::now();
        let started_at = now_ms();
        self.put_at(
            key,
            action.kind(),
            StepStatus::Running,
            None,
            None,
            None,
            0,
            started_at,
            None,
        )
        .await?;
        let outcome = tokio::select! {
            outcome = self.act(key, action, context) => outcome,
            () = self.cancel.cancelled() => return Err(Interrupt::Cancelled),
        };
        let elapsed = started.elapsed().as_millis() as i64;
        match outcome {
            Ok((input, produced)) => {
                self.put_at(
                    key,
                    action.kind(),
                    StepStatus::Succeeded,
                    input,
                    Some(produced.output.clone()),
                    None,
                    produced.tokens,
                    started_at,
                    Some(elapsed),
                )
                .await?;
                Ok(produced.output)
            }
            Err(message) => {
                self.put_at(
                    key,
                    action.kind(),
                    StepStatus::Failed,
                    None,
                    None,
                    Some(message.clone()),
                    0,
                    started_at,
                    Some(elapsed),
                )
                .await?;
                Err(Interrupt::Failed(format!("step '{key}' failed: {message}")))
            }
        }
    }

    async fn map(
        &self,
        id: &str,
        map: &super::definition::MapStep,
        context: &Value,
        stored: &HashMap<String, RunStep>,
    ) -> Result<Value, Interrupt> {
        let started = Instant::now();
        let started_at = now_ms();
        let items = match expr::eval(&map.over, context) {
            Ok(Value::Array(items)) if items.len() > MAX_MAP_ITEMS => {
                let message = format!(
                    "{} items is more than the {MAX_MAP_ITEMS} a map takes",
                    items.len()
                );
                return Err(self.map_failed(id, message).await);
            }
            Ok(Value::Array(items)) => items,
            Ok(Value::Null) => Vec::new(),
            Ok(other) => {
                let message = format!("'over' gave {}, not a list", kind_of(&other));
                return Err(self.map_failed(id, message).await);
            }
            Err(e) => return Err(self.map_failed(id, e).await),
        };
        self.put_at(
            id,
            "map",
            StepStatus::Running,
            Some(json!({"items": items.len()})),
            None,
            None,
            0,
            started_at,
            None,
        )
        .await?;
        let mut jobs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let key = format!("{id}[{index}]");
            let mut item_context = context.clone();
            item_context[map.item.as_str()] = item.clone();
            item_context["index"] = json!(index);
            let reused = stored
                .get(&key)
                .filter(|s| s.status.is_done())
                .map(|done| done.output.clone().unwrap_or(Value::Null));
            jobs.push(async move {
                match reused {
                    Some(output) => (index, Ok(output)),
                    None => (index, self.step(&key, &map.step, &item_context).await),
                }
            });
        }
        let mut results: Vec<(usize, Result<Value, Interrupt>)> = futures::stream::iter(jobs)
            .buffer_unordered(map.concurrency)
            .collect()
            .await;
        results.sort_by_key(|(index, _)| *index);
        let mut outputs = Vec::with_capacity(results.len());
        for (_, result) in results {
            match result {
                Ok(output) => outputs.push(output),
                Err(Interrupt::Cancelled) => return Err(Interrupt::Cancelled),
                Err(Interrupt::Failed(message)) => {
                    self.put_at(
                        id,
                        "map",
                        StepStatus::Failed,
                        None,
                        None,
                        Some(message.clone()),
                        0,
                        started_at,
                        Some(started.elapsed().as_millis() as i64),
                    )
                    .await?;
                    return Err(Interrupt::Failed(message));
                }
            }
        }
        let output = Value::Array(outputs);
        self.put_at(
            id,
            "map",
            StepStatus::Succeeded,
            Some(json!({"items": items.len()})),
            Some(output.clone()),
            None,
            0,
            started_at,
            Some(started.elapsed().as_millis() as i64),
        )
        .await?;
        Ok(output)
    }

    /// Does what the action says; the stored input (what was sent) and what came back.
    async fn act(
        &self,
        key: &str,
        action: &Action,
        context: &Value,
    ) -> Result<(Option<Value>, Produced), String> {
        match action {
            Action::Agent(a) => {
                let task = expr::render(&a.task, context)?;
                let role = a
                    .role
                    .as_deref()
                    .map(|r| expr::render(r, context))
                    .transpose()?;
                let defaults = self.app.config.agent;
                let run_model = self.run.input.get("model").and_then(Value::as_str);
                let agent_task = AgentTask {
                    task: task.clone(),
                    model: a.model.clone().or_else(|| run_model.map(str::to_string)),
                    tools: a.tools.clone(),
                    limits: Limits {
                        max_steps: a.max_steps.unwrap_or(defaults.max_steps),
                        max_tokens: defaults.max_tokens,
                        timeout_ms: defaults.timeout.as_millis() as u64,
                        max_cost_nanos: None,
                    },
                };
                // The agent's own turns are stored as steps `key.001-model`..., with their
                // tokens; this step adds none of its own.
                let answer = agent::run_task(
                    self.app,
                    self.caller,
                    self.run,
                    key,
                    &agent_task,
                    role.as_deref(),
                    self.cancel,
                )
                .await
                .map_err(|e| match e {
                    Interrupt::Cancelled => "cancelled".to_string(),
                    Interrupt::Failed(m) => m,
                })?;
                Ok((
                    Some(json!({"task": task, "role": role})),
                    Produced {
                        output: answer["answer"].clone(),
                        tokens: 0,
                    },
                ))
            }
            Action::Model(step) => self.model(step, context).await,
            Action::Retrieve(r) => {
                let query = expr::render(&r.query, context)?;
                let collections = match &r.collections {
                    Some(e) => Some(string_list(expr::eval(e, context)?, "collections")?),
                    None => None,
                };
                if collections.as_ref().is_some_and(Vec::is_empty) {
                    return Ok((
                        Some(json!({"query": query})),
                        Produced {
                            output: json!([]),
                            tokens: 0,
                        },
                    ));
                }
                let hits = search(
                    self.app,
                    &self.caller.principal.user,
                    &SearchQuery {
                        query: query.clone(),
                        collections,
                        k: Some(r.k.unwrap_or(5)),
                        mode: None,
                        metadata: Default::default(),
                    },
                )
                .await
                .map_err(|e| format!("the search failed: {e}"))?;
                let output = hits
                    .into_iter()
                    .map(|h| json!({"document": h.document_name, "document_id": h.document_id, "section": h.heading_path.join(" > "), "text": h.text, "score": h.score}))
                    .collect();
                Ok((
                    Some(json!({"query": query})),
                    Produced {
                        output: Value::Array(output),
                        tokens: 0,
                    },
                ))
            }
            Action::Tool(t) => {
                let arguments = expr::render_value(
                    &Value::Object(t.arguments.clone().into_iter().collect()),
                    context,
                )?;
                let output = tools::invoke(self.app, self.caller, &t.tool, &arguments)
                    .await
                    .map_err(|e| e.0)?;
                Ok((
                    Some(json!({"tool": t.tool, "arguments": arguments})),
                    Produced { output, tokens: 0 },
                ))
            }
            Action::Condition(c) => Ok((
                None,
                Produced {
                    output: expr::eval(&c.expr, context)?,
                    tokens: 0,
                },
            )),
            Action::Render(r) => Ok((
                None,
                Produced {
                    output: Value::String(expr::render(&r.template, context)?),
                    tokens: 0,
                },
            )),
            Action::Originality(o) => {
                let sections = expr::eval(&o.sections, context)?;
                let collections = match &o.collections {
                    Some(e) => Some(string_list(expr::eval(e, context)?, "collections")?),
                    None => None,
                };
                let (report, tokens) = crate::writer::originality::check(
                    self.app,
                    self.caller,
                    &self.run.id,
                    &sections,
                    collections,
                )
                .await?;
                Ok((
                    None,
                    Produced {
                        output: report,
                        tokens,
                    },
                ))
            }
            Action::Map(_) | Action::Review(_) => {
                Err("a map or review cannot run as a single step".into())
            }
        }
    }

    async fn model(
        &self,
        step: &ModelStep,
        context: &Value,
    ) -> Result<(Option<Value>, Produced), String> {
        let prompt = match (&step.prompt, &step.template) {
            (Some(prompt), _) => expr::render(prompt, context)?,
            (None, Some(name)) => {
                let mut vars = Map::new();
                for (k, v) in &step.vars {
                    vars.insert(k.clone(), expr::render_value(v, context)?);
                }
                let template =
                    templates::resolve(self.app, &self.caller.principal.user.id, name, None)
                        .await
                        .map_err(|e| e.to_string())?;
                expr::render(&template.body, &Value::Object(vars))?
            }
            (None, None) => return Err("a model step needs a prompt or a template".into()),
        };
        let system = step
            .system
            .as_deref()
            .map(|s| expr::render(s, context))
            .transpose()?;
        let mut messages = Vec::new();
        if let Some(system) = &system {
            messages.push(crate::openai::chat::ChatMessage::plain(
                cairn_types::Role::System,
                system,
            ));
        }
        messages.push(crate::openai::chat::ChatMessage::plain(
            cairn_types::Role::User,
            &prompt,
        ));
        let model_name = step.model.clone().or_else(|| {
            self.run
                .input
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let schema = match step.output {
            OutputFormat::Json => Some(
                step.schema
                    .clone()
                    .unwrap_or_else(|| json!({"type": "object"})),
            ),
            _ => None,
        };
        let answer = model::complete(
            self.app,
            self.caller,
            ROUTE,
            ModelCall {
                model: model_name,
                messages,
                max_tokens: step.max_tokens.unwrap_or(512),
                temperature: step.temperature.unwrap_or(0.3),
                schema,
                tools: None,
            },
        )
        .await
        .map_err(|e| format!("the model call failed: {e}"))?;
        let output = match step.output {
            OutputFormat::Text => Value::String(answer.text.clone()),
            OutputFormat::Json => {
                let value = model::parse_json(&answer.text)?;
                if let Some(schema) = &step.schema {
                    tools::args::validate(schema, &value).map_err(|e| {
                        format!(
                            "the model's JSON does not match the schema: {}",
                            e.replacen("arguments", "answer", 1)
                        )
                    })?;
                }
                value
            }
            OutputFormat::Lines => Value::Array(
                model::parse_lines(&answer.text)
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ),
        };
        Ok((
            Some(json!({"model": answer.model, "system": system, "prompt": prompt})),
            Produced {
                output,
                tokens: answer.tokens,
            },
        ))
    }

    /// Stores a map that could not start (its list is unusable) and says why.
    async fn map_failed(&self, id: &str, message: String) -> Interrupt {
        let stored = self
            .put(
                id,
                "map",
                StepStatus::Failed,
                None,
                None,
                Some(message.clone()),
                0,
                0,
            )
            .await;
        match stored {
            Ok(()) => Interrupt::Failed(format!("step '{id}' failed: {message}")),
            Err(interrupt) => interrupt,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn put(
        &self,
        key: &str,
        kind: &str,
        status: StepStatus,
        input: Option<Value>,
        output: Option<Value>,
        error: Option<String>,
        tokens: i64,
        elapsed_ms: i64,
    ) -> Result<(), Interrupt> {
        let now = now_ms();
        self.put_at(
            key,
            kind,
            status,
            input,
            output,
            error,
            tokens,
            now,
            Some(elapsed_ms),
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn put_at(
        &self,
        key: &str,
        kind: &str,
        status: StepStatus,
        input: Option<Value>,
        output: Option<Value>,
        error: Option<String>,
        tokens: i64,
        started_at: i64,
        elapsed_ms: Option<i64>,
    ) -> Result<(), Interrupt> {
        crate::orchestration::record_step(
            self.app,
            &self.run.id,
            key,
            kind,
            status,
            (input, output, error),
            tokens,
            started_at,
            elapsed_ms.unwrap_or(0),
        )
        .await
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn string_list(value: Value, what: &str) -> Result<Vec<String>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(format!("{what}: expected strings, got {}", kind_of(&other))),
            })
            .collect(),
        other => Err(format!("{what}: expected a list, got {}", kind_of(&other))),
    }
}
