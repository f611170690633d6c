//! Markdown through `pulldown-cmark` (CommonMark plus GFM tables): headings, paragraphs,
//! list items, tables as `a | b` rows, code blocks as paragraphs that keep their lines.
//! Raw HTML inside Markdown and YAML front matter are left out.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::blocks::{Blocks, collapse_whitespace};
use crate::{DocsError, Format, Limits, ParsedDocument, text};

pub(crate) fn parse(bytes: &[u8], limits: &Limits) -> Result<ParsedDocument, DocsError> {
    let source = text::decode(bytes)?;
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut md = Md {
        out: Blocks::new(limits),
        heading: None,
        paragraph: None,
        items: Vec::new(),
        code: None,
        table: None,
        skip: 0,
        title: None,
    };
    for event in Parser::new_ext(&source, options) {
        md.event(event)?;
    }
    Ok(ParsedDocument {
        format: Format::Markdown,
        title: md.title,
        blocks: md.out.finish(),
        pages: None,
    })
}

#[derive(Default)]
struct TableBuf {
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: Option<String>,
}

struct Md {
    out: Blocks,
    heading: Option<(u8, String)>,
    paragraph: Option<String>,
    /// Open list items, outermost first; a nested list closes the text of its parent item.
    items: Vec<String>,
    code: Option<String>,
    table: Option<TableBuf>,
    /// Inside front matter or an HTML block.
    skip: usize,
    title: Option<String>,
}

impl Md {
    /// Where text goes now, innermost container first.
    fn target(&mut self) -> Option<&mut String> {
        if self.skip > 0 {
            return None;
        }
        if let Some(code) = &mut self.code {
            return Some(code);
        }
        if let Some((_, text)) = &mut self.heading {
            return Some(text);
        }
        if let Some(table) = &mut self.table {
            return table.cell.as_mut();
        }
        if let Some(p) = &mut self.paragraph {
            return Some(p);
        }
        self.items.last_mut()
    }

    fn push(&mut self, s: &str) {
        if let Some(t) = self.target() {
            t.push_str(s);
        }
    }

    fn event(&mut self, event: Event<'_>) -> Result<(), DocsError> {
        match event {
            Event::Start(tag) => self.start(tag)?,
            Event::End(tag) => self.end(tag)?,
            Event::Text(s) | Event::Code(s) | Event::InlineMath(s) | Event::DisplayMath(s) => {
                self.push(&s)
            }
            Event::SoftBreak | Event::HardBreak => {
                let newline = self.code.is_some();
                self.push(if newline { "\n" } else { " " });
            }
            Event::TaskListMarker(done) => self.push(if done { "[x] " } else { "[ ] " }),
            Event::Html(_) | Event::InlineHtml(_) | Event::FootnoteReference(_) | Event::Rule => {}
        }
        Ok(())
    }

    fn start(&mut self, tag: Tag<'_>) -> Result<(), DocsError> {
        match tag {
            Tag::Heading { level, .. } => self.heading = Some((level as u8, String::new())),
            Tag::Paragraph => {
                if self.items.is_empty() && self.table.is_none() {
                    self.paragraph = Some(String::new());
                } else {
                    self.push(" ");
                }
            }
            Tag::Item => {
                // Text of the enclosing item so far is its own block, before the nested list.
                if let Some(parent) = self.items.last_mut() {
                    let text = std::mem::take(parent);
                    self.out.list_item(&text)?;
                }
                self.items.push(String::new());
            }
            Tag::CodeBlock(_) => self.code = Some(String::new()),
            Tag::Table(_) => self.table = Some(TableBuf::default()),
            Tag::TableCell => {
                if let Some(t) = &mut self.table {
                    t.cell = Some(String::new());
                }
            }
            Tag::HtmlBlock | Tag::MetadataBlock(_) => self.skip += 1,
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, tag: TagEnd) -> Result<(), DocsError> {
        match tag {
            TagEnd::Heading(_) => {
                if let Some((level, text)) = self.heading.take() {
                    if level == 1 && self.title.is_none() {
                        let t = collapse_whitespace(&text);
                        self.title = (!t.is_empty()).then_some(t);
                    }
                    self.out.heading(level, &text)?;
                }
            }
            TagEnd::Paragraph => {
                if let Some(p) = self.paragraph.take() {
                    self.out.paragraph(&p)?;
                }
            }
            TagEnd::Item => {
                if let Some(text) = self.items.pop() {
                    self.out.list_item(&text)?;
                }
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    self.out.preformatted(&code)?;
                }
            }
            TagEnd::TableCell => {
                if let Some(t) = &mut self.table {
                    let cell = t.cell.take().unwrap_or_default();
                    t.row.push(cell);
                }
            }
            // The header row's cells sit directly in TableHead, without a TableRow.
            TagEnd::TableRow | TagEnd::TableHead => {
                if let Some(t) = &mut self.table {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.out.table(&t.rows)?;
                }
            }
            TagEnd::HtmlBlock | TagEnd::MetadataBlock(_) => self.skip = self.skip.saturating_sub(1),
            _ => {}
        }
        Ok(())
    }
}
