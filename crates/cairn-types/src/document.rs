//! The structured document the parser hands to the index.
//!
//! Deliberately small: the document-parsing crate (cairn-docs) maps PDF, HTML, Markdown, DOCX … onto these
//! few block kinds, and the chunker only needs to know where headings, pages and natural
//! boundaries are.

use serde::{Deserialize, Serialize};

/// One block of a parsed document, in reading order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentBlock {
    pub kind: BlockKind,
    /// The page this block starts on (1-based), when the source format has pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockKind {
    /// A heading; level 1 is the top. A heading closes every open heading of its level or deeper.
    Heading {
        level: u8,
        text: String,
    },
    Paragraph {
        text: String,
    },
    ListItem {
        text: String,
    },
    /// A table flattened to text (rows on lines, cells separated by ` | `).
    Table {
        text: String,
    },
    /// The start of a new page; following blocks without a page of their own are on it.
    PageBreak,
}

impl DocumentBlock {
    pub fn heading(level: u8, text: impl Into<String>) -> Self {
        Self {
            kind: BlockKind::Heading {
                level,
                text: text.into(),
            },
            page: None,
        }
    }

    pub fn paragraph(text: impl Into<String>) -> Self {
        Self {
            kind: BlockKind::Paragraph { text: text.into() },
            page: None,
        }
    }

    pub fn list_item(text: impl Into<String>) -> Self {
        Self {
            kind: BlockKind::ListItem { text: text.into() },
            page: None,
        }
    }

    pub fn table(text: impl Into<String>) -> Self {
        Self {
            kind: BlockKind::Table { text: text.into() },
            page: None,
        }
    }

    pub fn page_break() -> Self {
        Self {
            kind: BlockKind::PageBreak,
            page: None,
        }
    }

    pub fn on_page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }
}
