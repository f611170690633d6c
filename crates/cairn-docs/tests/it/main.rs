//! cairn-docs tests: the committed fixtures (made by `scripts/fixtures/make-docs-fixtures.py`),
//! and large and hostile inputs generated here at run time. Nothing touches the network.

mod alloc;
mod formats;
mod hostile;
mod large;

use std::fmt::Write;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use cairn_docs::{BlockKind, DocsError, Limits, ParsedDocument};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// Tests that allocate hundreds of MiB, or measure allocation, run one at a time.
static HEAVY: Mutex<()> = Mutex::new(());

fn heavy() -> MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(bytes: &[u8], name: &str) -> Result<ParsedDocument, DocsError> {
    cairn_docs::parse(bytes, name, None, &Limits::default())
}

/// The blocks one per line: `h1 text`, `p text`, `li text`, `table a | b / c | d`,
/// `--- page N`, with ` @N` after blocks that carry a page.
fn render(doc: &ParsedDocument) -> String {
    let mut out = String::new();
    for block in &doc.blocks {
        match &block.kind {
            BlockKind::Heading { level, text } => write!(out, "h{level} {text}"),
            BlockKind::Paragraph { text } => write!(out, "p {}", text.replace('\n', " / ")),
            BlockKind::ListItem { text } => write!(out, "li {text}"),
            BlockKind::Table { text } => write!(out, "table {}", text.replace('\n', " / ")),
            BlockKind::PageBreak => write!(out, "---"),
        }
        .unwrap();
        if let Some(page) = block.page {
            write!(out, " @{page}").unwrap();
        }
        out.push('\n');
    }
    out
}

#[track_caller]
fn check(doc: &ParsedDocument, expected: &str) {
    let expected: String = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(render(doc), expected);
}
