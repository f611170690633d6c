use crate::Format;

/// Why a file could not be turned into blocks. Every variant is the uploader's problem (a bad
/// or hostile file), safe to show them; none is an internal failure of the service.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    #[error("the file is empty")]
    Empty,

    /// A format Cairn does not read (an image, a spreadsheet, a legacy `.doc` …).
    #[error("unsupported file type: {what}")]
    Unsupported { what: String },

    /// Named or declared as text, but the bytes are not text.
    #[error("not text: {reason}")]
    NotText { reason: String },

    /// The file claims a format but does not parse as it (truncated, damaged, or a parser
    /// panicked on it).
    #[error("corrupt {format} file: {reason}")]
    Corrupt { format: Format, reason: String },

    /// A limit in [`Limits`](crate::Limits) was reached; `what` names it with its unit.
    #[error("too large: {what} exceeds the limit of {limit}")]
    TooLarge { what: &'static str, limit: u64 },

    /// Parsing took longer than [`Limits::max_parse_time`](crate::Limits::max_parse_time).
    #[error("gave up on the {format} file after {limit_ms} ms")]
    Timeout { format: Format, limit_ms: u64 },

    /// The file parsed, but holds no text (a scanned PDF without a text layer, a page of
    /// markup only …).
    #[error("no text found in the {format} file")]
    NoText { format: Format },
}

impl DocsError {
    pub(crate) fn corrupt(format: Format, reason: impl std::fmt::Display) -> Self {
        DocsError::Corrupt {
            format,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn not_text(reason: impl Into<String>) -> Self {
        DocsError::NotText {
            reason: reason.into(),
        }
    }
}
