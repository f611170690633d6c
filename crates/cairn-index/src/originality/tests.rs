mod fixtures;

use fixtures::{
    HAND_EDITED_COPY, ORIGINAL, PARAPHRASES, Rng, SOURCES, replace_words, token_text,
    unrelated_passage,
};

use super::*;

fn sources() -> Vec<(String, String)> {
    SOURCES
        .iter()
        .map(|(id, text)| (id.to_string(), text.to_string()))
        .collect()
}

/// The four sources among `total` candidates, the rest unrelated passages.
fn sources_among_unrelated(total: usize) -> Vec<(String, String)> {
    let mut rng = Rng::new(7);
    let mut candidates: Vec<(String, String)> = (0..total - SOURCES.len())
        .map(|i| (format!("unrelated/{i}"), unrelated_passage(&mut rng, 90)))
        .collect();
    // Sources spread through the list, not first.
    for (n, source) in sources().into_iter().enumerate() {
        candidates.insert(n * 11 + 3, source);
    }
    candidates
}

fn section(paragraphs: &[&str]) -> String {
    format!("## Composting at home\n\n{}\n", paragraphs.join("\n\n"))
}

fn flagged_sources(report: &SectionReport) -> Vec<(usize, Vec<String>)> {
    let t = Thresholds::default();
    report
        .paragraphs
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_flagged(&t))
        .map(|(i, p)| (i, p.flagged(&t).map(|m| m.source_id.clone()).collect()))
        .collect()
}

// ---- normalisation and shingles ----

#[test]
fn normalisation_lowercases_strips_punctuation_and_keeps_numbers() {
    assert_eq!(
        normalize("  Héllo, WORLD!\n\t It's 42 — or 3.5?  "),
        "héllo world it s 42 or 3 5"
    );
    // Composed and decomposed accents, full-width letters and ligatures agree.
    assert_eq!(normalize("cafe\u{301}"), normalize("café"));
    assert_eq!(normalize("ＡＢＣ ﬁle"), "abc file");
    // Greek and Cyrillic are lower-cased; Han characters are words of their own.
    assert_eq!(normalize("ΣΟΦΙΑ Москва"), "σοφια москва");
    assert_eq!(normalize("日本語の文章。"), "日 本 語 の 文 章");
    assert_eq!(normalize(""), "");
    assert_eq!(normalize("!?—…"), "");
}

#[test]
fn shingles_ignore_case_punctuation_and_spacing() {
    let a = shingles("The quick brown fox jumps over the lazy dog.", 5);
    let b = shingles("the QUICK, brown fox —\njumps over the lazy dog", 5);
    assert_eq!(a, b);
    assert_eq!(a.len(), 5);
    assert!(shingles("four words only here", 5).is_empty());
    assert_eq!(shingles("four words only here", 0).len(), 4);
}

#[test]
fn containment_and_jaccard_are_exact_set_measures() {
    let a = ShingleSet::from_hashes(vec![1, 2, 3, 4]);
    let b = ShingleSet::from_hashes(vec![3, 4, 5, 6, 7, 8, 4]);
    assert_eq!(a.intersection_len(&b), 2);
    assert_eq!(a.containment_in(&b), 0.5);
    assert_eq!(b.containment_in(&a), 2.0 / 6.0);
    assert_eq!(a.jaccard(&b), 2.0 / 8.0);
    let empty = ShingleSet::default();
    assert_eq!(empty.containment_in(&a), 0.0);
    assert_eq!(empty.jaccard(&empty), 0.0);
}

/// Stored signatures must stay comparable across releases: these values change only when the
/// word, shingle or permutation hashing changes, which invalidates every stored signature.
#[test]
fn hashing_is_pinned() {
    let set = shingles("The quick brown fox jumps over the lazy dog", 5);
    let signature = MinHasher::default().signature(&set);
    assert_eq!(
        (set.hashes()[0], &signature.values()[..2]),
        (PINNED_SHINGLE, &PINNED_SIGNATURE[..])
    );
}

const PINNED_SHINGLE: u64 = 3565680134552749805;
const PINNED_SIGNATURE: [u64; 2] = [3337453718926017271, 408223028583020872];

// ---- MinHash and LSH ----

