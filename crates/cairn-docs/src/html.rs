//! HTML through `html5gum`, a WHATWG-conformant tokenizer.
//!
//! Why a tokenizer and not a DOM: the index needs text in reading order with its block
//! boundaries, not a tree. `html5gum` has no dependencies, no `unsafe`, is fuzzed, and
//! follows the spec's tokenizer, so tag soup comes out the way a browser reads it; with its
//! naive state switching, `<script>`, `<style>` and `<title>` contents are raw text as in a
//! browser. `scraper` (html5ever + selectors + cssparser and their proc-macros) would build a
//! full tree for the same result at several times the compile cost; `tl` is faster still
//! but does not follow the spec and is barely maintained.
//!
//! Blocks: `h1`–`h6` headings, `li` list items, `table` rows as `a | b`, and every other
//! block-level element (`p`, `div`, `pre`, `blockquote` …) closes a paragraph. Skipped with
//! their content: `script`, `style`, `nav`, `noscript`, `template`, `svg`, `iframe`, …

use std::borrow::Cow;

use html5gum::{DefaultEmitter, Token, Tokenizer};

use crate::blocks::{Blocks, collapse_whitespace};
use crate::{DocsError, Format, Limits, ParsedDocument};

/// Elements whose content is not text of the page.
const SKIPPED: &[&str] = &[
    "script", "style", "nav", "noscript", "template", "svg", "math", "iframe", "object", "canvas",
    "select", "button",
];

/// Elements that end the running paragraph (HTML's block-level content, roughly).
const BLOCK: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "blockquote",
    "pre",
    "address",
    "figure",
    "figcaption",
    "form",
    "fieldset",
    "details",
    "summary",
    "dl",
    "dt",
    "dd",
    "ul",
    "ol",
    "hr",
    "body",
    "center",
];

/// Nesting deeper than this is skipped rather than tracked without bound.
const MAX_DEPTH: usize = 512;

pub(crate) fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, DocsError> {
    let source = decode(bytes)?;
    let mut emitter = DefaultEmitter::default();
    emitter.naively_switch_states(true);
    let mut page = Page {
        out: Blocks::new(limits),
        kind: Kind::Paragraph,
        text: String::new(),
        tables: Vec::new(),
        skip: Vec::new(),
        in_title: false,
        title: String::new(),
        first_h1: None,
    };
    for token in Tokenizer::new_with_emitter(&*source, emitter) {
        // The default emitter's error type is `Infallible`.
        let Ok(token) = token;
        page.token(token)?;
    }
    page.flush()?;
    let title = Some(collapse_whitespace(&page.title))
        .filter(|t| !t.is_empty())
        .or(page.first_h1);
    Ok(ParsedDocument {
        format: Format::Html,
        title,
        blocks: page.out.finish(),
        pages: None,
    })
}

/// The page as UTF-8: a BOM or valid UTF-8 wins, then a `<meta charset>` in the first KiB,
/// then windows-1252 (what browsers assume for legacy pages).
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, DocsError> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return Ok(text);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(s));
    }
    let encoding =
        declared_charset(&bytes[..bytes.len().min(1024)]).unwrap_or(encoding_rs::WINDOWS_1252);
    let (text, _, _) = encoding.decode(bytes);
    Ok(text)
}

