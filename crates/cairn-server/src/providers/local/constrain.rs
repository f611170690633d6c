//! OpenAI's `response_format` and forcing `tool_choice`, as grammars for the local engine:
//! the model can then only write what was asked for.

use cairn_engine::{EngineError, Grammar, Wrapped};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::openai::chat::ChatRequest;

/// A grammar for the answer and the request field it came from (named in errors).
pub struct Constraint {
    pub grammar: Grammar,
    pub param: &'static str,
}

/// The grammar a request asks for, if any. A forced tool call wins over `response_format`:
/// the answer is then the call, not content.
pub fn constraint(request: &ChatRequest) -> Result<Option<Constraint>, ApiError> {
    if let Some(grammar) = tool_choice(request)? {
        return Ok(Some(Constraint {
            grammar,
            param: "tool_choice",
        }));
    }
    Ok(
        response_format(request.response_format.as_ref())?.map(|grammar| Constraint {
            grammar,
            param: "response_format",
        }),
    )
}

/// `{"type": "text"}`: none; `{"type": "json_object"}`: any JSON object;
/// `{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}`: the schema's
/// values (always strictly: the grammar cannot be loose).
fn response_format(format: Option<&Value>) -> Result<Option<Grammar>, ApiError> {
    let invalid = |message: String| ApiError::invalid(message, Some("response_format"));
    let format = match format {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(format)) => format,
        Some(_) => return Err(invalid("'response_format' must be an object".into())),
    };
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(Grammar::json_object())),
        Some("json_schema") => {
            let spec = format
                .get("json_schema")
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    invalid(
                        "'response_format.json_schema' is required for type 'json_schema'".into(),
                    )
                })?;
            let name = spec.get("name").and_then(Value::as_str).unwrap_or_default();
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(invalid(
                    "'response_format.json_schema.name' must be 1 to 64 letters, digits, '_' or '-'"
                        .into(),
                ));
            }
            match spec.get("schema") {
                None => Ok(Some(Grammar::json_object())),
                Some(schema) => Grammar::json_schema(schema).map(Some).map_err(|e| {
                    invalid(format!(
                        "'response_format.json_schema.schema': {}",
                        grammar_reason(e)
                    ))
                }),
            }
        }
        _ => Err(invalid(
            "'response_format.type' must be 'text', 'json_object' or 'json_schema'".into(),
        )),
    }
}

/// `"required"` or `{"type": "function", "function": {"name"}}`: a grammar for one tool call
/// in the `<tool_call>` format the Qwen and Hermes templates teach (and tool_calls.rs lifts),
/// its arguments matching the function's parameters. `"auto"`, `"none"` or nothing: none.
fn tool_choice(request: &ChatRequest) -> Result<Option<Grammar>, ApiError> {
    let invalid = |message: String| ApiError::invalid(message, Some("tool_choice"));
    let tools = request.tools.as_deref().unwrap_or_default();
    let wanted = match &request.tool_choice {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(mode)) if mode == "auto" || mode == "none" => return Ok(None),
        Some(Value::String(mode)) if mode == "required" => None,
        Some(Value::Object(choice))
            if choice.get("type").and_then(Value::as_str) == Some("function") =>
        {
            let name = choice
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("'tool_choice.function.name' is required".into()))?;
            Some(name)
        }
        Some(_) => {
            return Err(invalid(
                "'tool_choice' must be 'none', 'auto', 'required' or \
                 {\"type\": \"function\", \"function\": {\"name\": ...}}"
                    .into(),
            ));
        }
    };
    let empty = json!({ "type": "object", "properties": {}, "additionalProperties": false });
    let mut calls = Vec::new();
    for (i, tool) in tools.iter().enumerate() {
        let Some(function) = tool.get("function") else {
            continue;
        };
        let Some(name) = function.get("name").and_then(Value::as_str) else {
            return Err(ApiError::invalid(
                format!("'tools[{i}].function.name' is required"),
                Some("tools"),
            ));
        };
        if wanted.is_some_and(|w| w != name) {
            continue;
        }
        calls.push((i, name, function.get("parameters").unwrap_or(&empty)));
    }
    if calls.is_empty() {
        return Err(invalid(match wanted {
            Some(name) => format!("'tool_choice' names '{name}', which is not in 'tools'"),
            None => "'tool_choice' is 'required' but no function is in 'tools'".into(),
        }));
    }
    for (i, _, parameters) in &calls {
        Grammar::json_schema(parameters).map_err(|e| {
            ApiError::invalid(
                format!("'tools[{i}].function.parameters': {}", grammar_reason(e)),
                Some("tools"),
            )
        })?;
    }
    let wrapped: Vec<Wrapped<'_>> = calls
        .iter()
        .map(|(_, name, parameters)| Wrapped {
            before: format!(
                "<tool_call>\n{{\"name\": {}, \"arguments\": ",
                Value::String(name.to_string())
            ),
            schema: parameters,
            after: "}\n</tool_call>".into(),
        })
        .collect();
    Grammar::json_schema_wrapped(&wrapped)
        .map(Some)
        .map_err(|e| ApiError::invalid(grammar_reason(e), Some("tools")))
}

