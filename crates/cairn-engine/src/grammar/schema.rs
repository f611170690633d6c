//! JSON Schema → GBNF, for the subset tool and response schemas use.
//!
//! Every text the grammar admits validates against the schema (with one documented
//! exception: `oneOf` is read as `anyOf`, so a value matching two branches is possible). The
//! grammar may admit less than the schema: objects carry exactly their declared properties
//! in declared order, whitespace is at most one space, numbers have bounded digits.
//! Keywords that would constrain the value but cannot be expressed are refused by name
//! rather than ignored, so a caller never believes a constraint holds when it does not.

use serde_json::Value;

use super::gbnf::{Rules, literal};

/// Highest `maxLength`, `minLength`, `maxItems` or `minItems` written out: llama.cpp expands a
/// bounded repetition into one rule per step and refuses more than 2000 of them.
pub(crate) const MAX_BOUND: u64 = 1000;

/// Keywords that describe a value without constraining it.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "$schema",
    "$id",
    "$comment",
    "$defs",
    "definitions",
    "deprecated",
    "readOnly",
    "writeOnly",
    // An annotation unless a validator opts into format assertions.
    "format",
    "contentMediaType",
    "contentEncoding",
];

/// Keywords this converter reads; any other keyword is refused by name.
const HANDLED: &[&str] = &[
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "anyOf",
    "oneOf",
    "allOf",
    "$ref",
];

pub(crate) struct Converter<'a> {
    /// The whole document, where `$ref`s point.
    document: &'a Value,
    pub rules: Rules,
    /// `$ref` target → its rule, so recursive definitions end.
    refs: Vec<(String, String)>,
}

