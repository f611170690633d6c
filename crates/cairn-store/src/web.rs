//! What the store keeps for the web app: browser sessions, sign-up invitations and
//! passwords.
//!
//! Session and invitation tokens are stored as hashes only; looking one up takes the hash of
//! what the browser presented. Expired sessions are never returned, whether or not they
//! have been swept yet.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Result, User};

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    #[serde(skip_serializing)]
    pub token_hash: String,
    /// Echoed by the browser in a header on every write (synchronizer token).
    #[serde(skip_serializing)]
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A link an admin hands out so that someone can sign up while sign-up is by invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: String,
    #[serde(skip_serializing)]
    pub token_hash: String,
    /// When set, only this address may use it.
    pub email: Option<String>,
    /// The new user's tier; `None`: the default tier.
    pub tier: Option<String>,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub used_by: Option<String>,
    pub revoked_at: Option<i64>,
}

impl Invitation {
    /// Usable: not used, not revoked, not expired.
    pub fn is_open(&self, now_ms: i64) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none() && self.expires_at > now_ms
    }
}

#[async_trait]
pub trait WebStore: Send + Sync {
    /// Sets (or with `None` removes) a user's password hash; false when there is no such
    /// user.
    async fn set_password_hash(&self, user_id: &str, hash: Option<&str>) -> Result<bool>;

    async fn create_session(&self, session: &Session) -> Result<()>;
    /// The session with this token hash, unless it expired before `now_ms`.
    async fn find_session(&self, token_hash: &str, now_ms: i64) -> Result<Option<Session>>;
    /// Returns false when there was no such session.
    async fn delete_session(&self, id: &str) -> Result<bool>;
    /// Ends every session of a user (a password change, a disabled account), but `keep`.
    async fn delete_user_sessions(&self, user_id: &str, keep: Option<&str>) -> Result<u64>;
    /// Sweeps sessions that expired before `now_ms`.
    async fn delete_expired_sessions(&self, now_ms: i64) -> Result<u64>;

    async fn create_invitation(&self, invitation: &Invitation) -> Result<()>;
    /// Newest first.
    async fn list_invitations(&self) -> Result<Vec<Invitation>>;
    async fn find_invitation(&self, token_hash: &str) -> Result<Option<Invitation>>;
    /// Marks an open invitation revoked; false when there is none with this id.
    async fn revoke_invitation(&self, id: &str, at_ms: i64) -> Result<bool>;
    /// Creates `user` and uses up the invitation in one transaction: either both happen or
    /// neither. Fails with `NotFound { what: "invitation" }` when the invitation is not open
    /// at `user.created_at` (used, revoked, expired or unknown), and with
    /// `Conflict { what: "user" }` when the e-mail is taken.
    async fn create_user_with_invitation(&self, user: &User, token_hash: &str) -> Result<()>;
}
