//! The AI article writer: a built-in workflow (`article.toml`) run as an `article` run, and
//! the article view over its stages.
//!
//! Stages (each a stored step, re-runnable alone with whatever depends on it): keywords →
//! research (when collections are attached) → outline → the user's review (when asked) →
//! per-section sources → drafts, written in parallel → edit in the writing mode →
//! originality → meta description → the assembled Markdown.
//!
//! The user may edit the finished article: the edit is kept in the run's output with the
//! generated text it was made from, shown and exported instead of it, and kept when a stage
//! is re-run as long as the generated text comes out the same.

pub mod originality;

use std::sync::LazyLock;

use cairn_store::{Run, RunKind, RunStep, StepStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::orchestration::templates;
use crate::orchestration::workflow::{self, Workflow};
use crate::state::AppState;

/// The writing modes; each has a style template `writer/<mode>/style`.
pub const MODES: [&str; 4] = ["blog", "technical", "academic", "social"];

/// Words a reader reads per minute, for the reading time.
const WORDS_PER_MINUTE: usize = 200;

static ARTICLE: LazyLock<Workflow> = LazyLock::new(|| {
    Workflow::from_toml(include_str!("article.toml"))
        .expect("the article workflow is valid (a unit test checks)")
});

/// The multi-agent mode: researcher agent, writer, editor.
static ARTICLE_TEAM: LazyLock<Workflow> = LazyLock::new(|| {
    Workflow::from_toml(include_str!("article_team.toml"))
        .expect("the team workflow is valid (a unit test checks)")
});

/// The workflow an article run follows (stored with the run).
fn workflow_of(run: &Run) -> Workflow {
    serde_json::from_str(&run.definition).unwrap_or_else(|_| ARTICLE.clone())
}

/// `POST /api/articles`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleRequest {
    pub topic: String,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub collections: Vec<String>,
    /// Stop after the outline so the user can edit it.
    #[serde(default)]
    pub review_outline: bool,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub sections: Option<u32>,
    #[serde(default)]
    pub words_per_section: Option<u32>,
    /// The multi-agent mode: a researcher agent gathers notes, an editor reviews each
    /// section and the writer revises it.
    #[serde(default)]
    pub team: bool,
}

/// Checks the request and starts the run.
pub async fn start(
    app: &AppState,
    principal: &Principal,
    request: ArticleRequest,
) -> Result<Run, ApiError> {
    let topic = request.topic.trim();
    if topic.is_empty() || topic.chars().count() > 300 {
        return Err(ApiError::invalid(
            "'topic' must hold 1 to 300 characters",
            Some("topic"),
        ));
    }
    let mode = request.mode.as_deref().unwrap_or("blog");
    if !MODES.contains(&mode) {
        return Err(ApiError::invalid(
            format!("'mode' must be one of {}", MODES.join(", ")),
            Some("mode"),
        ));
    }
    let sections = request.sections.unwrap_or(4);
    if !(2..=8).contains(&sections) {
        return Err(ApiError::invalid(
            "'sections' must be between 2 and 8",
            Some("sections"),
        ));
    }
    let words = request.words_per_section.unwrap_or(150);
    if !(30..=1000).contains(&words) {
        return Err(ApiError::invalid(
            "'words_per_section' must be between 30 and 1000",
            Some("words_per_section"),
        ));
    }
    // Attached collections must be readable (404 otherwise, as for search).
    crate::knowledge::readable_collections(app, &principal.user, Some(&request.collections))
        .await?;
    let style = templates::resolve(
        app,
        &principal.user.id,
        &format!("writer/{mode}/style"),
        None,
    )
    .await?
    .body;
    let mut inputs = Map::new();
    inputs.insert("topic".into(), json!(topic));
    inputs.insert("mode".into(), json!(mode));
    inputs.insert("style".into(), json!(style));
    inputs.insert("collections".into(), json!(request.collections));
    inputs.insert("review_outline".into(), json!(request.review_outline));
    inputs.insert("sections".into(), json!(sections));
    inputs.insert("words_per_section".into(), json!(words));
    let definition = if request.team {
        &ARTICLE_TEAM
    } else {
        &ARTICLE
    };
    workflow::start(
        app,
        principal,
        RunKind::Article,
        definition,
        &inputs,
        request.model,
    )
    .await
}

