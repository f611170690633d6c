//! Creating users, organisations and keys: shared by the admin API and the CLI.

use cairn_store::{ApiKey, Org, Store, User, UserRole};

use crate::auth::generate_key;
use crate::config::Config;
use crate::error::ApiError;
use crate::util::{new_id, now_ms};

pub struct NewUser {
    pub email: String,
    pub name: Option<String>,
    pub role: UserRole,
    pub tier: Option<String>,
    pub org: Option<String>,
}

pub async fn create_user(
    store: &dyn Store,
    config: &Config,
    input: NewUser,
) -> Result<User, ApiError> {
    let user = build_user(store, config, input).await?;
    store.create_user(&user).await?;
    Ok(user)
}

/// A checked new user, not yet stored (for callers that store it differently, such as a
/// sign-up with an invitation).
pub async fn build_user(
    store: &dyn Store,
    config: &Config,
    input: NewUser,
) -> Result<User, ApiError> {
    let email = input.email.trim().to_lowercase();
    if email.len() < 3 || !email.contains('@') || email.len() > 254 {
        return Err(ApiError::invalid(
            format!("'{email}' is not an e-mail address"),
            Some("email"),
        ));
    }
    let tier = input.tier.unwrap_or_else(|| config.default_tier.clone());
    if config.tier(&tier).is_none() {
        let known: Vec<_> = config.tiers.keys().map(String::as_str).collect();
        return Err(ApiError::invalid(
            format!(
                "there is no tier '{tier}'; configured tiers: {}",
                known.join(", ")
            ),
            Some("tier"),
        ));
    }
    let org_id = match input.org {
        Some(org) => Some(
            store
                .find_org(&org)
                .await?
                .ok_or_else(|| ApiError::not_found("organisation"))?
                .id,
        ),
        None => None,
    };
    let user = User {
        id: new_id(),
        name: input
            .name
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string()),
        email,
        role: input.role,
        tier,
        org_id,
        password_hash: None,
        disabled: false,
        created_at: now_ms(),
    };
    Ok(user)
}

pub async fn create_org(store: &dyn Store, name: &str) -> Result<Org, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::invalid(
            "an organisation name must have 1 to 200 characters",
            Some("name"),
        ));
    }
    let org = Org {
        id: new_id(),
        name: name.to_string(),
        created_at: now_ms(),
    };
    store.create_org(&org).await?;
    Ok(org)
}

pub struct NewKey {
    pub name: Option<String>,
    pub expires_in_days: Option<u32>,
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u32>,
}

/// Creates a key for `user`; returns the stored key and the secret, which is never stored
/// and cannot be shown again.
pub async fn create_key(
    store: &dyn Store,
    user: &User,
    input: NewKey,
) -> Result<(ApiKey, String), ApiError> {
    if input.expires_in_days == Some(0) {
        return Err(ApiError::invalid(
            "'expires_in_days' must be at least 1",
            Some("expires_in_days"),
        ));
    }
    if input.requests_per_minute == Some(0) || input.tokens_per_minute == Some(0) {
        return Err(ApiError::invalid("per-key limits must be at least 1", None));
    }
    let generated = generate_key();
    let now = now_ms();
    let key = ApiKey {
        id: new_id(),
        user_id: user.id.clone(),
        name: input.name.unwrap_or_else(|| "default".into()),
        prefix: generated.prefix,
        hash: generated.hash,
        created_at: now,
        expires_at: input
            .expires_in_days
            .map(|d| now + i64::from(d) * 86_400_000),
        revoked_at: None,
        requests_per_minute: input.requests_per_minute,
        tokens_per_minute: input.tokens_per_minute,
    };
    store.create_api_key(&key).await?;
    Ok((key, generated.secret))
}
