//! `/api/conversations`: stored chats. Posting a message stores the user's turn before the
//! model is called, streams the answer, and stores the assistant's turn when it ends (what
//! was generated so far, if the client stops early). Every query is scoped to the caller:
//! another user's conversation is indistinguishable from one that does not exist.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use cairn_store::{Conversation, Cursor, CursorPage, Message, NewMessage};
use cairn_types::Role;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::sse::{event_stream_response, named_event};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::openai::chat::{ChatMessage, ChatRequest};
use crate::pipeline::{ChatOutput, run_chat};
use crate::state::AppState;
use crate::telemetry::RequestId;
use crate::util::{new_id, now_ms};

const MAX_TITLE_CHARS: usize = 200;
/// Most messages a conversation may be imported with.
const MAX_IMPORTED_MESSAGES: usize = 5_000;
const MAX_MODEL_NAME_CHARS: usize = 200;
/// A title made from the first question is cut here.
const DERIVED_TITLE_CHARS: usize = 60;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    title: Option<String>,
    model: Option<String>,
    system_prompt: Option<String>,
    /// Knowledge collections the answers are grounded in.
    #[serde(default)]
    collections: Option<Vec<String>>,
    /// The turns it starts with: a chat imported from elsewhere (or exported from here).
    #[serde(default)]
    messages: Vec<ImportedMessage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedMessage {
    role: ImportedRole,
    content: String,
    /// The model that wrote an assistant's turn, as a label (it need not be served here).
    #[serde(default)]
    model: Option<String>,
}

/// The system prompt is the conversation's own `system_prompt`, not a turn.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ImportedRole {
    User,
    Assistant,
}

/// Checks imported turns and makes them messages, all stamped `now`.
fn imported_messages(
    conversation_id: &str,
    input: Vec<ImportedMessage>,
    now: i64,
) -> Result<Vec<NewMessage>, ApiError> {
    if input.len() > MAX_IMPORTED_MESSAGES {
        return Err(ApiError::invalid(
            format!("at most {MAX_IMPORTED_MESSAGES} messages can be imported"),
            Some("messages"),
        ));
    }
    input
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            if m.content.trim().is_empty() {
                return Err(ApiError::invalid(
                    format!("message {i} has no content"),
                    Some(&format!("messages[{i}].content")),
                ));
            }
            let role = match m.role {
                ImportedRole::User => Role::User,
                ImportedRole::Assistant => Role::Assistant,
            };
            let model = match (role, m.model) {
                (_, None) => None,
                (Role::Assistant, Some(model))
                    if !model.trim().is_empty()
                        && model.chars().count() <= MAX_MODEL_NAME_CHARS =>
                {
                    Some(model)
                }
                (Role::Assistant, Some(_)) => {
                    return Err(ApiError::invalid(
                        format!("a model name has 1 to {MAX_MODEL_NAME_CHARS} characters"),
                        Some(&format!("messages[{i}].model")),
                    ));
                }
                (_, Some(_)) => {
                    return Err(ApiError::invalid(
                        "only an assistant's message names a model",
                        Some(&format!("messages[{i}].model")),
                    ));
                }
            };
            Ok(NewMessage {
                id: new_id(),
                conversation_id: conversation_id.to_string(),
                role: role.as_str().into(),
                content: m.content,
                model,
                prompt_tokens: None,
                completion_tokens: None,
                created_at: now,
            })
        })
        .collect()
}

/// "New conversation", or the start of the first question of an imported one.
fn default_title(messages: &[NewMessage]) -> String {
    messages
        .iter()
        .find(|m| m.role == Role::User.as_str())
        .and_then(|m| m.content.lines().map(str::trim).find(|l| !l.is_empty()))
        .map(|line| line.chars().take(DERIVED_TITLE_CHARS).collect::<String>())
        .unwrap_or_else(|| "New conversation".into())
}

/// Most collections a conversation may be grounded in.
const MAX_COLLECTIONS: usize = 20;

/// Checks that the caller may read every collection asked for (404 naming the first that
/// is not).
async fn check_collections(
    app: &AppState,
    principal: &Principal,
    ids: &[String],
) -> Result<Vec<String>, ApiError> {
    if ids.len() > MAX_COLLECTIONS {
        return Err(ApiError::invalid(
            format!("at most {MAX_COLLECTIONS} collections"),
            Some("collections"),
        ));
    }
    crate::knowledge::readable_collections(app, &principal.user, Some(ids)).await
}

fn check_title(title: &str) -> Result<String, ApiError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::invalid(
            format!("'title' must have 1 to {MAX_TITLE_CHARS} characters"),
            Some("title"),
        ));
    }
    Ok(title.to_string())
}

