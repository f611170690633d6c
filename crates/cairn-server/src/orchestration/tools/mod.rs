//! The tools models can call: built-ins (calculator, current time, knowledge search,
//! reading an uploaded file, allow-listed HTTP fetch, the JavaScript sandbox) and the
//! operator's HTTP tools from config.
//!
//! A tool is described by a JSON Schema of its arguments ([`ToolSpec`]), offered to models as
//! an OpenAI `tools` entry, and invoked with arguments that are validated against that
//! schema first ([`args::validate`]). Failures come back as [`ToolFailure`]: a message the
//! model (and the user reading the run) can act on; they never end the process or hang a run.

pub mod args;
mod builtin;
mod documents;
mod http;

use serde::Serialize;
use serde_json::{Value, json};

use crate::memory::calls::Caller;
use crate::state::AppState;

/// A tool as offered to a model.
#[derive(Debug, Clone, Serialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// JSON Schema (type object) of the arguments.
    pub parameters: Value,
}

impl ToolSpec {
    /// The OpenAI `tools` entry.
    pub fn openai(&self) -> Value {
        json!({
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            }
        })
    }
}

/// Why a call did not produce a result, in words for the model and the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolFailure(pub String);

impl std::fmt::Display for ToolFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<T: Into<String>> From<T> for ToolFailure {
    fn from(message: T) -> ToolFailure {
        ToolFailure(message.into())
    }
}

/// Every tool this server offers, in a stable order.
pub fn specs(app: &AppState) -> Vec<ToolSpec> {
    let mut all = builtin::specs(&app.config.tools);
    all.extend(documents::specs());
    all.extend(http::specs(&app.config.tools));
    all
}

/// The specs of the named tools; an unknown name is an error naming the known ones.
pub fn select(app: &AppState, names: &[String]) -> Result<Vec<ToolSpec>, String> {
    let all = specs(app);
    names
        .iter()
        .map(|name| {
            all.iter()
                .find(|s| &s.name == name)
                .cloned()
                .ok_or_else(|| {
                    let known: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
                    format!("unknown tool '{name}' (available: {})", known.join(", "))
                })
        })
        .collect()
}

/// Validates the arguments and runs the tool for `caller`.
pub async fn invoke(
    app: &AppState,
    caller: &Caller,
    name: &str,
    arguments: &Value,
) -> Result<Value, ToolFailure> {
    let spec = specs(app)
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ToolFailure(format!("there is no tool named '{name}'")))?;
    args::validate(&spec.parameters, arguments)
        .map_err(|e| ToolFailure(format!("invalid arguments for {name}: {e}")))?;
    if let Some(result) = builtin::invoke(app, name, arguments).await {
        return result;
    }
    if let Some(result) = documents::invoke(app, caller, name, arguments).await {
        return result;
    }
    if let Some(result) = http::invoke(app, name, arguments).await {
        return result;
    }
    Err(ToolFailure(format!("there is no tool named '{name}'")))
}
