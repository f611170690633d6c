//! Which parser gets the bytes: magic bytes first, then the extension, then the declared
//! MIME type, then a look at the bytes.

use crate::{DocsError, Format, zip_guard};

pub(crate) fn detect(
    bytes: &[u8],
    name: &str,
    declared_mime: Option<&str>,
) -> Result<Format, DocsError> {
    let hinted = by_extension(name).or_else(|| declared_mime.and_then(by_mime));
    if let Some(format) = by_magic(bytes, hinted)? {
        return Ok(format);
    }
    match hinted {
        // Named like a binary format, yet without its magic bytes: damaged, or not that
        // format at all. Either way the parser would only fail later with a vaguer message.
        Some(format @ (Format::Pdf | Format::Docx)) => Err(DocsError::corrupt(
            format,
            match format {
                Format::Pdf => "no %PDF header",
                _ => "not a ZIP archive",
            },
        )),
        Some(format) => Ok(format),
        None => Ok(sniff_text(bytes)),
    }
}

fn by_magic(bytes: &[u8], hinted: Option<Format>) -> Result<Option<Format>, DocsError> {
    if bytes.starts_with(b"%PDF-") {
        return Ok(Some(Format::Pdf));
    }
    // Readers accept a PDF header anywhere in the first KiB (some generators prepend junk);
    // only trusted when the name says PDF too, so a text file quoting "%PDF-" stays text.
    let head = &bytes[..bytes.len().min(1024)];
    if hinted == Some(Format::Pdf) && head.windows(5).any(|w| w == b"%PDF-") {
        return Ok(Some(Format::Pdf));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return match zip_guard::container_kind(bytes) {
            zip_guard::Container::Docx => Ok(Some(Format::Docx)),
            zip_guard::Container::Other(what) => Err(DocsError::Unsupported {
                what: what.to_owned(),
            }),
        };
    }
    const BINARY: &[(&[u8], &str)] = &[
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "legacy Office document (.doc/.xls/.ppt)",
        ),
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"\xFF\xD8\xFF", "JPEG image"),
        (b"GIF87a", "GIF image"),
        (b"GIF89a", "GIF image"),
        (b"\x1F\x8B", "gzip archive"),
        (b"7z\xBC\xAF\x27\x1C", "7-Zip archive"),
        (b"Rar!\x1A\x07", "RAR archive"),
        (b"{\\rtf", "RTF document"),
        (b"\x7FELF", "executable"),
    ];
    for (magic, what) in BINARY {
        if bytes.starts_with(magic) {
            return Err(DocsError::Unsupported {
                what: (*what).to_owned(),
            });
        }
    }
    Ok(None)
}

fn by_extension(name: &str) -> Option<Format> {
    let (_, ext) = name.rsplit_once('.')?;
    Some(match ext.to_ascii_lowercase().as_str() {
        "pdf" => Format::Pdf,
        "docx" => Format::Docx,
        "md" | "markdown" | "mdown" | "mkd" => Format::Markdown,
        "html" | "htm" | "xhtml" => Format::Html,
        "txt" | "text" | "log" | "csv" | "tsv" | "json" | "yaml" | "yml" | "toml" | "ini"
        | "xml" | "rst" | "adoc" | "tex" | "srt" | "vtt" => Format::Text,
        _ => return None,
    })
}

fn by_mime(mime: &str) -> Option<Format> {
    let essence = mime.split(';').next()?.trim().to_ascii_lowercase();
    Some(match essence.as_str() {
        "application/pdf" => Format::Pdf,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Format::Docx,
        "text/markdown" | "text/x-markdown" => Format::Markdown,
        "text/html" | "application/xhtml+xml" => Format::Html,
        m if m.starts_with("text/") => Format::Text,
        "application/json" | "application/xml" | "application/x-yaml" => Format::Text,
        // application/octet-stream and the like say nothing.
        _ => return None,
    })
}

/// Nothing named the format: HTML if it opens like a page, text otherwise (the text parser
/// refuses bytes that are not text).
fn sniff_text(bytes: &[u8]) -> Format {
    let head = &bytes[..bytes.len().min(512)];
    let head = String::from_utf8_lossy(head);
    let head = head
        .trim_start_matches('\u{FEFF}')
        .trim_start()
        .to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        Format::Html
    } else {
        Format::Text
    }
}
