//! Prompt templates: named, versioned minijinja texts. Built-in ones ship in the binary
//! (`builtin_templates.toml`); a user's own (stored, each save a new version) take the place
//! of a built-in of the same name for that user. `name@3` asks for version 3.

use std::sync::LazyLock;

use cairn_store::{NewTemplate, PromptTemplate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::workflow::expr;
use crate::error::ApiError;
use crate::state::AppState;
use crate::util::{new_id, now_ms};

pub const MAX_BODY_CHARS: usize = 32 * 1024;

#[derive(Debug, Clone, Deserialize)]
struct BuiltinFile {
    template: Vec<Builtin>,
}

#[derive(Debug, Clone, Deserialize)]
struct Builtin {
    name: String,
    description: String,
    body: String,
}

static BUILTIN: LazyLock<Vec<Builtin>> = LazyLock::new(|| {
    toml::from_str::<BuiltinFile>(include_str!("builtin_templates.toml"))
        .expect("the built-in templates parse (a unit test checks)")
        .template
});

/// A template as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateView {
    pub name: String,
    /// 0 for a built-in template.
    pub version: i64,
    pub builtin: bool,
    pub description: String,
    pub body: String,
    /// The variables the body reads.
    pub variables: Vec<String>,
    pub created_at: Option<i64>,
}

fn variables(body: &str) -> Vec<String> {
    let mut names: Vec<String> = expr::template_names(body)
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.split('.').next().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

fn builtin_view(b: &Builtin) -> TemplateView {
    TemplateView {
        name: b.name.clone(),
        version: 0,
        builtin: true,
        description: b.description.clone(),
        body: b.body.trim().to_string(),
        variables: variables(&b.body),
        created_at: None,
    }
}

fn stored_view(t: PromptTemplate) -> TemplateView {
    TemplateView {
        variables: variables(&t.body),
        name: t.name,
        version: t.version,
        builtin: false,
        description: t.description,
        body: t.body,
        created_at: Some(t.created_at),
    }
}

/// The built-in templates, then the user's (a user's template hides a built-in one of the
/// same name).
pub async fn list(app: &AppState, user_id: &str) -> Result<Vec<TemplateView>, ApiError> {
    let own = app.store.list_templates(user_id).await?;
    let mut all: Vec<TemplateView> = BUILTIN
        .iter()
        .filter(|b| !own.iter().any(|t| t.name == b.name))
        .map(builtin_view)
        .collect();
    all.extend(own.into_iter().map(stored_view));
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// Splits `name@3` into the name and the version.
fn split_version(reference: &str) -> Result<(&str, Option<i64>), ApiError> {
    match reference.rsplit_once('@') {
        Some((name, version)) => {
            let version = version
                .parse::<i64>()
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| {
                    ApiError::invalid(
                        format!("'{reference}': a version is a number from 1"),
                        Some("template"),
                    )
                })?;
            Ok((name, Some(version)))
        }
        None => Ok((reference, None)),
    }
}

/// Finds a template by name (`name` or `name@version`): the user's, else the built-in one.
pub async fn resolve(
    app: &AppState,
    user_id: &str,
    reference: &str,
    version: Option<i64>,
) -> Result<TemplateView, ApiError> {
    let (name, pinned) = split_version(reference)?;
    let version = pinned.or(version);
    if let Some(t) = app.store.get_template(user_id, name, version).await? {
        return Ok(stored_view(t));
    }
    if version.is_none_or(|v| v == 0)
        && let Some(b) = BUILTIN.iter().find(|b| b.name == name)
    {
        return Ok(builtin_view(b));
    }
    Err(ApiError::NotFound {
        message: format!("template '{reference}' not found"),
        param: Some("template".into()),
        code: "not_found",
    })
}

/// Validates and saves a new version of a user's template.
pub async fn save(
    app: &AppState,
    user_id: &str,
    name: &str,
    description: &str,
    body: &str,
) -> Result<TemplateView, ApiError> {
    let valid_name = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.'));
    if !valid_name {
        return Err(ApiError::invalid(
            "'name' is 1 to 100 letters, digits, '_', '-', '/' or '.'",
            Some("name"),
        ));
    }
    if body.trim().is_empty() || body.chars().count() > MAX_BODY_CHARS {
        return Err(ApiError::invalid(
            format!("'body' must hold 1 to {MAX_BODY_CHARS} characters"),
            Some("body"),
        ));
    }
    expr::template_names(body).map_err(|e| ApiError::invalid(e, Some("body")))?;
    let saved = app
        .store
        .save_template(&NewTemplate {
            id: new_id(),
            user_id: user_id.to_string(),
            name: name.to_string(),
            description: description.to_string(),
            body: body.to_string(),
            created_at: now_ms(),
        })
        .await?;
    Ok(stored_view(saved))
}

/// Renders a template with variables; a missing variable is an error naming it.
pub fn render(template: &TemplateView, vars: &Value) -> Result<String, ApiError> {
    expr::render(&template.body, vars).map_err(|e| ApiError::invalid(e, Some("variables")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_templates_parse_and_name_their_variables() {
        assert!(BUILTIN.len() >= 10);
        for b in BUILTIN.iter() {
            expr::template_names(&b.body).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        }
        let outline = BUILTIN.iter().find(|b| b.name == "writer/outline").unwrap();
        let vars = variables(&outline.body);
        for v in ["keywords", "max_sections", "research", "style", "topic"] {
            assert!(vars.contains(&v.to_string()), "{vars:?}");
        }
    }

    #[test]
    fn every_writing_mode_has_a_style() {
        for mode in crate::writer::MODES {
            let name = format!("writer/{mode}/style");
            assert!(BUILTIN.iter().any(|b| b.name == name), "{name}");
        }
    }
}
