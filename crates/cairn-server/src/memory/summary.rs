//! Session memory: fitting a stored conversation into the model's context window.
//!
//! What is sent is the system message (the conversation's prompt, recalled memories, and the
//! summary of older turns), the latest turns, and the new message. While everything fits,
//! nothing is summarised. When it does not, the oldest unsummarised turns are folded into
//! the rolling summary by the model, batch by batch, each batch stored at once with the
//! last message it covers, so later turns extend the summary instead of recomputing it.
//! Folding keeps the latest turns in half the room left, so the next few turns fit without
//! folding again.
//!
//! Tokens are counted exactly with the local engine's tokenizer and chat template; for
//! other providers they are estimated.

use cairn_store::{Conversation, ConversationSummary, Message};
use cairn_types::Role;
use serde_json::Value;

use super::calls::{self, Caller};
use super::chat_message;
use crate::config::{ModelConfig, ModelKind};
use crate::error::ApiError;
use crate::openai::chat::ChatMessage;
use crate::openai::estimate_tokens;
use crate::pipeline::resolve_model;
use crate::providers::Provider;
use crate::state::AppState;
use crate::util::now_ms;

/// Template tokens around one message (role markers, separators), when estimating.
const MESSAGE_OVERHEAD: usize = 8;
/// Template tokens around the whole prompt (the assistant's opening), when estimating.
const PROMPT_OVERHEAD: usize = 8;
/// The summary's heading in the system message.
const SUMMARY_HEADING: &str = "Summary of the earlier part of this conversation:";
/// The summarisation instructions, generously.
const INSTRUCTION_TOKENS: usize = 160;

/// One new user turn, before it is fitted.
pub struct Turn {
    /// The system text before the summary: the conversation's prompt and recalled memories.
    pub system: String,
    /// The stored messages, oldest first (the new one not among them).
    pub history: Vec<Message>,
    pub user_text: String,
    /// The answer's `max_tokens`, if the request set one.
    pub max_tokens: Option<i64>,
}

/// A model's context window and how its tokens are counted.
pub struct Sizer<'a> {
    provider: Option<&'a Provider>,
    target: String,
    pub window: usize,
}

impl<'a> Sizer<'a> {
    pub fn new(app: &'a AppState, model: &ModelConfig) -> Sizer<'a> {
        let provider = app.providers.get(&model.provider);
        let known = provider.and_then(|p| p.context_tokens(&model.target));
        let window = match (model.context_tokens, known) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(app.config.memory.default_context_tokens),
        };
        Sizer {
            provider,
            target: model.target.clone(),
            window: window as usize,
        }
    }

    pub fn text(&self, text: &str) -> usize {
        self.provider
            .and_then(|p| p.count_tokens(&self.target, text))
            .unwrap_or_else(|| estimate_tokens(text.chars().count()) as usize)
    }

    pub fn messages(&self, messages: &[ChatMessage]) -> usize {
        self.provider
            .and_then(|p| p.count_prompt_tokens(&self.target, messages))
            .unwrap_or_else(|| {
                messages
                    .iter()
                    .map(|m| self.text(&m.text()) + MESSAGE_OVERHEAD)
                    .sum::<usize>()
                    + PROMPT_OVERHEAD
            })
    }

    /// `text` cut (at a character boundary) to at most `max` tokens.
    pub fn truncate(&self, text: &str, max: usize) -> String {
        let mut text = text.trim();
        loop {
            let n = self.text(text);
            if n <= max || text.is_empty() {
                return text.to_string();
            }
            let chars = text.chars().count();
            let keep = (chars * max / n).min(chars.saturating_sub(1));
            let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
            text = text[..end].trim_end();
        }
    }
}

fn resolve<'a>(
    app: &'a AppState,
    caller: &Caller,
    model: Option<&str>,
) -> Result<&'a ModelConfig, ApiError> {
    let tier = app.tier_of(&caller.principal.user.tier)?;
    resolve_model(
        &app.config,
        app.route_policy.as_ref(),
        tier,
        model,
        ModelKind::Chat,
    )
}

