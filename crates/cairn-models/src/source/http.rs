//! Resumable HTTP(S) downloads, shared by the URL and Hugging Face sources.
//!
//! A file is written to `<target>.part`; a later attempt asks for the rest
//! with `Range: bytes=N-` and appends when the server answers 206, or starts
//! over when it answers 200. The sha256 covers the bytes already on disk
//! plus the new ones. A finished file is renamed to `<target>`.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, HeaderMap, RANGE};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{PullCtx, blocking};
use crate::error::{IoContext, ModelsError, Result};
use crate::hashing::{FileDigest, sha256_file};
use crate::progress::Stage;

/// One file to fetch.
pub(crate) struct RemoteFile {
    pub url: String,
    /// Path relative to the download folder, `/`-separated.
    pub target: String,
    pub expected_size: Option<u64>,
}

/// How errors name the server (e.g. "the Hugging Face hub at URL") and what
/// advice they add.
pub(crate) struct Describe {
    pub source_desc: String,
    pub unreachable_hint: String,
    pub status_hint: fn(StatusCode) -> String,
}

/// Download every file into `<staging>/<dir_name>/`, skipping files finished
/// by an earlier attempt; returns their digests in order.
pub(crate) async fn download_all(
    ctx: &PullCtx<'_>,
    dir_name: &str,
    files: &[RemoteFile],
    headers: &HeaderMap,
    describe: &Describe,
) -> Result<(PathBuf, Vec<FileDigest>)> {
    let dir = ctx.staging.join(dir_name);
    std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
    let mut digests = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let target = dir.join(&file.target);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).context(|| format!("creating {}", parent.display()))?;
        }
        let finished = target.is_file();
        if files.len() > 1 {
            ctx.part(i + 1, files.len(), file.target.clone(), finished);
        }
        let (sha256, size_bytes) = if finished {
            let t = target.clone();
            blocking(move || sha256_file(&t, |_| {}).context(|| format!("hashing {}", t.display())))
                .await?
        } else {
            if files.len() == 1 {
                ctx.stage(Stage::Download, file.expected_size);
            }
            let part = part_path(&target);
            let got = download_resumable(ctx, file, &part, headers, describe).await?;
            std::fs::rename(&part, &target).context(|| format!("renaming {}", part.display()))?;
            got
        };
        digests.push(FileDigest {
            path: file.target.clone(),
            size_bytes,
            sha256,
        });
    }
    Ok((dir, digests))
}

fn part_path(target: &Path) -> PathBuf {
    let mut name = target
        .file_name()
        .expect("target has a file name")
        .to_os_string();
    name.push(".part");
    target.with_file_name(name)
}

/// Fetch `file.url` into `part`, resuming what is there. Returns the
/// sha256 and size of the whole file.
async fn download_resumable(
    ctx: &PullCtx<'_>,
    file: &RemoteFile,
    part: &Path,
    headers: &HeaderMap,
    describe: &Describe,
) -> Result<(String, u64)> {
    let mut existing = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if matches!(file.expected_size, Some(e) if existing > e) {
        existing = 0;
    }
    // Hash what an earlier attempt left, so the checksum covers the whole file.
    let mut hasher = if existing > 0 {
        let p = part.to_path_buf();
        blocking(move || hash_prefix(&p, existing)).await?
    } else {
        Sha256::new()
    };
    if existing > 0 && file.expected_size == Some(existing) {
        ctx.bytes(existing, Some(existing));
        return Ok((hex::encode(hasher.finalize()), existing));
    }

    let mut resp = send(ctx, file, headers, describe, existing).await?;
    if existing > 0 {
        match resp.status() {
            StatusCode::PARTIAL_CONTENT if range_start(resp.headers()) == Some(existing) => {}
            _ => {
                // The server ignored or refused the range: start over.
                existing = 0;
                hasher = Sha256::new();
                if resp.status() != StatusCode::OK {
                    resp = send(ctx, file, headers, describe, 0).await?;
                }
            }
        }
    }
    let status = resp.status();
    if !(status == StatusCode::OK || (existing > 0 && status == StatusCode::PARTIAL_CONTENT)) {
        return Err(ModelsError::HttpStatus {
            url: file.url.clone(),
            status: status.as_u16(),
            hint: (describe.status_hint)(status),
        });
    }
    // Read before streaming: reqwest derives it from the body, which shrinks.
    let announced = resp.content_length();
    let total = file
        .expected_size
        .or_else(|| announced.map(|n| n + existing));

    let mut out = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(part)
        .await
        .context(|| format!("opening {}", part.display()))?;
    out.set_len(existing)
        .await
        .context(|| format!("truncating {}", part.display()))?;
    tokio::io::AsyncSeekExt::seek(&mut out, std::io::SeekFrom::Start(existing))
        .await
        .context(|| format!("seeking {}", part.display()))?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, out);

    let mut done = existing;
    ctx.bytes(done, total);
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                let _ = out.flush().await;
                return Err(ModelsError::Interrupted {
                    url: file.url.clone(),
                    bytes_on_disk: done,
                    reason: error_chain(&e),
                });
            }
        };
        out.write_all(&chunk)
            .await
            .context(|| format!("writing {}", part.display()))?;
        hasher.update(&chunk);
        done += chunk.len() as u64;
        ctx.bytes(done, total);
    }
    out.flush()
        .await
        .context(|| format!("writing {}", part.display()))?;
    out.get_ref()
        .sync_all()
        .await
        .context(|| format!("syncing {}", part.display()))?;
    if let Some(len) = announced
        && done != existing + len
    {
        return Err(ModelsError::Interrupted {
            url: file.url.clone(),
            bytes_on_disk: done,
            reason: format!("the server promised {len} more bytes"),
        });
    }
    Ok((hex::encode(hasher.finalize()), done))
}

async fn send(
    ctx: &PullCtx<'_>,
    file: &RemoteFile,
    headers: &HeaderMap,
    describe: &Describe,
    from: u64,
) -> Result<reqwest::Response> {
    let mut req = ctx.options.http.get(&file.url).headers(headers.clone());
    if from > 0 {
        req = req.header(RANGE, format!("bytes={from}-"));
    }
    req.send()
        .await
        .map_err(|e| ModelsError::SourceUnreachable {
            source_desc: format!("{} ({})", describe.source_desc, file.url),
            reason: error_chain(&e),
            hint: describe.unreachable_hint.clone(),
        })
}

/// `Content-Range: bytes START-END/TOTAL` → START.
fn range_start(headers: &HeaderMap) -> Option<u64> {
    let v = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes ")?;
    rest.split('-').next()?.trim().parse().ok()
}

fn hash_prefix(path: &Path, len: u64) -> Result<Sha256> {
    use std::io::Read;
    let file = std::fs::File::open(path).context(|| format!("opening {}", path.display()))?;
    let mut reader = file.take(len);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader
            .read(&mut buf)
            .context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher)
}

/// An error with its causes, e.g. "error sending request: connection refused".
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let msg = c.to_string();
        if !s.contains(&msg) {
            s.push_str(": ");
            s.push_str(&msg);
        }
        cur = c.source();
    }
    s
}