fn declared_charset(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let label: String = head[at..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    encoding_rs::Encoding::for_label(label.as_bytes())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Paragraph,
    /// `<pre>`: lines kept.
    Preformatted,
    Heading(u8),
    ListItem,
}

#[derive(Default)]
struct TableBuf {
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: Option<String>,
}

struct Page {
    out: Blocks,
    /// What the running text becomes when the next block boundary closes it.
    kind: Kind,
    text: String,
    tables: Vec<TableBuf>,
    /// Open skipped elements, innermost last.
    skip: Vec<String>,
    in_title: bool,
    title: String,
    first_h1: Option<String>,
}

impl Page {
    fn token(&mut self, token: Token) -> Result<(), DocsError> {
        match token {
            Token::StartTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name).to_ascii_lowercase();
                if !self.skip.is_empty() {
                    // Only the same element nested inside is tracked, to find the right end.
                    if !tag.self_closing && self.skip.last() == Some(&name) {
                        self.skip.push(name);
                    }
                    return Ok(());
                }
                if SKIPPED.contains(&name.as_str()) && !tag.self_closing {
                    if self.skip.len() < MAX_DEPTH {
                        self.skip.push(name);
                    }
                    return Ok(());
                }
                self.start(&name)?;
            }
            Token::EndTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name).to_ascii_lowercase();
                if !self.skip.is_empty() {
                    if self.skip.last() == Some(&name) {
                        self.skip.pop();
                    }
                    return Ok(());
                }
                self.end(&name)?;
            }
            Token::String(s) => {
                if !self.skip.is_empty() {
                    return Ok(());
                }
                let s = String::from_utf8_lossy(&s.value);
                if self.in_title {
                    self.title.push_str(&s);
                } else if let Some(table) = self.tables.last_mut() {
                    if let Some(cell) = &mut table.cell {
                        cell.push_str(&s);
                    }
                } else {
                    self.text.push_str(&s);
                }
            }
            Token::Comment(_) | Token::Doctype(_) | Token::Error(_) => {}
        }
        Ok(())
    }

    fn start(&mut self, name: &str) -> Result<(), DocsError> {
        match name {
            "title" => self.in_title = true,
            "table" => {
                self.flush()?;
                if self.tables.len() < MAX_DEPTH {
                    self.tables.push(TableBuf::default());
                }
            }
            "tr" => {
                if let Some(t) = self.tables.last_mut() {
                    close_row(t);
                }
            }
            "td" | "th" => {
                if let Some(t) = self.tables.last_mut() {
                    close_cell(t);
                    t.cell = Some(String::new());
                }
            }
            "br" if self.kind == Kind::Preformatted => self.text.push('\n'),
            "br" => self.space(),
            _ if !self.tables.is_empty() => {
                // Block elements inside a cell only separate words of the cell.
                if BLOCK.contains(&name) || heading_level(name).is_some() || name == "li" {
                    self.space();
                }
            }
            "li" => {
                self.flush()?;
                self.kind = Kind::ListItem;
            }
            "pre" => {
                self.flush()?;
                self.kind = Kind::Preformatted;
            }
            _ => {
                if let Some(level) = heading_level(name) {
                    self.flush()?;
                    self.kind = Kind::Heading(level);
                } else if BLOCK.contains(&name) {
                    self.flush()?;
                }
            }
        }
        Ok(())
    }

    fn end(&mut self, name: &str) -> Result<(), DocsError> {
        match name {
            "title" => self.in_title = false,
            "table" => {
                if let Some(mut t) = self.tables.pop() {
                    close_row(&mut t);
                    if let Some(outer) = self.tables.last_mut() {
                        // A table in a cell (a layout table, mostly) is flattened into it.
                        let text: Vec<String> = t.rows.iter().map(|r| r.join(" ")).collect();
                        if let Some(cell) = &mut outer.cell {
                            cell.push(' ');
                            cell.push_str(&text.join(" "));
                        }
                    } else {
                        self.out.table(&t.rows)?;
                    }
                }
            }
            "tr" => {
                if let Some(t) = self.tables.last_mut() {
                    close_row(t);
                }
            }
            "td" | "th" => {
                if let Some(t) = self.tables.last_mut() {
                    close_cell(t);
                }
            }
            _ if !self.tables.is_empty() => {}
            "li" => self.flush()?,
            _ => {
                if heading_level(name).is_some() || BLOCK.contains(&name) {
                    self.flush()?;
                }
            }
        }
        Ok(())
    }

    fn space(&mut self) {
        if let Some(t) = self.tables.last_mut() {
            if let Some(cell) = &mut t.cell {
                cell.push(' ');
            }
        } else {
            self.text.push(' ');
        }
    }

    /// Closes the running text as a block of its kind; what follows is a paragraph.
    fn flush(&mut self) -> Result<(), DocsError> {
        let text = std::mem::take(&mut self.text);
        match std::mem::replace(&mut self.kind, Kind::Paragraph) {
            Kind::Heading(level) => {
                if level == 1 && self.first_h1.is_none() {
                    let t = collapse_whitespace(&text);
                    self.first_h1 = (!t.is_empty()).then_some(t);
                }
                self.out.heading(level, &text)
            }
            Kind::ListItem => self.out.list_item(&text),
            Kind::Preformatted => self.out.preformatted(&text),
            Kind::Paragraph => self.out.paragraph(&text),
        }
    }
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

fn close_cell(t: &mut TableBuf) {
    if let Some(cell) = t.cell.take() {
        t.row.push(cell);
    }
}

fn close_row(t: &mut TableBuf) {
    close_cell(t);
    if !t.row.is_empty() {
        t.rows.push(std::mem::take(&mut t.row));
    }
}
