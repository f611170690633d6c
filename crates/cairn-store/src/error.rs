use thiserror::Error;

/// Everything that can go wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (an e-mail, an org name): the caller's mistake.
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    /// The thing to change does not exist (or is not the caller's).
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The database failed: IO, a full disk, corruption, a lock held too long.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}