#[test]
fn minhash_estimate_is_within_a_tenth_of_the_exact_jaccard() {
    let hasher = MinHasher::default();
    let mut rng = Rng::new(11);
    let mut worst: f64 = 0.0;
    for step in 0..=12 {
        let share = step as f64 / 12.0;
        let base = token_text(&mut rng, 120 + step * 10, 5_000).join(" ");
        let edited = replace_words(&mut rng, &base, share * 0.6);
        let (a, b) = (shingles(&base, 5), shingles(&edited, 5));
        let exact = a.jaccard(&b);
        let estimate = hasher.signature(&a).jaccard(&hasher.signature(&b));
        worst = worst.max((estimate - exact).abs());
        assert!(
            (estimate - exact).abs() <= 0.1,
            "share {share}: exact {exact}, estimate {estimate}"
        );
    }
    // Pairs of different lengths: one text a prefix of the other.
    for len in [40, 80, 160] {
        let long = token_text(&mut rng, 200, 5_000);
        let (a, b) = (
            shingles(&long[..len].join(" "), 5),
            shingles(&long.join(" "), 5),
        );
        let exact = a.jaccard(&b);
        let estimate = hasher.signature(&a).jaccard(&hasher.signature(&b));
        assert!((estimate - exact).abs() <= 0.1, "{exact} vs {estimate}");
    }
    assert!(worst > 0.0, "the estimate is an estimate, not exact");
}

#[test]
fn identical_texts_have_identical_signatures_and_unrelated_ones_agree_nowhere() {
    let hasher = MinHasher::default();
    let text = SOURCES[0].1;
    let a = hasher.signature_of_text(text, 5);
    assert_eq!(a.len(), DEFAULT_PERMUTATIONS);
    assert_eq!(a, hasher.signature_of_text(&text.to_uppercase(), 5));
    assert_eq!(a.jaccard(&a), 1.0);
    let other = hasher.signature_of_text(SOURCES[3].1, 5);
    assert_eq!(a.jaccard(&other), 0.0);
    // Different hashers give incomparable signatures.
    let small = MinHasher::new(16, 1).signature_of_text(text, 5);
    assert_eq!(a.jaccard(&small), 0.0);
}

#[test]
fn lsh_finds_a_near_duplicate_among_a_thousand_paragraphs() {
    let hasher = MinHasher::default();
    let mut rng = Rng::new(23);
    let mut index = MinHashIndex::default();
    let stored: Vec<String> = (0..1_000)
        .map(|_| {
            let words = 60 + rng.below(60);
            token_text(&mut rng, words, 20_000).join(" ")
        })
        .collect();
    for (id, text) in stored.iter().enumerate() {
        index
            .insert(id, &hasher.signature_of_text(text, 5))
            .unwrap();
    }
    assert_eq!(index.len(), 1_000);
    for (target, seed) in [(737, 1), (0, 2), (999, 3), (412, 4)] {
        let query = replace_words(&mut Rng::new(seed), &stored[target], 0.1);
        let candidates = index
            .candidates(&hasher.signature_of_text(&query, 5))
            .unwrap();
        assert!(candidates.contains(&&target), "{target}: {candidates:?}");
        assert!(candidates.len() <= 5, "{target}: {candidates:?}");
    }
    let unrelated = token_text(&mut rng, 80, 20_000).join(" ");
    let none = index
        .candidates(&hasher.signature_of_text(&unrelated, 5))
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
}

#[test]
fn lsh_refuses_signatures_of_the_wrong_length_and_skips_empty_ones() {
    let mut index = MinHashIndex::new(8, 2);
    let wrong = MinHasher::new(32, 1).signature_of_text(SOURCES[0].1, 5);
    assert!(index.insert("a", &wrong).is_err());
    assert!(index.candidates(&wrong).is_err());
    let empty = MinHasher::new(16, 1).signature_of_text("too short", 5);
    assert!(empty.is_empty());
    index.insert("b", &empty).unwrap();
    assert!(index.is_empty());
    assert!(index.candidates(&empty).unwrap().is_empty());
}

// ---- paragraphs ----

#[test]
fn paragraphs_skip_headings_code_and_short_lines_and_keep_spans() {
    let text = "# Title\n\nFirst paragraph has enough words to be checked here,\n\
                continued on a second line.\r\n\n\
                Setext heading\n==============\n\n\
                Too short.\n\n\
                ```rust\nlet code = \"is not prose and is never checked at all here\";\n```\n\
                \n   Indented second paragraph with more than eight words in it.   \n\
                \n---\n\
                - a list item with words\n- and another list item here\n\
                ## Heading\nAfter a heading line, a paragraph starts at once with words.";
    let found = paragraphs(text, 8);
    let texts: Vec<&str> = found.iter().map(|p| p.text).collect();
    assert_eq!(
        texts,
        [
            "First paragraph has enough words to be checked here,\n\
             continued on a second line.",
            "Indented second paragraph with more than eight words in it.",
            "- a list item with words\n- and another list item here",
            "After a heading line, a paragraph starts at once with words.",
        ]
    );
    for p in &found {
        assert_eq!(&text[p.span.clone()], p.text);
    }
    assert!(paragraphs("", 8).is_empty());
    assert!(paragraphs("\n\n# only\n\n", 0).is_empty());
}

