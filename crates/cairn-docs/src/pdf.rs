//! PDF: text per page through `pdf-extract` (on `lopdf`), with headings guessed from font
//! size, bullets as list items, words split across lines joined again, and page numbers at
//! the top or bottom of a page dropped.
//!
//! Why pdf-extract: it is the maintained pure-Rust crate that decodes PDF fonts properly
//! (standard 14 fonts, ToUnicode maps, CID fonts, Type 1 and CFF encodings), where
//! `lopdf::Document::extract_text` alone only handles simple encodings. Its plain-text
//! output loses font sizes, so this module implements pdf-extract's `OutputDev` itself: it
//! receives every glyph with its position and size, builds lines, and decides from the sizes
//! what is a heading. It needs no C library (pdfium, poppler), so nothing to install.
//!
//! # Hostile PDFs
//!
//! pdf-extract and lopdf index and `unwrap` freely, so a damaged file can panic deep inside
//! them: every page is extracted inside `catch_unwind`, and a page that fails is skipped (a
//! document where no page yields text is [`DocsError::Corrupt`]). A file without the `%%EOF`
//! marker at its end is refused as truncated before any of that, because lenient loading
//! would otherwise index whatever half of it happens to parse.
//!
//! # How time is bounded
//!
//! Two mechanisms, because Rust cannot stop a thread from outside:
//! - Cooperative: the `OutputDev` checks the deadline every 1,024 glyphs and at every page,
//!   and returns an error that makes pdf-extract unwind out of the page; the parse then
//!   ends with [`DocsError::Timeout`] and frees everything. Extraction is where the time goes
//!   on large or pathological pages (huge content streams, runaway glyph loops), so this is
//!   the bound that normally acts.
//! - A watchdog: the parse runs on its own thread and the caller waits at most
//!   [`Limits::max_parse_time`] plus one second. That covers a hang inside lopdf's loading,
//!   which has no callback; the caller gets [`DocsError::Timeout`] at once, but the stuck
//!   thread cannot be killed and runs on (holding its copy of the file) until lopdf returns.
//!   A host that needs a hard bound on CPU too runs the parse in a child process.

use std::collections::BTreeMap;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use pdf_extract::{Document, MediaBox, Object, OutputDev, OutputError, Transform};

use crate::blocks::{Blocks, collapse_whitespace, join_lines_dehyphenated};
use crate::{DocsError, Format, Limits, ParsedDocument, guarded};

/// Glyphs between two looks at the clock.
const CLOCK_EVERY: u32 = 1024;
/// A line set this much larger than the body text is a heading candidate.
const HEADING_RATIO: f64 = 1.15;
/// Longer "lines" of large text are display text or a cover, not headings.
const MAX_HEADING_CHARS: usize = 200;

pub(crate) fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, DocsError> {
    let deadline = Instant::now() + limits.max_parse_time;
    let (tx, rx) = mpsc::sync_channel(1);
    let owned = bytes.to_vec();
    let thread_limits = limits.clone();
    let spawned = thread::Builder::new()
        .name("cairn-docs-pdf".into())
        .spawn(move || {
            let result = guarded(Format::Pdf, || extract(&owned, &thread_limits, deadline));
            // The receiver is gone only if the caller already gave up on us.
            let _ = tx.send(result);
        });
    if spawned.is_err() {
        // No thread to be had (resource limits): parse here, with the cooperative bound only.
        return guarded(Format::Pdf, || extract(bytes, limits, deadline));
    }
    match rx.recv_timeout(limits.max_parse_time + Duration::from_secs(1)) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(timeout(limits.max_parse_time)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(DocsError::corrupt(
            Format::Pdf,
            "the parser thread ended without a result",
        )),
    }
}

fn timeout(max_parse_time: Duration) -> DocsError {
    DocsError::Timeout {
        format: Format::Pdf,
        limit_ms: u64::try_from(max_parse_time.as_millis()).unwrap_or(u64::MAX),
    }
}

