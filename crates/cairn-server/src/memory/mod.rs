//! Memory for stored conversations.
//!
//! - **Session memory** ([`summary`]): a conversation that outgrows the model's context window
//!   is sent as system prompt + a rolling summary of the older turns + the latest turns. The
//!   summary is made by the model, stored with the last message it covers, and extended
//!   incrementally when more turns have to be folded in.
//! - **Long-term memory** ([`longterm`]): after each turn, durable facts the user stated
//!   about themselves are extracted ([`extract`]: patterns + the model + junk filters),
//!   compared with the user's memories by embedding similarity, and added, used to update
//!   a near match, or dropped as duplicates. The most relevant memories are recalled into
//!   later prompts.
//!
//! Memory never fails a user's turn: every internal model call that fails is logged and
//! skipped. Extraction runs in the background after the assistant's turn is stored.

pub mod calls;
pub mod extract;
pub mod longterm;
pub mod summary;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cairn_store::{Conversation, Message};
use cairn_types::Role;
use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::openai::chat::ChatMessage;
use crate::state::AppState;
use calls::Caller;

/// Memory's shared state: one extraction at a time per user (so two quick turns cannot
/// store the same fact twice), and a count of extractions running (tests wait on it).
#[derive(Default)]
pub struct MemoryTasks {
    per_user: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    running: RunningCount,
}

struct RunningCount(watch::Sender<usize>);

impl Default for RunningCount {
    fn default() -> Self {
        RunningCount(watch::channel(0).0)
    }
}

impl MemoryTasks {
    fn user_lock(&self, user_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.per_user.lock().unwrap_or_else(|p| p.into_inner());
        // Forget locks nobody holds, so the map does not grow with every user ever seen.
        if map.len() > 1024 {
            map.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        map.entry(user_id.to_string()).or_default().clone()
    }

    /// Waits until no extraction is running.
    pub async fn idle(&self) {
        let mut rx = self.running.0.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

/// Whether long-term memory is on for this user: on in the config, and not turned off by them.
pub async fn enabled_for(app: &AppState, user_id: &str) -> Result<bool, ApiError> {
    if !app.config.memory.enabled {
        return Ok(false);
    }
    Ok(app.store.memory_enabled(user_id).await? != Some(false))
}

/// The messages to send for a new user turn in a stored conversation: one system message
/// (the conversation's prompt, what is known about the user, the summary of older turns),
/// then the latest turns that fit the model's context window, then the new message.
pub async fn assemble(
    app: &AppState,
    principal: &Principal,
    request_id: &str,
    conversation: &Conversation,
    model: Option<&str>,
    user_text: &str,
    max_tokens: Option<i64>,
) -> Result<Vec<ChatMessage>, ApiError> {
    let caller = Caller {
        principal: principal.clone(),
        request_id: request_id.to_string(),
    };
    let recalled = if enabled_for(app, &principal.user.id).await? {
        longterm::recall(app, &caller, user_text).await
    } else {
        Vec::new()
    };
    let mut system = conversation.system_prompt.clone().unwrap_or_default();
    if !recalled.is_empty() {
        if !system.is_empty() {
            system.push_str("\n\n");
        }
        system.push_str(&longterm::recall_block(&recalled));
    }
    let history = app.store.list_messages(&conversation.id).await?;
    summary::fit(
        app,
        &caller,
        conversation,
        model,
        summary::Turn {
            system,
            history,
            user_text: user_text.to_string(),
            max_tokens,
        },
    )
    .await
}

/// Schedules extraction from a finished turn, in the background. Never fails the turn.
pub fn after_turn(
    app: &AppState,
    principal: Principal,
    request_id: String,
    user_message: Message,
    assistant_message: Message,
) {
    let app = app.clone();
    app.memory_tasks.running.0.send_modify(|n| *n += 1);
    let running = Running(app.clone());
    tokio::spawn(async move {
        let _running = running;
        let lock = app.memory_tasks.user_lock(&principal.user.id);
        {
            let _one_at_a_time = lock.lock().await;
            let caller = Caller {
                principal,
                request_id,
            };
            if let Err(err) =
                longterm::learn(&app, &caller, &user_message, &assistant_message).await
            {
                tracing::warn!(error = %err, "memory extraction failed; the turn is unaffected");
            }
        }
    });
}

/// Counts one background extraction until dropped (even by a panic).
struct Running(AppState);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.memory_tasks.running.0.send_modify(|n| *n -= 1);
    }
}

/// A plain text message.
pub fn chat_message(role: Role, content: &str) -> ChatMessage {
    ChatMessage {
        role,
        content: Some(Value::String(content.to_string())),
        name: None,
        tool_calls: None,
        tool_call_id: None,
        extra: Map::new(),
    }
}
