//! What the store keeps for orchestration: users' prompt templates, and runs (agent runs,
//! workflow runs, articles) with their steps.
//!
//! Every read a user can reach is scoped by their user id. [`OrchestrationStore::unfinished_runs`]
//! is the one unscoped read: the server resumes every user's interrupted runs at start.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Page, Result};

/// One version of a user's prompt template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptTemplate {
    pub id: String,
    #[serde(skip)]
    pub user_id: String,
    pub name: String,
    pub version: i64,
    pub description: String,
    pub body: String,
    pub created_at: i64,
}

/// A template to save; the store gives it the next version of its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTemplate {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub description: String,
    pub body: String,
    pub created_at: i64,
}

/// What a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Agent,
    Workflow,
    Article,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Agent => "agent",
            RunKind::Workflow => "workflow",
            RunKind::Article => "article",
        }
    }

    pub fn parse(s: &str) -> Option<RunKind> {
        Some(match s {
            "agent" => RunKind::Agent,
            "workflow" => RunKind::Workflow,
            "article" => RunKind::Article,
            _ => return None,
        })
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// Paused for the user (an outline to review); continued through the API.
    Waiting,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Waiting => "waiting",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "running" => RunStatus::Running,
            "waiting" => RunStatus::Waiting,
            "succeeded" => RunStatus::Succeeded,
            "failed" => RunStatus::Failed,
            "cancelled" => RunStatus::Cancelled,
            _ => return None,
        })
    }

    /// No more work will happen on its own.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    #[serde(skip)]
    pub user_id: String,
    pub kind: RunKind,
    pub name: String,
    pub status: RunStatus,
    pub input: serde_json::Value,
    /// The definition the run follows (workflow source, agent settings).
    pub definition: String,
    pub output: Option<serde_json::Value>,
    pub error: Option<String>,
    pub tokens: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

/// A run's new state: status, and output / error / tokens when they are known.
#[derive(Debug, Clone, PartialEq)]
pub struct RunUpdate {
    pub status: RunStatus,
    pub output: Option<serde_json::Value>,
    pub error: Option<String>,
    pub tokens: i64,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Running,
    Succeeded,
    Failed,
    Skipped,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Running => "running",
            StepStatus::Succeeded => "succeeded",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<StepStatus> {
        Some(match s {
            "running" => StepStatus::Running,
            "succeeded" => StepStatus::Succeeded,
            "failed" => StepStatus::Failed,
            "skipped" => StepStatus::Skipped,
            _ => return None,
        })
    }

    /// The step's outcome is known and will be reused when the run resumes.
    pub fn is_done(self) -> bool {
        matches!(self, StepStatus::Succeeded | StepStatus::Skipped)
    }
}

/// One step of a run: a model call, a tool call, a retrieval, one item of a map...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStep {
    #[serde(skip)]
    pub run_id: String,
    /// Unique within the run: a workflow step's id, `id[3]` for a map item, the agent's
    /// step number.
    pub key: String,
    /// Order of first start within the run.
    pub seq: i64,
    pub kind: String,
    pub status: StepStatus,
    pub input: Option<serde_json::Value>,
    pub output: Option<serde_json::Value>,
    pub error: Option<String>,
    pub tokens: i64,
    pub elapsed_ms: i64,
    pub attempts: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

#[async_trait]
pub trait OrchestrationStore: Send + Sync {
    /// Saves a template as the next version of its name for this user; returns the version.
    async fn save_template(&self, template: &NewTemplate) -> Result<PromptTemplate>;
    /// The latest version of each of the user's templates, by name.
    async fn list_templates(&self, user_id: &str) -> Result<Vec<PromptTemplate>>;
    /// One version (the latest when `version` is `None`).
    async fn get_template(
        &self,
        user_id: &str,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<PromptTemplate>>;
    /// Every version of a template, newest first.
    async fn template_versions(&self, user_id: &str, name: &str) -> Result<Vec<PromptTemplate>>;
    /// Returns false when the user has no template of that name.
    async fn delete_template(&self, user_id: &str, name: &str) -> Result<bool>;

    async fn create_run(&self, run: &Run) -> Result<()>;
    async fn get_run(&self, user_id: &str, id: &str) -> Result<Option<Run>>;
    /// A user's runs of one kind, most recently updated first.
    async fn list_runs(&self, user_id: &str, kind: RunKind, page: Page) -> Result<Vec<Run>>;
    /// Moves a run to a new state. A run already in a final state is left alone (a late
    /// worker cannot undo a cancel); returns whether it changed.
    async fn update_run(&self, id: &str, update: &RunUpdate) -> Result<bool>;
    /// Puts a run back to `running` (to run some of its steps again), whatever its state;
    /// false when it is not the user's.
    async fn reopen_run(&self, user_id: &str, id: &str, at_ms: i64) -> Result<bool>;
    /// Changes a run's input (an edited article outline); only while it is not final.
    async fn set_run_input(&self, id: &str, input: &serde_json::Value, at_ms: i64) -> Result<bool>;
    /// Replaces the output of a user's succeeded run (an article the user edited); false
    /// when it is not theirs or not `succeeded` (running again, failed...).
    async fn set_run_output(
        &self,
        user_id: &str,
        id: &str,
        output: &serde_json::Value,
        at_ms: i64,
    ) -> Result<bool>;
    /// Returns false when it was not the user's.
    async fn delete_run(&self, user_id: &str, id: &str) -> Result<bool>;
    /// Runs of every user left `running` (by a crash or a restart), oldest first.
    async fn unfinished_runs(&self) -> Result<Vec<Run>>;

    /// Inserts or replaces a step (by run id and key). A replaced step keeps its `seq` and
    /// counts one more attempt when it is started again.
    async fn put_step(&self, step: &RunStep) -> Result<()>;
    /// A run's steps in the order they first started.
    async fn list_steps(&self, run_id: &str) -> Result<Vec<RunStep>>;
    /// Forgets steps so that they run again: those whose key is in `keys` or starts with
    /// one of them followed by `[` (a map's items) or `.` (an agent step's turns). Returns
    /// how many were removed.
    async fn delete_steps(&self, run_id: &str, keys: &[String]) -> Result<u64>;
}
