//! The lexical half of the article writer's originality check: does a section repeat, word
//! for word or lightly edited, a passage of the knowledge base or of an earlier article?
//!
//! Why this shape: copying shows as shared runs of words, so texts are compared as sets of
//! hashed word k-grams ("shingles", [`shingles`]) after a language-agnostic normalisation
//! ([`normalize`]). The server finds candidate passages with hybrid search and computes
//! embedding similarity itself; [`compare`] then measures, per paragraph of the section
//! ([`paragraphs`]), how much of it each candidate contains, and shows the copied stretch of
//! the candidate. [`Thresholds`] turns that into a verdict. When there are too many stored
//! passages to compare with each, [`MinHasher`] signatures in a [`MinHashIndex`] (LSH
//! banding) narrow them to the few worth comparing.
//!
//! Everything is deterministic: hashes are xxh3 with fixed seeds, so shingles and signatures
//! can be stored and compared across runs, releases and machines.

mod compare;
mod lsh;
mod minhash;
mod normalize;
mod paragraph;
mod shingle;
#[cfg(test)]
mod tests;

pub use compare::{
    Match, OriginalityConfig, ParagraphReport, SectionReport, Thresholds, compare, compare_with,
};
pub use lsh::MinHashIndex;
pub use minhash::{DEFAULT_PERMUTATIONS, MinHasher, Signature};
pub use normalize::normalize;
pub use paragraph::{Paragraph, paragraphs};
pub use shingle::{DEFAULT_SHINGLE_WORDS, ShingleSet, shingles};
