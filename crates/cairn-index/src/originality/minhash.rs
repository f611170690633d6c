//! MinHash signatures: a fixed-size summary of a shingle set whose agreement with another
//! signature estimates the two sets' Jaccard similarity.
//!
//! Permutation `i` of the 64-bit hash space is `x ↦ fmix64(x ^ seedᵢ)`: xor with a seed and
//! MurmurHash3's 64-bit finaliser are both bijections, so each is a true permutation, and the
//! finaliser's avalanche makes them behave as independent random ones (the estimate's accuracy
//! is checked in the tests). This is one multiply-xor chain per shingle and permutation, much
//! cheaper than hashing the shingle again per permutation. Seeds come from SplitMix64 from a
//! fixed start, so signatures are the same on every run and machine.
//!
//! Written by hand: the one Rust MinHash/LSH library of note, `gaoya`, brings fourteen
//! dependencies (rayon, an alpha smallvec, three more hashers) for what is here a few dozen
//! lines, and does not promise stable signatures across its releases.

use serde::{Deserialize, Serialize};

use super::shingle::{ShingleSet, shingles};

/// 128 permutations: the estimate's standard error is at most √(0.25/128) ≈ 0.044.
pub const DEFAULT_PERMUTATIONS: usize = 128;

/// The fixed start of the seed sequence of [`MinHasher::default`].
const DEFAULT_SEED: u64 = 0x6361_6972_6e2d_6d68; // "cairn-mh"

/// Computes signatures with a fixed family of permutations. Only signatures from hashers with
/// the same permutation count and seed can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinHasher {
    seeds: Vec<u64>,
}

impl Default for MinHasher {
    fn default() -> Self {
        Self::new(DEFAULT_PERMUTATIONS, DEFAULT_SEED)
    }
}

impl MinHasher {
    /// `permutations` of 0 is taken as 1.
    pub fn new(permutations: usize, seed: u64) -> Self {
        let mut state = seed;
        let seeds = (0..permutations.max(1))
            .map(|_| splitmix64(&mut state))
            .collect();
        Self { seeds }
    }

    pub fn permutations(&self) -> usize {
        self.seeds.len()
    }

    /// The signature of a shingle set; an empty set has an empty signature.
    pub fn signature(&self, set: &ShingleSet) -> Signature {
        if set.is_empty() {
            return Signature(Vec::new());
        }
        let mut mins = vec![u64::MAX; self.seeds.len()];
        for &x in set.hashes() {
            for (min, &seed) in mins.iter_mut().zip(&self.seeds) {
                *min = (*min).min(fmix64(x ^ seed));
            }
        }
        Signature(mins)
    }

    /// The signature of `text`'s `k`-word shingles.
    pub fn signature_of_text(&self, text: &str, k: usize) -> Signature {
        self.signature(&shingles(text, k))
    }
}

/// The minimum of each permutation over a set's shingles. Serialisable, so signatures of
/// stored passages can be kept and loaded into a [`MinHashIndex`](super::MinHashIndex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature(pub Vec<u64>);

impl Signature {
    /// True for the signature of an empty set (a text shorter than one shingle).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn values(&self) -> &[u64] {
        &self.0
    }

    /// The estimated Jaccard similarity: the share of permutations whose minimum agrees.
    /// 0 when either is empty or their lengths differ (different hashers are incomparable).
    pub fn jaccard(&self, other: &Signature) -> f64 {
        if self.is_empty() || self.len() != other.len() {
            return 0.0;
        }
        let equal = self.0.iter().zip(&other.0).filter(|(a, b)| a == b).count();
        equal as f64 / self.len() as f64
    }
}

/// MurmurHash3's 64-bit finaliser: a bijection with full avalanche.
fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// One step of SplitMix64, the standard way to expand one seed into many.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
