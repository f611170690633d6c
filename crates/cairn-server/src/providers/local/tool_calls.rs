//! Tool calls in the text of models that write them as `<tool_call>{...}</tool_call>` (the
//! Qwen and Hermes convention their chat templates teach).

use serde_json::{Value, json};

/// Splits an answer into its text and the tool calls it contains. A block whose JSON does not
/// parse, or lacks a name, stays in the text: better shown than silently dropped.
pub fn extract(answer: &str) -> (String, Vec<Value>) {
    let mut text = String::new();
    let mut calls = Vec::new();
    let mut rest = answer;
    while let Some(start) = rest.find("<tool_call>") {
        let after = &rest[start + "<tool_call>".len()..];
        let Some(end) = after.find("</tool_call>") else {
            break;
        };
        let body = after[..end].trim();
        match serde_json::from_str::<Value>(body) {
            Ok(call) if call.get("name").and_then(Value::as_str).is_some() => {
                text.push_str(&rest[..start]);
                let arguments = call.get("arguments").cloned().unwrap_or(json!({}));
                let arguments = match arguments {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                calls.push(json!({
                    "id": format!("call_{}", crate::util::new_id()),
                    "type": "function",
                    "function": { "name": call["name"], "arguments": arguments },
                }));
            }
            _ => text.push_str(&rest[..start + "<tool_call>".len() + end + "</tool_call>".len()]),
        }
        rest = &after[end + "</tool_call>".len()..];
    }
    text.push_str(rest);
    (text.trim().to_string(), calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_lifted_out_of_the_text() {
        let (text, calls) = extract(
            "Let me compute.\n<tool_call>\n{\"name\": \"calculator\", \"arguments\": {\"expression\": \"6*7\"}}\n</tool_call>",
        );
        assert_eq!(text, "Let me compute.");
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0]["function"]["name"], "calculator");
        assert_eq!(
            calls[0]["function"]["arguments"],
            "{\"expression\":\"6*7\"}"
        );
        let (text, calls) = extract("<tool_call>not json</tool_call> ok");
        assert_eq!(
            (text.as_str(), calls.len()),
            ("<tool_call>not json</tool_call> ok", 0)
        );
        assert_eq!(extract("plain").0, "plain");
    }
}