// ---- compare and the verdict ----

#[test]
fn an_exact_copy_is_flagged_with_its_source_and_excerpt() {
    let report = compare(&section(&[ORIGINAL[0], SOURCES[2].1]), &sources());
    assert_eq!(
        flagged_sources(&report),
        [(1, vec!["kb/troubleshooting".into()])]
    );
    let m = &report.paragraphs[1].best[0];
    assert_eq!(m.containment, 1.0);
    assert_eq!(m.jaccard, 1.0);
    assert_eq!(report.max_containment, 1.0);
    // The whole source, up to its last word (the final full stop is not a word).
    assert_eq!(m.matched_excerpt, SOURCES[2].1.trim_end_matches('.'));
    assert_eq!(m.matched_span, 0..SOURCES[2].1.len() - 1);
}

#[test]
fn copies_with_a_tenth_of_their_words_replaced_are_flagged() {
    let candidates = sources_among_unrelated(50);
    // 200 edit patterns: a bound of 0.5 would miss about one in twenty of them.
    for seed in 0..200 {
        let (id, text) = SOURCES[(seed % 4) as usize];
        let edited = replace_words(&mut Rng::new(seed), text, 0.1);
        let report = compare(&edited, &candidates);
        let m = &report.paragraphs[0].best[0];
        assert_eq!(m.source_id, id);
        assert!(
            Thresholds::default().flags(m),
            "seed {seed}: containment {}, jaccard {}",
            m.containment,
            m.jaccard
        );
    }
}

#[test]
fn a_hand_edited_copy_is_flagged_and_its_excerpt_spans_the_edits() {
    let report = compare(HAND_EDITED_COPY, &sources());
    assert_eq!(
        flagged_sources(&report),
        [(0, vec!["kb/composting-basics#2".into()])]
    );
    let m = &report.paragraphs[0].best[0];
    assert!(
        m.containment < 0.9,
        "edits cost shingles: {}",
        m.containment
    );
    // The copied stretch of the source: its moved sentence and the rest, across the edits
    // ("week or two" → "week or so", "centre" → "middle", "heap" → "pile").
    assert!(
        m.matched_excerpt
            .starts_with("should feel like a wrung-out sponge"),
        "{}",
        m.matched_excerpt
    );
    assert!(
        m.matched_excerpt
            .contains("every week or two lets fresh air reach the centre")
    );
    assert!(
        m.matched_excerpt
            .ends_with("the volume of the heap can shrink by half over a month")
    );
}

#[test]
fn a_planted_paragraph_is_flagged_alone_with_its_source_among_fifty_candidates() {
    let candidates = sources_among_unrelated(50);
    let text = section(&[
        ORIGINAL[0],
        ORIGINAL[1],
        SOURCES[2].1,
        ORIGINAL[3],
        ORIGINAL[4],
    ]);
    let report = compare(&text, &candidates);
    assert_eq!(report.paragraphs.len(), 5);
    assert_eq!(
        flagged_sources(&report),
        [(2, vec!["kb/troubleshooting".into()])]
    );
    let planted = &report.paragraphs[2];
    assert_eq!(&text[planted.span.clone()], SOURCES[2].1);
    assert!(
        planted
            .text_preview
            .starts_with("When a heap stops heating")
    );
}

#[test]
fn a_copy_inside_a_longer_passage_is_flagged_by_containment() {
    let longer = format!("{}\n\n{}\n\n{}", SOURCES[0].1, SOURCES[1].1, SOURCES[3].1);
    let report = compare(SOURCES[1].1, &[("articles/long", longer.as_str())]);
    let m = &report.paragraphs[0].best[0];
    assert_eq!(m.containment, 1.0);
    assert!(m.jaccard < 0.4, "{}", m.jaccard);
    assert!(report.is_flagged(&Thresholds::default()));
    assert_eq!(
        &longer[m.matched_span.clone()],
        SOURCES[1].1.trim_end_matches('.')
    );
}

