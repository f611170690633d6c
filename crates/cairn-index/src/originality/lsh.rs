//! LSH banding over MinHash signatures: find the stored passages that may be near-duplicates
//! of a query without comparing it with each.
//!
//! A signature is cut into `bands` bands of `rows` values; two passages become candidates when
//! any band agrees entirely. For Jaccard similarity s that happens with probability
//! 1 − (1 − sʳ)ᵇ. The default, 64 bands of 2 rows over 128 permutations, favours recall: a
//! copy with a tenth of its words edited (s ≈ 0.4) is found with probability ≈ 1, a partial
//! copy at s = 0.2 with 0.93, while independent texts on one topic (s ≲ 0.02) come back
//! about 2.5% of the time. Candidates are meant to be checked exactly with
//! [`compare`](super::compare) afterwards, so a few false ones cost little and a missed copy
//! costs a wrong verdict.

use std::collections::HashMap;

use xxhash_rust::xxh3::xxh3_64;

use super::minhash::{DEFAULT_PERMUTATIONS, Signature};
use crate::IndexError;

/// Stored signatures, bucketed by band. `Id` is whatever the caller names a passage by.
#[derive(Debug, Clone)]
pub struct MinHashIndex<Id> {
    bands: usize,
    rows: usize,
    /// Per band: band hash → entries (indexes into `ids`) with that band.
    buckets: Vec<HashMap<u64, Vec<u32>>>,
    ids: Vec<Id>,
}

impl<Id> Default for MinHashIndex<Id> {
    fn default() -> Self {
        Self::new(DEFAULT_PERMUTATIONS / 2, 2)
    }
}

impl<Id> MinHashIndex<Id> {
    /// An index for signatures of `bands × rows` values (both at least 1).
    pub fn new(bands: usize, rows: usize) -> Self {
        let (bands, rows) = (bands.max(1), rows.max(1));
        Self {
            bands,
            rows,
            buckets: (0..bands).map(|_| HashMap::new()).collect(),
            ids: Vec::new(),
        }
    }

    /// How many passages were inserted (empty signatures are not stored).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Stores a passage's signature. An empty signature (a text shorter than one shingle) can
    /// resemble nothing and is skipped; a signature of the wrong length is refused.
    pub fn insert(&mut self, id: Id, signature: &Signature) -> Result<(), IndexError> {
        if signature.is_empty() {
            return Ok(());
        }
        self.check(signature)?;
        let entry = u32::try_from(self.ids.len())
            .map_err(|_| IndexError::Invalid("MinHash index is full".into()))?;
        for (band, key) in self.band_keys(signature).enumerate() {
            self.buckets[band].entry(key).or_default().push(entry);
        }
        self.ids.push(id);
        Ok(())
    }

    /// The stored passages sharing at least one band with `signature`, in insertion order.
    pub fn candidates(&self, signature: &Signature) -> Result<Vec<&Id>, IndexError> {
        if signature.is_empty() {
            return Ok(Vec::new());
        }
        self.check(signature)?;
        let mut entries: Vec<u32> = self
            .band_keys(signature)
            .enumerate()
            .filter_map(|(band, key)| self.buckets[band].get(&key))
            .flatten()
            .copied()
            .collect();
        entries.sort_unstable();
        entries.dedup();
        Ok(entries.into_iter().map(|e| &self.ids[e as usize]).collect())
    }

    fn check(&self, signature: &Signature) -> Result<(), IndexError> {
        let expected = self.bands * self.rows;
        if signature.len() == expected {
            Ok(())
        } else {
            Err(IndexError::Invalid(format!(
                "MinHash signature has {} values, the index expects {expected}",
                signature.len()
            )))
        }
    }

    fn band_keys<'a>(&self, signature: &'a Signature) -> impl Iterator<Item = u64> + 'a {
        signature.values().chunks_exact(self.rows).map(|band| {
            let bytes: Vec<u8> = band.iter().flat_map(|v| v.to_le_bytes()).collect();
            xxh3_64(&bytes)
        })
    }
}