pub async fn create(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<CreateConversation>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = new_id();
    let now = now_ms();
    let messages = imported_messages(&id, input.messages, now)?;
    let title = match input.title {
        Some(t) => check_title(&t)?,
        None => default_title(&messages),
    };
    if let Some(model) = &input.model {
        let tier = app.tier_of(&principal.user.tier)?;
        crate::pipeline::resolve_model(
            &app.config,
            app.route_policy.as_ref(),
            tier,
            Some(model),
            crate::config::ModelKind::Chat,
        )?;
    }
    let collections = match &input.collections {
        Some(ids) => check_collections(&app, &principal, ids).await?,
        None => Vec::new(),
    };
    let conversation = Conversation {
        id,
        user_id: principal.user.id.clone(),
        title,
        model: input.model,
        system_prompt: input.system_prompt.filter(|s| !s.trim().is_empty()),
        created_at: now,
        updated_at: now,
    };
    let messages = if messages.is_empty() {
        app.store.create_conversation(&conversation).await?;
        Vec::new()
    } else {
        app.store
            .import_conversation(&conversation, &messages)
            .await?
    };
    if !collections.is_empty() {
        app.store
            .set_conversation_collections(&conversation.id, &collections)
            .await?;
    }
    let mut value = json!(conversation);
    value["collections"] = json!(collections);
    value["messages"] = json!(messages);
    Ok((StatusCode::CREATED, Json(value)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    limit: Option<u32>,
    /// Only conversations updated before this time (unix ms): the `next_before` of the
    /// previous page.
    before: Option<i64>,
    /// With `before`: also those updated at that time whose id is smaller (the
    /// `next_before_id` of the previous page), so none are skipped.
    before_id: Option<String>,
    /// Only conversations whose title or messages contain this text.
    q: Option<String>,
}

pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let page = CursorPage {
        limit: limit + 1,
        after: super::page::cursor(params.before, params.before_id)?,
    };
    let items = match params.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => {
            app.store
                .search_conversations(&principal.user.id, q, &page)
                .await?
        }
        None => {
            app.store
                .list_conversations(&principal.user.id, &page)
                .await?
        }
    };
    Ok(super::page::cursor_page(items, limit, |c| Cursor {
        at: c.updated_at,
        id: c.id.clone(),
    }))
}

pub(super) async fn owned(
    app: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<Conversation, ApiError> {
    app.store
        .get_conversation(&principal.user.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))
}

pub async fn read(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let conversation = owned(&app, &principal, &id).await?;
    let messages = app.store.list_messages(&conversation.id).await?;
    let citations: std::collections::HashMap<String, Value> = app
        .store
        .conversation_citations(&conversation.id)
        .await?
        .into_iter()
        .collect();
    // The caller's own thumbs up or down on each answer, so a page shows them after a reload.
    let feedback: std::collections::HashMap<String, Value> = app
        .store
        .conversation_feedback(&principal.user.id, &conversation.id)
        .await?
        .into_iter()
        .map(|f| (f.message_id.clone(), super::feedback::summary(&f)))
        .collect();
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|m| {
            let mut value = json!(m);
            if let Some(c) = citations.get(&m.id) {
                value["citations"] = c.clone();
            }
            if let Some(f) = feedback.get(&m.id) {
                value["feedback"] = f.clone();
            }
            value
        })
        .collect();
    let mut value = json!(conversation);
    value["collections"] = json!(app.store.conversation_collections(&conversation.id).await?);
    value["messages"] = json!(messages);
    Ok(Json(value))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Update {
    #[serde(default)]
    title: Option<String>,
    /// Replaces the collections the answers are grounded in (`[]` detaches them all).
    #[serde(default)]
    collections: Option<Vec<String>>,
}

/// Renames a conversation and/or changes its collections.
pub async fn rename(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Update>,
) -> Result<Json<Value>, ApiError> {
    if input.title.is_none() && input.collections.is_none() {
        return Err(ApiError::invalid(
            "nothing to change: send 'title' and/or 'collections'",
            None,
        ));
    }
    let conversation = owned(&app, &principal, &id).await?;
    let collections = match &input.collections {
        Some(ids) => Some(check_collections(&app, &principal, ids).await?),
        None => None,
    };
    if let Some(title) = &input.title {
        let title = check_title(title)?;
        if !app
            .store
            .rename_conversation(&principal.user.id, &id, &title, now_ms())
            .await?
        {
            return Err(ApiError::not_found("conversation"));
        }
    }
    if let Some(collections) = collections {
        app.store
            .set_conversation_collections(&conversation.id, &collections)
            .await?;
    }
    let mut value = json!(owned(&app, &principal, &id).await?);
    value["collections"] = json!(app.store.conversation_collections(&id).await?);
    Ok(Json(value))
}

