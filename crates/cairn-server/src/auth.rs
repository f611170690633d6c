//! API keys and the authenticated caller.
//!
//! A key is `sk-cairn-` followed by 43 random base62 characters (256 bits). Only its SHA-256
//! hash is stored: keys are random and long, so a fast hash is as safe as a slow one and
//! keeps authentication off the hot path's budget. The first characters are kept as a
//! visible prefix so people can tell keys apart.
//!
//! Lookups go through a short-lived in-memory cache. Changes made by this process (revoking
//! a key, changing a user) clear it at once; changes made elsewhere (the CLI, another
//! replica) take effect within [`CACHE_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use cairn_store::{ApiKey, Store, User, UserRole};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

pub const KEY_PREFIX: &str = "sk-cairn-";
const KEY_RANDOM_CHARS: usize = 43;
const VISIBLE_RANDOM_CHARS: usize = 6;
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A freshly generated key: the secret (shown once) and what gets stored.
pub struct NewKey {
    pub secret: String,
    pub prefix: String,
    pub hash: String,
}

pub fn generate_key() -> NewKey {
    let mut rng = rand::rng();
    let random: String = (0..KEY_RANDOM_CHARS)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect();
    let secret = format!("{KEY_PREFIX}{random}");
    NewKey {
        prefix: secret[..KEY_PREFIX.len() + VISIBLE_RANDOM_CHARS].to_string(),
        hash: hash_key(&secret),
        secret,
    }
}

pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Who is calling, resolved once per request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: Arc<User>,
    pub key: Option<Arc<ApiKey>>,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.user.role == UserRole::Admin
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                message: "this route needs an admin".into(),
                code: "admin_required",
            })
        }
    }
}

#[derive(Clone)]
struct Cached {
    key: Arc<ApiKey>,
    user: Arc<User>,
    at: Instant,
}

#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, Cached>>,
}

impl KeyCache {
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Resolves a presented secret to its key and user, or says why not.
    pub async fn authenticate(
        &self,
        store: &dyn Store,
        secret: &str,
        now_ms: i64,
    ) -> Result<Principal, ApiError> {
        let hash = hash_key(secret);
        let cached = {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            entries
                .get(&hash)
                .filter(|c| c.at.elapsed() < CACHE_TTL)
                .cloned()
        };
        let Cached { key, user, .. } = match cached {
            Some(c) => c,
            None => {
                let key = store
                    .find_api_key_by_hash(&hash)
                    .await?
                    .ok_or_else(invalid_key)?;
                let user = store
                    .find_user(&key.user_id)
                    .await?
                    .ok_or_else(|| ApiError::Internal(format!("key {} has no user", key.id)))?;
                let entry = Cached {
                    key: Arc::new(key),
                    user: Arc::new(user),
                    at: Instant::now(),
                };
                let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                if entries.len() > 100_000 {
                    entries.clear();
                }
                entries.insert(hash, entry.clone());
                entry
            }
        };
        if key.revoked_at.is_some() {
            return Err(ApiError::Unauthenticated(
                "this API key has been revoked".into(),
            ));
        }
        if !key.is_active(now_ms) {
            return Err(ApiError::Unauthenticated("this API key has expired".into()));
        }
        if user.disabled {
            return Err(ApiError::Unauthenticated("this account is disabled".into()));
        }
        Ok(Principal {
            user,
            key: Some(key),
        })
    }
}

fn invalid_key() -> ApiError {
    ApiError::Unauthenticated("incorrect API key provided".into())
}

/// Reads the bearer token. A browser's session cookie is the other way in (`crate::web`).
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthenticated(
            "no API key provided: send it as 'Authorization: Bearer sk-cairn-...'".into(),
        )
    })?;
    let value = value.to_str().map_err(|_| {
        ApiError::Unauthenticated("the Authorization header is not valid text".into())
    })?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::Unauthenticated("the Authorization header must be 'Bearer <key>'".into())
        })?;
    if token.is_empty() {
        return Err(invalid_key());
    }
    Ok(token)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        // An API key when one is sent; otherwise a browser's session cookie.
        let principal = match crate::web::session::cookie_token(&parts.headers) {
            Some(token) if !parts.headers.contains_key(AUTHORIZATION) => {
                crate::web::session::authenticate(state, parts, &token).await?
            }
            _ => {
                let token = bearer(parts)?;
                state
                    .keys
                    .authenticate(state.store.as_ref(), token, crate::util::now_ms())
                    .await?
            }
        };
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_prefixed_and_hashed() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(KEY_PREFIX));
        assert_eq!(a.secret.len(), KEY_PREFIX.len() + KEY_RANDOM_CHARS);
        assert!(a.secret.starts_with(&a.prefix));
        assert_eq!(a.hash, hash_key(&a.secret));
        assert_eq!(a.hash.len(), 64);
    }
}
