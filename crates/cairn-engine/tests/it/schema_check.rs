//! A JSON Schema validator for the subset the grammar converter supports, to check what the
//! model wrote. Written here because the `jsonschema` crate pulls a regex engine, an HTTP
//! client for remote references and more: too much for a test of a dozen keywords.

use serde_json::Value;

/// Checks `value` against `schema`; `document` is where `$ref`s point. The error says where.
pub fn validate(value: &Value, schema: &Value, document: &Value) -> Result<(), String> {
    check(value, schema, document, "$")
}

fn check(value: &Value, schema: &Value, document: &Value, at: &str) -> Result<(), String> {
    let fail = |why: String| Err(format!("{at}: {why} (value {value})"));
    let map = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Object(map) => map,
        other => return fail(format!("unexpected schema {other}")),
    };
    if let Some(target) = map.get("$ref").and_then(Value::as_str) {
        let pointer = target.strip_prefix('#').unwrap();
        return check(value, document.pointer(pointer).unwrap(), document, at);
    }
    if let Some(expected) = map.get("const")
        && expected != value
    {
        return fail(format!("not the constant {expected}"));
    }
    if let Some(options) = map.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return fail("not one of the enum".into());
    }
    for keyword in ["anyOf", "oneOf"] {
        if let Some(branches) = map.get(keyword).and_then(Value::as_array) {
            let matching = branches
                .iter()
                .filter(|b| check(value, b, document, at).is_ok())
                .count();
            if matching == 0 || (keyword == "oneOf" && matching > 1) {
                return fail(format!("{matching} branches of {keyword} match"));
            }
        }
    }
    if let Some(types) = map.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => unreachable!(),
        };
        if !types.iter().any(|t| has_type(value, t)) {
            return fail(format!("not of type {types:?}"));
        }
    }
    if let Value::String(s) = value {
        let chars = s.chars().count() as u64;
        if map
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| chars > m)
            || map
                .get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| chars < m)
        {
            return fail("length out of bounds".into());
        }
    }
    if let Value::Array(items) = value {
        let n = items.len() as u64;
        if map
            .get("maxItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| n > m)
            || map
                .get("minItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| n < m)
        {
            return fail("item count out of bounds".into());
        }
        if let Some(item_schema) = map.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(item, item_schema, document, &format!("{at}[{i}]"))?;
            }
        }
    }
    if let Value::Object(members) = value {
        let properties = map.get("properties").and_then(Value::as_object);
        for name in map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !members.contains_key(name.as_str().unwrap()) {
                return fail(format!("required {name} is missing"));
            }
        }
        for (name, member) in members {
            match properties.and_then(|p| p.get(name)) {
                Some(s) => check(member, s, document, &format!("{at}.{name}"))?,
                None => match map.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        return fail(format!("unexpected property {name}"));
                    }
                    Some(s) => check(member, s, document, &format!("{at}.{name}"))?,
                    None => {}
                },
            }
        }
    }
    Ok(())
}

fn has_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}
