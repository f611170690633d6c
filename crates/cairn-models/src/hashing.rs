//! Streaming sha256 for files and folders.
//!
//! A folder's checksum is the sha256 of its manifest: one line
//! `"<sha256 of file>  <relative path>\n"` per file (the `sha256sum` format),
//! sorted by path with `/` as separator. So `find . -type f | sort | xargs
//! sha256sum` in the folder, with the `./` prefixes removed, reproduces it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const BUF: usize = 1 << 20;

/// A writer that hashes and counts everything written through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// The inner writer, the lowercase hex sha256 and the byte count.
    pub fn finish(self) -> (W, String, u64) {
        (
            self.inner,
            hex::encode(self.hasher.finalize()),
            self.written,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Copy `reader` into `writer`, calling `on_bytes(total so far)` after each block.
pub fn copy_with_progress(
    reader: &mut impl Read,
    writer: &mut impl Write,
    mut on_bytes: impl FnMut(u64),
) -> io::Result<u64> {
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        writer.write_all(&buf[..n])?;
        total += n as u64;
        on_bytes(total);
    }
    Ok(total)
}

/// The lowercase hex sha256 and size of a file.
pub fn sha256_file(path: &Path, on_bytes: impl FnMut(u64)) -> io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut sink = HashingWriter::new(io::sink());
    copy_with_progress(&mut file, &mut sink, on_bytes)?;
    let (_, digest, size) = sink.finish();
    Ok((digest, size))
}

/// One file of a directory model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Relative to the model folder, `/`-separated.
    pub path: String,
    pub size_bytes: u64,
    pub sha256: String,
}

/// Every file of a folder with its checksum, and the folder's checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryManifest {
    pub files: Vec<FileDigest>,
    pub total_bytes: u64,
    /// sha256 of [`manifest_text`].
    pub sha256: String,
}

/// The text whose sha256 is a folder's checksum; `files` must be sorted by path.
pub fn manifest_text(files: &[FileDigest]) -> String {
    files
        .iter()
        .map(|f| format!("{}  {}\n", f.sha256, f.path))
        .collect()
}

/// Build a manifest from file digests (sorted here).
pub fn manifest_from(mut files: Vec<FileDigest>) -> DirectoryManifest {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let sha256 = hex::encode(Sha256::digest(manifest_text(&files).as_bytes()));
    let total_bytes = files.iter().map(|f| f.size_bytes).sum();
    DirectoryManifest {
        files,
        total_bytes,
        sha256,
    }
}

/// Hash every regular file under `dir` (following no symlinks).
pub fn directory_manifest(
    dir: &Path,
    mut on_bytes: impl FnMut(u64),
) -> io::Result<DirectoryManifest> {
    let mut paths = Vec::new();
    collect_files(dir, dir, &mut paths)?;
    let mut files = Vec::with_capacity(paths.len());
    let mut done_before = 0u64;
    for (rel, abs) in paths {
        let (sha256, size_bytes) = sha256_file(&abs, |n| on_bytes(done_before + n))?;
        done_before += size_bytes;
        files.push(FileDigest {
            path: rel,
            size_bytes,
            sha256,
        });
    }
    Ok(manifest_from(files))
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let ty = entry.file_type()?;
        if ty.is_dir() {
            collect_files(root, &path, out)?;
        } else if ty.is_file() {
            let rel = path
                .strip_prefix(root)
                .expect("walked under root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
    Ok(())
}
