//! Invitations: single-use sign-up links an admin makes (from the API or the CLI), shown
//! once; only their hash is stored. They expire after `web.invitation_ttl_hours` unless the
//! admin asks for another lifetime.

use std::time::Duration;

use cairn_store::{Invitation, Store};

use crate::auth::hash_key;
use crate::config::Config;
use crate::error::ApiError;
use crate::util::{new_id, now_ms};

pub struct NewInvitation {
    pub email: Option<String>,
    pub tier: Option<String>,
    /// `None`: the configured lifetime.
    pub expires_in_hours: Option<u32>,
    pub created_by: Option<String>,
}

/// Creates an invitation; returns it and its token (shown once, never stored).
pub async fn create(
    store: &dyn Store,
    config: &Config,
    input: NewInvitation,
) -> Result<(Invitation, String), ApiError> {
    let email = input.email.map(|e| e.trim().to_lowercase());
    if let Some(email) = &email
        && (email.len() < 3 || !email.contains('@') || email.len() > 254)
    {
        return Err(ApiError::invalid(
            format!("'{email}' is not an e-mail address"),
            Some("email"),
        ));
    }
    if let Some(tier) = &input.tier
        && config.tier(tier).is_none()
    {
        return Err(ApiError::invalid(
            format!("there is no tier '{tier}'"),
            Some("tier"),
        ));
    }
    let ttl = match input.expires_in_hours {
        Some(0) => {
            return Err(ApiError::invalid(
                "'expires_in_hours' must be at least 1",
                Some("expires_in_hours"),
            ));
        }
        Some(hours) => Duration::from_secs(u64::from(hours) * 3600),
        None => config.web.invitation_ttl,
    };
    let token = super::random_token(32);
    let now = now_ms();
    let invitation = Invitation {
        id: new_id(),
        token_hash: hash_key(&token),
        email,
        tier: input.tier,
        created_by: input.created_by,
        created_at: now,
        expires_at: now + ttl.as_millis() as i64,
        used_at: None,
        used_by: None,
        revoked_at: None,
    };
    store.create_invitation(&invitation).await?;
    Ok((invitation, token))
}

/// The path of the sign-up page that uses an invitation token.
pub fn signup_path(token: &str) -> String {
    format!("/signup?invitation={token}")
}
