//! A large plain-text upload: tens of MB parse within the limits, in memory proportional to
//! the input, and a text over the character budget is refused.

use std::time::Instant;

use cairn_docs::{BlockKind, DocsError, Limits};

use crate::{alloc, heavy, parse};

const WORDS: &[&str] = &[
    "cairn", "trail", "ridge", "summit", "valley", "river", "stone", "marker", "fog", "shelter",
    "compass", "north", "glacier", "meadow", "pass", "lantern",
];

/// About `bytes` of text: paragraphs of 3–9 lines, separated by blank lines. Returns the
/// text and the number of paragraphs.
fn generate(bytes: usize) -> (String, usize) {
    let mut text = String::with_capacity(bytes + 1024);
    let mut state = 42u64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let mut paragraphs = 0;
    while text.len() < bytes {
        for _ in 0..3 + next(7) {
            for w in 0..8 + next(8) {
                if w > 0 {
                    // Runs of spaces and tabs, to be collapsed.
                    text.push_str(if next(10) == 0 { " \t  " } else { " " });
                }
                text.push_str(WORDS[next(WORDS.len() as u64) as usize]);
            }
            text.push('\n');
        }
        text.push('\n');
        paragraphs += 1;
    }
    (text, paragraphs)
}

#[test]
fn tens_of_megabytes_of_text_in_bounded_memory() {
    let _heavy = heavy();
    let (text, paragraphs) = generate(32 << 20);
    let limits = Limits {
        max_text_chars: 40_000_000,
        ..Limits::default()
    };

    let base = alloc::reset_peak();
    let started = Instant::now();
    let doc = cairn_docs::parse(text.as_bytes(), "big.txt", None, &limits).unwrap();
    let elapsed = started.elapsed();
    let used = alloc::peak() - base;
    eprintln!(
        "{} MiB of text: {} blocks in {elapsed:?}, peak {} MiB above the input",
        text.len() >> 20,
        doc.blocks.len(),
        used >> 20
    );

    assert_eq!(doc.blocks.len(), paragraphs);
    let chars: usize = doc
        .blocks
        .iter()
        .map(|b| match &b.kind {
            BlockKind::Paragraph { text } => {
                assert!(!text.contains("  ") && !text.contains('\t') && !text.contains('\n'));
                text.len()
            }
            other => panic!("unexpected block {other:?}"),
        })
        .sum();
    assert!(chars > 30 << 20, "{chars} characters");
    // The blocks hold about the input again; the parse may cost a little more in passing,
    // never a multiple.
    assert!(
        used < text.len() * 2,
        "peak {used} bytes for {} bytes of input",
        text.len()
    );
}

#[test]
fn text_over_the_character_budget_is_refused() {
    let _heavy = heavy();
    let (text, _) = generate(24 << 20);
    // 24 MiB of ASCII is more than the default 20 million characters.
    match parse(text.as_bytes(), "big.txt") {
        Err(DocsError::TooLarge { what, limit }) => {
            assert!(what.contains("characters"), "{what}");
            assert_eq!(limit, 20_000_000);
        }
        other => panic!("expected TooLarge, got {:?}", other.map(|d| d.blocks.len())),
    }
}