fn extract(bytes: &[u8], limits: &Limits, deadline: Instant) -> Result<ParsedDocument, DocsError> {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(DocsError::corrupt(
            Format::Pdf,
            "truncated (no %%EOF marker at the end of the file)",
        ));
    }
    let mut doc = Document::load_mem(bytes).map_err(|e| DocsError::corrupt(Format::Pdf, e))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(DocsError::Unsupported {
            what: "password-protected PDF".to_owned(),
        });
    }
    let pages = doc.get_pages();
    if pages.len() as u64 > limits.max_pdf_pages {
        return Err(DocsError::TooLarge {
            what: "PDF pages",
            limit: limits.max_pdf_pages,
        });
    }
    let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let title = info_title(&doc);

    let mut glyphs = Glyphs::new(deadline, limits);
    let mut first_failure: Option<String> = None;
    for &number in pages.keys() {
        if Instant::now() > deadline {
            return Err(timeout(limits.max_parse_time));
        }
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            pdf_extract::output_doc_page(&doc, &mut glyphs, number)
        }));
        glyphs.close_line();
        if let Some(stop) = glyphs.stop.take() {
            return Err(stop);
        }
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("the parser failed on this page".to_owned()),
        };
        if let Some(reason) = failure {
            // The page is dropped; its lines so far may be half a page.
            if let Some(page) = glyphs.pages.last_mut()
                && page.number == number
            {
                page.lines.clear();
            }
            first_failure.get_or_insert(format!("page {number}: {reason}"));
        }
    }

    let mut out = Blocks::new(limits);
    let first_heading = layout(&glyphs.pages, &mut out)?;
    let blocks = out.finish();
    if blocks.is_empty()
        && let Some(reason) = first_failure
    {
        return Err(DocsError::corrupt(Format::Pdf, reason));
    }
    Ok(ParsedDocument {
        format: Format::Pdf,
        title: title.or(first_heading),
        blocks,
        pages: Some(page_count),
    })
}

/// The Info dictionary's `/Title`, when it has a usable one.
fn info_title(doc: &Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let (_, info) = doc.dereference(info).ok()?;
    let title = info.as_dict().ok()?.get(b"Title").ok()?;
    let (_, title) = doc.dereference(title).ok()?;
    let Object::String(raw, _) = title else {
        return None;
    };
    let text = decode_text_string(raw);
    let text = collapse_whitespace(&text);
    (!text.is_empty()).then_some(text)
}

/// A PDF "text string": UTF-16BE after a BOM, otherwise PDFDocEncoding, which matches
/// Latin-1 for the printable characters that titles use.
fn decode_text_string(raw: &[u8]) -> String {
    if let Some(rest) = raw.strip_prefix(b"\xFE\xFF") {
        let units = rest
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]));
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    }
}

/// One line of glyphs on a page.
#[derive(Debug, Default)]
struct Line {
    text: String,
    /// The largest glyph size on the line, in points.
    size: f64,
    /// Vertical distance from the previous line on the page, in points (0 for the first).
    gap: f64,
}

#[derive(Debug)]
struct PageLines {
    number: u32,
    lines: Vec<Line>,
}

/// The `OutputDev` pdf-extract drives: glyphs in, lines out, budgets checked on the way.
struct Glyphs {
    deadline: Instant,
    max_parse_time: Duration,
    chars_left: u64,
    max_chars: u64,
    counter: u32,
    pages: Vec<PageLines>,
    line: Line,
    /// End of the last glyph: x where it ended, its baseline y, its size.
    last: Option<(f64, f64, f64)>,
    /// Why extraction was stopped from inside (time or text budget).
    stop: Option<DocsError>,
}

impl Glyphs {
    fn new(deadline: Instant, limits: &Limits) -> Self {
        Glyphs {
            deadline,
            max_parse_time: limits.max_parse_time,
            chars_left: limits.max_text_chars,
            max_chars: limits.max_text_chars,
            counter: 0,
            pages: Vec::new(),
            line: Line::default(),
            last: None,
            stop: None,
        }
    }

