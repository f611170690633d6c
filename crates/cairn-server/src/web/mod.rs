//! The browser side of Cairn: password accounts, cookie sessions with CSRF protection,
//! invitations, sign-in throttling, and the single-page app's embedded assets.
//!
//! A browser authenticates with a session cookie instead of an API key; the [`Principal`]
//! extractor accepts either, so every `/api/*` and `/v1/*` route serves both. Writes made
//! with a cookie must echo the session's CSRF token in a header (see [`session`]).
//!
//! [`Principal`]: crate::auth::Principal

pub mod assets;
pub mod invitations;
pub mod password;
pub mod session;
pub mod throttle;

use base64::Engine;
use rand::RngCore;

/// A random secret of `bytes` bytes, URL-safe base64 without padding (32 bytes: 43 chars).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
