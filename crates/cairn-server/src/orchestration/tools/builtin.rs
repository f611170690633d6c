//! Placeholder until cairn-tools lands (TEMPORARY).
use serde_json::Value;

use super::{ToolFailure, ToolSpec};
use crate::config::ToolsConfig;
use crate::state::AppState;

pub fn specs(_config: &ToolsConfig) -> Vec<ToolSpec> {
    Vec::new()
}

pub async fn invoke(
    _app: &AppState,
    _name: &str,
    _arguments: &Value,
) -> Option<Result<Value, ToolFailure>> {
    None
}