    fn close_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        if line.text.trim().is_empty() {
            // Keep the gap: an empty line still spaces what follows from what went before.
            self.line.gap = line.gap;
            return;
        }
        if let Some(page) = self.pages.last_mut() {
            page.lines.push(line);
        }
    }

    fn halt(&mut self, why: DocsError) -> OutputError {
        self.stop = Some(why);
        OutputError::IoError(io::Error::other("extraction stopped"))
    }
}

impl OutputDev for Glyphs {
    fn begin_page(
        &mut self,
        page_num: u32,
        _media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.close_line();
        self.line = Line::default();
        self.last = None;
        self.pages.push(PageLines {
            number: page_num,
            lines: Vec::new(),
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.close_line();
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        self.counter = self.counter.wrapping_add(1);
        if self.counter.is_multiple_of(CLOCK_EVERY) && Instant::now() > self.deadline {
            let why = timeout(self.max_parse_time);
            return Err(self.halt(why));
        }
        let n = char.chars().count() as u64;
        if n > self.chars_left {
            let limit = self.max_chars;
            return Err(self.halt(DocsError::TooLarge {
                what: "extracted text in characters",
                limit,
            }));
        }
        self.chars_left -= n;

        // The text rendering matrix maps glyph space to the page: its scale times the font
        // size is the glyph's size on the page, its translation the glyph's origin.
        let scale = (trm.m11 * trm.m22 - trm.m12 * trm.m21).abs().sqrt();
        let mut size = (font_size * scale).abs();
        if !size.is_finite() || size < 0.1 {
            size = 1.0;
        }
        let (x, y) = (trm.m31, trm.m32);
        if let Some((last_end, last_y, last_size)) = self.last {
            let dy = (y - last_y).abs();
            if dy > 0.6 * size.max(last_size) {
                self.close_line();
                self.line.gap = dy;
            } else if (x > last_end + 0.15 * size || x < last_end - 3.0 * size)
                && !self.line.text.ends_with(' ')
            {
                // A visible gap, or a jump back along the same baseline: a word boundary.
                self.line.text.push(' ');
            }
        }
        for c in char.chars() {
            if c.is_whitespace() || c.is_control() {
                if !self.line.text.is_empty() && !self.line.text.ends_with(' ') {
                    self.line.text.push(' ');
                }
            } else {
                self.line.text.push(c);
                self.line.size = self.line.size.max(size);
            }
        }
        let advance = if width.is_finite() { width * size } else { 0.0 };
        self.last = Some((x + advance, y, size));
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// Sizes are compared in half points: a heading and body text differ by more than that,
/// rounding noise in the matrices by less.
fn size_key(size: f64) -> i64 {
    (size * 2.0).round() as i64
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum GroupKind {
    Paragraph,
    ListItem,
    Heading(u8),
}

/// Lines into blocks: the most common size (by characters) is the body text; larger, short
/// groups are headings, ranked by size; a vertical gap, a change of size or a bullet starts
/// a new block. Returns the text of the first top-level heading.
fn layout(pages: &[PageLines], out: &mut Blocks) -> Result<Option<String>, DocsError> {
    let mut by_size: BTreeMap<i64, usize> = BTreeMap::new();
    for line in pages.iter().flat_map(|p| &p.lines) {
        *by_size.entry(size_key(line.size)).or_default() += line.text.chars().count();
    }
    let Some((&body_key, _)) = by_size.iter().max_by_key(|(k, n)| (**n, -**k)) else {
        return Ok(None);
    };
    let body = body_key as f64 / 2.0;
    let is_large = |size: f64| size >= body * HEADING_RATIO;
    // Heading levels: distinct larger sizes, largest first.
    let heading_keys: Vec<i64> = by_size
        .keys()
        .rev()
        .copied()
        .filter(|&k| is_large(k as f64 / 2.0))
        .collect();
    let level_of = |size: f64| -> u8 {
        let key = size_key(size);
        let rank = heading_keys.iter().position(|&k| k == key).unwrap_or(0);
        u8::try_from(rank + 1).unwrap_or(6).min(6)
    };

    let mut first_heading = None;
    for page in pages {
        out.start_page(page.number);
        let mut group: Vec<&str> = Vec::new();
        let mut group_size = 0.0;
        let mut group_kind = GroupKind::Paragraph;
        let last = page.lines.len().saturating_sub(1);
        for (i, line) in page.lines.iter().enumerate() {
            if (i == 0 || i == last) && is_page_number(&line.text) {
                // A folio at the top or bottom of the page is layout, not text.
                continue;
            }
            let bullet = strip_bullet(&line.text);
            let new_block = group.is_empty()
                || bullet.is_some()
                || size_key(line.size) != size_key(group_size)
                || line.gap > 1.6 * line.size.max(group_size)
                || (matches!(group_kind, GroupKind::Heading(_)) && group.len() >= 3);
            if new_block {
                emit(out, &group, group_kind, &mut first_heading)?;
                group.clear();
                group_size = line.size;
                group_kind = if bullet.is_some() {
                    GroupKind::ListItem
                } else if is_large(line.size) {
                    GroupKind::Heading(level_of(line.size))
                } else {
                    GroupKind::Paragraph
                };
            }
            group.push(bullet.unwrap_or(&line.text));
        }
        emit(out, &group, group_kind, &mut first_heading)?;
    }
    Ok(first_heading)
}

fn emit(
    out: &mut Blocks,
    lines: &[&str],
    kind: GroupKind,
    first_heading: &mut Option<String>,
) -> Result<(), DocsError> {
    if lines.is_empty() {
        return Ok(());
    }
    let text = join_lines_dehyphenated(lines.iter().copied());
    match kind {
        GroupKind::Heading(level) if text.chars().count() <= MAX_HEADING_CHARS => {
            if level == 1 && first_heading.is_none() {
                *first_heading = Some(collapse_whitespace(&text)).filter(|t| !t.is_empty());
            }
            out.heading(level, &text)
        }
        GroupKind::Heading(_) | GroupKind::Paragraph => out.paragraph(&text),
        GroupKind::ListItem => out.list_item(&text),
    }
}

/// "12", "iv", "Page 3", "3 of 10", "- 7 -": a page number standing alone on its line.
pub(crate) fn is_page_number(line: &str) -> bool {
    let line = line
        .trim()
        .trim_matches(['-', '–', '—', ' '])
        .to_ascii_lowercase();
    let line = line.strip_prefix("page ").unwrap_or(&line).trim();
    let number = match line.split_once(" of ") {
        Some((n, total)) if total.trim().chars().all(|c| c.is_ascii_digit()) => n.trim(),
        Some(_) => return false,
        None => line,
    };
    let arabic =
        !number.is_empty() && number.len() <= 5 && number.chars().all(|c| c.is_ascii_digit());
    // Front matter is numbered in lowercase roman numerals; only well-formed ones count, so
    // that "civil" or "mix" stay words.
    let roman = number.len() <= 8 && (1..=200).any(|n| roman_numeral(n) == number);
    arabic || roman
}

fn roman_numeral(mut n: u32) -> String {
    const DIGITS: &[(u32, &str)] = &[
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ];
    let mut out = String::new();
    for &(value, digits) in DIGITS {
        while n >= value {
            out.push_str(digits);
            n -= value;
        }
    }
    out
}

/// The text after a bullet glyph, for lines that start with one.
fn strip_bullet(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let mut chars = line.chars();
    let first = chars.next()?;
    if !matches!(first, '•' | '◦' | '▪' | '‣' | '●' | '○' | '■' | '–') {
        return None;
    }
    let rest = chars.as_str();
    rest.starts_with(' ').then(|| rest.trim_start())
}
