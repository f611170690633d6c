use std::sync::Arc;

use super::*;

/// One token per whitespace word: makes bounds easy to reason about in tests.
struct Words;

impl TokenCounter for Words {
    fn count(&self, text: &str) -> usize {
        text.split_whitespace().count()
    }
}

fn chunker(max: usize, overlap: usize) -> Chunker {
    Chunker::with_counter(
        ChunkerConfig {
            max_tokens: max,
            overlap_tokens: overlap,
        },
        Arc::new(Words),
    )
}

fn numbered_sentences(n: usize, words_each: usize) -> String {
    (0..n)
        .map(|i| {
            let mut s = format!("S{i}");
            for w in 1..words_each {
                s.push_str(&format!(" w{i}x{w}"));
            }
            s.push('.');
            s
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_chunk_is_within_the_bound_and_all_words_are_kept() {
    let text = numbered_sentences(40, 7);
    let chunks = chunker(30, 5).chunk(&[DocumentBlock::paragraph(&text)]);
    assert!(chunks.len() > 5);
    for c in &chunks {
        assert!(c.text.split_whitespace().count() <= 30, "{c:?}");
        assert_eq!(c.token_estimate as usize, c.text.split_whitespace().count());
    }
    for word in text.split_whitespace() {
        assert!(
            chunks
                .iter()
                .any(|c| c.text.split_whitespace().any(|w| w == word)),
            "lost {word}"
        );
    }
    let ordinals: Vec<u32> = chunks.iter().map(|c| c.ordinal).collect();
    assert_eq!(ordinals, (0..chunks.len() as u32).collect::<Vec<_>>());
}

#[test]
fn chunks_end_on_sentence_boundaries_when_sentences_fit() {
    let chunks = chunker(30, 0).chunk(&[DocumentBlock::paragraph(numbered_sentences(20, 7))]);
    for c in &chunks {
        assert!(c.text.starts_with('S'), "starts mid-sentence: {:?}", c.text);
        assert!(c.text.ends_with('.'), "ends mid-sentence: {:?}", c.text);
    }
}

#[test]
fn consecutive_chunks_overlap_by_whole_sentences() {
    let chunks = chunker(30, 8).chunk(&[DocumentBlock::paragraph(numbered_sentences(20, 7))]);
    for pair in chunks.windows(2) {
        let last_sentence = pair[0]
            .text
            .rsplit_once(" S")
            .map(|(_, s)| format!("S{s}"))
            .unwrap();
        assert!(
            pair[1].text.starts_with(&last_sentence),
            "{:?} does not begin with {last_sentence:?}",
            pair[1].text
        );
    }
}

#[test]
fn overlong_sentence_is_cut_between_words_with_word_overlap() {
    let sentence: Vec<String> = (0..100).map(|i| format!("word{i}")).collect();
    let chunks = chunker(20, 3).chunk(&[DocumentBlock::paragraph(sentence.join(" "))]);
    for c in &chunks {
        assert!(
            c.text
                .split_whitespace()
                .all(|w| sentence.contains(&w.to_string())),
            "split a word: {c:?}"
        );
        assert!(c.text.split_whitespace().count() <= 20);
    }
    // The second chunk repeats the tail of the first.
    let first_tail: Vec<&str> = chunks[0].text.split_whitespace().rev().take(3).collect();
    assert!(
        chunks[1]
            .text
            .split_whitespace()
            .take(3)
            .any(|w| first_tail.contains(&w))
    );
}

#[test]
fn headings_start_new_chunks_and_build_paths() {
    let blocks = vec![
        DocumentBlock::heading(1, "Guide"),
        DocumentBlock::paragraph("Intro text."),
        DocumentBlock::heading(2, "Install"),
        DocumentBlock::paragraph("Run the installer."),
        DocumentBlock::heading(3, "On Linux"),
        DocumentBlock::list_item("Use the package."),
        DocumentBlock::heading(2, "Usage"),
        DocumentBlock::paragraph("Call it."),
    ];
    let chunks = chunker(100, 10).chunk(&blocks);
    let got: Vec<(&str, Vec<&str>)> = chunks
        .iter()
        .map(|c| {
            (
                c.text.as_str(),
                c.heading_path.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("Intro text.", vec!["Guide"]),
            ("Run the installer.", vec!["Guide", "Install"]),
            ("Use the package.", vec!["Guide", "Install", "On Linux"]),
            ("Call it.", vec!["Guide", "Usage"]),
        ]
    );
}

#[test]
fn overlap_never_crosses_a_heading() {
    let blocks = vec![
        DocumentBlock::heading(1, "A"),
        DocumentBlock::paragraph(numbered_sentences(6, 5)),
        DocumentBlock::heading(1, "B"),
        DocumentBlock::paragraph("Fresh start here."),
    ];
    let chunks = chunker(12, 6).chunk(&blocks);
    let b = chunks.iter().find(|c| c.heading_path == ["B"]).unwrap();
    assert_eq!(b.text, "Fresh start here.");
}

#[test]
fn pages_follow_page_breaks_and_explicit_numbers() {
    let blocks = vec![
        DocumentBlock::paragraph("First page text.").on_page(1),
        DocumentBlock::page_break(),
        DocumentBlock::heading(1, "Later"),
        DocumentBlock::paragraph("Second page text."),
        DocumentBlock::paragraph("Seventh page text.").on_page(7),
    ];
    let chunks = chunker(4, 0).chunk(&blocks);
    let pages: Vec<(String, Option<u32>)> =
        chunks.iter().map(|c| (c.text.clone(), c.page)).collect();
    assert_eq!(
        pages,
        vec![
            ("First page text.".into(), Some(1)),
            ("Second page text.".into(), Some(2)),
            ("Seventh page text.".into(), Some(7)),
        ]
    );
}

#[test]
fn small_blocks_are_packed_together_on_new_lines() {
    let blocks = vec![
        DocumentBlock::paragraph("One two."),
        DocumentBlock::list_item("Three."),
        DocumentBlock::table("a | b\nc | d"),
    ];
    let chunks = chunker(50, 5).chunk(&blocks);
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].text, "One two.\nThree.\na | b\nc | d");
}

#[test]
fn abbreviations_do_not_end_sentences() {
    let got: Vec<String> = split::sentences("We used e.g. Mice. Then U.S. Data.")
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(got, vec!["We used e.g. Mice.", "Then U.S. Data."]);
}

#[test]
fn empty_document_has_no_chunks() {
    assert!(chunker(10, 2).chunk(&[]).is_empty());
    assert!(
        chunker(10, 2)
            .chunk(&[DocumentBlock::heading(1, "Only a title")])
            .is_empty()
    );
}

#[test]
fn heuristic_counter_is_close_to_wordpiece_on_prose() {
    let c = HeuristicCounter;
    assert_eq!(c.count("Hello, world."), 4);
    assert_eq!(c.count("biomaterials"), 2);
    assert_eq!(c.count(""), 0);
}
