//! Paragraphs of Markdown-ish text: the units a section is checked in.
//!
//! A paragraph is a run of non-blank lines. Headings (ATX `#` lines, and a single line
//! underlined with `===`/`---`), thematic breaks and fenced code blocks are not prose and are
//! skipped: headings are too short to judge and repeat the topic by design, and code shares
//! boilerplate with every other code on the subject. Paragraphs with fewer than `min_words`
//! words are skipped too; a handful of words says nothing about copying. List items and block
//! quotes stay, their markers being punctuation the comparison ignores.

use std::ops::Range;

use super::normalize::word_count;

/// One paragraph: its byte span in the text (on character boundaries, leading and trailing
/// whitespace excluded) and the text itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph<'a> {
    pub span: Range<usize>,
    pub text: &'a str,
}

/// The paragraphs of `text` worth checking, in order.
pub fn paragraphs(text: &str, min_words: usize) -> Vec<Paragraph<'_>> {
    let mut out = Vec::new();
    // The current paragraph: span of its first line's content start to its last line's end,
    // and how many lines it has (a one-line paragraph above `---` is a setext heading).
    let mut current: Option<(Range<usize>, usize)> = None;
    let mut in_fence = false;
    let mut offset = 0;
    let mut finish = |current: &mut Option<(Range<usize>, usize)>| {
        if let Some((span, _)) = current.take() {
            let body = &text[span.clone()];
            if word_count(body) >= min_words {
                out.push(Paragraph { span, text: body });
            }
        }
    };
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if is_fence(trimmed) {
            finish(&mut current);
            in_fence = !in_fence;
            continue;
        }
        if in_fence || trimmed.is_empty() || is_atx_heading(trimmed) {
            finish(&mut current);
            continue;
        }
        if is_underline_or_break(trimmed) {
            if matches!(current, Some((_, 1))) {
                current = None; // a setext heading's text
            }
            finish(&mut current);
            continue;
        }
        let content_start = start + (line.len() - line.trim_start().len());
        let content_end = start + line.trim_end().len();
        match &mut current {
            Some((span, lines)) => {
                span.end = content_end;
                *lines += 1;
            }
            None => current = Some((content_start..content_end, 1)),
        }
    }
    finish(&mut current);
    out
}

fn is_fence(line: &str) -> bool {
    line.starts_with("```") || line.starts_with("~~~")
}

/// `#` to `######` followed by a space or nothing.
fn is_atx_heading(line: &str) -> bool {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes)
        && line[hashes..]
            .chars()
            .next()
            .is_none_or(char::is_whitespace)
}

/// A line of three or more `=`, `-`, `*` or `_` (spaces allowed): a setext underline or a
/// thematic break.
fn is_underline_or_break(line: &str) -> bool {
    let mut marks = line.chars().filter(|c| !c.is_whitespace());
    let Some(first) = marks.next() else {
        return false;
    };
    matches!(first, '=' | '-' | '*' | '_')
        && marks.clone().all(|c| c == first)
        && marks.count() >= 2
}
