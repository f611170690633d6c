//! Server-sent events, written by hand: OpenAI's stream format is plain `data:` lines ending
//! in `data: [DONE]`, and writing bytes directly keeps the hot path free of an extra layer.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde_json::Value;

use crate::error::ApiError;

pub fn data_line(value: &Value) -> Bytes {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(b"data: ");
    serde_json::to_writer(&mut out, value).expect("JSON values always serialise");
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

pub fn named_event(name: &str, value: &Value) -> Bytes {
    let mut out = format!("event: {name}\n").into_bytes();
    out.extend_from_slice(&data_line(value));
    Bytes::from(out)
}

/// An OpenAI-style stream: each chunk as a `data:` line; an error as a final `data:` line
/// holding the error envelope (the SDKs raise it); `data: [DONE]` after a clean end.
pub fn openai_stream(
    chunks: impl Stream<Item = Result<Value, ApiError>> + Send + 'static,
) -> Response {
    let mut failed = false;
    let body = chunks
        .map(move |item| match item {
            Ok(chunk) => Some(data_line(&chunk)),
            Err(err) if !failed => {
                failed = true;
                tracing::warn!(error = %err, "stream ended with an error");
                Some(data_line(&err.body()))
            }
            Err(_) => None,
        })
        .take_while(|item| std::future::ready(item.is_some()))
        .filter_map(std::future::ready)
        .chain(futures::stream::once(async {
            Bytes::from_static(b"data: [DONE]\n\n")
        }))
        .map(Ok::<_, Infallible>);
    event_stream_response(Body::from_stream(body))
}

pub fn event_stream_response(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
