//! Text splitting helpers for the chunker: sentences, word windows, whitespace.

use super::TokenCounter;

/// Collapses runs of whitespace into one space and trims.
pub(super) fn normalise_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits a block into sentences (and lines, which in tables and lists are units of their own).
///
/// A sentence ends at `.`, `!` or `?` (optionally followed by closing quotes or brackets)
/// when the next word starts with an uppercase letter, a digit or an opening bracket/quote.
/// That keeps "e.g. the" and "Fig. 3a" mostly together and is enough for chunk boundaries:
/// a missed split only makes a piece longer, and over-long pieces are windowed by words.
/// Each sentence comes with whether it starts a line.
pub(super) fn sentences(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let mut start = 0;
        for i in 0..words.len() {
            let ends =
                ends_sentence(words[i]) && words.get(i + 1).is_some_and(|w| starts_sentence(w));
            if ends || i + 1 == words.len() {
                out.push((words[start..=i].join(" "), start == 0));
                start = i + 1;
            }
        }
    }
    out
}

fn ends_sentence(word: &str) -> bool {
    let trimmed = word.trim_end_matches(['"', '\'', ')', ']', '’', '”']);
    let Some(last) = trimmed.chars().last() else {
        return false;
    };
    if !matches!(last, '.' | '!' | '?') {
        return false;
    }
    // "U.S." or "e.g." (a letter, a dot, a letter, a dot) is an abbreviation, not an end.
    let letters = trimmed.chars().filter(|c| c.is_alphabetic()).count();
    let dots = trimmed.chars().filter(|c| *c == '.').count();
    !(dots >= 2 && letters <= dots)
}

fn starts_sentence(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || "([\"'“‘".contains(c))
}

/// Cuts a sentence longer than `max` tokens into windows of whole words, each at most `max`
/// tokens (a single word longer than that stays whole: words are never split).
pub(super) fn bounded(sentence: &str, max: usize, counter: &dyn TokenCounter) -> Vec<String> {
    if counter.count(sentence) <= max {
        return vec![sentence.to_string()];
    }
    let mut out = Vec::new();
    let mut window: Vec<&str> = Vec::new();
    let mut used = 0;
    for word in sentence.split_whitespace() {
        let tokens = counter.count(word);
        if !window.is_empty() && used + tokens > max {
            out.push(window.join(" "));
            window.clear();
            used = 0;
        }
        window.push(word);
        used += tokens;
    }
    if !window.is_empty() {
        out.push(window.join(" "));
    }
    out
}

/// The longest run of whole trailing words of `text` within `budget` tokens.
pub(super) fn last_words(text: &str, budget: usize, counter: &dyn TokenCounter) -> String {
    let mut words = Vec::new();
    let mut used = 0;
    for word in text.split_whitespace().rev() {
        let tokens = counter.count(word);
        if used + tokens > budget {
            break;
        }
        used += tokens;
        words.push(word);
    }
    words.reverse();
    words.join(" ")
}
