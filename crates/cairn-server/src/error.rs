//! The one error type of the HTTP boundary.
//!
//! Every failure a client can see is an [`ApiError`]; [`ApiError::status`] maps each variant
//! to its HTTP status with an exhaustive `match` (no catch-all), and the body is always
//! OpenAI's error envelope `{"error": {"message", "type", "param", "code"}}`, so the official
//! SDKs raise the right exception class on every route.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::limits::RateLimitHeaders;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or a value is out of range.
    #[error("{message}")]
    InvalidRequest {
        message: String,
        param: Option<String>,
        code: &'static str,
    },
    /// No credentials, or credentials that are wrong, expired or revoked.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed to do this (a model outside the tier, an admin route).
    #[error("{message}")]
    Forbidden { message: String, code: &'static str },
    /// The thing asked for does not exist (or is not the caller's to see).
    #[error("{message}")]
    NotFound {
        message: String,
        param: Option<String>,
        code: &'static str,
    },
    #[error("{what} already exists")]
    Conflict { what: String },
    /// The thing is not in a state that allows this (a run that is not waiting, say).
    #[error("{message}")]
    WrongState { message: String },
    #[error("request body is larger than the limit of {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    #[error("{message}")]
    MethodNotAllowed { message: String },
    /// Over a requests- or tokens-per-minute limit.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Duration,
        headers: Box<RateLimitHeaders>,
    },
    /// Too many failed sign-ins for one e-mail from one address (see `crate::web::throttle`).
    #[error("too many failed sign-ins; try again in {} seconds", retry_after.as_secs().max(1))]
    TooManyAttempts { retry_after: Duration },
    /// The monthly token budget is spent.
    #[error("{message}")]
    QuotaExceeded { message: String },
    /// Too much work in flight on this server (or in the local engine's queue).
    #[error("{message}")]
    Overloaded { message: String },
    /// An upstream model server failed, refused, or could not be reached.
    #[error("{message}")]
    BadGateway { message: String, code: &'static str },
    /// No provider can serve the model right now (not loaded, disabled, unhealthy).
    #[error("{message}")]
    Unavailable { message: String },
    /// An upstream did not answer in time.
    #[error("{message}")]
    GatewayTimeout { message: String },
    /// Our own fault. The message is logged; the client sees a generic one.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(message: impl Into<String>, param: Option<&str>) -> ApiError {
        ApiError::InvalidRequest {
            message: message.into(),
            param: param.map(str::to_string),
            code: "invalid_value",
        }
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::NotFound {
            message: format!("{what} not found"),
            param: None,
            code: "not_found",
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(err.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } | ApiError::WrongState { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RateLimited { .. }
            | ApiError::TooManyAttempts { .. }
            | ApiError::QuotaExceeded { .. }
            | ApiError::Overloaded { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::GatewayTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// OpenAI's `error.type`.
    fn kind(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest { .. }
            | ApiError::NotFound { .. }
            | ApiError::Conflict { .. }
            | ApiError::WrongState { .. }
            | ApiError::PayloadTooLarge { .. }
            | ApiError::MethodNotAllowed { .. } => "invalid_request_error",
            ApiError::Unauthenticated(_) => "authentication_error",
            ApiError::Forbidden { .. } => "permission_error",
            ApiError::RateLimited { .. }
            | ApiError::TooManyAttempts { .. }
            | ApiError::Overloaded { .. } => "rate_limit_error",
            ApiError::QuotaExceeded { .. } => "insufficient_quota",
            ApiError::BadGateway { .. }
            | ApiError::Unavailable { .. }
            | ApiError::GatewayTimeout { .. } => "upstream_error",
            ApiError::Internal(_) => "server_error",
        }
    }

    /// OpenAI's `error.code`: stable, machine-readable.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::BadGateway { code, .. } => code,
            ApiError::Unauthenticated(_) => "invalid_api_key",
            ApiError::Conflict { .. } => "already_exists",
            ApiError::WrongState { .. } => "wrong_state",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::RateLimited { .. } => "rate_limit_exceeded",
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::QuotaExceeded { .. } => "insufficient_quota",
            ApiError::Overloaded { .. } => "server_overloaded",
            ApiError::Unavailable { .. } => "model_unavailable",
            ApiError::GatewayTimeout { .. } => "upstream_timeout",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn param(&self) -> Option<&str> {
        match self {
            ApiError::InvalidRequest { param, .. } | ApiError::NotFound { param, .. } => {
                param.as_deref()
            }
            _ => None,
        }
    }

    /// The message a client may see. Internal details stay in the log.
    fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => {
                "the server failed to handle this request; it has been logged".into()
            }
            other => other.to_string(),
        }
    }

    /// The envelope as a JSON value, also used for errors inside an SSE stream.
    pub fn body(&self) -> serde_json::Value {
        json!({
            "error": {
                "message": self.public_message(),
                "type": self.kind(),
                "param": self.param(),
                "code": self.code(),
            }
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, status = status.as_u16(), "request failed");
        }
        let mut headers = HeaderMap::new();
        match &self {
            ApiError::RateLimited {
                retry_after,
                headers: limits,
                ..
            } => {
                limits.apply(&mut headers);
                headers.insert(header::RETRY_AFTER, retry_after_value(*retry_after));
            }
            ApiError::Overloaded { .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::TooManyAttempts { retry_after } => {
                headers.insert(header::RETRY_AFTER, retry_after_value(*retry_after));
            }
            _ => {}
        }
        (status, headers, axum::Json(self.body())).into_response()
    }
}

fn retry_after_value(wait: Duration) -> HeaderValue {
    // Whole seconds, rounded up: a client that waits this long will get through.
    let secs = wait.as_millis().div_ceil(1000).max(1);
    HeaderValue::from(secs as u64)
}

impl From<cairn_store::StoreError> for ApiError {
    fn from(err: cairn_store::StoreError) -> ApiError {
        use cairn_store::StoreError;
        match err {
            StoreError::Conflict { what } => ApiError::Conflict {
                what: what.to_string(),
            },
            StoreError::NotFound { what } => ApiError::not_found(what),
            StoreError::Database(_) | StoreError::Migration(_) | StoreError::DataDir { .. } => {
                ApiError::Internal(err.to_string())
            }
        }
    }
}