impl<'a> Converter<'a> {
    /// Converts schemas of `document`, adding to `rules`.
    pub fn new(document: &'a Value, rules: Rules) -> Converter<'a> {
        Converter {
            document,
            rules,
            refs: Vec::new(),
        }
    }

    /// A GBNF expression for the values `schema` accepts. `path` names the place in the
    /// document for error messages (a JSON pointer); `hint` names the rules made for it.
    pub fn visit(&mut self, schema: &Value, path: &str, hint: &str) -> Result<String, String> {
        let map = match schema {
            Value::Bool(true) => return Ok(self.rules.primitive("value").into()),
            Value::Bool(false) => return Err(format!("the schema at {path} accepts nothing")),
            Value::Object(map) => map,
            _ => {
                return Err(format!(
                    "the schema at {path} must be an object or a boolean"
                ));
            }
        };
        if let Some(keyword) = map
            .keys()
            .find(|k| !ANNOTATIONS.contains(&k.as_str()) && !HANDLED.contains(&k.as_str()))
        {
            return Err(format!(
                "the JSON Schema keyword '{keyword}' (at {path}) is not supported for constrained output"
            ));
        }
        if let Some(target) = map.get("$ref") {
            only_with(map, "$ref", path)?;
            return self.reference(target, path);
        }
        if let Some(value) = map.get("const") {
            return Ok(literal(&value.to_string()));
        }
        if let Some(values) = map.get("enum") {
            return self.enumeration(values, map.get("type"), path, hint);
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(branches) = map.get(keyword) {
                only_with(map, keyword, path)?;
                return self.alternatives(branches, &format!("{path}/{keyword}"), hint);
            }
        }
        if let Some(all) = map.get("allOf") {
            only_with(map, "allOf", path)?;
            return match all.as_array().map(Vec::as_slice) {
                Some([one]) => self.visit(one, &format!("{path}/allOf/0"), hint),
                _ => Err(format!(
                    "'allOf' (at {path}) is supported with exactly one schema"
                )),
            };
        }
        let types: Vec<&str> = match map.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts
                .iter()
                .map(|t| {
                    t.as_str()
                        .ok_or_else(|| format!("'type' at {path} must name types"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(format!("'type' at {path} must be a string or an array")),
            None if map.contains_key("properties") || map.contains_key("additionalProperties") => {
                vec!["object"]
            }
            None if map.contains_key("items") => vec!["array"],
            None if map.contains_key("minLength") || map.contains_key("maxLength") => {
                vec!["string"]
            }
            None => return Ok(self.rules.primitive("value").into()),
        };
        if types.is_empty() {
            return Err(format!("'type' at {path} names no type"));
        }
        let mut options = Vec::new();
        for t in types {
            options.push(self.typed(t, map, path, hint)?);
        }
        Ok(if options.len() == 1 {
            options.remove(0)
        } else {
            format!("({})", options.join(" | "))
        })
    }

    fn typed(
        &mut self,
        t: &str,
        map: &serde_json::Map<String, Value>,
        path: &str,
        hint: &str,
    ) -> Result<String, String> {
        Ok(match t {
            "string" => self.string(map, path, hint)?,
            "integer" => self.rules.primitive("integer").into(),
            "number" => self.rules.primitive("number").into(),
            "boolean" => self.rules.primitive("boolean").into(),
            "null" => self.rules.primitive("null").into(),
            "array" => self.array(map, path, hint)?,
            "object" => self.object(map, path, hint)?,
            other => return Err(format!("'type' at {path} names an unknown type '{other}'")),
        })
    }

    fn string(
        &mut self,
        map: &serde_json::Map<String, Value>,
        path: &str,
        hint: &str,
    ) -> Result<String, String> {
        let min = bound(map, "minLength", path)?.unwrap_or(0);
        let max = bound(map, "maxLength", path)?;
        if min == 0 && max.is_none() {
            return Ok(self.rules.primitive("string").into());
        }
        check_range(min, max, "minLength", "maxLength", path)?;
        self.rules.primitive("char");
        Ok(self
            .rules
            .add(hint, format!(r#""\"" char{} "\"""#, repeat(min, max))))
    }

    fn array(
        &mut self,
        map: &serde_json::Map<String, Value>,
        path: &str,
        hint: &str,
    ) -> Result<String, String> {
        let item = match map.get("items") {
            None => self.rules.primitive("value").to_string(),
            Some(Value::Array(_)) => {
                return Err(format!(
                    "'items' as an array of schemas (at {path}) is not supported for constrained output"
                ));
            }
            Some(items) => self.visit(items, &format!("{path}/items"), &format!("{hint}-item"))?,
        };
        let min = bound(map, "minItems", path)?.unwrap_or(0);
        let max = bound(map, "maxItems", path)?;
        check_range(min, max, "minItems", "maxItems", path)?;
        self.rules.primitive("ws");
        // The first item, then the others each after a comma.
        let items = match (min, max) {
            (_, Some(0)) => String::new(),
            (_, Some(1)) => format!("{item} ws"),
            (min, max) => format!(
                r#"{item} ("," ws {item}){} ws"#,
                repeat(min.saturating_sub(1), max.map(|m| m - 1))
            ),
        };
        let body = match (min, items.is_empty()) {
            (_, true) => r#""[" ws "]""#.to_string(),
            (0, false) => format!(r#""[" ws ({items})? "]""#),
            (_, false) => format!(r#""[" ws {items} "]""#),
        };
        Ok(self.rules.add(hint, body))
    }

    fn object(
        &mut self,
        map: &serde_json::Map<String, Value>,
        path: &str,
        hint: &str,
    ) -> Result<String, String> {
        let properties = match map.get("properties") {
            None => serde_json::Map::new(),
            Some(Value::Object(p)) => p.clone(),
            Some(_) => return Err(format!("'properties' at {path} must be an object")),
        };
        let required: Vec<&str> = match map.get("required") {
            None => Vec::new(),
            Some(Value::Array(names)) => names
                .iter()
                .map(|n| {
                    n.as_str()
                        .ok_or_else(|| format!("'required' at {path} must list names"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(format!("'required' at {path} must be an array")),
        };
        if let Some(missing) = required.iter().find(|r| !properties.contains_key(**r)) {
            return Err(format!(
                "'required' at {path} names '{missing}', which is not in 'properties'"
            ));
        }
        self.rules.primitive("ws");
        if properties.is_empty() {
            return Ok(match map.get("additionalProperties") {
                None | Some(Value::Bool(true)) => self.rules.primitive("object").into(),
                Some(Value::Bool(false)) => self.rules.add(hint, r#""{" ws "}""#.into()),
                Some(values) => {
                    let value = self.visit(
                        values,
                        &format!("{path}/additionalProperties"),
                        &format!("{hint}-value"),
                    )?;
                    let string = self.rules.primitive("string");
                    let member = self.rules.add(
                        &format!("{hint}-member"),
                        format!(r#"{string} ":" ws {value}"#),
                    );
                    self.rules.add(
                        hint,
                        format!(r#""{{" ws ({member} ("," ws {member})* ws)? "}}""#),
                    )
                }
            });
        }
        // Extra properties are never written, whatever 'additionalProperties' allows: the
        // declared ones are what a caller wants, and the output still validates.
        let mut members = Vec::new();
        for (name, schema) in &properties {
            let value = self.visit(
                schema,
                &format!("{path}/properties/{}", pointer_escape(name)),
                &format!("{hint}-{name}"),
            )?;
            let key = literal(&format!("{}:", Value::String(name.clone())));
            members.push((
                format!("{key} ws {value}"),
                required.contains(&name.as_str()),
            ));
        }
        let body = self.members(&members, hint);
        Ok(self.rules.add(hint, format!(r#""{{" ws {body} ws "}}""#)))
    }

    /// Declared members in order, optional ones skippable, commas only between the written
    /// ones. Built back to front: `after` writes members i.. when some member came before
    /// (each one then preceded by a comma), `first` when none did; both empty past the end.
    /// `first` is needed only while every member before i is optional.
    fn members(&mut self, members: &[(String, bool)], hint: &str) -> String {
        let mut after = String::new();
        let mut first = String::new();
        for (i, (member, required)) in members.iter().enumerate().rev() {
            let first_needed = members[..i].iter().all(|(_, required)| !required);
            let next_first = if !first_needed {
                String::new()
            } else if *required {
                format!("{member} {after}")
            } else if first.is_empty() {
                format!("({member} {after})?")
            } else {
                format!("({member} {after} | {first})")
            };
            if i == 0 {
                return format!("({})", next_first.trim());
            }
            let next_after = if *required {
                format!(r#""," ws {member} {after}"#)
            } else {
                format!(r#"("," ws {member})? {after}"#)
            };
            after = self
                .rules
                .add(&format!("{hint}-rest{i}"), next_after.trim().to_string());
            if first_needed {
                first = self
                    .rules
                    .add(&format!("{hint}-from{i}"), next_first.trim().to_string());
            }
        }
        String::new()
    }

    fn enumeration(
        &mut self,
        values: &Value,
        types: Option<&Value>,
        path: &str,
        hint: &str,
    ) -> Result<String, String> {
        let values = values
            .as_array()
            .ok_or_else(|| format!("'enum' at {path} must be an array"))?;
        let allowed: Vec<String> = values
            .iter()
            .filter(|v| types.is_none_or(|t| has_type(v, t)))
            .map(|v| literal(&v.to_string()))
            .collect();
        if allowed.is_empty() {
            return Err(format!(
                "'enum' at {path} has no value of the schema's type"
            ));
        }
        Ok(self.rules.add(hint, allowed.join(" | ")))
    }

    fn alternatives(&mut self, branches: &Value, path: &str, hint: &str) -> Result<String, String> {
        let branches = branches
            .as_array()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| format!("{path} must be a non-empty array of schemas"))?;
        let mut options = Vec::new();
        for (i, branch) in branches.iter().enumerate() {
            options.push(self.visit(branch, &format!("{path}/{i}"), &format!("{hint}-{i}"))?);
        }
        Ok(self.rules.add(hint, options.join(" | ")))
    }

    /// `#/$defs/name` (or `#/definitions/name`, or `#` itself): one rule per target, so a
    /// recursive definition refers to itself by name.
    fn reference(&mut self, target: &Value, path: &str) -> Result<String, String> {
        let target = target
            .as_str()
            .ok_or_else(|| format!("'$ref' at {path} must be a string"))?;
        if let Some((_, rule)) = self.refs.iter().find(|(t, _)| t == target) {
            return Ok(rule.clone());
        }
        let pointer = target.strip_prefix('#').ok_or_else(|| {
            format!("'$ref' at {path} must point into this schema ('#/$defs/...'), not '{target}'")
        })?;
        let schema = self.document.pointer(pointer).ok_or_else(|| {
            format!("'$ref' at {path} points at '{target}', which does not exist")
        })?;
        let hint = pointer.rsplit('/').next().unwrap_or("ref");
        let rule = self
            .rules
            .reserve(if hint.is_empty() { "ref" } else { hint });
        self.refs.push((target.to_string(), rule.clone()));
        let body = self.visit(schema, target, &rule)?;
        self.rules.define(&rule, body);
        Ok(rule)
    }
}

/// Refuses `keyword` alongside other constraining keywords (annotations are fine).
fn only_with(
    map: &serde_json::Map<String, Value>,
    keyword: &str,
    path: &str,
) -> Result<(), String> {
    match map
        .keys()
        .find(|k| *k != keyword && !ANNOTATIONS.contains(&k.as_str()))
    {
        Some(other) => Err(format!(
            "'{keyword}' together with '{other}' (at {path}) is not supported for constrained output"
        )),
        None => Ok(()),
    }
}

fn bound(
    map: &serde_json::Map<String, Value>,
    keyword: &str,
    path: &str,
) -> Result<Option<u64>, String> {
    match map.get(keyword) {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n <= MAX_BOUND => Ok(Some(n)),
            Some(n) => Err(format!(
                "'{keyword}' {n} (at {path}) is above {MAX_BOUND}, the most constrained output can count"
            )),
            None => Err(format!("'{keyword}' at {path} must be a whole number ≥ 0")),
        },
    }
}

fn check_range(
    min: u64,
    max: Option<u64>,
    low: &str,
    high: &str,
    path: &str,
) -> Result<(), String> {
    match max {
        Some(max) if max < min => Err(format!("'{low}' is above '{high}' at {path}")),
        _ => Ok(()),
    }
}

/// A GBNF repetition suffix for min..=max (unbounded without max).
fn repeat(min: u64, max: Option<u64>) -> String {
    match (min, max) {
        (0, None) => "*".into(),
        (1, None) => "+".into(),
        (min, None) => format!("{{{min},}}"),
        (0, Some(1)) => "?".into(),
        (min, Some(max)) if min == max => format!("{{{min}}}"),
        (min, Some(max)) => format!("{{{min},{max}}}"),
    }
}

fn has_type(value: &Value, types: &Value) -> bool {
    let matches = |t: &str| match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    };
    match types {
        Value::String(t) => matches(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(matches),
        _ => true,
    }
}

/// A property name as a JSON pointer segment.
fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}
