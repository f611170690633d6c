//! DOCX: a ZIP of WordprocessingML parts, read with `zip` (through [`zip_guard`]) and
//! streamed through `quick-xml`.
//!
//! Read: `word/document.xml` (body paragraphs and tables, in order), `word/styles.xml` (which
//! styles are headings or lists, whatever the language of their names) and
//! `docProps/core.xml` (the title). Not read: headers, footers, footnotes, comments, and
//! deleted text (`w:delText`), which is not text of the document.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use crate::blocks::Blocks;
use crate::zip_guard::GuardedZip;
use crate::{DocsError, Format, Limits, ParsedDocument};

const DOCUMENT: &str = "word/document.xml";
const STYLES: &str = "word/styles.xml";
const CORE: &str = "docProps/core.xml";

/// Nesting deeper than this (tables in tables in …) is not a document a person wrote.
const MAX_DEPTH: usize = 256;

pub(crate) fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, DocsError> {
    let mut zip = GuardedZip::open(bytes, Format::Docx, limits)?;
    let styles = match zip.read_entry(STYLES)? {
        Some(xml) => read_styles(&xml)?,
        None => Styles::default(),
    };
    let core_title = match zip.read_entry(CORE)? {
        Some(xml) => read_core_title(&xml)?,
        None => None,
    };
    let mut body = Body::new(&styles, limits);
    zip.with_entry(DOCUMENT, |r| body.read(BufReader::new(r)))?
        .ok_or_else(|| DocsError::corrupt(Format::Docx, format!("no {DOCUMENT} in the archive")))?;
    let title = core_title.or(body.first_title);
    Ok(ParsedDocument {
        format: Format::Docx,
        title,
        blocks: body.out.finish(),
        pages: None,
    })
}

fn xml_error(part: &str, e: impl std::fmt::Display) -> DocsError {
    DocsError::corrupt(Format::Docx, format!("{part}: {e}"))
}

/// What a paragraph style means for the index.
#[derive(Debug, Clone, Default)]
struct Style {
    /// Lowercased display name ("heading 1", "title", "list bullet" …).
    name: String,
    /// `w:outlineLvl` (0-based), which localized heading styles carry.
    outline: Option<u8>,
    /// The style numbers its paragraphs (a list style).
    numbered: bool,
    based_on: Option<String>,
}

#[derive(Debug, Default)]
struct Styles(HashMap<String, Style>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Heading(u8),
    ListItem,
    Paragraph,
}

impl Styles {
    fn role(&self, id: &str) -> Role {
        // Follow w:basedOn a few steps: custom heading styles derive from the built-in ones.
        let mut id = id.to_owned();
        for _ in 0..8 {
            if let Some(role) = role_from_name(&id.to_ascii_lowercase()) {
                return role;
            }
            let Some(style) = self.0.get(&id) else { break };
            if let Some(role) = role_from_name(&style.name) {
                return role;
            }
            if let Some(level) = style.outline.filter(|&l| l < 6) {
                return Role::Heading(level + 1);
            }
            if style.numbered {
                return Role::ListItem;
            }
            match &style.based_on {
                Some(parent) => id = parent.clone(),
                None => break,
            }
        }
        Role::Paragraph
    }
}

/// Built-in style ids and names ("Heading1", "heading 1", "Title", "List Bullet" …).
fn role_from_name(name: &str) -> Option<Role> {
    let compact: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    if compact == "title" {
        return Some(Role::Heading(1));
    }
    if let Some(n) = compact.strip_prefix("heading")
        && let Ok(level @ 1..=9) = n.parse::<u8>()
    {
        return Some(Role::Heading(level.min(6)));
    }
    if compact.starts_with("list") && compact != "listtable" {
        return Some(Role::ListItem);
    }
    None
}

fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn read_styles(xml: &[u8]) -> Result<Styles, DocsError> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut styles = HashMap::new();
    let mut current: Option<(String, Style)> = None;
    loop {
        buf.clear();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| xml_error(STYLES, e))?;
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().as_ref() {
                    "style" if !empty => {
                        current = attr(e, "styleId").map(|id| (id, Style::default()));
                    }
                    "name" => {
                        if let (Some((_, s)), Some(v)) = (current.as_mut(), attr(e, "val")) {
                            s.name = v.to_lowercase();
                        }
                    }
                    "basedOn" => {
                        if let Some((_, s)) = current.as_mut() {
                            s.based_on = attr(e, "val");
                        }
                    }
                    "outlineLvl" => {
                        if let Some((_, s)) = current.as_mut() {
                            s.outline = attr(e, "val").and_then(|v| v.parse().ok());
                        }
                    }
                    "numPr" => {
                        if let Some((_, s)) = current.as_mut() {
                            s.numbered = true;
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) if e.local_name().as_ref() == "style" => {
                if let Some((id, style)) = current.take() {
                    styles.insert(id, style);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(Styles(styles))
}

fn read_core_title(xml: &[u8]) -> Result<Option<String>, DocsError> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut in_title = false;
    let mut title = String::new();
    loop {
        buf.clear();
        match reader
            .read_event_into(&mut buf)
            .map_err(|e| xml_error(CORE, e))?
        {
            Event::Start(e) if e.local_name().as_ref() == "title" => in_title = true,
            Event::End(e) if e.local_name().as_ref() == "title" => in_title = false,
            Event::Text(t) if in_title => title.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_title => push_ref(&mut title, &r),
            Event::Eof => break,
            _ => {}
        }
    }
    let title = crate::blocks::collapse_whitespace(&title);
    Ok((!title.is_empty()).then_some(title))
}

fn push_ref(out: &mut String, r: &BytesRef<'_>) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        out.push(c);
    } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(r) {
        out.push_str(s);
    }
}

/// A paragraph being read.
#[derive(Default)]
struct Para {
    style: Option<String>,
    numbered: bool,
    outline: Option<u8>,
    text: String,
}

/// A table being read: finished rows, the row and the cell being read.
#[derive(Default)]
struct Table {
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: String,
}

struct Body<'s> {
    styles: &'s Styles,
    out: Blocks,
    paras: Vec<Para>,
    tables: Vec<Table>,
    /// Inside `w:t`: its text is document text.
    in_text: bool,
    /// Depth inside an element whose content is skipped (`mc:Fallback` repeats `mc:Choice`).
    skip: usize,
    first_title: Option<String>,
    /// Text bytes gathered so far. A paragraph or a table is counted against the character
    /// budget only when it is complete, and one of them can be made of endless small runs,
    /// so the text is also capped as it arrives (4 bytes per character at most in UTF-8).
    text_bytes: u64,
    max_chars: u64,
}

impl<'s> Body<'s> {
    fn new(styles: &'s Styles, limits: &Limits) -> Self {
        Body {
            styles,
            out: Blocks::new(limits),
            paras: Vec::new(),
            tables: Vec::new(),
            in_text: false,
            skip: 0,
            first_title: None,
            text_bytes: 0,
            max_chars: limits.max_text_chars,
        }
    }

