//! The operator's HTTP tools (`[[tools.http]]`): the model's arguments are sent as a JSON
//! body (POST) or query parameters (GET); the answer comes back as JSON, or as text.

use std::sync::LazyLock;

use serde_json::{Value, json};

use super::{ToolFailure, ToolSpec};
use crate::config::ToolsConfig;
use crate::state::AppState;

/// Bytes of an answer kept; the rest is cut (and said so).
const MAX_ANSWER_BYTES: usize = 256 * 1024;

static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds")
});

pub fn specs(config: &ToolsConfig) -> Vec<ToolSpec> {
    config
        .http
        .iter()
        .map(|t| ToolSpec {
            name: t.name.clone(),
            description: t.description.clone(),
            parameters: t.parameters.clone(),
        })
        .collect()
}

pub async fn invoke(
    app: &AppState,
    name: &str,
    arguments: &Value,
) -> Option<Result<Value, ToolFailure>> {
    let tool = app.config.tools.http.iter().find(|t| t.name == name)?;
    let mut request = CLIENT
        .request(tool.method.clone(), &tool.url)
        .timeout(tool.timeout);
    for (header, value) in &tool.headers {
        request = request.header(header, value);
    }
    request = if tool.method == reqwest::Method::GET {
        let pairs: Vec<(String, String)> = arguments
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect();
        request.query(&pairs)
    } else {
        request.json(arguments)
    };
    Some(call(request, name).await)
}

async fn call(request: reqwest::RequestBuilder, name: &str) -> Result<Value, ToolFailure> {
    let mut response = request.send().await.map_err(|e| {
        ToolFailure(if e.is_timeout() {
            format!("{name} did not answer in time")
        } else {
            format!("{name} could not be reached")
        })
    })?;
    let status = response.status();
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| ToolFailure(format!("{name} broke off its answer")))?
    {
        let room = MAX_ANSWER_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            truncated = true;
            break;
        }
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    if !status.is_success() {
        let preview: String = text.chars().take(300).collect();
        return Err(ToolFailure(format!("{name} answered {status}: {preview}")));
    }
    let result = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(if truncated {
        json!({"result": result, "truncated": true})
    } else {
        result
    })
}
