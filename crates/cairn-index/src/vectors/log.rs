//! The vector write-ahead log: framed, checksummed records; a batch counts once its
//! `Commit` record is on disk.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::IndexError;
use crate::wire::{
    read_f32s, read_str, read_u32, read_u64, write_f32s, write_str, write_u32, write_u64,
};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Add {
        doc_id: String,
        collection: String,
        metadata: Vec<(String, String)>,
        chunks: Vec<(u32, Vec<f32>)>,
    },
    Delete {
        doc_id: String,
    },
}

const TAG_ADD: u8 = 1;
const TAG_DELETE: u8 = 2;
const TAG_COMMIT: u8 = 3;

fn encode_op(op: &Op) -> io::Result<Vec<u8>> {
    let mut b = Vec::new();
    match op {
        Op::Add {
            doc_id,
            collection,
            metadata,
            chunks,
        } => {
            b.push(TAG_ADD);
            write_str(&mut b, doc_id)?;
            write_str(&mut b, collection)?;
            write_u32(&mut b, metadata.len() as u32)?;
            for (k, v) in metadata {
                write_str(&mut b, k)?;
                write_str(&mut b, v)?;
            }
            write_u32(&mut b, chunks.len() as u32)?;
            for (ordinal, vector) in chunks {
                write_u32(&mut b, *ordinal)?;
                write_f32s(&mut b, vector)?;
            }
        }
        Op::Delete { doc_id } => {
            b.push(TAG_DELETE);
            write_str(&mut b, doc_id)?;
        }
    }
    Ok(b)
}

enum Record {
    Op(Op),
    Commit(u64),
}

fn decode(payload: &[u8]) -> io::Result<Record> {
    let (tag, mut r) = payload
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "empty record"))?;
    let r = &mut r;
    Ok(match *tag {
        TAG_ADD => {
            let doc_id = read_str(r)?;
            let collection = read_str(r)?;
            let n = read_u32(r)? as usize;
            let mut metadata = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                metadata.push((read_str(r)?, read_str(r)?));
            }
            let n = read_u32(r)? as usize;
            let mut chunks = Vec::with_capacity(n.min(4096));
            for _ in 0..n {
                chunks.push((read_u32(r)?, read_f32s(r)?));
            }
            Record::Op(Op::Add {
                doc_id,
                collection,
                metadata,
                chunks,
            })
        }
        TAG_DELETE => Record::Op(Op::Delete {
            doc_id: read_str(r)?,
        }),
        TAG_COMMIT => Record::Commit(read_u64(r)?),
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unknown record tag",
            ));
        }
    })
}

fn frame(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Appends `ops` and `Commit(generation)` at `at` and fsyncs; returns the new length.
pub(super) fn append(
    log: &mut File,
    at: u64,
    ops: &[Op],
    generation: u64,
) -> Result<u64, IndexError> {
    let mut buf = Vec::new();
    for op in ops {
        frame(&mut buf, &encode_op(op)?);
    }
    let mut commit = vec![TAG_COMMIT];
    write_u64(&mut commit, generation)?;
    frame(&mut buf, &commit);
    log.seek(SeekFrom::Start(at))?;
    log.write_all(&buf)?;
    log.sync_data()?;
    Ok(at + buf.len() as u64)
}

pub(super) struct Replay {
    /// Committed batches with generation at most the target, in log order.
    pub batches: Vec<(u64, Vec<Op>)>,
    /// Bytes of the log that hold those batches; everything after is cut off.
    pub valid_len: u64,
}

/// Reads committed batches up to generation `up_to`. Stops at a torn or corrupt record
/// (a crash mid-append) or at the first batch beyond `up_to` (its full-text commit never
/// happened).
pub(super) fn replay(path: &Path, up_to: u64) -> Result<Replay, IndexError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let mut out = Replay {
        batches: Vec::new(),
        valid_len: 0,
    };
    let mut batch = Vec::new();
    let mut pos = 0usize;
    while pos + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().expect("4 bytes"));
        let Some(payload) = bytes.get(pos + 8..pos + 8 + len) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let Ok(record) = decode(payload) else { break };
        pos += 8 + len;
        match record {
            Record::Op(op) => batch.push(op),
            Record::Commit(generation) => {
                if generation > up_to {
                    break;
                }
                out.batches.push((generation, std::mem::take(&mut batch)));
                out.valid_len = pos as u64;
            }
        }
    }
    Ok(out)
}
