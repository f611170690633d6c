//! The agent loop: the model plans, calls tools, observes their results and answers, within
//! limits on steps, tokens, time and cost. Every model turn and every tool call is a stored
//! step of the run, visible through the API while it runs; cancelling stops it between (or
//! in the middle of) steps.
//!
//! Models served through an OpenAI-compatible upstream get the tools through the `tools`
//! API. The local models have no dependable native tool calling, so they are asked for one
//! JSON object per turn — `{"tool": ..., "arguments": {...}}` or `{"answer": ...}` — and the
//! engine's grammar holds them to exactly that shape (`response_format` json_schema).

use std::time::{Duration, Instant};

use cairn_store::{Run, RunKind, RunStatus, StepStatus};
use cairn_types::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::model::{self, ModelCall};
use super::tools::{self, ToolSpec};
use super::{Interrupt, Outcome};
use crate::auth::Principal;
use crate::config::ProviderConfig;
use crate::error::ApiError;
use crate::memory::calls::Caller;
use crate::openai::chat::ChatMessage;
use crate::state::AppState;
use crate::util::{new_id, now_ms};

pub const ROUTE: &str = "internal/agent";

/// Characters of a tool result shown to the model (the stored step keeps all of it).
const RESULT_CHARS: usize = 4_000;

/// What an agent run is asked to do, as stored in the run's input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentTask {
    pub task: String,
    pub model: Option<String>,
    pub tools: Vec<String>,
    pub limits: Limits,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Limits {
    /// Model turns.
    pub max_steps: u32,
    pub max_tokens: u64,
    pub timeout_ms: u64,
    /// Billionths of the currency unit; `None`: no cost limit.
    pub max_cost_nanos: Option<i64>,
}

/// How tools reach the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// OpenAI `tools` and `tool_calls`.
    Native,
    /// One JSON object per turn, grammar-constrained.
    Json,
}