/// A writing mode as `GET /api/articles/modes` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Mode {
    pub name: &'static str,
    /// Its style template's description (the user's own version's, if they saved one).
    pub description: String,
}

pub async fn modes(app: &AppState, user_id: &str) -> Result<Vec<Mode>, ApiError> {
    let mut out = Vec::with_capacity(MODES.len());
    for name in MODES {
        let style = templates::resolve(app, user_id, &format!("writer/{name}/style"), None).await?;
        out.push(Mode {
            name,
            description: style.description,
        });
    }
    Ok(out)
}

/// One stage as the article view shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub stage: String,
    pub status: String,
    pub tokens: i64,
    pub elapsed_ms: i64,
    pub attempts: i64,
    /// When it (last) started, in ms since the epoch: a running stage's clock.
    pub started_at: i64,
    pub output: Option<Value>,
    pub error: Option<String>,
    /// Map items (a section each) for the per-section stages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Stage>,
}

/// An article: the run's state, its stages and, once written, the article itself.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleView {
    pub id: String,
    pub status: String,
    pub error: Option<String>,
    pub topic: String,
    pub mode: String,
    /// Written by the multi-agent team.
    pub team: bool,
    pub tokens: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The stages started so far, in the workflow's order.
    pub stages: Vec<Stage>,
    /// Every stage of the article's workflow, in order, started or not.
    pub all_stages: Vec<String>,
    /// The outline to review while the run waits (`status = "waiting"`).
    pub outline: Option<Value>,
    pub article: Option<Article>,
    pub originality: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Article {
    pub title: String,
    pub meta_description: String,
    pub keywords: Vec<String>,
    /// The user's edit when there is one for the current text, else the generated text.
    pub markdown: String,
    pub words: usize,
    pub reading_minutes: usize,
    /// When the user saved the edit shown in `markdown`; `None` for the generated text.
    pub edited_at: Option<i64>,
    /// The user's edit of an earlier text of the article (a stage was re-run since and the
    /// text changed): not shown, kept so that the user can take it back.
    pub outdated_edit: Option<String>,
}

/// Where the user's edit is kept in the run's output: `{"markdown", "base", "at"}`, `base`
/// being the SHA-256 of the generated Markdown it was made from.
const EDIT: &str = "user_edit";

fn digest(markdown: &str) -> String {
    hex::encode(Sha256::digest(markdown.trim().as_bytes()))
}

/// The run's output with the user's edit of its Markdown (`None`: back to the generated
/// text). `None` when the run has no finished article.
pub fn with_edit(output: &Value, markdown: Option<&str>, at_ms: i64) -> Option<Value> {
    let generated = output.get("markdown")?.as_str()?;
    let mut output = output.clone();
    let fields = output.as_object_mut()?;
    match markdown {
        Some(markdown) => {
            fields.insert(
                EDIT.into(),
                json!({"markdown": markdown.trim(), "base": digest(generated), "at": at_ms}),
            );
        }
        None => {
            fields.remove(EDIT);
        }
    }
    Some(output)
}

/// Keeps the user's edit in the output of a run that finished again (a stage was re-run):
/// the view decides whether it still applies.
pub fn carry_edit(previous: Option<&Value>, output: &mut Value) {
    if let (Some(edit), Some(fields)) = (previous.and_then(|p| p.get(EDIT)), output.as_object_mut())
    {
        fields.insert(EDIT.into(), edit.clone());
    }
}

/// The Markdown a finished article's readers get: the user's edit when it was made from the
/// current generated text, else that text.
pub fn current_markdown(output: &Value) -> Option<&str> {
    let generated = output.get("markdown")?.as_str()?;
    let edit = &output[EDIT];
    match edit["markdown"].as_str() {
        Some(edited) if edit["base"].as_str() == Some(digest(generated).as_str()) => Some(edited),
        _ => Some(generated),
    }
}