fn system_text(system: &str, summary: Option<&str>) -> String {
    match summary {
        Some(s) if !s.is_empty() => {
            let mut text = system.to_string();
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(SUMMARY_HEADING);
            text.push('\n');
            text.push_str(s);
            text
        }
        _ => system.to_string(),
    }
}

fn role_of(message: &Message) -> Option<Role> {
    serde_json::from_value(Value::String(message.role.clone())).ok()
}

/// The messages to send for `turn`: see the module docs.
pub async fn fit(
    app: &AppState,
    caller: &Caller,
    conversation: &Conversation,
    model: Option<&str>,
    turn: Turn,
) -> Result<Vec<ChatMessage>, ApiError> {
    let config = &app.config.memory;
    let chat_model = resolve(app, caller, model)?;
    let sizer = Sizer::new(app, chat_model);
    let reserve = turn
        .max_tokens
        .map_or(config.reply_reserve_tokens as usize, |m| {
            (m.max(1) as usize).min(config.reply_reserve_tokens as usize)
        })
        .min(sizer.window / 2);
    let budget = sizer.window - reserve;
    // A summary takes at most a quarter of the window, whatever the configuration says.
    let max_summary = (config.summary_max_tokens as usize).min(sizer.window / 4);
    let user_id = &caller.principal.user.id;

    let stored = app.store.get_summary(user_id, &conversation.id).await?;
    let through = stored.as_ref().map_or(0, |s| s.through_seq);
    let mut summary = stored.map(|s| s.summary);
    let pending: Vec<(&Message, Role)> = turn
        .history
        .iter()
        .filter(|m| m.seq > through)
        .filter_map(|m| Some((m, role_of(m)?)))
        .collect();
    let costs: Vec<usize> = pending
        .iter()
        .map(|(m, _)| sizer.text(&m.content) + MESSAGE_OVERHEAD)
        .collect();
    let user_cost = sizer.text(&turn.user_text) + MESSAGE_OVERHEAD;
    let system_cost = sizer.text(&system_text(&turn.system, summary.as_deref())) + MESSAGE_OVERHEAD;
    let total = system_cost + costs.iter().sum::<usize>() + user_cost + PROMPT_OVERHEAD;

    let mut keep_from = 0;
    if total > budget {
        // Room for turns once a full-size summary is in the system message.
        let fixed = sizer.text(&turn.system)
            + sizer.text(SUMMARY_HEADING)
            + max_summary
            + MESSAGE_OVERHEAD
            + user_cost
            + PROMPT_OVERHEAD;
        let room = budget.saturating_sub(fixed);
        let target = room / 2;
        let mut kept = 0;
        keep_from = pending.len();
        for (i, cost) in costs.iter().enumerate().rev() {
            // The latest exchange stays whenever it fits at all.
            let limit = if pending.len() - i <= 2 { room } else { target };
            if kept + cost > limit {
                break;
            }
            kept += cost;
            keep_from = i;
        }
        // Kept turns start with the user's (some chat templates insist on alternation).
        while pending
            .get(keep_from)
            .is_some_and(|(_, role)| *role != Role::User)
        {
            keep_from += 1;
        }
        let to_fold: Vec<&Message> = pending[..keep_from].iter().map(|(m, _)| *m).collect();
        summary = fold(
            app,
            caller,
            conversation,
            model,
            summary,
            &to_fold,
            max_summary,
        )
        .await;
    }

    let mut messages = Vec::with_capacity(pending.len() - keep_from + 2);
    let system = system_text(&turn.system, summary.as_deref());
    let has_system = !system.is_empty();
    if has_system {
        messages.push(chat_message(Role::System, &system));
    }
    for (m, role) in &pending[keep_from..] {
        messages.push(chat_message(*role, &m.content));
    }
    messages.push(chat_message(Role::User, &turn.user_text));
    // The counts above are per message; the rendered prompt is the judge. Drop the oldest
    // kept turns while it is over (never the system message or the new one).
    let first_turn = usize::from(has_system);
    while messages.len() > first_turn + 1 && sizer.messages(&messages) > budget {
        messages.remove(first_turn);
        while messages.len() > first_turn + 1 && messages[first_turn].role != Role::User {
            messages.remove(first_turn);
        }
    }
    Ok(messages)
}

