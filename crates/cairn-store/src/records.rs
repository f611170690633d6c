//! The rows the store keeps, as plain data.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserRole {
    Admin,
    Member,
}

impl UserRole {
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Admin => "admin",
            UserRole::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<UserRole> {
        match s {
            "admin" => Some(UserRole::Admin),
            "member" => Some(UserRole::Member),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: UserRole,
    pub tier: String,
    pub org_id: Option<String>,
    #[serde(skip_serializing)]
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: i64,
}

/// The changeable parts of a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    pub name: Option<String>,
    pub role: Option<UserRole>,
    pub tier: Option<String>,
    pub disabled: Option<bool>,
}

/// An API key as stored: only its SHA-256 hash, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The first characters of the key, safe to show so people can tell keys apart.
    pub prefix: String,
    #[serde(skip_serializing)]
    pub hash: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Per-key limits tighter than the tier's, if any.
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u32>,
}

impl ApiKey {
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now_ms)
    }
}

/// One metered model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageRecord {
    pub id: String,
    pub at: i64,
    /// UTC calendar day `YYYY-MM-DD` of `at`, kept for cheap grouping.
    pub day: String,
    pub request_id: String,
    pub user_id: String,
    pub key_id: Option<String>,
    pub org_id: Option<String>,
    pub route: String,
    pub model: String,
    pub provider: String,
    pub status: u16,
    pub stream: bool,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// Cost in billionths of the configured currency unit.
    pub cost_nanos: i64,
    pub latency_ms: u32,
    pub ttft_ms: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UsageGroup {
    Day,
    Model,
    Key,
    User,
}

/// Which usage to sum, and how to group it. Days are inclusive `YYYY-MM-DD` bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageQuery {
    pub user_id: Option<String>,
    pub key_id: Option<String>,
    pub from_day: Option<String>,
    pub to_day: Option<String>,
    pub group_by: UsageGroup,
}

/// Which usage records to read: `from_ms <= at < to_ms`, optionally one user's or one
/// model's. With `before_id`, records at exactly `to_ms` whose id sorts before it are read
/// too: `(to_ms, before_id)` is then a cursor, the last record of the previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageFilter {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub before_id: Option<String>,
    pub user_id: Option<String>,
    pub model: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageRow {
    /// The value of the grouping column (a day, a model, a key id or a user id).
    pub group: String,
    pub requests: u64,
    pub errors: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_nanos: i64,
    pub avg_latency_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Keyset pagination: items updated strictly before `before`, at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub before: Option<i64>,
}

/// A place in a list sorted newest first by a time, ties broken by id (descending). A page
/// after it holds the items with an earlier time, or the same time and a smaller id, so items
/// that share a millisecond (an import, a burst) are never skipped, unlike a [`Page`] bound
/// by time alone. `id: ""` keeps exactly what [`Page::before`] keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: String,
}

/// At most `limit` items after `after` (from the newest when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorPage {
    pub limit: u32,
    pub after: Option<Cursor>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub id: String,
    pub conversation_id: String,
    pub role: String,
    pub content: String,
    pub model: Option<String>,
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub role: String,
    pub content: String,
    pub model: Option<String>,
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
    pub created_at: i64,
}

/// A person's verdict on an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    Up,
    Down,
}

impl Rating {
    /// As stored: +1 or -1.
    pub fn score(self) -> i64 {
        match self {
            Rating::Up => 1,
            Rating::Down => -1,
        }
    }

    pub fn from_score(score: i64) -> Option<Rating> {
        match score {
            1 => Some(Rating::Up),
            -1 => Some(Rating::Down),
            _ => None,
        }
    }
}

/// Thumbs up or down, with an optional comment, that a user gave an assistant message of one
/// of their conversations: one per message and user. The model that wrote the answer is kept
/// with it, so feedback can be grouped by model without reading the messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub id: String,
    pub message_id: String,
    pub conversation_id: String,
    pub user_id: String,
    pub rating: Rating,
    pub comment: Option<String>,
    pub model: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Feedback to give, or to change: a second one for the same message and user replaces the
/// rating and comment of the first (its id and `created_at` stay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeedback {
    pub id: String,
    pub message_id: String,
    pub user_id: String,
    pub rating: Rating,
    pub comment: Option<String>,
    pub at: i64,
}

/// Which feedback to list (everyone's), newest change first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackQuery {
    pub rating: Option<Rating>,
    pub model: Option<String>,
    pub page: CursorPage,
}

/// Feedback with what it is about: the rated answer, the user's message just before it and
/// the conversation's system prompt, the example a fine-tuning or evaluation set is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackEntry {
    #[serde(flatten)]
    pub feedback: Feedback,
    pub answer: String,
    /// `None` when the answer has no user message before it.
    pub prompt: Option<String>,
    pub system_prompt: Option<String>,
}
