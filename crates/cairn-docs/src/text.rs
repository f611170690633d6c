//! Plain text: UTF-8 (with or without a BOM) or UTF-16 with a BOM; paragraphs are separated
//! by blank lines. Anything else is refused as "not text" rather than indexed as garbage.

use std::borrow::Cow;

use crate::blocks::Blocks;
use crate::{DocsError, Format, Limits, ParsedDocument};

/// Share of control characters (other than tab, line breaks and form feed) above which the
/// bytes are taken for binary: real text has next to none.
const MAX_CONTROL_PER_MILLE: usize = 10;

pub(crate) fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, DocsError> {
    let text = decode(bytes)?;
    let mut out = Blocks::new(limits);
    let mut paragraph = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut out, &mut paragraph)?;
        } else {
            if !paragraph.is_empty() {
                paragraph.push(' ');
            }
            paragraph.push_str(line);
        }
    }
    flush(&mut out, &mut paragraph)?;
    Ok(ParsedDocument {
        format: Format::Text,
        title: None,
        blocks: out.finish(),
        pages: None,
    })
}

fn flush(out: &mut Blocks, paragraph: &mut String) -> Result<(), DocsError> {
    if !paragraph.is_empty() {
        out.paragraph(paragraph)?;
        paragraph.clear();
    }
    Ok(())
}

/// The bytes as text, or why they are not text.
pub(crate) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, DocsError> {
    let text: Cow<'_, str> = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Cow::Borrowed(utf8(rest)?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        Cow::Owned(utf16(rest, u16::from_le_bytes)?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        Cow::Owned(utf16(rest, u16::from_be_bytes)?)
    } else {
        if let Some(at) = bytes.iter().position(|&b| b == 0) {
            return Err(DocsError::not_text(format!(
                "NUL byte at offset {at} (a binary file?)"
            )));
        }
        Cow::Borrowed(utf8(bytes)?)
    };
    check_controls(&text)?;
    Ok(text)
}

fn utf8(bytes: &[u8]) -> Result<&str, DocsError> {
    std::str::from_utf8(bytes).map_err(|e| {
        DocsError::not_text(format!(
            "invalid UTF-8 at byte {} (only UTF-8 and UTF-16 with a byte-order mark are read)",
            e.valid_up_to()
        ))
    })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, DocsError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(DocsError::not_text("UTF-16 with an odd number of bytes"));
    }
    let units = bytes.chunks_exact(2).map(|p| unit([p[0], p[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => out.push(c),
            Err(_) => return Err(DocsError::not_text("invalid UTF-16 (unpaired surrogate)")),
        }
    }
    Ok(out)
}

fn check_controls(text: &str) -> Result<(), DocsError> {
    let mut total = 0usize;
    let mut controls = 0usize;
    for c in text.chars() {
        total += 1;
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{0C}') {
            if c == '\0' {
                return Err(DocsError::not_text("NUL character (a binary file?)"));
            }
            controls += 1;
        }
    }
    if controls > 0 && controls * 1000 > total * MAX_CONTROL_PER_MILLE {
        return Err(DocsError::not_text(format!(
            "{controls} control characters in {total} (a binary file?)"
        )));
    }
    Ok(())
}
