//! Keyset pages of a list, the same shape everywhere.

use axum::Json;
use serde::Serialize;
use serde_json::{Value, json};

/// Answers a page: the store was asked for `limit + 1` items, so one more than `limit` means
/// there is a next page, asked for with `before` = `next_before` (the sort key of the last
/// item shown).
pub fn page<T: Serialize>(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> i64) -> Json<Value> {
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_before = if has_more {
        items.last().map(key)
    } else {
        None
    };
    Json(
        json!({ "object": "list", "data": items, "has_more": has_more, "next_before": next_before }),
    )
}
