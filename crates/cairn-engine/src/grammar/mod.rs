//! Constrained output: a GBNF grammar that every sampled token must keep the answer inside.
//!
//! llama.cpp's grammar sampler takes GBNF text. Its JSON-Schema-to-GBNF converter lives in
//! llama.cpp's C++ `common/` library, outside the C API (llama-cpp-2 reaches it only through
//! its `common` feature, which builds that library as well); it also allows up to 20 spaces
//! and newlines between tokens and silently ignores the keywords it cannot express. No Rust
//! crate converts well either. So the converter here is our own (schema.rs): whitespace is
//! at most one space, numbers have bounded digits, and an unsupported keyword is an error
//! that names it.

mod gbnf;
mod schema;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::EngineError;

/// A GBNF grammar and the rule generation starts from. Checked when made (the text is
/// non-empty, the root rule is defined); llama.cpp parses it when a generation starts, and a
/// grammar it cannot parse fails that request with [`EngineError::Grammar`], never the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grammar {
    text: String,
    root: String,
}

/// Text around a JSON value, for [`Grammar::json_schema_wrapped`].
#[derive(Debug, Clone)]
pub struct Wrapped<'a> {
    pub before: String,
    pub schema: &'a Value,
    pub after: String,
}

impl Grammar {
    /// A hand-written grammar. `root` names the rule generation starts from.
    pub fn gbnf(text: impl Into<String>, root: impl Into<String>) -> Result<Grammar, EngineError> {
        let (text, root) = (text.into(), root.into());
        let invalid = |why: &str| Err(EngineError::Grammar(why.to_string()));
        if text.trim().is_empty() {
            // llama.cpp treats an empty grammar as no grammar at all.
            return invalid("the grammar is empty");
        }
        if text.contains('\0') || root.contains('\0') {
            return invalid("the grammar contains a NUL character");
        }
        if root.is_empty() || !root.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return invalid("the root rule's name must be letters, digits and '-'");
        }
        let defined = text.lines().any(|line| {
            line.trim_start()
                .strip_prefix(root.as_str())
                .is_some_and(|rest| rest.trim_start().starts_with("::="))
        });
        if !defined {
            return Err(EngineError::Grammar(format!(
                "the grammar does not define its root rule '{root}'"
            )));
        }
        Ok(Grammar { text, root })
    }

    /// Any JSON object (OpenAI's `response_format: {"type": "json_object"}`).
    pub fn json_object() -> Grammar {
        let mut rules = gbnf::Rules::default();
        let object = rules.primitive("object");
        Grammar {
            text: rules.finish(object),
            root: "root".into(),
        }
    }

    /// The JSON values `schema` accepts (the subset schema.rs describes). An unsupported
    /// keyword, or a malformed schema, is an [`EngineError::Grammar`] naming it.
    pub fn json_schema(schema: &Value) -> Result<Grammar, EngineError> {
        Grammar::json_schema_wrapped(&[Wrapped {
            before: String::new(),
            schema,
            after: String::new(),
        }])
    }

    /// One of several alternatives, each fixed text around a JSON value of a schema: a tool
    /// call in a model's own format, for example. Each schema resolves its `$ref`s in itself.
    pub fn json_schema_wrapped(alternatives: &[Wrapped<'_>]) -> Result<Grammar, EngineError> {
        if alternatives.is_empty() {
            return Err(EngineError::Grammar(
                "no alternatives to choose from".into(),
            ));
        }
        let mut rules = gbnf::Rules::default();
        let mut options = Vec::new();
        for (i, alternative) in alternatives.iter().enumerate() {
            let mut converter = schema::Converter::new(alternative.schema, rules);
            let hint = if alternatives.len() == 1 {
                "schema".to_string()
            } else {
                format!("schema{i}")
            };
            let value = converter
                .visit(alternative.schema, "#", &hint)
                .map_err(EngineError::Grammar)?;
            rules = converter.rules;
            let parts: Vec<String> = [
                (!alternative.before.is_empty()).then(|| gbnf::literal(&alternative.before)),
                Some(value),
                (!alternative.after.is_empty()).then(|| gbnf::literal(&alternative.after)),
            ]
            .into_iter()
            .flatten()
            .collect();
            options.push(parts.join(" "));
        }
        Ok(Grammar {
            text: rules.finish(&options.join(" | ")),
            root: "root".into(),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn root(&self) -> &str {
        &self.root
    }
}
