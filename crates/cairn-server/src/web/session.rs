//! Browser sessions: a random token in an `HttpOnly; SameSite=Lax; Path=/` cookie (plus
//! `Secure` over HTTPS), stored only as its SHA-256 hash with an expiry, ended by signing
//! out.
//!
//! CSRF: `SameSite=Lax` already keeps the cookie off cross-site writes in current browsers;
//! on top of that every cookie-authenticated request whose method is not GET, HEAD or
//! OPTIONS must carry the session's synchronizer token (from `GET /api/session`) in the
//! [`CSRF_HEADER`] header, or it is refused with 403 `csrf_failed`. A page on another site
//! can neither read that token nor set a custom header without a CORS preflight Cairn never
//! grants.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use cairn_store::{Session, User};
use cookie::{Cookie, SameSite};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::auth::{Principal, hash_key};
use crate::config::SecureCookies;
use crate::error::ApiError;
use crate::state::AppState;
use crate::util::{new_id, now_ms};

pub const COOKIE: &str = "cairn_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session a request was authenticated by, put in the request's extensions by the
/// [`Principal`] extractor.
#[derive(Debug, Clone)]
pub struct CurrentSession(pub Arc<Session>);

/// The session token the browser sent, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE && !c.value().is_empty())
        .map(|c| c.value().to_string())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Equal without an early exit: comparing hashes makes the time independent of where the
/// strings differ.
fn same_secret(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

pub fn check_csrf(headers: &HeaderMap, session: &Session) -> Result<(), ApiError> {
    let presented = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match presented {
        Some(token) if same_secret(token, &session.csrf_token) => Ok(()),
        _ => Err(ApiError::Forbidden {
            message: format!(
                "this request needs the session's CSRF token in the {CSRF_HEADER} header \
                 (from GET /api/session)"
            ),
            code: "csrf_failed",
        }),
    }
}

/// Resolves a session cookie to its user, checking CSRF on writes; records the session in
/// the request's extensions.
pub async fn authenticate(
    state: &AppState,
    parts: &mut Parts,
    token: &str,
) -> Result<Principal, ApiError> {
    let session = state
        .store
        .find_session(&hash_key(token), now_ms())
        .await?
        .ok_or_else(|| ApiError::Unauthenticated("the session has ended; sign in again".into()))?;
    if !is_safe(&parts.method) {
        check_csrf(&parts.headers, &session)?;
    }
    let user = state
        .store
        .find_user(&session.user_id)
        .await?
        .ok_or_else(|| ApiError::Unauthenticated("the session's account is gone".into()))?;
    if user.disabled {
        return Err(ApiError::Unauthenticated("this account is disabled".into()));
    }
    parts.extensions.insert(CurrentSession(Arc::new(session)));
    Ok(Principal {
        user: Arc::new(user),
        key: None,
    })
}

/// Opens a session for `user`; returns it and the token for the cookie (never stored).
pub async fn start(app: &AppState, user: &User) -> Result<(Session, String), ApiError> {
    let now = now_ms();
    // Sweeping here keeps the table to live sessions without a background job.
    app.store.delete_expired_sessions(now).await?;
    let token = super::random_token(32);
    let session = Session {
        id: new_id(),
        user_id: user.id.clone(),
        token_hash: hash_key(&token),
        csrf_token: super::random_token(32),
        created_at: now,
        expires_at: now + app.config.web.session_ttl.as_millis() as i64,
    };
    app.store.create_session(&session).await?;
    Ok((session, token))
}

fn secure(app: &AppState, request: &HeaderMap) -> bool {
    match app.config.web.secure_cookies {
        SecureCookies::Always => true,
        SecureCookies::Never => false,
        SecureCookies::Auto => request
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https")),
    }
}

fn cookie_header(cookie: Cookie<'_>) -> HeaderValue {
    HeaderValue::from_str(&cookie.to_string()).expect("cookie values are URL-safe base64")
}

/// `Set-Cookie` for a new session.
pub fn set_cookie(app: &AppState, request: &HeaderMap, token: &str) -> HeaderValue {
    let max_age = cookie::time::Duration::seconds(app.config.web.session_ttl.as_secs() as i64);
    cookie_header(
        Cookie::build((COOKIE, token.to_string()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure(app, request))
            .max_age(max_age)
            .build(),
    )
}

/// `Set-Cookie` that makes the browser forget the session.
pub fn clear_cookie(app: &AppState, request: &HeaderMap) -> HeaderValue {
    cookie_header(
        Cookie::build((COOKIE, ""))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure(app, request))
            .max_age(cookie::time::Duration::ZERO)
            .build(),
    )
}

/// What the browser learns about its session: who, the CSRF token, until when.
pub fn session_json(app: &AppState, user: &User, session: &Session) -> Value {
    let tier = app.tier_of(&user.tier).ok();
    // The chat page's model picker offers these (the tier's models minus embedding ones).
    let chat_models = |models: &[String]| -> Vec<String> {
        models
            .iter()
            .filter(|m| {
                app.config
                    .models
                    .get(*m)
                    .is_some_and(|c| c.kind == crate::config::ModelKind::Chat)
            })
            .cloned()
            .collect()
    };
    json!({
        "user": user,
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at,
        "tier": tier.map(|t| json!({
            "name": t.name,
            "models": t.models,
            "chat_models": chat_models(&t.models),
            "default_model": t.default_model,
        })),
    })
}

/// Refuses a cross-site request to an unauthenticated write (sign-in, sign-up), where
/// there is no session token to check yet: when the browser names the page's origin, it
/// must be this server.
pub fn check_same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    if origin_host.is_some() && origin_host == host {
        return Ok(());
    }
    Err(ApiError::Forbidden {
        message: "cross-site request refused".into(),
        code: "cross_origin",
    })
}

/// A request authenticated by a session cookie (not an API key).
pub struct SignedIn {
    pub principal: Principal,
    pub session: Arc<Session>,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let session = parts
            .extensions
            .get::<CurrentSession>()
            .map(|CurrentSession(s)| s.clone())
            .ok_or_else(|| {
                ApiError::Unauthenticated("this route needs a signed-in browser session".into())
            })?;
        Ok(SignedIn { principal, session })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; cairn_session=tok"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie_token(&headers).as_deref(), Some("tok"));
        let mut empty = HeaderMap::new();
        empty.append(header::COOKIE, HeaderValue::from_static("cairn_session="));
        assert_eq!(cookie_token(&empty), None);
    }

    #[test]
    fn origin_must_be_this_host_when_given() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(check_same_origin(&headers).is_ok());
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(check_same_origin(&headers).is_ok());
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(check_same_origin(&headers).is_err());
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(check_same_origin(&headers).is_err());
    }
}
