//! The built-in tools that need nothing of the server's state, from `cairn-tools`:
//! calculator, current time, allow-listed HTTP fetch and the JavaScript sandbox.

use std::sync::OnceLock;

use cairn_tools::fetch::{FetchPolicy, Fetcher};
use cairn_tools::sandbox::{Sandbox, SandboxLimits};
use cairn_tools::{calculator, clock};
use serde_json::{Value, json};

use super::{ToolFailure, ToolSpec};
use crate::config::ToolsConfig;
use crate::state::AppState;

/// Characters of a fetched page shown to the model.
const PAGE_CHARS: usize = 8_000;

/// Sandboxed runs at once: each is a process with its own memory allowance.
static SANDBOXES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

pub fn specs(config: &ToolsConfig) -> Vec<ToolSpec> {
    let mut specs = vec![
        ToolSpec {
            name: "calculator".into(),
            description: "Evaluate an arithmetic expression exactly, e.g. \"(12.5 * 4) / 3\" or \
                          \"sqrt(2) ^ 2\"."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {"expression": {"type": "string", "minLength": 1, "maxLength": 500}},
                "required": ["expression"],
                "additionalProperties": false
            }),
        },
        ToolSpec {
            name: "current_time".into(),
            description: "The current date and time, in UTC and optionally in a time zone such \
                          as \"Europe/Paris\"."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {"timezone": {"type": "string", "maxLength": 64}},
                "additionalProperties": false
            }),
        },
    ];
    if !config.fetch_allow_hosts.is_empty() {
        specs.push(ToolSpec {
            name: "http_fetch".into(),
            description: format!(
                "Read a web page (text) from an allowed site: {}.",
                config.fetch_allow_hosts.join(", ")
            ),
            parameters: json!({
                "type": "object",
                "properties": {"url": {"type": "string", "minLength": 8, "maxLength": 2000}},
                "required": ["url"],
                "additionalProperties": false
            }),
        });
    }
    if config.code_enabled {
        specs.push(ToolSpec {
            name: "run_code".into(),
            description: "Run JavaScript in a sandbox without files or network and get what it \
                          prints (console.log) and the value of its last expression."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {"code": {"type": "string", "minLength": 1, "maxLength": 20000}},
                "required": ["code"],
                "additionalProperties": false
            }),
        });
    }
    specs
}

fn fetcher(config: &ToolsConfig) -> Result<&'static Fetcher, ToolFailure> {
    static FETCHER: OnceLock<Result<Fetcher, String>> = OnceLock::new();
    FETCHER
        .get_or_init(|| {
            Fetcher::new(FetchPolicy {
                allow_hosts: config.fetch_allow_hosts.clone(),
                max_bytes: config.fetch_max_bytes as usize,
                timeout: config.fetch_timeout,
                ..FetchPolicy::default()
            })
            .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| ToolFailure(format!("http_fetch is misconfigured: {e}")))
}

pub async fn invoke(
    app: &AppState,
    name: &str,
    arguments: &Value,
) -> Option<Result<Value, ToolFailure>> {
    let config = &app.config.tools;
    Some(match name {
        "calculator" => {
            let expression = arguments["expression"].as_str().unwrap_or_default();
            calculator::evaluate(expression)
                .map(|value| json!({"expression": expression, "result": calculator::format_number(value)}))
                .map_err(|e| ToolFailure(e.to_string()))
        }
        "current_time" => clock::now(arguments["timezone"].as_str())
            .map(|reading| json!(reading))
            .map_err(|e| ToolFailure(e.to_string())),
        "http_fetch" if !config.fetch_allow_hosts.is_empty() => {
            let url = arguments["url"].as_str().unwrap_or_default();
            match fetcher(config) {
                Ok(fetcher) => fetcher
                    .fetch(url)
                    .await
                    .map(|page| {
                        let shown: String = page.text.chars().take(PAGE_CHARS).collect();
                        json!({
                            "url": page.final_url,
                            "status": page.status,
                            "content_type": page.content_type,
                            "truncated": page.truncated || shown.len() < page.text.len(),
                            "text": shown,
                        })
                    })
                    .map_err(|e| ToolFailure(e.to_string())),
                Err(e) => Err(e),
            }
        }
        "run_code" if config.code_enabled => {
            let code = arguments["code"].as_str().unwrap_or_default();
            let limits = SandboxLimits {
                wall: config.code_timeout,
                cpu: config.code_timeout,
                memory_bytes: config.code_memory_bytes,
                ..SandboxLimits::default()
            };
            let _permit = SANDBOXES
                .acquire()
                .await
                .expect("the semaphore is never closed");
            let sandbox = match &config.code_runner {
                Some(program) => Ok(Sandbox::with_program(program)),
                None => Sandbox::new(),
            };
            let output = match sandbox {
                Ok(sandbox) => sandbox.run_javascript(code, &limits).await,
                Err(e) => Err(e),
            };
            output
                .map(|out| json!({"stdout": out.stdout, "value": out.value, "truncated": out.truncated}))
                .map_err(|e| ToolFailure(e.to_string()))
        }
        _ => return None,
    })
}
