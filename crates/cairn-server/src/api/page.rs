//! Keyset pages of a list, the same shape everywhere.

use axum::Json;
use cairn_store::Cursor;
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::ApiError;

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

/// Answers a page of a list paged by a [`Cursor`]: like [`page`], and `next_before_id`, the
/// id of the last item shown, to send as `before_id` with `before` so that items sharing its
/// time are not skipped.
pub fn cursor_page<T: Serialize>(
    mut items: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> Cursor,
) -> Json<Value> {
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next = if has_more {
        items.last().map(key)
    } else {
        None
    };
    Json(json!({
        "object": "list",
        "data": items,
        "has_more": has_more,
        "next_before": next.as_ref().map(|c| c.at),
        "next_before_id": next.map(|c| c.id),
    }))
}

/// The cursor of a request's `before` and `before_id` (without `before_id`, what `before`
/// alone always meant: strictly earlier).
pub fn cursor(before: Option<i64>, before_id: Option<String>) -> Result<Option<Cursor>, ApiError> {
    match (before, before_id) {
        (Some(at), id) => Ok(Some(Cursor {
            at,
            id: id.unwrap_or_default(),
        })),
        (None, None) => Ok(None),
        (None, Some(_)) => Err(ApiError::invalid(
            "'before_id' goes with 'before'",
            Some("before_id"),
        )),
    }
}
