//! First start: an empty database gets an admin, and the operator is told how to get its key.

use std::io::Write;

use anyhow::Context;
use cairn_store::{Store, UserRole};

use crate::accounts::{self, NewKey, NewUser};
use crate::config::Config;

pub const FIRST_ADMIN_EMAIL: &str = "admin@localhost";
pub const ADMIN_KEY_FILE: &str = "admin-key.txt";

pub async fn ensure_admin(store: &dyn Store, config: &Config) -> anyhow::Result<()> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let user = accounts::create_user(
        store,
        config,
        NewUser {
            email: FIRST_ADMIN_EMAIL.into(),
            name: Some("Administrator".into()),
            role: UserRole::Admin,
            tier: None,
            org: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot create the first admin: {e}"))?;
    let (_, secret) = accounts::create_key(
        store,
        &user,
        NewKey {
            name: Some("bootstrap".into()),
            expires_in_days: None,
            requests_per_minute: None,
            tokens_per_minute: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot create the first admin key: {e}"))?;
    let path = config.store.data_dir.join(ADMIN_KEY_FILE);
    write_private(&path, &format!("{secret}\n"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    tracing::warn!(
        admin = FIRST_ADMIN_EMAIL,
        key_file = %path.display(),
        "first start: created an admin. Its API key is in the key file (readable by you only); \
         copy it somewhere safe and delete the file. Make more keys with `cairn keys create --user {FIRST_ADMIN_EMAIL}`"
    );
    Ok(())
}

fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    // A key file left by an earlier database is stale: replace it.
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}