/// Folds `messages` into the summary, in batches that fit the summarising model; stores the
/// summary after each batch. Returns the newest summary there is: on a failure (logged), the
/// last one made.
async fn fold(
    app: &AppState,
    caller: &Caller,
    conversation: &Conversation,
    model: Option<&str>,
    mut summary: Option<String>,
    messages: &[&Message],
    max_summary: usize,
) -> Option<String> {
    if messages.is_empty() {
        return summary;
    }
    let config = &app.config.memory;
    let summary_model = config.model.as_deref().or(model);
    let sizer = match resolve(app, caller, summary_model) {
        Ok(m) => Sizer::new(app, m),
        Err(err) => {
            tracing::warn!(error = %err, "no model to summarise with; older turns are left out");
            return summary;
        }
    };
    let max_summary = max_summary.min(sizer.window / 4);
    // The prompt holds the instructions, the previous summary and the batch, and leaves room
    // for the new summary.
    let batch_budget = sizer
        .window
        .saturating_sub(INSTRUCTION_TOKENS + 2 * max_summary)
        .max(64);
    // Each batch with the sequence number of its last message.
    let mut batches: Vec<(Vec<String>, i64)> = Vec::new();
    let mut lines = Vec::new();
    let mut last_seq = 0;
    let mut cost = 0;
    for m in messages {
        let who = if m.role == "assistant" {
            "Assistant"
        } else {
            "User"
        };
        let line = format!(
            "{who}: {}",
            sizer.truncate(&m.content, batch_budget.saturating_sub(8))
        );
        let line_cost = sizer.text(&line) + 2;
        if cost + line_cost > batch_budget && !lines.is_empty() {
            batches.push((std::mem::take(&mut lines), last_seq));
            cost = 0;
        }
        lines.push(line);
        cost += line_cost;
        last_seq = m.seq;
    }
    if !lines.is_empty() {
        batches.push((lines, last_seq));
    }
    for (lines, through_seq) in batches {
        let prompt = summary_messages(summary.as_deref(), &lines, max_summary);
        match calls::complete(
            app,
            caller,
            calls::SUMMARY_ROUTE,
            summary_model.map(str::to_string),
            prompt,
            max_summary as u32,
        )
        .await
        {
            Ok(text) if !text.trim().is_empty() => {
                let text = sizer.truncate(&text, max_summary);
                let record = ConversationSummary {
                    conversation_id: conversation.id.clone(),
                    summary: text.clone(),
                    through_seq,
                    updated_at: now_ms(),
                };
                if let Err(err) = app
                    .store
                    .put_summary(&caller.principal.user.id, &record)
                    .await
                {
                    tracing::warn!(error = %err, "cannot store a conversation summary");
                }
                metrics::counter!("cairn_memory_summaries_total").increment(1);
                summary = Some(text);
            }
            Ok(_) => {
                tracing::warn!("the model returned an empty summary; older turns are left out");
                break;
            }
            Err(err) => {
                tracing::warn!(error = %err, "summarising failed; older turns are left out of this request");
                break;
            }
        }
    }
    summary
}

fn summary_messages(
    previous: Option<&str>,
    lines: &[String],
    max_tokens: usize,
) -> Vec<ChatMessage> {
    let words = max_tokens * 3 / 4;
    let system = format!(
        "You keep a running summary of a conversation between a user and an assistant. \
Rewrite the summary so that it also covers the new messages. Keep names, facts about the \
user, decisions and open questions; leave out small talk. Use at most {words} words, in \
plain sentences, and write only the summary."
    );
    let user = format!(
        "Summary so far:\n{}\n\nNew messages:\n{}\n\nUpdated summary:",
        previous.unwrap_or("(nothing yet)"),
        lines.join("\n")
    );
    vec![
        chat_message(Role::System, &system),
        chat_message(Role::User, &user),
    ]
}
