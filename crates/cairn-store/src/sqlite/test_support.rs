//! What the store's tests share: a fresh database and plain members.

use super::SqliteStore;
use crate::Store;
use crate::records::{User, UserRole};

/// A new, empty store in a temporary folder (kept while the folder lives).
pub(crate) async fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("cairn.db"))
        .await
        .unwrap();
    (dir, store)
}

/// A new store holding the members `ids`.
pub(crate) async fn with_users(ids: &[&str]) -> (tempfile::TempDir, SqliteStore) {
    let (dir, store) = open().await;
    for id in ids {
        store.create_user(&user(id)).await.unwrap();
    }
    (dir, store)
}

/// A member `id` with the address `id@example.test`, created at 1.
pub(crate) fn user(id: &str) -> User {
    User {
        id: id.into(),
        email: format!("{id}@example.test"),
        name: id.into(),
        role: UserRole::Member,
        tier: "free".into(),
        org_id: None,
        password_hash: None,
        disabled: false,
        created_at: 1,
    }
}
