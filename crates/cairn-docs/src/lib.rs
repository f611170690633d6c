//! Cairn's document parser: uploaded files (PDF, DOCX, HTML, Markdown, plain text) into the
//! [`DocumentBlock`]s the knowledge index chunks.
//!
//! One entry point, [`parse`]. It detects the format by magic bytes first (`%PDF`, a ZIP
//! holding `word/document.xml`), then by extension, then by the declared MIME type, and
//! hands the bytes to one module per format. Every module pushes into `blocks::Blocks`,
//! which collapses whitespace, drops empty blocks and counts characters against the limit.
//!
//! Uploads are hostile until proven otherwise, so:
//! - every size is bounded by [`Limits`], and a ZIP entry is read through a reader that stops
//!   at a hard byte cap and at a compression ratio, whatever sizes the archive declares;
//! - third-party parsers run inside `catch_unwind` (PDF crates panic on bad input), so a
//!   panic becomes [`DocsError::Corrupt`]; this needs `panic = "unwind"`, the default;
//! - PDF parsing, the one step that can run long, is bounded in time (how: `src/pdf.rs`).
//!
//! The crate does no IO of its own: bytes in, blocks out. It is synchronous and CPU-bound;
//! callers on an async runtime run it on a blocking thread.

mod blocks;
mod detect;
mod docx;
mod error;
mod html;
mod markdown;
mod pdf;
mod text;
mod zip_guard;

#[cfg(test)]
mod tests;

use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

pub use cairn_types::{BlockKind, DocumentBlock};
pub use error::DocsError;

/// The formats Cairn reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Text,
    Markdown,
    Html,
    Pdf,
    Docx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "Markdown",
            Format::Html => "HTML",
            Format::Pdf => "PDF",
            Format::Docx => "DOCX",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bounds on what one upload may cost. The defaults suit a single machine; every bound is
/// checked on what is actually read, never only on what a file declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The upload itself.
    pub max_file_bytes: u64,
    /// Characters of extracted text, summed over all blocks.
    pub max_text_chars: u64,
    /// Entries in a ZIP container (DOCX).
    pub max_zip_entries: u64,
    /// Bytes decompressed from a ZIP container, summed over the entries read.
    pub max_zip_uncompressed_bytes: u64,
    /// Decompressed bytes per compressed byte of one ZIP entry (past the first MiB, so that
    /// small, very regular XML parts pass).
    pub max_compression_ratio: u64,
    /// Pages of a PDF.
    pub max_pdf_pages: u64,
    /// Wall-clock time for parsing one PDF (how it is enforced: `src/pdf.rs`).
    pub max_parse_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 << 20,
            max_text_chars: 20_000_000,
            max_zip_entries: 10_000,
            max_zip_uncompressed_bytes: 512 << 20,
            max_compression_ratio: 100,
            max_pdf_pages: 5_000,
            max_parse_time: Duration::from_secs(120),
        }
    }
}

/// A parsed upload: its blocks in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedDocument {
    pub format: Format,
    /// From the document's metadata (`<title>`, DOCX core properties, PDF Info) or its first
    /// top-level heading.
    pub title: Option<String>,
    pub blocks: Vec<DocumentBlock>,
    /// Number of pages, for formats that have pages (PDF).
    pub pages: Option<u32>,
}

/// Parses an upload. `name` is the file name as uploaded (only its extension is used) and
/// `declared_mime` the MIME type the client sent, if any; both are hints that magic bytes
/// override.
pub fn parse(
    bytes: &[u8],
    name: &str,
    declared_mime: Option<&str>,
    limits: &Limits,
) -> Result<ParsedDocument, DocsError> {
    if bytes.is_empty() {
        return Err(DocsError::Empty);
    }
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(DocsError::TooLarge {
            what: "file size in bytes",
            limit: limits.max_file_bytes,
        });
    }
    let format = detect::detect(bytes, name, declared_mime)?;
    let doc = match format {
        Format::Text => guarded(format, || text::parse(bytes, limits))?,
        Format::Markdown => guarded(format, || markdown::parse(bytes, limits))?,
        Format::Html => guarded(format, || html::parse(bytes, limits))?,
        Format::Docx => guarded(format, || docx::parse(bytes, limits))?,
        // Guarded inside, on its own thread: see `pdf`.
        Format::Pdf => pdf::parse(bytes, limits)?,
    };
    if doc.blocks.is_empty() {
        return Err(DocsError::NoText { format });
    }
    Ok(doc)
}

/// Runs a parser, turning a panic into [`DocsError::Corrupt`]. The parsers only touch state
/// they own, so nothing is left half-updated for anyone else when one unwinds.
pub(crate) fn guarded<T>(
    format: Format,
    f: impl FnOnce() -> Result<T, DocsError>,
) -> Result<T, DocsError> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(DocsError::corrupt(
                format,
                format!("the parser failed on this file ({message})"),
            ))
        }
    }
}