/// Stores a new agent run and starts it.
pub async fn start(
    app: &AppState,
    principal: &Principal,
    task: AgentTask,
) -> Result<Run, ApiError> {
    if task.task.trim().is_empty() {
        return Err(ApiError::invalid("'task' must not be empty", Some("task")));
    }
    tools::select(app, &task.tools).map_err(|e| ApiError::invalid(e, Some("tools")))?;
    if let Some(model) = &task.model {
        super::check_model(app, principal, model)?;
    }
    let now = now_ms();
    let run = Run {
        id: new_id(),
        user_id: principal.user.id.clone(),
        kind: RunKind::Agent,
        name: task.task.chars().take(80).collect(),
        status: RunStatus::Running,
        input: serde_json::to_value(&task).map_err(ApiError::internal)?,
        definition: json!({ "tools": task.tools }).to_string(),
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

/// The protocol for the model a run uses: JSON for the embedded engine, native otherwise.
fn protocol_for(app: &AppState, principal: &Principal, model: Option<&str>) -> Protocol {
    let name = match model {
        Some(name) => name.to_string(),
        None => match app.tier_of(&principal.user.tier) {
            Ok(tier) => tier.default_model.clone(),
            Err(_) => return Protocol::Json,
        },
    };
    let local = app
        .config
        .models
        .get(&name)
        .and_then(|m| app.config.providers.get(&m.provider))
        .is_some_and(|p| matches!(p, ProviderConfig::Local(_)));
    if local {
        Protocol::Json
    } else {
        Protocol::Native
    }
}

struct Budget {
    started: Instant,
    limits: Limits,
    steps: u32,
    tokens: u64,
    cost_nanos: i64,
}

impl Budget {
    fn check(&self) -> Result<(), Interrupt> {
        let l = &self.limits;
        let stop = |what: String| {
            Err(Interrupt::Failed(format!(
                "stopped without an answer: {what}"
            )))
        };
        if self.steps >= l.max_steps {
            return stop(format!("the limit of {} steps was reached", l.max_steps));
        }
        if self.tokens >= l.max_tokens {
            return stop(format!("the limit of {} tokens was reached", l.max_tokens));
        }
        if self.started.elapsed() >= Duration::from_millis(l.timeout_ms) {
            return stop(format!("the time limit of {} ms was reached", l.timeout_ms));
        }
        if let Some(max) = l.max_cost_nanos
            && self.cost_nanos >= max
        {
            return stop(format!("the cost limit of {max} nano-units was reached"));
        }
        Ok(())
    }

    fn remaining(&self) -> Duration {
        Duration::from_millis(self.limits.timeout_ms).saturating_sub(self.started.elapsed())
    }
}

/// One decision of the model.
enum Decision {
    Answer(String),
    /// Tool calls: (call id, tool name, arguments or why they could not be read).
    Calls(Vec<(String, String, Result<Value, String>)>),
}

/// Runs an agent on a task: the whole of an agent run, or one step of a workflow (then its
/// turns and tool calls are stored under `prefix`, e.g. `research.001-model`, and `role`
/// is the system prompt's first paragraph).
pub async fn run_task(
    app: &AppState,
    caller: &Caller,
    run: &Run,
    prefix: &str,
    task: &AgentTask,
    role: Option<&str>,
    cancel: &CancellationToken,
) -> Result<Value, Interrupt> {
    let specs = tools::select(app, &task.tools).map_err(Interrupt::Failed)?;
    let protocol = protocol_for(app, &caller.principal, task.model.as_deref());
    let mut agent = Agent {
        app,
        caller,
        run,
        prefix: prefix.to_string(),
        role: role.map(str::to_string),
        specs,
        protocol,
        model: task.model.clone(),
        seq: 0,
        budget: Budget {
            started: Instant::now(),
            limits: task.limits,
            steps: 0,
            tokens: 0,
            cost_nanos: 0,
        },
    };
    let remaining = agent.budget.remaining();
    let work = agent.run_loop(&task.task);
    tokio::select! {
        r = work => r,
        () = cancel.cancelled() => Err(Interrupt::Cancelled),
        () = tokio::time::sleep(remaining) => Err(Interrupt::Failed(format!(
            "stopped without an answer: the time limit of {} ms was reached",
            task.limits.timeout_ms
        ))),
    }
}

pub async fn execute(
    app: &AppState,
    caller: &Caller,
    run: &Run,
    cancel: &CancellationToken,
) -> Outcome {
    let task: AgentTask = match serde_json::from_value(run.input.clone()) {
        Ok(t) => t,
        Err(e) => {
            return Outcome::Stopped(Interrupt::Failed(format!(
                "the stored task cannot be read: {e}"
            )));
        }
    };
    let result = run_task(app, caller, run, "", &task, None, cancel).await;
    match result {
        Ok(output) => Outcome::Finished(output),
        Err(interrupt) => Outcome::Stopped(interrupt),
    }
}

struct Agent<'a> {
    app: &'a AppState,
    caller: &'a Caller,
    run: &'a Run,
    /// Step keys start with this (an agent inside a workflow step).
    prefix: String,
    /// Who the agent is, for the system prompt (a writer team's researcher, say).
    role: Option<String>,
    specs: Vec<ToolSpec>,
    protocol: Protocol,
    model: Option<String>,
    seq: u32,
    budget: Budget,
}

impl Agent<'_> {
    async fn run_loop(&mut self, task: &str) -> Result<Value, Interrupt> {
        let mut messages = vec![
            ChatMessage::plain(Role::System, &self.system_prompt()),
            ChatMessage::plain(Role::User, task),
        ];
        let mut calls_made = 0u32;
        loop {
            self.budget.check()?;
            self.budget.steps += 1;
            let decision = self.think(&mut messages).await?;
            match decision {
                Decision::Answer(answer) => {
                    return Ok(json!({
                        "answer": answer,
                        "steps": self.budget.steps,
                        "tool_calls": calls_made,
                        "tokens": self.budget.tokens,
                        "cost_nanos": self.budget.cost_nanos,
                    }));
                }
                Decision::Calls(calls) => {
                    for (call_id, name, arguments) in calls {
                        calls_made += 1;
                        let observation = self.call_tool(&name, arguments).await?;
                        self.observe(&mut messages, &call_id, &name, &observation);
                    }
                }
            }
        }
    }

    fn system_prompt(&self) -> String {
        let mut prompt = self.role.clone().map(|r| r + "\n\n").unwrap_or_default();
        prompt.push_str(
            "You are a careful assistant that solves the user's task step by step. Use a tool \
             whenever it gives a more reliable result than your own knowledge: always use the \
             calculator for arithmetic. When you have the result, give the final answer.\n",
        );
        if self.protocol == Protocol::Json {
            prompt.push_str("\nTools:\n");
            for spec in &self.specs {
                prompt.push_str(&format!(
                    "- {}: {} Arguments: {}\n",
                    spec.name, spec.description, spec.parameters["properties"]
                ));
            }
            prompt.push_str(
                "\nReply with exactly one JSON object and nothing else.\n\
                 To call a tool: {\"tool\": \"<tool name>\", \"arguments\": {...}}\n\
                 To give the final answer: {\"answer\": \"<the answer>\"}\n\
                 Example: the user asks \"What is 21 * 2?\" You reply \
                 {\"tool\": \"calculator\", \"arguments\": {\"expression\": \"21 * 2\"}}. \
                 The tool returns 42. You reply {\"answer\": \"21 * 2 = 42\"}.\n",
            );
        }
        prompt
    }

    /// The JSON protocol's schema: one of the tools with its arguments, or an answer.
    fn decision_schema(&self) -> Value {
        let mut options: Vec<Value> = self
            .specs
            .iter()
            .map(|s| {
                json!({
                    "type": "object",
                    "properties": {
                        "tool": {"type": "string", "enum": [s.name]},
                        "arguments": s.parameters,
                    },
                    "required": ["tool", "arguments"],
                    "additionalProperties": false
                })
            })
            .collect();
        options.push(json!({
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
            "additionalProperties": false
        }));
        json!({ "anyOf": options })
    }

    async fn think(&mut self, messages: &mut Vec<ChatMessage>) -> Result<Decision, Interrupt> {
        let key = self.next_key("model");
        let started = Instant::now();
        let started_at = now_ms();
        self.put(
            &key,
            "model",
            StepStatus::Running,
            None,
            None,
            None,
            0,
            started_at,
            0,
        )
        .await?;
        let call = ModelCall {
            model: self.model.clone(),
            messages: messages.clone(),
            max_tokens: 400,
            temperature: 0.0,
            schema: (self.protocol == Protocol::Json).then(|| self.decision_schema()),
            tools: (self.protocol == Protocol::Native)
                .then(|| self.specs.iter().map(ToolSpec::openai).collect()),
        };
        let answer = match model::complete(self.app, self.caller, ROUTE, call).await {
            Ok(a) => a,
            Err(e) => {
                let message = format!("the model call failed: {e}");
                let elapsed = started.elapsed().as_millis() as i64;
                self.put(
                    &key,
                    "model",
                    StepStatus::Failed,
                    None,
                    None,
                    Some(message.clone()),
                    0,
                    started_at,
                    elapsed,
                )
                .await?;
                return Err(Interrupt::Failed(message));
            }
        };
        self.budget.tokens += answer.tokens.max(0) as u64;
        self.budget.cost_nanos += answer.cost_nanos;
        let decision = match self.protocol {
            Protocol::Json => {
                messages.push(ChatMessage::plain(Role::Assistant, &answer.text));
                read_json_decision(&answer.text)
            }
            Protocol::Native if !answer.tool_calls.is_empty() => {
                let mut message = ChatMessage::plain(Role::Assistant, &answer.text);
                message.content =
                    (!answer.text.is_empty()).then(|| Value::String(answer.text.clone()));
                message.tool_calls = Some(answer.tool_calls.clone());
                messages.push(message);
                Decision::Calls(
                    answer
                        .tool_calls
                        .iter()
                        .map(|c| {
                            let id = c["id"].as_str().unwrap_or_default().to_string();
                            let name = c["function"]["name"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string();
                            let arguments = c["function"]["arguments"].as_str().unwrap_or("{}");
                            let parsed = serde_json::from_str(arguments)
                                .map_err(|e| format!("the arguments are not JSON: {e}"));
                            (id, name, parsed)
                        })
                        .collect(),
                )
            }
            Protocol::Native => {
                messages.push(ChatMessage::plain(Role::Assistant, &answer.text));
                Decision::Answer(answer.text.clone())
            }
        };
        let output = match &decision {
            Decision::Answer(a) => json!({"answer": a}),
            Decision::Calls(calls) => {
                json!({"tool_calls": calls.iter().map(|(_, name, args)| json!({
                "tool": name,
                "arguments": args.as_ref().ok(),
            })).collect::<Vec<_>>()})
            }
        };
        let elapsed = started.elapsed().as_millis() as i64;
        self.put(
            &key,
            "model",
            StepStatus::Succeeded,
            Some(json!({"model": answer.model})),
            Some(output),
            None,
            answer.tokens,
            started_at,
            elapsed,
        )
        .await?;
        Ok(decision)
    }

    /// Runs one tool call; its failure is an observation for the model, not the run's end.
    async fn call_tool(
        &mut self,
        name: &str,
        arguments: Result<Value, String>,
    ) -> Result<Result<Value, String>, Interrupt> {
        let key = self.next_key("tool");
        let started = Instant::now();
        let started_at = now_ms();
        let input = json!({"tool": name, "arguments": arguments.as_ref().ok()});
        self.put(
            &key,
            "tool",
            StepStatus::Running,
            Some(input.clone()),
            None,
            None,
            0,
            started_at,
            0,
        )
        .await?;
        let result = match arguments {
            Ok(arguments) => tools::invoke(self.app, self.caller, name, &arguments)
                .await
                .map_err(|e| e.0),
            Err(e) => Err(e),
        };
        let elapsed = started.elapsed().as_millis() as i64;
        let (status, output, error) = match &result {
            Ok(v) => (StepStatus::Succeeded, Some(v.clone()), None),
            Err(e) => (StepStatus::Failed, None, Some(e.clone())),
        };
        self.put(
            &key,
            "tool",
            status,
            Some(input),
            output,
            error,
            0,
            started_at,
            elapsed,
        )
        .await?;
        Ok(result)
    }

    fn observe(
        &self,
        messages: &mut Vec<ChatMessage>,
        call_id: &str,
        name: &str,
        observation: &Result<Value, String>,
    ) {
        let text = match observation {
            Ok(v) => {
                let s = v.to_string();
                if s.chars().count() > RESULT_CHARS {
                    format!(
                        "{}… (cut)",
                        s.chars().take(RESULT_CHARS).collect::<String>()
                    )
                } else {
                    s
                }
            }
            Err(e) => format!("error: {e}"),
        };
        match self.protocol {
            Protocol::Native => {
                let mut message = ChatMessage::plain(Role::Tool, &text);
                message.tool_call_id = Some(call_id.to_string());
                messages.push(message);
            }
            Protocol::Json => messages.push(ChatMessage::plain(
                Role::User,
                &format!("The {name} tool returned: {text}\nReply with the next JSON object."),
            )),
        }
    }

    fn next_key(&mut self, kind: &str) -> String {
        self.seq += 1;
        if self.prefix.is_empty() {
            format!("{:03}-{kind}", self.seq)
        } else {
            format!("{}.{:03}-{kind}", self.prefix, self.seq)
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
        started_at: i64,
        elapsed_ms: i64,
    ) -> Result<(), Interrupt> {
        super::record_step(
            self.app,
            &self.run.id,
            key,
            kind,
            status,
            (input, output, error),
            tokens,
            started_at,
            elapsed_ms,
        )
        .await
    }
}

/// Reads a JSON-protocol reply. Anything unreadable becomes a tool call that fails with an
/// explanation, so the model sees what went wrong and can correct itself next turn.
fn read_json_decision(text: &str) -> Decision {
    let value = match model::parse_json(text) {
        Ok(v) => v,
        Err(e) => return Decision::Calls(vec![(String::new(), "(none)".into(), Err(e))]),
    };
    if let Some(answer) = value.get("answer") {
        return Decision::Answer(match answer {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    match value.get("tool").and_then(Value::as_str) {
        Some(name) => {
            let arguments = value
                .get("arguments")
                .cloned()
                .unwrap_or(Value::Object(Map::new()));
            Decision::Calls(vec![(String::new(), name.to_string(), Ok(arguments))])
        }
        None => Decision::Calls(vec![(
            String::new(),
            "(none)".into(),
            Err("reply with {\"tool\": ..., \"arguments\": ...} or {\"answer\": ...}".into()),
        )]),
    }
}
