//! Little-endian primitives for the vector store's files.

use std::io::{self, Read, Write};

pub(crate) fn write_u32(w: &mut impl Write, v: u32) -> io::Result<()> {
    w.write_all(&v.to_le_bytes())
}

pub(crate) fn write_u64(w: &mut impl Write, v: u64) -> io::Result<()> {
    w.write_all(&v.to_le_bytes())
}

pub(crate) fn write_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    write_u32(w, s.len() as u32)?;
    w.write_all(s.as_bytes())
}

pub(crate) fn write_u32s(w: &mut impl Write, v: &[u32]) -> io::Result<()> {
    write_u64(w, v.len() as u64)?;
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    w.write_all(&bytes)
}

pub(crate) fn write_f32s(w: &mut impl Write, v: &[f32]) -> io::Result<()> {
    write_u64(w, v.len() as u64)?;
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    w.write_all(&bytes)
}

pub(crate) fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

pub(crate) fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

pub(crate) fn read_str(r: &mut impl Read) -> io::Result<String> {
    let len = read_u32(r)? as usize;
    let mut b = vec![0u8; len];
    r.read_exact(&mut b)?;
    String::from_utf8(b).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn read_words(r: &mut impl Read) -> io::Result<Vec<[u8; 4]>> {
    let len = read_u64(r)? as usize;
    if len > (1 << 34) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "array length out of range",
        ));
    }
    let mut b = vec![0u8; len * 4];
    r.read_exact(&mut b)?;
    Ok(b.chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect())
}

pub(crate) fn read_u32s(r: &mut impl Read) -> io::Result<Vec<u32>> {
    Ok(read_words(r)?.into_iter().map(u32::from_le_bytes).collect())
}

pub(crate) fn read_f32s(r: &mut impl Read) -> io::Result<Vec<f32>> {
    Ok(read_words(r)?.into_iter().map(f32::from_le_bytes).collect())
}
