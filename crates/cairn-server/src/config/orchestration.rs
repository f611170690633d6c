//! `[tools]` and `[agent]`: what the built-in tools may do, operator-defined HTTP tools, and
//! the agent loop's default limits.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::resolve_secret;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTools {
    /// Hosts `http_fetch` may read: "example.com", "*.example.com", or "*" (any public
    /// host). Empty: not offered.
    pub fetch_allow_hosts: Vec<String>,
    pub fetch_max_bytes: u64,
    pub fetch_timeout_ms: u64,
    /// The code runner: wall-clock time and memory per run; `code_enabled = false` hides it.
    pub code_enabled: bool,
    pub code_timeout_ms: u64,
    pub code_memory_mb: u64,
    /// The executable that runs sandboxed code (it must be a `cairn` binary); empty: the
    /// running one. Tests that host the server inside a test binary point it at `cairn`.
    #[serde(default)]
    pub code_runner: String,
    /// Operator-defined tools that call an HTTP endpoint with the model's arguments.
    #[serde(default)]
    pub http: Vec<RawHttpTool>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttpTool {
    pub name: String,
    pub description: String,
    pub url: String,
    #[serde(default = "default_method")]
    pub method: String,
    /// JSON Schema of the arguments (an object schema).
    pub parameters: Value,
    /// Header values are secret references (`env:NAME`, `file:PATH`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default = "default_http_timeout")]
    pub timeout_ms: u64,
}

fn default_method() -> String {
    "POST".into()
}

fn default_http_timeout() -> u64 {
    10_000
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgent {
    pub max_steps: u32,
    pub max_tokens: u64,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone)]
pub struct ToolsConfig {
    pub fetch_allow_hosts: Vec<String>,
    pub fetch_max_bytes: u64,
    pub fetch_timeout: Duration,
    pub code_enabled: bool,
    pub code_timeout: Duration,
    pub code_memory_bytes: u64,
    /// `None`: the running executable.
    pub code_runner: Option<std::path::PathBuf>,
    pub http: Vec<HttpToolConfig>,
}

/// An operator's HTTP tool; its endpoint is trusted configuration, so it is not held to the
/// fetch tool's public-address rule.
#[derive(Debug, Clone)]
pub struct HttpToolConfig {
    pub name: String,
    pub description: String,
    pub url: String,
    pub method: reqwest::Method,
    pub parameters: Value,
    /// Resolved header values.
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct AgentConfig {
    pub max_steps: u32,
    pub max_tokens: u64,
    pub timeout: Duration,
}

/// Names the built-in tools take; an HTTP tool cannot shadow them.
pub const BUILT_IN_TOOLS: [&str; 6] = [
    "calculator",
    "current_time",
    "knowledge_search",
    "read_file",
    "http_fetch",
    "run_code",
];

pub fn tools(raw: &RawTools, problems: &mut Vec<String>) -> ToolsConfig {
    for host in &raw.fetch_allow_hosts {
        let bare = host.strip_prefix("*.").unwrap_or(host);
        if host != "*" && (bare.is_empty() || bare.contains(['/', ':', '*', ' '])) {
            problems.push(format!(
                "tools.fetch_allow_hosts: {host:?} must be a host name, optionally starting with \"*.\""
            ));
        }
    }
    if raw.fetch_max_bytes == 0 || raw.fetch_timeout_ms == 0 {
        problems.push("tools.fetch_max_bytes and fetch_timeout_ms must be at least 1".into());
    }
    if raw.code_timeout_ms == 0 || raw.code_memory_mb < 8 {
        problems.push("tools.code_timeout_ms must be at least 1, code_memory_mb at least 8".into());
    }
    let mut http = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, t) in raw.http.iter().enumerate() {
        let at = format!("tools.http[{i}]");
        let valid_name = !t.name.is_empty()
            && t.name.len() <= 64
            && t.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_name {
            problems.push(format!(
                "{at}.name: letters, digits, '_' and '-', at most 64"
            ));
        }
        if BUILT_IN_TOOLS.contains(&t.name.as_str()) || !seen.insert(t.name.clone()) {
            problems.push(format!("{at}.name: {:?} is already taken", t.name));
        }
        if !(t.url.starts_with("http://") || t.url.starts_with("https://")) {
            problems.push(format!("{at}.url: must be an http(s) URL"));
        }
        let method = match reqwest::Method::from_bytes(t.method.to_ascii_uppercase().as_bytes()) {
            Ok(m) if m == reqwest::Method::GET || m == reqwest::Method::POST => m,
            _ => {
                problems.push(format!("{at}.method: GET or POST"));
                reqwest::Method::POST
            }
        };
        if t.parameters.get("type").and_then(Value::as_str) != Some("object") {
            problems.push(format!(
                "{at}.parameters: a JSON Schema with type = \"object\""
            ));
        }
        let mut headers = Vec::new();
        for (name, reference) in &t.headers {
            match resolve_secret(reference) {
                Ok(value) => headers.push((name.clone(), value)),
                Err(e) => problems.push(format!("{at}.headers.{name}: {e:#}")),
            }
        }
        http.push(HttpToolConfig {
            name: t.name.clone(),
            description: t.description.clone(),
            url: t.url.clone(),
            method,
            parameters: t.parameters.clone(),
            headers,
            timeout: Duration::from_millis(t.timeout_ms.max(1)),
        });
    }
    ToolsConfig {
        fetch_allow_hosts: raw.fetch_allow_hosts.clone(),
        fetch_max_bytes: raw.fetch_max_bytes,
        fetch_timeout: Duration::from_millis(raw.fetch_timeout_ms),
        code_enabled: raw.code_enabled,
        code_timeout: Duration::from_millis(raw.code_timeout_ms),
        code_memory_bytes: raw.code_memory_mb * 1024 * 1024,
        code_runner: (!raw.code_runner.is_empty()).then(|| raw.code_runner.clone().into()),
        http,
    }
}

pub fn agent(raw: &RawAgent, problems: &mut Vec<String>) -> AgentConfig {
    if !(1..=50).contains(&raw.max_steps) {
        problems.push("agent.max_steps must be between 1 and 50".into());
    }
    if raw.max_tokens == 0 || raw.timeout_ms == 0 {
        problems.push("agent.max_tokens and timeout_ms must be at least 1".into());
    }
    AgentConfig {
        max_steps: raw.max_steps,
        max_tokens: raw.max_tokens,
        timeout: Duration::from_millis(raw.timeout_ms),
    }
}
