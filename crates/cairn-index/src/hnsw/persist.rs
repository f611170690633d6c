//! The graph's on-disk image, written inside a snapshot by `vectors.rs` (which owns atomicity
//! and checksums). Little-endian, versioned by the snapshot header.

use std::io::{self, Read, Write};
use std::sync::Mutex;

use super::{Hnsw, HnswParams};
use crate::wire::{
    read_f32s, read_u32, read_u32s, read_u64, write_f32s, write_u32, write_u32s, write_u64,
};

impl Hnsw {
    pub(crate) fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        let p = self.params;
        for v in [
            self.dims as u64,
            p.m as u64,
            p.ef_construction as u64,
            p.ef_search as u64,
            p.seed,
            self.rng,
        ] {
            write_u64(w, v)?;
        }
        write_u64(w, self.len() as u64)?;
        write_u64(w, self.entry.map_or(u64::MAX, u64::from))?;
        write_u64(w, self.max_level as u64)?;
        write_f32s(w, &self.vectors)?;
        write_u32s(w, &self.layer0)?;
        let deleted: Vec<u32> = self.deleted.iter().map(|&d| u32::from(d)).collect();
        write_u32s(w, &deleted)?;
        for levels in &self.upper {
            write_u32(w, levels.len() as u32)?;
            for links in levels {
                write_u32s(w, links)?;
            }
        }
        Ok(())
    }

    pub(crate) fn read_from(r: &mut impl Read) -> io::Result<Self> {
        let dims = read_u64(r)? as usize;
        let params = HnswParams {
            m: read_u64(r)? as usize,
            ef_construction: read_u64(r)? as usize,
            ef_search: read_u64(r)? as usize,
            seed: read_u64(r)?,
        };
        let rng = read_u64(r)?;
        let len = read_u64(r)? as usize;
        let entry = read_u64(r)?;
        let max_level = read_u64(r)? as usize;
        let vectors = read_f32s(r)?;
        let layer0 = read_u32s(r)?;
        let deleted: Vec<bool> = read_u32s(r)?.into_iter().map(|d| d != 0).collect();
        let mut upper = Vec::with_capacity(len);
        for _ in 0..len {
            let levels = read_u32(r)? as usize;
            let mut l = Vec::with_capacity(levels);
            for _ in 0..levels {
                l.push(read_u32s(r)?);
            }
            upper.push(l);
        }
        let bad =
            |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("graph image: {what}"));
        if vectors.len() != len * dims
            || layer0.len() != len * (1 + 2 * params.m)
            || deleted.len() != len
        {
            return Err(bad("section sizes disagree"));
        }
        if entry != u64::MAX && entry >= len as u64 {
            return Err(bad("entry point out of range"));
        }
        for node in layer0.chunks(1 + 2 * params.m) {
            let n = node[0] as usize;
            if n > 2 * params.m || node[1..=n].iter().any(|&x| x as usize >= len) {
                return Err(bad("layer-0 link out of range"));
            }
        }
        if upper.iter().flatten().flatten().any(|&x| x as usize >= len) {
            return Err(bad("upper link out of range"));
        }
        let live = deleted.iter().filter(|d| !**d).count();
        Ok(Self {
            params,
            dims,
            vectors,
            layer0,
            upper,
            deleted,
            live,
            entry: (entry != u64::MAX).then_some(entry as u32),
            max_level,
            rng,
            visited: Mutex::new(Vec::new()),
        })
    }
}
