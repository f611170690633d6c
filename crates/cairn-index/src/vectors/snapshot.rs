//! The vector store's snapshot: the complete state at one generation, checksummed and
//! replaced atomically (write temporary file, fsync, rename, fsync directory).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use super::{DocEntry, NodeInfo};
use crate::error::IndexError;
use crate::hnsw::Hnsw;
use crate::wire::{
    read_str, read_u32, read_u32s, read_u64, write_str, write_u32, write_u32s, write_u64,
};

const MAGIC: &[u8; 8] = b"CAIRNVS1";

pub(super) struct Snapshot {
    pub generation: u64,
    pub graph: Hnsw,
    pub nodes: Vec<NodeInfo>,
    pub docs: Vec<Option<DocEntry>>,
}

pub(super) fn write(
    dir: &Path,
    generation: u64,
    graph: &Hnsw,
    nodes: &[NodeInfo],
    docs: &[Option<DocEntry>],
) -> Result<(), IndexError> {
    let mut b = Vec::with_capacity(graph.len() * (graph.dims() * 4 + 160));
    b.extend_from_slice(MAGIC);
    write_u64(&mut b, generation)?;
    graph.write_to(&mut b)?;
    let flat: Vec<u32> = nodes.iter().flat_map(|n| [n.doc, n.ordinal]).collect();
    write_u32s(&mut b, &flat)?;
    write_u64(&mut b, docs.len() as u64)?;
    for doc in docs {
        match doc {
            None => b.push(0),
            Some(d) => {
                b.push(1);
                write_str(&mut b, &d.id)?;
                write_str(&mut b, &d.collection)?;
                write_u32(&mut b, d.metadata.len() as u32)?;
                for (k, v) in &d.metadata {
                    write_str(&mut b, k)?;
                    write_str(&mut b, v)?;
                }
                write_u32s(&mut b, &d.nodes)?;
            }
        }
    }
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());

    let tmp = dir.join("snapshot.bin.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(&b)?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join("snapshot.bin"))?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

pub(super) fn read(path: &Path) -> Result<Option<Snapshot>, IndexError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let corrupt = |reason: String| IndexError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err(corrupt("not a vector snapshot".into()));
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes(tail.try_into().expect("4 bytes")) {
        return Err(corrupt("checksum mismatch".into()));
    }
    let r = &mut &body[8..];
    let parse = |r: &mut &[u8]| -> io::Result<Snapshot> {
        let generation = read_u64(r)?;
        let graph = Hnsw::read_from(r)?;
        let flat = read_u32s(r)?;
        let nodes: Vec<NodeInfo> = flat
            .chunks_exact(2)
            .map(|c| NodeInfo {
                doc: c[0],
                ordinal: c[1],
            })
            .collect();
        let n = read_u64(r)? as usize;
        let mut docs = Vec::with_capacity(n.min(1 << 20));
        for _ in 0..n {
            let mut present = [0u8];
            io::Read::read_exact(r, &mut present)?;
            if present[0] == 0 {
                docs.push(None);
                continue;
            }
            let id = read_str(r)?;
            let collection = read_str(r)?;
            let m = read_u32(r)? as usize;
            let mut metadata = Vec::with_capacity(m.min(1024));
            for _ in 0..m {
                metadata.push((read_str(r)?, read_str(r)?));
            }
            docs.push(Some(DocEntry {
                id,
                collection,
                metadata,
                nodes: read_u32s(r)?,
                visible: true,
            }));
        }
        Ok(Snapshot {
            generation,
            graph,
            nodes,
            docs,
        })
    };
    let snap = parse(r).map_err(|e| corrupt(e.to_string()))?;
    if snap.nodes.len() != snap.graph.len()
        || snap.nodes.iter().any(|n| n.doc as usize >= snap.docs.len())
    {
        return Err(corrupt("node table disagrees with the graph".into()));
    }
    Ok(Some(snap))
}
