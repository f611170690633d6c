//! `/api/articles`: the article writer. An article is a run of the built-in article
//! workflow; these routes show it as stages plus the finished article, let the user edit
//! the outline before the sections are written, re-run one stage, edit the finished text,
//! and export the result.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_store::{Page, Run, RunKind, RunStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::orchestration::workflow;
use crate::state::AppState;
use crate::writer::{self, ArticleRequest, ArticleView};

async fn article_run(app: &AppState, principal: &Principal, id: &str) -> Result<Run, ApiError> {
    let run = workflow::owned(app, principal, id).await?;
    if run.kind != RunKind::Article {
        return Err(ApiError::not_found("article"));
    }
    Ok(run)
}

async fn article(app: &AppState, principal: &Principal, id: &str) -> Result<ArticleView, ApiError> {
    let run = article_run(app, principal, id).await?;
    let steps = app.store.list_steps(&run.id).await?;
    Ok(writer::view(&run, &steps))
}

pub async fn create(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<ArticleRequest>,
) -> Result<(StatusCode, Json<ArticleView>), ApiError> {
    let run = writer::start(&app, &principal, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(article(&app, &principal, &run.id).await?),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListArticles {
    limit: Option<u32>,
    before: Option<i64>,
}

pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListArticles>,
) -> Result<Json<Value>, ApiError> {
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let runs = app
        .store
        .list_runs(
            &principal.user.id,
            RunKind::Article,
            Page {
                limit: limit + 1,
                before: params.before,
            },
        )
        .await?;
    let items: Vec<Value> = runs
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "status": r.status,
                "topic": r.input["inputs"]["topic"],
                "mode": r.input["inputs"]["mode"],
                "title": r.output.as_ref().and_then(writer::article_of).map(|a| a.title),
                "tokens": r.tokens,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            })
        })
        .collect();
    Ok(super::page::page(items, limit, |v| {
        v["updated_at"].as_i64().unwrap_or(0)
    }))
}

/// The writing modes, with what each is for.
pub async fn modes(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let modes = writer::modes(&app, &principal.user.id).await?;
    Ok(Json(json!({ "object": "list", "data": modes })))
}

pub async fn read(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<ArticleView>, ApiError> {
    Ok(Json(article(&app, &principal, &id).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Continue {
    /// The outline as the user edited it: `{"title": ..., "sections": [{"heading", "points"}]}`.
    #[serde(default)]
    outline: Option<Value>,
}

/// Continues an article waiting at its outline, with the user's edits if any.
pub async fn continue_writing(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<ArticleView>, ApiError> {
    let body: Continue = if body.iter().all(u8::is_ascii_whitespace) {
        Continue::default()
    } else {
        crate::extract::parse_json(&body)?
    };
    article(&app, &principal, &id).await?;
    if let Some(outline) = &body.outline {
        check_outline(outline)?;
    }
    workflow::approve(&app, &principal, &id, body.outline).await?;
    Ok(Json(article(&app, &principal, &id).await?))
}

/// An edited outline must keep the shape the later stages read.
fn check_outline(outline: &Value) -> Result<(), ApiError> {
    let bad = |m: &str| Err(ApiError::invalid(format!("outline: {m}"), Some("outline")));
    if outline["title"]
        .as_str()
        .is_none_or(|t| t.trim().is_empty())
    {
        return bad("'title' must be a non-empty string");
    }
    let Some(sections) = outline["sections"].as_array() else {
        return bad("'sections' must be a list");
    };
    if !(1..=12).contains(&sections.len()) {
        return bad("between 1 and 12 sections");
    }
    for (i, s) in sections.iter().enumerate() {
        if s["heading"].as_str().is_none_or(|h| h.trim().is_empty()) {
            return bad(&format!("sections[{i}].heading must be a non-empty string"));
        }
        if !s["points"]
            .as_array()
            .is_some_and(|p| p.iter().all(Value::is_string))
        {
            return bad(&format!("sections[{i}].points must be a list of strings"));
        }
    }
    Ok(())
}

/// The most a user's edited article may hold.
const MAX_EDIT_CHARS: usize = 200_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    /// The article as the user edited it; `null` goes back to the generated text.
    markdown: Value,
}

/// Saves the user's edit of a finished article (read and exported instead of the generated
/// text from then on).
pub async fn edit(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Edit>,
) -> Result<Json<ArticleView>, ApiError> {
    let markdown = match &body.markdown {
        Value::Null => None,
        Value::String(text) if text.trim().is_empty() => {
            return Err(ApiError::invalid(
                "'markdown' must not be empty; send null to go back to the generated text",
                Some("markdown"),
            ));
        }
        Value::String(text) if text.chars().count() > MAX_EDIT_CHARS => {
            return Err(ApiError::invalid(
                format!("'markdown' holds at most {MAX_EDIT_CHARS} characters"),
                Some("markdown"),
            ));
        }
        Value::String(text) => Some(text.as_str()),
        _ => {
            return Err(ApiError::invalid(
                "'markdown' must be a string or null",
                Some("markdown"),
            ));
        }
    };
    let run = article_run(&app, &principal, &id).await?;
    let not_finished = || ApiError::WrongState {
        message: format!("the article is {}, not finished", run.status.as_str()),
    };
    if run.status != RunStatus::Succeeded {
        return Err(not_finished());
    }
    let output = run
        .output
        .as_ref()
        .and_then(|o| writer::with_edit(o, markdown, crate::util::now_ms()))
        .ok_or_else(not_finished)?;
    // Refused when a re-run started meanwhile: the runner owns the output then.
    if !app
        .store
        .set_run_output(&principal.user.id, &run.id, &output, crate::util::now_ms())
        .await?
    {
        return Err(ApiError::WrongState {
            message: "the article is being written again; edit it once it is finished".into(),
        });
    }
    Ok(Json(article(&app, &principal, &id).await?))
}

/// Runs one stage again, with the stages that depend on it.
pub async fn rerun_stage(
    State(app): State<AppState>,
    principal: Principal,
    Path((id, stage)): Path<(String, String)>,
) -> Result<Json<ArticleView>, ApiError> {
    let run = article_run(&app, &principal, &id).await?;
    let stages = writer::stage_names(&run);
    if !stages.contains(&stage) {
        return Err(ApiError::invalid(
            format!("no stage '{stage}'; the stages are {}", stages.join(", ")),
            Some("stage"),
        ));
    }
    workflow::rerun(&app, &principal, &id, &stage).await?;
    Ok(Json(article(&app, &principal, &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Export {
    format: Option<String>,
}

/// The finished article as Markdown or as an HTML page, for download.
pub async fn export(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<Export>,
) -> Result<Response, ApiError> {
    let view = article(&app, &principal, &id).await?;
    let Some(article) = view
        .article
        .filter(|_| view.status == RunStatus::Succeeded.as_str())
    else {
        return Err(ApiError::WrongState {
            message: format!("the article is {}, not finished", view.status),
        });
    };
    let (body, content_type, extension) = match params.format.as_deref().unwrap_or("md") {
        "md" | "markdown" => (
            article.markdown.clone(),
            "text/markdown; charset=utf-8",
            "md",
        ),
        "html" => (
            writer::to_html(&article),
            "text/html; charset=utf-8",
            "html",
        ),
        _ => {
            return Err(ApiError::invalid("'format' is md or html", Some("format")));
        }
    };
    let disposition = format!("attachment; filename=\"article-{}.{extension}\"", view.id);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
