//! Word k-gram shingles hashed to u64, and the set measures built on them.
//!
//! Hash choice: xxh3 (the `xxhash-rust` crate, pure Rust, no dependencies) with fixed seeds.
//! Its output is specified by the xxHash format over bytes, so it is the same on every
//! machine and every release; std's `DefaultHasher` promises neither, and `ahash`/`foldhash`
//! are explicitly unstable across versions and platforms. Stability matters because MinHash
//! signatures of earlier articles may be stored and compared with later ones. xxh3 is also
//! among the fastest hashes for the short inputs here (a word, or k word hashes).

use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::normalize::{Word, words};

/// Words per shingle. Five is the usual choice for near-duplicate prose: long enough that two
/// independent texts on the same topic share almost no shingles, short enough that a copy
/// with a word changed here and there keeps most of them.
pub const DEFAULT_SHINGLE_WORDS: usize = 5;

/// Seed of the shingle hash (over the k word hashes, little-endian).
const SHINGLE_SEED: u64 = 0x6361_6972_6e2d_7368; // "cairn-sh"

/// The hashes of every k-gram of `words`, in text order: entry `i` covers words `i..i + k`.
/// A text of fewer than `k` words has none. `k` of 0 is taken as 1.
pub(crate) fn shingle_sequence(words: &[Word], k: usize) -> Vec<u64> {
    let k = k.max(1);
    if words.len() < k {
        return Vec::new();
    }
    let mut buf = Vec::with_capacity(8 * k);
    words
        .windows(k)
        .map(|window| {
            buf.clear();
            for w in window {
                buf.extend_from_slice(&w.hash.to_le_bytes());
            }
            xxh3_64_with_seed(&buf, SHINGLE_SEED)
        })
        .collect()
}

/// The distinct k-word shingles of `text` (after [`normalize`](super::normalize)).
pub fn shingles(text: &str, k: usize) -> ShingleSet {
    ShingleSet::from_hashes(shingle_sequence(&words(text), k))
}

/// A set of shingle hashes, kept sorted so intersections are a linear merge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShingleSet(Vec<u64>);

impl ShingleSet {
    pub fn from_hashes(mut hashes: Vec<u64>) -> Self {
        hashes.sort_unstable();
        hashes.dedup();
        Self(hashes)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, hash: u64) -> bool {
        self.0.binary_search(&hash).is_ok()
    }

    pub fn hashes(&self) -> &[u64] {
        &self.0
    }

    /// |self ∩ other|.
    pub fn intersection_len(&self, other: &ShingleSet) -> usize {
        let (a, b) = (&self.0, &other.0);
        let (mut i, mut j, mut n) = (0, 0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    n += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        n
    }

    /// |self ∩ other| / |self|: how much of this text is found in `other`. 0 when empty.
    pub fn containment_in(&self, other: &ShingleSet) -> f64 {
        ratio(self.intersection_len(other), self.len())
    }

    /// |self ∩ other| / |self ∪ other|. 0 when both are empty.
    pub fn jaccard(&self, other: &ShingleSet) -> f64 {
        let shared = self.intersection_len(other);
        ratio(shared, self.len() + other.len() - shared)
    }
}

pub(crate) fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
