//! Request bodies parsed at the edge, with errors a client can act on.
//!
//! axum's own `Json` extractor answers with plain-text rejections; [`ApiJson`] reads the body
//! under the configured size limit (413 beyond it, before reading when `Content-Length`
//! already says so), checks UTF-8 (400 naming the byte), then parses with the JSON path of
//! the offending field reported as OpenAI's `param`.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_LENGTH;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.config.server.max_body_bytes;
        let bytes = read_body(req, limit).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub async fn read_body(req: Request, limit: usize) -> Result<bytes::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit_bytes: limit });
    }
    let body: Body = req.into_body();
    axum::body::to_bytes(body, limit).await.map_err(|err| {
        // `to_bytes` reports a length-limit breach as an error whose source chain holds
        // `LengthLimitError`; anything else is a broken connection.
        if std::error::Error::source(&err)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
        {
            ApiError::PayloadTooLarge { limit_bytes: limit }
        } else {
            ApiError::invalid(format!("cannot read the request body: {err}"), None)
        }
    })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::InvalidRequest {
            message: "the request body is empty; send a JSON object".into(),
            param: None,
            code: "invalid_json",
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| ApiError::InvalidRequest {
        message: format!(
            "the request body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ),
        param: None,
        code: "invalid_encoding",
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let syntax = inner.is_syntax() || inner.is_eof();
        ApiError::InvalidRequest {
            message: if syntax {
                format!("the request body is not valid JSON: {inner}")
            } else if path == "." {
                format!("invalid request: {inner}")
            } else {
                format!("invalid value for '{path}': {inner}")
            },
            param: (!syntax && path != ".").then_some(path),
            code: if syntax {
                "invalid_json"
            } else {
                "invalid_value"
            },
        }
    })?;
    de.end().map_err(|e| ApiError::InvalidRequest {
        message: format!("the request body is not valid JSON: {e}"),
        param: None,
        code: "invalid_json",
    })?;
    Ok(value)
}

/// Query-string parameters, with the OpenAI error envelope on bad input (axum's own `Query`
/// answers in plain text).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::InvalidRequest {
                message: format!("invalid query string: {}", rejection.body_text()),
                param: None,
                code: "invalid_value",
            })
    }
}

#[cfg(test)]
mod tests;
