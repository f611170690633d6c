//! The comparison the server calls: a section against candidate passages, per paragraph.

use std::collections::HashMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::normalize::{Word, words};
use super::paragraph::paragraphs;
use super::shingle::{DEFAULT_SHINGLE_WORDS, ShingleSet, ratio, shingle_sequence};

/// How a section is cut and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginalityConfig {
    /// Words per shingle.
    pub shingle_words: usize,
    /// Paragraphs with fewer words are not checked.
    pub min_paragraph_words: usize,
    /// Sources listed per paragraph, most contained first.
    pub max_matches: usize,
    /// A candidate sharing fewer shingles with a paragraph is not listed: one shared 5-gram is
    /// a stock phrase, not copying.
    pub min_shared_shingles: usize,
    /// Characters of a paragraph's text kept in its report.
    pub preview_chars: usize,
    /// Characters of a matched excerpt kept in a match.
    pub excerpt_chars: usize,
}

impl Default for OriginalityConfig {
    fn default() -> Self {
        Self {
            shingle_words: DEFAULT_SHINGLE_WORDS,
            min_paragraph_words: 8,
            max_matches: 3,
            min_shared_shingles: 2,
            preview_chars: 120,
            excerpt_chars: 600,
        }
    }
}

/// The lexical overlap of a section with its candidates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionReport {
    /// Every paragraph checked, in order, with or without matches.
    pub paragraphs: Vec<ParagraphReport>,
    /// The largest containment of any paragraph in any candidate (0 when none).
    pub max_containment: f64,
    /// The largest Jaccard similarity of any paragraph with any candidate (0 when none).
    pub max_jaccard: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParagraphReport {
    /// Byte offsets of the paragraph in the section text, on character boundaries.
    pub span: Range<usize>,
    /// The paragraph's first characters, for display.
    pub text_preview: String,
    /// The candidates it overlaps most, by containment then Jaccard; one per source id.
    pub best: Vec<Match>,
}

/// One candidate a paragraph overlaps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub source_id: String,
    /// |paragraph ∩ candidate| / |paragraph| over shingles: how much of the paragraph is
    /// found in the candidate.
    pub containment: f64,
    /// |paragraph ∩ candidate| / |paragraph ∪ candidate| over shingles (exact, not estimated).
    pub jaccard: f64,
    pub shared_shingles: usize,
    /// The candidate's words that the paragraph copies: the stretch of the candidate with the
    /// most shared shingles, bridging gaps of up to one shingle length (one edited word breaks
    /// that many shingles), with the candidate's own punctuation.
    pub matched_excerpt: String,
    /// Byte offsets of the excerpt in the candidate text (before any shortening).
    pub matched_span: Range<usize>,
}

/// When a match counts as copying.
///
/// Defaults, measured with 5-word shingles on the prose in `originality/tests/fixtures.rs`:
/// a verbatim copy has containment 1, also when pasted into a passage three times its size
/// (where its Jaccard falls to ≈ 0.3). A copy with a tenth of its words replaced at random
/// keeps about 0.9⁵ ≈ 0.59 of its shingles: 0.47–0.69 over 200 edit patterns, 0.51 at the
/// 5th percentile. The hand-edited copy (words changed, a sentence moved) keeps 0.57. An
/// original section on the same topic and close paraphrases of the sources do not share even
/// two shingles with them (containment 0). Containment ≥ 0.35 therefore flags every such copy
/// with a margin of 0.12 while staying far above independent writing; 0.5 would miss about
/// one lightly edited copy in twenty. A sentence quoted in a paragraph five times its length
/// (0.2) is listed with its source but not flagged. Jaccard never exceeds containment, so with these defaults the Jaccard bound
/// (0.4, a whole-passage near-duplicate) is implied by the containment one; it acts alone
/// for callers who raise the containment bound to flag only whole-passage duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub containment: f64,
    pub jaccard: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            containment: 0.35,
            jaccard: 0.4,
        }
    }
}

impl Thresholds {
    pub fn flags(&self, m: &Match) -> bool {
        m.containment >= self.containment || m.jaccard >= self.jaccard
    }
}

impl ParagraphReport {
    /// The matches that count as copying under `thresholds`.
    pub fn flagged<'a>(&'a self, thresholds: &'a Thresholds) -> impl Iterator<Item = &'a Match> {
        self.best.iter().filter(|m| thresholds.flags(m))
    }

    pub fn is_flagged(&self, thresholds: &Thresholds) -> bool {
        self.flagged(thresholds).next().is_some()
    }
}

impl SectionReport {
    /// The paragraphs with at least one match that counts as copying.
    pub fn flagged<'a>(
        &'a self,
        thresholds: &'a Thresholds,
    ) -> impl Iterator<Item = &'a ParagraphReport> {
        self.paragraphs.iter().filter(|p| p.is_flagged(thresholds))
    }

    pub fn is_flagged(&self, thresholds: &Thresholds) -> bool {
        self.flagged(thresholds).next().is_some()
    }
}

/// [`compare_with`] under the default configuration.
pub fn compare<S: AsRef<str>, T: AsRef<str>>(
    section_text: &str,
    candidates: &[(S, T)],
) -> SectionReport {
    compare_with(&OriginalityConfig::default(), section_text, candidates)
}

