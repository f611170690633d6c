//! The request pipeline every model call goes through:
//!
//! ```text
//! authenticate → validate → route → limit → [hooks: on_request] → provider
//!              → [hooks: on_output, per chunk] → meter → [hooks: on_complete]
//! ```
//!
//! Authentication happens in the extractor ([`crate::auth::Principal`]) and validation in the
//! wire types; this module owns the rest. The seams later layers plug into are the
//! [`Hook`] trait (safety filters, response caching, shadow traffic) and the [`RoutePolicy`]
//! trait (difficulty- and cost-aware routing).

mod admit;
mod budget;
mod chat;
mod embed;
mod hooks;
mod route;
mod settle;

pub use budget::Budgets;
pub use chat::{ChatOutput, MeteredStream, run_chat, scopes};
pub use embed::run_embeddings;
pub use hooks::{CallContext, Hook, HookDecision};
pub use route::{RoutePolicy, TierDefault, resolve_model};
pub use settle::Settlement;
