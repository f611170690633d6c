//! Text normalisation for comparison: the same words, written differently, must compare equal.
//!
//! A word is a run of letters and digits (any script; numbers are kept, since a copied
//! passage keeps its figures), with the combining marks that follow them. Each word is put in
//! NFKC form (so composed and decomposed accents, full-width letters and ligatures agree) and
//! lower-cased; punctuation and whitespace only separate words. Scripts written without
//! spaces (Han, kana, Thai, Lao, Khmer, Myanmar) have no word boundaries to find without a
//! dictionary, so each of their characters counts as a word: shingles are then character
//! k-grams there, which is what near-duplicate detection uses for such text.

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Seed of the word hash. Changing it changes every stored shingle and signature.
const WORD_SEED: u64 = 0x6361_6972_6e2d_776f; // "cairn-wo"

/// One word of a text as compared: the hash of its normalised form, and where it is in the
/// original text (byte offsets, on character boundaries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub hash: u64,
    pub span: Range<usize>,
}

/// The text as the check sees it: normalised words joined by single spaces.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for_each_word(text, |word, _| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    });
    out
}

/// The words of `text`, hashed, with their spans in `text`.
pub(crate) fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::with_capacity(text.len() / 5);
    for_each_word(text, |word, span| {
        out.push(Word {
            hash: xxh3_64_with_seed(word.as_bytes(), WORD_SEED),
            span,
        });
    });
    out
}

/// How many words the check sees in `text`.
pub(crate) fn word_count(text: &str) -> usize {
    let mut n = 0;
    for_each_word(text, |_, _| n += 1);
    n
}

/// Calls `f(normalised word, span in text)` for every word, in order.
fn for_each_word(text: &str, mut f: impl FnMut(&str, Range<usize>)) {
    let mut buf = String::new();
    let mut emit = |span: Range<usize>| {
        let raw = &text[span.clone()];
        buf.clear();
        if raw.is_ascii() {
            buf.extend(raw.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            buf.extend(raw.nfkc().flat_map(char::to_lowercase));
        }
        f(&buf, span);
    };
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if is_unspaced_script(c) {
            if let Some(s) = start.take() {
                emit(s..i);
            }
            emit(i..i + c.len_utf8());
        } else if c.is_alphanumeric() || (start.is_some() && is_combining_mark(c)) {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            emit(s..i);
        }
    }
    if let Some(s) = start {
        emit(s..text.len());
    }
}

/// Scripts written without spaces between words, whose characters count as words.
fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'     // Thai, Lao
        | '\u{1000}'..='\u{109F}'   // Myanmar
        | '\u{1780}'..='\u{17FF}'   // Khmer
        | '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
        | '\u{31F0}'..='\u{31FF}'   // Katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}'   // CJK compatibility ideographs
        | '\u{20000}'..='\u{3134F}' // CJK extensions B–G
    )
}