/// Compares each paragraph of `section_text` with every candidate `(source_id, text)`.
/// Several candidates may share a source id (chunks of one document); a paragraph then lists
/// the source once, with its best-matching candidate.
pub fn compare_with<S: AsRef<str>, T: AsRef<str>>(
    config: &OriginalityConfig,
    section_text: &str,
    candidates: &[(S, T)],
) -> SectionReport {
    let k = config.shingle_words.max(1);
    let prepared: Vec<Prepared> = candidates
        .iter()
        .map(|(id, text)| Prepared::new(id.as_ref(), text.as_ref(), k))
        .collect();
    let mut report = SectionReport {
        paragraphs: Vec::new(),
        max_containment: 0.0,
        max_jaccard: 0.0,
    };
    for paragraph in paragraphs(section_text, config.min_paragraph_words) {
        let set = ShingleSet::from_hashes(shingle_sequence(&words(paragraph.text), k));
        let best = best_matches(config, &set, &prepared);
        for m in &best {
            report.max_containment = report.max_containment.max(m.containment);
            report.max_jaccard = report.max_jaccard.max(m.jaccard);
        }
        report.paragraphs.push(ParagraphReport {
            span: paragraph.span,
            text_preview: shorten(paragraph.text, config.preview_chars),
            best,
        });
    }
    report
}

/// A candidate, tokenised once for all paragraphs.
struct Prepared<'a> {
    source_id: &'a str,
    text: &'a str,
    words: Vec<Word>,
    sequence: Vec<u64>,
    set: ShingleSet,
}

impl<'a> Prepared<'a> {
    fn new(source_id: &'a str, text: &'a str, k: usize) -> Self {
        let words = words(text);
        let sequence = shingle_sequence(&words, k);
        let set = ShingleSet::from_hashes(sequence.clone());
        Self {
            source_id,
            text,
            words,
            sequence,
            set,
        }
    }
}

fn best_matches(config: &OriginalityConfig, set: &ShingleSet, prepared: &[Prepared]) -> Vec<Match> {
    if set.is_empty() {
        return Vec::new();
    }
    // (candidate index, shared shingles), the best candidate per source id.
    let mut per_source: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, candidate) in prepared.iter().enumerate() {
        let shared = set.intersection_len(&candidate.set);
        if shared == 0 || shared < config.min_shared_shingles {
            continue;
        }
        let entry = per_source.entry(candidate.source_id).or_insert((i, shared));
        let better = shared > entry.1
            || (shared == entry.1 && candidate.set.len() < prepared[entry.0].set.len());
        if better {
            *entry = (i, shared);
        }
    }
    let mut ranked: Vec<(usize, usize)> = per_source.into_values().collect();
    let jaccard =
        |(i, shared): (usize, usize)| ratio(shared, set.len() + prepared[i].set.len() - shared);
    // Containment is shared / |paragraph| for every candidate, so it ranks by shared; ties by
    // Jaccard (the tighter passage), then by input order so reports are deterministic.
    ranked.sort_by(|&a, &b| {
        b.1.cmp(&a.1)
            .then(jaccard(b).total_cmp(&jaccard(a)))
            .then(a.0.cmp(&b.0))
    });
    ranked.truncate(config.max_matches);
    ranked
        .into_iter()
        .map(|(i, shared)| {
            let candidate = &prepared[i];
            let span = excerpt_span(set, candidate, config.shingle_words.max(1));
            Match {
                source_id: candidate.source_id.to_owned(),
                containment: ratio(shared, set.len()),
                jaccard: jaccard((i, shared)),
                shared_shingles: shared,
                matched_excerpt: shorten(&candidate.text[span.clone()], config.excerpt_chars),
                matched_span: span,
            }
        })
        .collect()
}

/// The byte span of the candidate's words covered by its stretch of shingles with the most
/// shared ones, where a stretch bridges up to `k` unshared shingles in a row.
fn excerpt_span(set: &ShingleSet, candidate: &Prepared, k: usize) -> Range<usize> {
    // (first shingle, last shingle, shared count) of the best and the current stretch.
    let mut best: Option<(usize, usize, usize)> = None;
    let mut current: Option<(usize, usize, usize)> = None;
    for (i, &hash) in candidate.sequence.iter().enumerate() {
        if !set.contains(hash) {
            continue;
        }
        current = match current {
            Some((first, last, n)) if i - last <= k + 1 => Some((first, i, n + 1)),
            _ => Some((i, i, 1)),
        };
        if best.is_none_or(|b| current.is_some_and(|c| c.2 > b.2)) {
            best = current;
        }
    }
    match best {
        Some((first, last, _)) => {
            candidate.words[first].span.start..candidate.words[last + k - 1].span.end
        }
        None => 0..0,
    }
}

/// At most `max_chars` characters of `text`, cut at a word boundary when one is near, with an
/// ellipsis when shortened.
fn shorten(text: &str, max_chars: usize) -> String {
    let Some((cut, _)) = text.char_indices().nth(max_chars) else {
        return text.to_owned();
    };
    let head = &text[..cut];
    let head = match head.rfind(char::is_whitespace) {
        Some(space) if space >= cut / 2 => &head[..space],
        _ => head,
    };
    format!("{}…", head.trim_end())
}