#[test]
fn a_quoted_sentence_is_listed_with_its_source_but_not_flagged() {
    let quoted = "Greens such as grass clippings, vegetable scraps and coffee grounds supply \
                  nitrogen, while browns such as dry leaves, straw and shredded cardboard supply \
                  carbon.";
    assert!(SOURCES[0].1.contains(quoted));
    let (first, rest) = ORIGINAL[1].split_once(". ").unwrap();
    let paragraph = format!("{first}. {quoted} {rest}");
    let report = compare(&paragraph, &sources());
    let m = &report.paragraphs[0].best[0];
    assert_eq!(m.source_id, SOURCES[0].0);
    assert!((0.1..0.35).contains(&m.containment), "{}", m.containment);
    assert!(!report.is_flagged(&Thresholds::default()));
    assert_eq!(m.matched_excerpt, quoted.trim_end_matches('.'));
}

#[test]
fn an_original_section_on_the_same_topic_is_not_flagged() {
    let candidates = sources_among_unrelated(50);
    let report = compare(&section(&ORIGINAL), &candidates);
    assert_eq!(report.paragraphs.len(), 5);
    assert!(!report.is_flagged(&Thresholds::default()));
    assert!(report.max_containment < 0.1, "{}", report.max_containment);
}

#[test]
fn close_paraphrases_of_the_sources_are_not_flagged() {
    let report = compare(&section(&PARAPHRASES), &sources());
    assert_eq!(report.paragraphs.len(), 2);
    assert!(!report.is_flagged(&Thresholds::default()));
    assert!(report.max_containment < 0.1, "{}", report.max_containment);
}

#[test]
fn a_source_split_into_chunks_is_listed_once_with_its_best_chunk() {
    let candidates = [
        ("doc", SOURCES[0].1),
        ("doc", SOURCES[2].1),
        ("other", SOURCES[2].1),
    ];
    let report = compare(SOURCES[2].1, &candidates);
    let ids: Vec<&str> = report.paragraphs[0]
        .best
        .iter()
        .map(|m| m.source_id.as_str())
        .collect();
    assert_eq!(ids, ["doc", "other"]);
    assert_eq!(report.paragraphs[0].best[0].containment, 1.0);
}

#[test]
fn empty_and_short_inputs_do_not_panic() {
    let none: [(&str, &str); 0] = [];
    let report = compare("", &none);
    assert!(report.paragraphs.is_empty());
    assert_eq!((report.max_containment, report.max_jaccard), (0.0, 0.0));
    assert!(
        compare("Too short.", &[("a", "Too short.")])
            .paragraphs
            .is_empty()
    );
    let report = compare(SOURCES[0].1, &[("empty", ""), ("short", "a few words")]);
    assert_eq!(report.paragraphs.len(), 1);
    assert!(report.paragraphs[0].best.is_empty());
    let zero = OriginalityConfig {
        shingle_words: 0,
        min_paragraph_words: 0,
        max_matches: 0,
        min_shared_shingles: 0,
        preview_chars: 0,
        excerpt_chars: 0,
    };
    let report = compare_with(&zero, "# x\n\n!!\n\nword\n", &[("a", "word")]);
    assert_eq!(report.paragraphs.len(), 2);
    assert!(report.paragraphs.iter().all(|p| p.best.is_empty()));
    let report = compare_with(
        &OriginalityConfig {
            max_matches: 1,
            ..zero
        },
        "word\n",
        &[("a", "word")],
    );
    assert_eq!(report.paragraphs[0].best[0].matched_excerpt, "…");
    assert_eq!(
        MinHasher::default().signature_of_text("", 5),
        Signature(vec![])
    );
}

#[test]
fn a_long_article_against_many_candidates_is_checked_paragraph_by_paragraph() {
    // About 2,000 words: 25 paragraphs of unrelated prose with one planted copy.
    let mut rng = Rng::new(99);
    let mut paragraphs: Vec<String> = (0..25).map(|_| unrelated_passage(&mut rng, 80)).collect();
    paragraphs[17] = SOURCES[3].1.to_owned();
    let mut candidates = sources_among_unrelated(200);
    candidates.extend((0..3).map(|i| (format!("earlier/{i}"), unrelated_passage(&mut rng, 400))));
    let report = compare(&paragraphs.join("\n\n"), &candidates);
    assert_eq!(report.paragraphs.len(), 25);
    assert_eq!(
        flagged_sources(&report),
        [(17, vec!["articles/2024-worm-bins".into()])]
    );
}
