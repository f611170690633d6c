//! Feedback on answers: a thumbs up or down, with an optional comment, on an assistant message
//! of the caller's own conversation (`PUT`/`DELETE
//! /api/conversations/{id}/messages/{message_id}/feedback`), and everyone's, with the rated
//! answer and the prompt before it, for admins (`GET /api/admin/feedback`): what the data
//! flywheel exports.

use axum::Json;
use axum::extract::{Path, State};
use cairn_store::{Cursor, CursorPage, Feedback, FeedbackQuery, Message, NewFeedback, Rating};
use cairn_types::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use crate::util::{new_id, now_ms};

/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// What a conversation's reader sees of their own feedback on a message.
pub(super) fn summary(f: &Feedback) -> Value {
    json!({ "rating": f.rating, "comment": f.comment, "updated_at": f.updated_at })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutFeedback {
    rating: Rating,
    /// Replaces the comment given before; absent, empty or blank: none.
    #[serde(default)]
    comment: Option<String>,
}

fn check_comment(comment: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(comment) = comment else {
        return Ok(None);
    };
    let comment = comment.trim();
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(ApiError::invalid(
            format!("'comment' may have at most {MAX_COMMENT_CHARS} characters"),
            Some("comment"),
        ));
    }
    Ok((!comment.is_empty()).then(|| comment.to_string()))
}

/// The assistant message `message_id` of the caller's conversation `id`: 404 when either is
/// not there (or not theirs), 400 for a message that is not an answer.
async fn answer(
    app: &AppState,
    principal: &Principal,
    id: &str,
    message_id: &str,
) -> Result<Message, ApiError> {
    let conversation = super::conversations::owned(app, principal, id).await?;
    let message = app
        .store
        .get_message(&conversation.id, message_id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    if message.role != Role::Assistant.as_str() {
        return Err(ApiError::InvalidRequest {
            message: format!(
                "only an assistant's answer takes feedback; message {message_id} is a {} message",
                message.role
            ),
            param: Some("message_id".into()),
            code: "not_an_answer",
        });
    }
    Ok(message)
}

/// Gives or changes the caller's feedback on an answer.
pub async fn put(
    State(app): State<AppState>,
    principal: Principal,
    Path((id, message_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<PutFeedback>,
) -> Result<Json<Value>, ApiError> {
    let comment = check_comment(input.comment)?;
    let message = answer(&app, &principal, &id, &message_id).await?;
    let feedback = app
        .store
        .put_feedback(&NewFeedback {
            id: new_id(),
            message_id: message.id,
            user_id: principal.user.id.clone(),
            rating: input.rating,
            comment,
            at: now_ms(),
        })
        .await?;
    Ok(Json(json!(feedback)))
}

/// Takes the caller's feedback on an answer back.
pub async fn delete(
    State(app): State<AppState>,
    principal: Principal,
    Path((id, message_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let message = answer(&app, &principal, &id, &message_id).await?;
    if !app
        .store
        .delete_feedback(&principal.user.id, &message.id)
        .await?
    {
        return Err(ApiError::not_found("feedback"));
    }
    Ok(Json(json!({ "message_id": message.id, "deleted": true })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    limit: Option<u32>,
    rating: Option<Rating>,
    /// The model that wrote the rated answers.
    model: Option<String>,
    /// The `next_before` and `next_before_id` of the previous page.
    before: Option<i64>,
    before_id: Option<String>,
}

/// Everyone's feedback, most recently changed first, with the rated answer, the prompt before
/// it and the conversation's system prompt. Admins only.
pub async fn admin_list(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let query = FeedbackQuery {
        rating: params.rating,
        model: params.model.filter(|m| !m.is_empty()),
        page: CursorPage {
            limit: limit + 1,
            after: super::page::cursor(params.before, params.before_id)?,
        },
    };
    let items = app.store.list_feedback(&query).await?;
    Ok(super::page::cursor_page(items, limit, |e| Cursor {
        at: e.feedback.updated_at,
        id: e.feedback.id.clone(),
    }))
}
