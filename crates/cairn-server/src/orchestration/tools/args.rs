//! Checks a tool call's arguments against the tool's JSON Schema before the tool runs.
//!
//! Tool schemas use a small part of JSON Schema (object, typed properties, required, enum,
//! arrays, bounds); this checks exactly that part and says where the problem is, in words a
//! small model can correct on its next step. A full JSON Schema validator would be a large
//! dependency for the same result.

use serde_json::Value;

/// `Ok` when `value` fits `schema`; otherwise the first problem, with its path.
pub fn validate(schema: &Value, value: &Value) -> Result<(), String> {
    check(schema, value, "arguments")
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn has_type(expected: &str, value: &Value) -> bool {
    let actual = type_name(value);
    actual == expected || (expected == "number" && actual == "integer")
}

fn check(schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    if let Some(types) = schema.get("type") {
        let ok = match types {
            Value::String(t) => has_type(t, value),
            Value::Array(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .any(|t| has_type(t, value)),
            _ => true,
        };
        if !ok {
            return Err(format!(
                "{path} must be {}, not {}",
                match types {
                    Value::String(t) => t.clone(),
                    other => other.to_string(),
                },
                type_name(value)
            ));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!(
            "{path} must be one of {}",
            Value::Array(options.clone())
        ));
    }
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !fields.contains_key(required) {
                    return Err(format!("{path}.{required} is required"));
                }
            }
            for (key, field) in fields {
                match properties.and_then(|p| p.get(key)) {
                    Some(sub) => check(sub, field, &format!("{path}.{key}"))?,
                    None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                        return Err(format!("{path}.{key} is not an argument of this tool"));
                    }
                    None => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{path}[{i}]"))?;
                }
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && items.len() as u64 > max
            {
                return Err(format!("{path} has more than {max} items"));
            }
        }
        Value::String(s) => {
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && s.chars().count() as u64 > max
            {
                return Err(format!("{path} is longer than {max} characters"));
            }
            if schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) > 0
                && s.trim().is_empty()
            {
                return Err(format!("{path} must not be empty"));
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && x < min
            {
                return Err(format!("{path} must be at least {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && x > max
            {
                return Err(format!("{path} must be at most {max}"));
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1},
                "k": {"type": "integer", "minimum": 1, "maximum": 20},
                "mode": {"enum": ["bm25", "dense"]},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}
            },
            "required": ["query"],
            "additionalProperties": false
        })
    }

    #[test]
    fn good_arguments_pass() {
        validate(
            &schema(),
            &json!({"query": "x", "k": 3, "mode": "bm25", "tags": ["a"]}),
        )
        .unwrap();
    }

    #[test]
    fn each_problem_names_its_place() {
        let cases = [
            (json!({}), "arguments.query is required"),
            (
                json!({"query": 3}),
                "arguments.query must be string, not integer",
            ),
            (
                json!({"query": "x", "k": 0}),
                "arguments.k must be at least 1",
            ),
            (
                json!({"query": "x", "k": 2.5}),
                "arguments.k must be integer, not number",
            ),
            (
                json!({"query": "x", "mode": "fuzzy"}),
                "arguments.mode must be one of",
            ),
            (
                json!({"query": "x", "tags": [1]}),
                "arguments.tags[0] must be string",
            ),
            (
                json!({"query": "x", "extra": 1}),
                "arguments.extra is not an argument",
            ),
            (json!({"query": " "}), "arguments.query must not be empty"),
            (json!("x"), "arguments must be object, not string"),
        ];
        for (value, expected) in cases {
            let err = validate(&schema(), &value).unwrap_err();
            assert!(err.starts_with(expected), "{value}: {err}");
        }
    }
}
