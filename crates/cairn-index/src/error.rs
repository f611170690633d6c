use std::path::PathBuf;

/// Every failure of the knowledge index. Input errors (`Dimensions`, `Invalid`) are the
/// caller's; the rest are internal.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("vector has {got} dimensions, the index has {expected}")]
    Dimensions { expected: usize, got: usize },
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("index files under {path} are corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("full-text index: {0}")]
    FullText(#[from] tantivy::TantivyError),
    #[error("index io: {0}")]
    Io(#[from] std::io::Error),
    #[error("embedding failed: {0}")]
    Embedding(#[source] Box<dyn std::error::Error + Send + Sync>),
}