/// The article a run's output holds, once written.
pub fn article_of(output: &Value) -> Option<Article> {
    let generated = output["markdown"].as_str()?.trim();
    let edit = &output[EDIT];
    let current_edit = edit["markdown"]
        .as_str()
        .filter(|_| edit["base"].as_str() == Some(digest(generated).as_str()));
    let markdown = current_edit.unwrap_or(generated).trim().to_string();
    let words = markdown.split_whitespace().count();
    let outline_title = output["title"].as_str().unwrap_or_default();
    // An edited first heading renames the article.
    let title = current_edit
        .and_then(first_heading)
        .unwrap_or(outline_title)
        .to_string();
    Some(Article {
        title,
        meta_description: output["meta_description"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        keywords: output["keywords"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect(),
        markdown,
        words,
        reading_minutes: words.div_ceil(WORDS_PER_MINUTE).max(1),
        edited_at: current_edit.and(edit["at"].as_i64()),
        outdated_edit: match current_edit {
            Some(_) => None,
            None => edit["markdown"].as_str().map(str::to_string),
        },
    })
}

/// The text of a Markdown document's first `# ` heading.
fn first_heading(markdown: &str) -> Option<&str> {
    markdown
        .lines()
        .find_map(|line| line.strip_prefix("# "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

pub fn view(run: &Run, steps: &[RunStep]) -> ArticleView {
    let inputs = &run.input["inputs"];
    let definition = workflow_of(run);
    let stage = |s: &RunStep| Stage {
        stage: s.key.clone(),
        status: s.status.as_str().to_string(),
        tokens: s.tokens,
        elapsed_ms: s.elapsed_ms,
        attempts: s.attempts,
        started_at: s.started_at,
        output: s.output.clone(),
        error: s.error.clone(),
        items: Vec::new(),
    };
    let mut stages: Vec<Stage> = definition
        .steps
        .iter()
        .filter_map(|def| {
            let mut top = steps.iter().find(|s| s.key == def.id).map(stage)?;
            top.items = steps
                .iter()
                .filter(|s| {
                    s.key
                        .strip_prefix(def.id.as_str())
                        .is_some_and(|rest| rest.starts_with('['))
                })
                .map(stage)
                .collect();
            Some(top)
        })
        .collect();
    stages.sort_by_key(|s| definition.steps.iter().position(|d| d.id == s.stage));
    let outline = steps
        .iter()
        .find(|s| s.key == "approved_outline" && s.status == StepStatus::Running)
        .and_then(|s| s.output.clone());
    let article = run.output.as_ref().and_then(article_of);
    ArticleView {
        id: run.id.clone(),
        status: run.status.as_str().to_string(),
        error: run.error.clone(),
        topic: inputs["topic"].as_str().unwrap_or_default().to_string(),
        mode: inputs["mode"].as_str().unwrap_or("blog").to_string(),
        team: definition.name == ARTICLE_TEAM.name,
        tokens: run.tokens,
        created_at: run.created_at,
        updated_at: run.updated_at,
        originality: steps
            .iter()
            .find(|s| s.key == "originality" && s.status == StepStatus::Succeeded)
            .and_then(|s| s.output.clone()),
        stages,
        all_stages: definition.steps.iter().map(|s| s.id.clone()).collect(),
        outline,
        article,
    }
}

/// The stages of an article run, which a user may re-run one by one.
pub fn stage_names(run: &Run) -> Vec<String> {
    workflow_of(run).steps.into_iter().map(|s| s.id).collect()
}

/// The article as a stand-alone HTML page (Markdown rendered, nothing fetched).
pub fn to_html(article: &Article) -> String {
    let mut body = String::new();
    pulldown_cmark::html::push_html(
        &mut body,
        pulldown_cmark::Parser::new_ext(&article.markdown, pulldown_cmark::Options::ENABLE_TABLES),
    );
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\n<title>{}</title>\n\
         <meta name=\"description\" content=\"{}\">\n<meta name=\"keywords\" content=\"{}\">\n\
         </head><body>\n{body}</body></html>\n",
        escape(&article.title),
        escape(&article.meta_description),
        escape(&article.keywords.join(", ")),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_team_workflow_is_valid_and_has_its_roles() {
        let ids: Vec<&str> = ARTICLE_TEAM.steps.iter().map(|s| s.id.as_str()).collect();
        for role in ["notes", "drafts", "critique", "edited"] {
            assert!(ids.contains(&role), "{ids:?}");
        }
        let stale = ARTICLE_TEAM.dependents("notes");
        assert!(stale.contains(&"outline".to_string()) && stale.contains(&"article".to_string()));
    }

    #[test]
    fn the_article_workflow_is_valid() {
        assert_eq!(ARTICLE.name, "article");
        assert!(ARTICLE.steps.iter().any(|s| s.id == "originality"));
        let stale = ARTICLE.dependents("outline");
        for later in [
            "approved_outline",
            "drafts",
            "edited",
            "originality",
            "article",
        ] {
            assert!(
                stale.contains(&later.to_string()),
                "{later} depends on the outline: {stale:?}"
            );
        }
        assert!(!stale.contains(&"keywords".to_string()));
        assert!(!stale.contains(&"research".to_string()));
    }

    #[test]
    fn html_export_escapes_the_head() {
        let article = Article {
            title: "A <b> & c".into(),
            meta_description: "d\"e".into(),
            keywords: vec!["k".into()],
            markdown: "# A\n\nText *here*.".into(),
            words: 3,
            reading_minutes: 1,
            edited_at: None,
            outdated_edit: None,
        };
        let html = to_html(&article);
        assert!(html.contains("<title>A &lt;b&gt; &amp; c</title>"));
        assert!(html.contains("<em>here</em>"));
    }

    #[test]
    fn an_edit_holds_while_the_generated_text_is_the_one_it_was_made_from() {
        let generated = json!({
            "title": "Tomatoes",
            "meta_description": "About tomatoes.",
            "keywords": ["tomato"],
            "markdown": "# Tomatoes\n\nWater them.",
        });
        let article = article_of(&generated).unwrap();
        assert_eq!(article.markdown, "# Tomatoes\n\nWater them.");
        assert_eq!(article.edited_at, None);

        let edited = with_edit(
            &generated,
            Some("# Ripe tomatoes\n\nWater them early.\n"),
            7,
        )
        .unwrap();
        let article = article_of(&edited).unwrap();
        assert_eq!(article.markdown, "# Ripe tomatoes\n\nWater them early.");
        assert_eq!(
            article.title, "Ripe tomatoes",
            "the edited heading names it"
        );
        assert_eq!(article.words, 6);
        assert_eq!(article.edited_at, Some(7));
        assert_eq!(article.outdated_edit, None);
        assert_eq!(current_markdown(&edited), Some(article.markdown.as_str()));

        // A re-run that produces the same text keeps the edit...
        let mut same = generated.clone();
        carry_edit(Some(&edited), &mut same);
        assert_eq!(article_of(&same).unwrap().edited_at, Some(7));
        // ...one that rewrites the article shows the new text and keeps the edit aside.
        let mut rewritten = json!({"title": "Tomatoes", "markdown": "# Tomatoes\n\nNew text."});
        carry_edit(Some(&edited), &mut rewritten);
        let article = article_of(&rewritten).unwrap();
        assert_eq!(article.markdown, "# Tomatoes\n\nNew text.");
        assert_eq!(article.edited_at, None);
        assert_eq!(
            article.outdated_edit.as_deref(),
            Some("# Ripe tomatoes\n\nWater them early.")
        );
        assert_eq!(
            current_markdown(&rewritten),
            Some("# Tomatoes\n\nNew text.")
        );

        // Taking the edit back.
        let reverted = with_edit(&edited, None, 8).unwrap();
        assert_eq!(
            article_of(&reverted).unwrap().markdown,
            "# Tomatoes\n\nWater them."
        );
        assert_eq!(with_edit(&json!({"answer": 1}), Some("x"), 9), None);
    }
}