    fn read(&mut self, input: impl BufRead) -> Result<(), DocsError> {
        let mut reader = Reader::from_reader(input);
        let mut buf = Vec::new();
        let mut depth = 0usize;
        loop {
            buf.clear();
            let event = reader
                .read_event_into(&mut buf)
                .map_err(|e| xml_error(DOCUMENT, e))?;
            match event {
                Event::Start(e) => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(xml_error(DOCUMENT, "elements nested too deep"));
                    }
                    if self.skip > 0 || e.local_name().as_ref() == "Fallback" {
                        self.skip += 1;
                        continue;
                    }
                    self.start(&e, false)?;
                }
                Event::Empty(e) if self.skip == 0 => self.start(&e, true)?,
                Event::End(e) => {
                    depth = depth.saturating_sub(1);
                    if self.skip > 0 {
                        self.skip -= 1;
                        continue;
                    }
                    self.end(e.local_name().as_ref())?;
                }
                Event::Text(t) if self.in_text && self.skip == 0 => {
                    self.push_text(&t.xml10_content())?;
                }
                Event::CData(t) if self.in_text && self.skip == 0 => {
                    self.push_text(&t)?;
                }
                Event::GeneralRef(r) if self.in_text && self.skip == 0 => {
                    let mut s = String::new();
                    push_ref(&mut s, &r);
                    self.push_text(&s)?;
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(())
    }

    fn push_text(&mut self, s: &str) -> Result<(), DocsError> {
        self.text_bytes += s.len() as u64;
        if self.text_bytes > self.max_chars.saturating_mul(4) {
            return Err(DocsError::TooLarge {
                what: "extracted text in characters",
                limit: self.max_chars,
            });
        }
        if let Some(p) = self.paras.last_mut() {
            p.text.push_str(s);
        } else if let Some(t) = self.tables.last_mut() {
            t.cell.push_str(s);
        }
        Ok(())
    }

    fn start(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), DocsError> {
        let name = e.local_name();
        match name.as_ref() {
            "p" if !empty => self.paras.push(Para::default()),
            "pStyle" => {
                if let Some(p) = self.paras.last_mut() {
                    p.style = attr(e, "val");
                }
            }
            "numPr" => {
                if let Some(p) = self.paras.last_mut() {
                    p.numbered = true;
                }
            }
            "outlineLvl" => {
                if let Some(p) = self.paras.last_mut() {
                    p.outline = attr(e, "val").and_then(|v| v.parse().ok());
                }
            }
            "t" if !empty => self.in_text = true,
            "tab" | "br" | "cr" => self.push_text(" ")?,
            "tbl" if !empty => self.tables.push(Table::default()),
            "tr" if !empty => {
                if let Some(t) = self.tables.last_mut() {
                    t.row.clear();
                }
            }
            "tc" if !empty => {
                if let Some(t) = self.tables.last_mut() {
                    t.cell.clear();
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, name: &str) -> Result<(), DocsError> {
        match name {
            "t" => self.in_text = false,
            "p" => {
                let Some(para) = self.paras.pop() else {
                    return Ok(());
                };
                self.finish_paragraph(para)?;
            }
            "tc" => {
                if let Some(t) = self.tables.last_mut() {
                    let cell = std::mem::take(&mut t.cell);
                    t.row.push(cell);
                }
            }
            "tr" => {
                if let Some(t) = self.tables.last_mut() {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            "tbl" => {
                let Some(table) = self.tables.pop() else {
                    return Ok(());
                };
                if let Some(outer) = self.tables.last_mut() {
                    // A table inside a cell is flattened into that cell.
                    for row in table.rows {
                        outer.cell.push(' ');
                        outer.cell.push_str(&row.join(" "));
                    }
                } else {
                    self.out.table(&table.rows)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish_paragraph(&mut self, para: Para) -> Result<(), DocsError> {
        if let Some(outer) = self.paras.last_mut() {
            // A paragraph inside a paragraph (a text box in a run) joins its host.
            outer.text.push(' ');
            outer.text.push_str(&para.text);
            return Ok(());
        }
        if let Some(t) = self.tables.last_mut() {
            // Paragraphs of a cell make up the cell's text.
            if !t.cell.is_empty() {
                t.cell.push(' ');
            }
            t.cell.push_str(&para.text);
            return Ok(());
        }
        let mut role = para
            .style
            .as_deref()
            .map_or(Role::Paragraph, |id| self.styles.role(id));
        if let Some(level) = para.outline.filter(|&l| l < 6) {
            role = Role::Heading(level + 1);
        }
        if para.numbered && role == Role::Paragraph {
            role = Role::ListItem;
        }
        match role {
            Role::Heading(level) => {
                let is_title = para
                    .style
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("title"));
                if is_title && self.first_title.is_none() {
                    let t = crate::blocks::collapse_whitespace(&para.text);
                    self.first_title = (!t.is_empty()).then_some(t);
                }
                self.out.heading(level, &para.text)
            }
            Role::ListItem => self.out.list_item(&para.text),
            Role::Paragraph => self.out.paragraph(&para.text),
        }
    }
}
