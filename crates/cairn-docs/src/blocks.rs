//! Where every format's parser puts its blocks: text hygiene and the character budget in one
//! place, so the formats cannot differ on them.

use cairn_types::{BlockKind, DocumentBlock};

use crate::{DocsError, Limits};

pub(crate) struct Blocks {
    blocks: Vec<DocumentBlock>,
    chars: u64,
    max_chars: u64,
    page: Option<u32>,
}

impl Blocks {
    pub(crate) fn new(limits: &Limits) -> Self {
        Blocks {
            blocks: Vec::new(),
            chars: 0,
            max_chars: limits.max_text_chars,
            page: None,
        }
    }

    /// Blocks pushed from now on are on `page`; from page 2 on a page break is pushed first.
    pub(crate) fn start_page(&mut self, page: u32) {
        if page > 1 {
            self.blocks.push(DocumentBlock::page_break().on_page(page));
        }
        self.page = Some(page);
    }

    pub(crate) fn heading(&mut self, level: u8, raw: &str) -> Result<(), DocsError> {
        let text = collapse_whitespace(raw);
        let level = level.clamp(1, 6);
        self.push(text, |text| BlockKind::Heading { level, text })
    }

    pub(crate) fn paragraph(&mut self, raw: &str) -> Result<(), DocsError> {
        self.push(collapse_whitespace(raw), |text| BlockKind::Paragraph {
            text,
        })
    }

    pub(crate) fn list_item(&mut self, raw: &str) -> Result<(), DocsError> {
        self.push(collapse_whitespace(raw), |text| BlockKind::ListItem {
            text,
        })
    }

    /// A paragraph whose line structure matters (a code block): lines are kept, their
    /// trailing whitespace and blank lines around them dropped.
    pub(crate) fn preformatted(&mut self, raw: &str) -> Result<(), DocsError> {
        let mut text = String::with_capacity(raw.len());
        for line in raw.lines() {
            let line = strip_invisible(line.trim_end());
            if !text.is_empty() || !line.trim().is_empty() {
                text.push_str(&line);
                text.push('\n');
            }
        }
        let text = text.trim_end().to_owned();
        self.push(text, |text| BlockKind::Paragraph { text })
    }

    /// A table as rows of cells: `a | b` per row, rows on lines, empty rows dropped.
    pub(crate) fn table(&mut self, rows: &[Vec<String>]) -> Result<(), DocsError> {
        let mut text = String::new();
        for row in rows {
            let cells: Vec<String> = row.iter().map(|c| collapse_whitespace(c)).collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&cells.join(" | "));
        }
        self.push(text, |text| BlockKind::Table { text })
    }

    fn push(
        &mut self,
        text: String,
        kind: impl FnOnce(String) -> BlockKind,
    ) -> Result<(), DocsError> {
        if text.is_empty() {
            return Ok(());
        }
        self.chars += text.chars().count() as u64;
        if self.chars > self.max_chars {
            return Err(DocsError::TooLarge {
                what: "extracted text in characters",
                limit: self.max_chars,
            });
        }
        self.blocks.push(DocumentBlock {
            kind: kind(text),
            page: self.page,
        });
        Ok(())
    }

    /// The blocks, without page breaks that no text follows.
    pub(crate) fn finish(mut self) -> Vec<DocumentBlock> {
        while matches!(
            self.blocks.last(),
            Some(DocumentBlock {
                kind: BlockKind::PageBreak,
                ..
            })
        ) {
            self.blocks.pop();
        }
        // A page with no text leaves two page breaks in a row; the later one is enough.
        let mut out: Vec<DocumentBlock> = Vec::with_capacity(self.blocks.len());
        for block in self.blocks {
            let is_break = block.kind == BlockKind::PageBreak;
            if is_break
                && matches!(
                    out.last(),
                    Some(DocumentBlock {
                        kind: BlockKind::PageBreak,
                        ..
                    })
                )
            {
                out.pop();
            }
            if is_break && out.is_empty() {
                // Pages before the first text need no break: the blocks carry their page.
                continue;
            }
            out.push(block);
        }
        out
    }
}

/// One line of text: runs of whitespace (and control characters) become one space, the ends
/// are trimmed, and invisible characters (soft hyphen, zero-width space, BOM) are removed.
pub(crate) fn collapse_whitespace(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for c in raw.chars() {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

fn strip_invisible(s: &str) -> String {
    s.chars()
        .filter(|&c| !is_invisible(c) && (c == '\t' || !c.is_control()))
        .collect()
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// Joins the lines of one PDF paragraph. A line ending in a hyphen after a lowercase letter,
/// followed by a line starting with a lowercase letter, is a word split by the layout
/// ("knowl-" / "edge" → "knowledge"). Other hyphens that end a line right after a word stay,
/// without a space ("Jean-" / "Paul" → "Jean-Paul", "10-" / "12" → "10-12"); every other line
/// break is a space. A compound broken at its own hyphen ("well-" / "known") loses the hyphen
/// too: without a dictionary the two cases cannot be told apart, and the split word is by
/// far the more common one in print.
pub(crate) fn join_lines_dehyphenated<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if out.is_empty() {
            out.push_str(line);
            continue;
        }
        let mut tail = out.chars().rev();
        let (last, before) = (tail.next(), tail.next());
        let hyphen_after_word = last == Some('-') && before.is_some_and(|c| !c.is_whitespace());
        if hyphen_after_word {
            let split_word = before.is_some_and(char::is_lowercase)
                && line.chars().next().is_some_and(char::is_lowercase);
            if split_word {
                out.pop();
            }
        } else {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}
