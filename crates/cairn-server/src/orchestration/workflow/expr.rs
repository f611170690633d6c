//! Templates and expressions in workflows: one minijinja environment, names they use (for
//! validation) and evaluation against a run's context (`inputs`, `steps`, a map's item).

use std::collections::HashSet;
use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

/// Templates longer than this are refused: a workflow is a program, not a document store.
const MAX_SOURCE_CHARS: usize = 64 * 1024;

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Printing something undefined is an error (a misspelt output is caught); testing it in
    // an `if` is not.
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_keep_trailing_newline(true);
    env.add_filter("words", |text: &str| text.split_whitespace().count());
    env
});

fn too_long(source: &str) -> Result<(), String> {
    if source.len() > MAX_SOURCE_CHARS {
        return Err(format!("longer than {MAX_SOURCE_CHARS} characters"));
    }
    Ok(())
}

fn describe(e: &minijinja::Error) -> String {
    let mut message = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_string);
    if let Some(line) = e.line() {
        message.push_str(&format!(" (line {line})"));
    }
    message
}

/// The variables a template reads, as dotted paths (`steps.outline.sections`).
pub fn template_names(source: &str) -> Result<HashSet<String>, String> {
    too_long(source)?;
    let template = ENV
        .template_from_str(source)
        .map_err(|e| format!("template error: {}", describe(&e)))?;
    Ok(template.undeclared_variables(true))
}

/// The variables an expression reads.
pub fn expression_names(source: &str) -> Result<HashSet<String>, String> {
    too_long(source)?;
    let expression = ENV
        .compile_expression(source)
        .map_err(|e| format!("expression error: {}", describe(&e)))?;
    Ok(expression.undeclared_variables(true))
}

/// Renders a template against the context.
pub fn render(source: &str, context: &Value) -> Result<String, String> {
    ENV.render_str(source, context)
        .map_err(|e| format!("template error: {}", describe(&e)))
}

/// Evaluates an expression against the context, as JSON.
pub fn eval(source: &str, context: &Value) -> Result<Value, String> {
    let expression = ENV
        .compile_expression(source)
        .map_err(|e| format!("expression error: {}", describe(&e)))?;
    let value = expression
        .eval(context)
        .map_err(|e| format!("expression error: {}", describe(&e)))?;
    if value.is_undefined() {
        return Err(format!("'{source}' is undefined"));
    }
    serde_json::to_value(&value).map_err(|e| format!("expression error: {e}"))
}

/// Whether a value counts as true for `when` (Jinja's truthiness, on JSON).
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Renders every string inside a JSON value. A string that is exactly one `{{ ... }}` keeps
/// the expression's type (a list stays a list).
pub fn render_value(value: &Value, context: &Value) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => match sole_expression(s) {
            Some(expression) => eval(expression, context)?,
            None => Value::String(render(s, context)?),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_value(v, context))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), render_value(v, context)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

fn sole_expression(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_dotted_paths() {
        let names = template_names(
            "{{ inputs.topic }} {% for s in steps.outline.sections %}{{ s }}{% endfor %}",
        )
        .unwrap();
        assert!(names.contains("inputs.topic"), "{names:?}");
        assert!(
            names.iter().any(|n| n.starts_with("steps.outline")),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n == "s"));
    }

    #[test]
    fn a_sole_expression_keeps_its_type() {
        let context = json!({"steps": {"a": [1, 2]}, "inputs": {"n": 3}});
        assert_eq!(
            render_value(&json!("{{ steps.a }}"), &context).unwrap(),
            json!([1, 2])
        );
        assert_eq!(
            render_value(&json!("n={{ inputs.n }}"), &context).unwrap(),
            json!("n=3")
        );
        assert_eq!(eval("steps.a | length > 1", &context).unwrap(), json!(true));
    }

    #[test]
    fn printing_an_undefined_value_is_an_error() {
        let context = json!({"steps": {"a": {"x": 1}}});
        assert!(render("{{ steps.a.y }}", &context).is_err());
        assert_eq!(
            render("{% if steps.a.y %}y{% endif %}", &context).unwrap(),
            ""
        );
        assert!(eval("steps.b", &context).is_err());
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = template_names("ok\n{{ broken ").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }
}
