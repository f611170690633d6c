//! Chat templates: the model's own Jinja template from its GGUF metadata, rendered with
//! minijinja the way Hugging Face's `apply_chat_template` renders it.
//!
//! Two details matter for fidelity: templates call Python string methods (`.strip()`,
//! `.startswith()`), which minijinja-contrib's pycompat layer provides; and `tojson` must
//! produce Python's `json.dumps` layout (`", "` and `": "` separators, no HTML escaping,
//! keys in the order given), or tool definitions reach the model formatted differently from
//! what it was trained on.

use minijinja::{Environment, Error, ErrorKind, Value, context};
use serde::Serialize;

use crate::EngineError;

/// One message as templates expect it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PromptMessage {
    pub role: String,
    /// `None` for an assistant turn that only calls tools.
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl PromptMessage {
    pub fn text(role: &str, content: &str) -> PromptMessage {
        PromptMessage {
            role: role.into(),
            content: Some(content.into()),
            tool_calls: None,
            tool_call_id: None,
            name: None,
        }
    }
}

pub(crate) struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

const TEMPLATE_NAME: &str = "chat";

impl ChatTemplate {
    pub fn new(
        source: String,
        bos_token: String,
        eos_token: String,
    ) -> Result<ChatTemplate, EngineError> {
        let mut env = Environment::new();
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |message: String| -> Result<Value, Error> {
                Err(Error::new(ErrorKind::InvalidOperation, message))
            },
        );
        env.add_filter("tojson", python_tojson);
        env.add_template_owned(TEMPLATE_NAME, source).map_err(|e| {
            EngineError::Template(format!("the model's template does not parse: {e}"))
        })?;
        Ok(ChatTemplate {
            env,
            bos_token,
            eos_token,
        })
    }

    pub fn render(
        &self,
        messages: &[PromptMessage],
        tools: Option<&serde_json::Value>,
    ) -> Result<String, EngineError> {
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| EngineError::Template(e.to_string()))?;
        let tools = tools.filter(|t| t.as_array().is_some_and(|a| !a.is_empty()));
        template
            .render(context! {
                messages => Value::from_serialize(messages),
                tools => tools.map(Value::from_serialize),
                add_generation_prompt => true,
                bos_token => self.bos_token.as_str(),
                eos_token => self.eos_token.as_str(),
            })
            .map_err(|e| EngineError::Template(e.to_string()))
    }
}

/// `tojson` as Python's `json.dumps(value, ensure_ascii=False)` writes it.
fn python_tojson(value: &Value) -> Result<Value, Error> {
    let json = serde_json::to_value(value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("tojson: {e}")))?;
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    json.serialize(&mut serializer)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("tojson: {e}")))?;
    Ok(Value::from_safe_string(
        String::from_utf8(out).expect("serde_json writes UTF-8"),
    ))
}

/// serde_json's compact layout with Python's separators.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_python() {
        let t = ChatTemplate::new(
            "{% for m in messages %}<{{ m.role }}>{{ m.content.strip() }}{% endfor %}{% if tools %}{{ tools[0] | tojson }}{% endif %}{% if add_generation_prompt %}<a>{% endif %}".into(),
            "<s>".into(),
            "</s>".into(),
        )
        .unwrap();
        let tools = serde_json::json!([{ "type": "function", "function": { "name": "f", "description": "a < b" } }]);
        let out = t
            .render(&[PromptMessage::text("user", "  hi ")], Some(&tools))
            .unwrap();
        assert_eq!(
            out,
            r#"<user>hi{"type": "function", "function": {"name": "f", "description": "a < b"}}<a>"#
        );
    }

    #[test]
    fn raise_exception_is_a_template_error() {
        let t = ChatTemplate::new(
            "{{ raise_exception('roles must alternate') }}".into(),
            String::new(),
            String::new(),
        )
        .unwrap();
        let err = t.render(&[], None).unwrap_err();
        assert!(err.to_string().contains("roles must alternate"), "{err}");
    }
}