pub async fn delete(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !app
        .store
        .delete_conversation(&principal.user.id, &id)
        .await?
    {
        return Err(ApiError::not_found("conversation"));
    }
    Ok(Json(json!({ "id": id, "deleted": true })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    content: String,
    model: Option<String>,
    /// Defaults to true.
    stream: Option<bool>,
    temperature: Option<f64>,
    max_tokens: Option<i64>,
    /// Grounds this answer in these collections instead of the conversation's.
    #[serde(default)]
    collections: Option<Vec<String>>,
    /// A user message of this conversation that this one replaces, with everything after
    /// it: edit-and-resend, or regenerate (the same content again).
    #[serde(default)]
    replace_from: Option<String>,
}

pub async fn post_message(
    State(app): State<AppState>,
    principal: Principal,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PostMessage>,
) -> Result<Response, ApiError> {
    if input.content.trim().is_empty() {
        return Err(ApiError::invalid(
            "'content' must not be empty",
            Some("content"),
        ));
    }
    let conversation = owned(&app, &principal, &id).await?;
    let collections = match &input.collections {
        Some(ids) => check_collections(&app, &principal, ids).await?,
        None => app.store.conversation_collections(&conversation.id).await?,
    };
    let stream = input.stream.unwrap_or(true);
    let mut request = ChatRequest {
        model: input.model.or_else(|| conversation.model.clone()),
        messages: vec![text_message(Role::User, &input.content)],
        temperature: input.temperature,
        top_p: None,
        max_tokens: input.max_tokens,
        max_completion_tokens: None,
        stop: None,
        seed: None,
        user: None,
        n: None,
        presence_penalty: None,
        frequency_penalty: None,
        stream: Some(true),
        stream_options: Some(crate::openai::chat::StreamOptions {
            include_usage: true,
            extra: Map::new(),
        }),
        tools: None,
        tool_choice: None,
        response_format: None,
        extra: Map::new(),
    };
    // Refuse a bad request before anything is stored or summarised.
    request.validate()?;
    if let Some(message_id) = &input.replace_from {
        replace_from(&app, &principal, &conversation, message_id).await?;
    }
    // System prompt, recalled memories, the summary of older turns, the latest turns that
    // fit the model's window, and the new message.
    request.messages = crate::memory::assemble(
        &app,
        &principal,
        &request_id,
        &conversation,
        request.model.as_deref(),
        &input.content,
        input.max_tokens,
    )
    .await?;
    // Sources from the attached collections, numbered in the system message.
    let citations = if collections.is_empty() {
        None
    } else {
        let grounding =
            crate::knowledge::ground(&app, &principal.user, &input.content, &collections).await?;
        grounding.apply(&mut request.messages);
        Some(grounding.citations)
    };
    let user_message = app
        .store
        .append_message(
            &principal.user.id,
            NewMessage {
                id: new_id(),
                conversation_id: conversation.id.clone(),
                role: Role::User.as_str().into(),
                content: input.content.clone(),
                model: None,
                prompt_tokens: None,
                completion_tokens: None,
                created_at: now_ms(),
            },
        )
        .await?;
    let user_id = principal.user.id.clone();
    let (memory_principal, memory_request_id) = (principal.clone(), request_id.clone());
    let ChatOutput::Stream {
        stream: mut chunks, ..
    } = run_chat(
        &app,
        principal,
        request_id,
        "/api/conversations/{id}/messages",
        request,
    )
    .await?
    else {
        return Err(ApiError::Internal(
            "a streamed call returned a whole completion".into(),
        ));
    };

    // The model is driven by its own task so that the assistant's turn is stored even if the
    // client goes away; a client that leaves stops generation, and the partial turn is kept.
    let (tx, rx) = mpsc::channel::<Event>(64);
    let task_app = app.clone();
    let conversation_id = conversation.id.clone();
    let stored_user_message = user_message.clone();
    let first = Event::UserMessage(user_message);
    let _ = tx.send(first).await;
    let citations = citations.map(|c| json!(c));
    if let Some(citations) = &citations {
        let _ = tx.send(Event::Citations(citations.clone())).await;
    }
    let driver = tokio::spawn(async move {
        let mut content = String::new();
        let mut usage = None;
        let mut model = None;
        let mut failure = None;
        while let Some(item) = chunks.next().await {
            match item {
                Ok(chunk) => {
                    if model.is_none() {
                        model = chunk
                            .get("model")
                            .and_then(Value::as_str)
                            .map(str::to_string);
                    }
                    if let Some(u) = crate::openai::read_usage(&chunk) {
                        usage = Some(u);
                    }
                    let delta = chunk
                        .pointer("/choices/0/delta/content")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if !delta.is_empty() {
                        content.push_str(delta);
                        if tx.send(Event::Delta(delta.to_string())).await.is_err() {
                            break;
                        }
                    }
                }
                Err(err) => {
                    failure = Some(err);
                    break;
                }
            }
        }
        drop(chunks);
        let stored = if content.is_empty() {
            None
        } else {
            let saved = task_app
                .store
                .append_message(
                    &user_id,
                    NewMessage {
                        id: new_id(),
                        conversation_id,
                        role: Role::Assistant.as_str().into(),
                        content,
                        model,
                        prompt_tokens: usage.map(|u| u.prompt_tokens),
                        completion_tokens: usage.map(|u| u.completion_tokens),
                        created_at: now_ms(),
                    },
                )
                .await;
            match saved {
                Ok(m) => {
                    if let Some(citations) = &citations
                        && let Err(err) =
                            task_app.store.set_message_citations(&m.id, citations).await
                    {
                        failure.get_or_insert(ApiError::from(err));
                    }
                    // Learn from the turn in the background; never part of the answer.
                    crate::memory::after_turn(
                        &task_app,
                        memory_principal,
                        memory_request_id,
                        stored_user_message,
                        m.clone(),
                    );
                    Some(m)
                }
                Err(err) => {
                    failure.get_or_insert(ApiError::from(err));
                    None
                }
            }
        };
        let _ = match failure {
            Some(err) => tx.send(Event::Failed(err)).await,
            None => tx.send(Event::Done(stored, usage)).await,
        };
    });

    if stream {
        let body = tokio_stream::wrappers::ReceiverStream::new(rx)
            .map(|event| Ok::<_, Infallible>(event.to_sse()));
        return Ok(event_stream_response(Body::from_stream(body)));
    }
    // Not streamed: wait for the whole turn.
    let mut rx = rx;
    let mut user_message = None;
    let mut citations = None;
    while let Some(event) = rx.recv().await {
        match event {
            Event::UserMessage(m) => user_message = Some(m),
            Event::Citations(c) => citations = Some(c),
            Event::Delta(_) => {}
            Event::Failed(err) => return Err(err),
            Event::Done(assistant, usage) => {
                let _ = driver.await;
                return Ok(Json(json!({
                    "user_message": user_message,
                    "assistant_message": assistant,
                    "citations": citations,
                    "usage": usage.map(crate::openai::usage_json),
                }))
                .into_response());
            }
        }
    }
    Err(ApiError::Internal(
        "the conversation task ended without an answer".into(),
    ))
}

/// Drops a user message and all that follows it, so the new one takes its place.
async fn replace_from(
    app: &AppState,
    principal: &Principal,
    conversation: &Conversation,
    message_id: &str,
) -> Result<(), ApiError> {
    let messages = app.store.list_messages(&conversation.id).await?;
    let from = messages
        .iter()
        .find(|m| m.id == message_id && m.role == Role::User.as_str())
        .ok_or_else(|| ApiError::NotFound {
            message: "'replace_from' is not a user message of this conversation".into(),
            param: Some("replace_from".into()),
            code: "not_found",
        })?;
    app.store
        .truncate_conversation(&principal.user.id, &conversation.id, from.seq, now_ms())
        .await?;
    Ok(())
}

fn text_message(role: Role, content: &str) -> ChatMessage {
    ChatMessage {
        role,
        content: Some(Value::String(content.to_string())),
        name: None,
        tool_calls: None,
        tool_call_id: None,
        extra: Map::new(),
    }
}

enum Event {
    UserMessage(Message),
    /// The sources of a grounded answer, before its text.
    Citations(Value),
    Delta(String),
    Done(Option<Message>, Option<cairn_types::Usage>),
    Failed(ApiError),
}

impl Event {
    /// The conversation stream: `message` (the stored user turn), `citations` (for a grounded
    /// answer), `delta` (text), then
    /// `done` (the stored assistant turn and usage) or `error` (an OpenAI error envelope).
    fn to_sse(&self) -> bytes::Bytes {
        match self {
            Event::UserMessage(m) => named_event("message", &json!(m)),
            Event::Citations(c) => named_event("citations", &json!({ "citations": c })),
            Event::Delta(text) => named_event("delta", &json!({ "content": text })),
            Event::Done(m, usage) => named_event(
                "done",
                &json!({ "message": m, "usage": usage.map(crate::openai::usage_json) }),
            ),
            Event::Failed(err) => named_event("error", &err.body()),
        }
    }
}