/// The reason alone, without the engine's "invalid grammar" prefix.
pub fn grammar_reason(err: EngineError) -> String {
    match err {
        EngineError::Grammar(why) => why,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(extra: Value) -> ChatRequest {
        let mut body = json!({ "model": "m", "messages": [{ "role": "user", "content": "hi" }] });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(body).unwrap()
    }

    fn grammar(extra: Value) -> Option<(String, &'static str)> {
        constraint(&request(extra))
            .unwrap()
            .map(|c| (c.grammar.text().to_string(), c.param))
    }

    /// The refusal's parameter and message.
    fn refusal(extra: Value) -> (String, String) {
        match constraint(&request(extra)) {
            Err(ApiError::InvalidRequest { message, param, .. }) => (param.unwrap(), message),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("accepted"),
        }
    }

    const WEATHER: &str = r#"{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}"#;

    fn tools() -> Value {
        let weather: Value = serde_json::from_str(WEATHER).unwrap();
        json!([weather, { "type": "function", "function": { "name": "now" } }])
    }

    #[test]
    fn response_formats_map_to_grammars() {
        assert!(grammar(json!({})).is_none());
        assert!(grammar(json!({ "response_format": { "type": "text" } })).is_none());
        let (text, param) =
            grammar(json!({ "response_format": { "type": "json_object" } })).unwrap();
        assert_eq!(
            (text.as_str(), param),
            (Grammar::json_object().text(), "response_format")
        );
        let schema = json!({ "type": "object", "properties": { "n": { "type": "integer" } }, "required": ["n"] });
        let (text, _) = grammar(json!({ "response_format": { "type": "json_schema",
            "json_schema": { "name": "count", "schema": schema, "strict": true } } }))
        .unwrap();
        assert_eq!(text, Grammar::json_schema(&schema).unwrap().text());
    }

    #[test]
    fn bad_response_formats_are_refused_naming_the_parameter() {
        for (format, expected) in [
            (json!("json"), "must be an object"),
            (json!({ "type": "yaml" }), "'response_format.type'"),
            (
                json!({ "type": "json_schema" }),
                "'response_format.json_schema' is required",
            ),
            (
                json!({ "type": "json_schema", "json_schema": { "schema": {} } }),
                "name",
            ),
            (
                json!({ "type": "json_schema", "json_schema": { "name": "x", "schema": { "type": "integer", "minimum": 1 } } }),
                "keyword 'minimum'",
            ),
        ] {
            let (param, message) = refusal(json!({ "response_format": format }));
            assert_eq!(param, "response_format");
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn a_forced_tool_choice_is_a_tool_call_grammar() {
        let named = grammar(json!({ "tools": tools(),
            "tool_choice": { "type": "function", "function": { "name": "get_weather" } },
            "response_format": { "type": "json_object" } }))
        .unwrap();
        assert_eq!(named.1, "tool_choice");
        let root = named.0.lines().next().unwrap();
        assert!(
            root.starts_with(r#"root ::= "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": " schema "}\n</tool_call>""#),
            "{root}"
        );
        let required = grammar(json!({ "tools": tools(), "tool_choice": "required" })).unwrap();
        let root = required.0.lines().next().unwrap();
        assert!(
            root.contains("get_weather") && root.contains(r#"\"now\""#),
            "{root}"
        );
        // A function without parameters takes an empty object.
        assert!(root.ends_with(r#"" schema1 "}\n</tool_call>""#), "{root}");
        assert!(
            required.0.contains(r#"schema1 ::= "{" ws "}""#),
            "{}",
            required.0
        );
        assert!(grammar(json!({ "tools": tools(), "tool_choice": "auto" })).is_none());
        assert!(grammar(json!({ "tools": tools(), "tool_choice": "none" })).is_none());
    }

    #[test]
    fn bad_tool_choices_are_refused_naming_the_parameter() {
        let (param, message) = refusal(json!({ "tools": tools(),
            "tool_choice": { "type": "function", "function": { "name": "fly" } } }));
        assert_eq!(param, "tool_choice");
        assert!(message.contains("'fly'"), "{message}");
        let (param, _) = refusal(json!({ "tool_choice": "required" }));
        assert_eq!(param, "tool_choice");
        let (param, _) = refusal(json!({ "tools": tools(), "tool_choice": "always" }));
        assert_eq!(param, "tool_choice");
        let bad = json!([{ "type": "function", "function": { "name": "f",
            "parameters": { "type": "object", "properties": { "x": { "type": "string", "pattern": "a+" } } } } }]);
        let (param, message) = refusal(json!({ "tools": bad, "tool_choice": "required" }));
        assert_eq!(param, "tools");
        assert!(
            message.contains("'tools[0].function.parameters'") && message.contains("'pattern'"),
            "{message}"
        );
    }
}
