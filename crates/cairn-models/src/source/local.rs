//! A file or folder already on this machine: used where it is (the cache
//! keeps only the manifest) or copied into the cache. Either way it is
//! hashed, and checked against the catalog's sha256 when there is one.

use std::path::{Path, PathBuf};

use super::{Fetched, PullCtx, blocking};
use crate::catalog::Layout;
use crate::error::{IoContext, ModelsError, Result};
use crate::hashing::{
    FileDigest, HashingWriter, copy_with_progress, directory_manifest, manifest_from, sha256_file,
};
use crate::progress::Stage;

pub(crate) async fn fetch(ctx: &PullCtx<'_>, path: &Path, copy: bool) -> Result<Fetched> {
    let path = path.to_path_buf();
    let meta = std::fs::metadata(&path)
        .map_err(|_| ModelsError::LocalPathMissing { path: path.clone() })?;
    let want_dir = matches!(ctx.entry.layout, Layout::Directory);
    if meta.is_dir() != want_dir {
        return Err(ModelsError::InvalidCatalog(format!(
            "model `{}`: local path {} is a {}, the entry expects a {}",
            ctx.entry.name,
            path.display(),
            if meta.is_dir() { "folder" } else { "file" },
            if want_dir { "folder" } else { "file" },
        )));
    }
    let progress = ctx.progress.clone();
    let model = ctx.entry.name.clone();
    let bytes = move |done: u64, total: Option<u64>| {
        progress.on_event(&crate::ProgressEvent::Bytes {
            model: model.clone(),
            done,
            total,
        })
    };
    let total = if want_dir {
        ctx.entry.size_bytes
    } else {
        Some(meta.len())
    };
    match (&ctx.entry.layout, copy) {
        (Layout::File { .. }, false) => {
            ctx.stage(Stage::Verify, total);
            let p = path.clone();
            let (sha256, size_bytes) = blocking(move || {
                sha256_file(&p, |n| bytes(n, total)).context(|| format!("hashing {}", p.display()))
            })
            .await?;
            Ok(Fetched {
                sha256,
                size_bytes,
                files: Vec::new(),
                in_place: Some(path),
            })
        }
        (Layout::Directory, false) => {
            ctx.stage(Stage::Verify, total);
            let p = path.clone();
            let m = blocking(move || {
                directory_manifest(&p, |n| bytes(n, total))
                    .context(|| format!("hashing {}", p.display()))
            })
            .await?;
            Ok(Fetched {
                sha256: m.sha256,
                size_bytes: m.total_bytes,
                files: m.files,
                in_place: Some(path),
            })
        }
        (Layout::File { file_name }, true) => {
            ctx.stage(Stage::Assemble, total);
            let dest = ctx.out.join(file_name);
            let (src, out) = (path.clone(), ctx.out.clone());
            let d = blocking(move || {
                std::fs::create_dir_all(&out).context(|| format!("creating {}", out.display()))?;
                copy_hashing(&src, &dest, |n| bytes(n, total))
            })
            .await?;
            Ok(Fetched {
                sha256: d.0,
                size_bytes: d.1,
                files: Vec::new(),
                in_place: None,
            })
        }
        (Layout::Directory, true) => {
            ctx.stage(Stage::Assemble, total);
            let (src, out) = (path.clone(), ctx.out.clone());
            let m = blocking(move || {
                let mut files = Vec::new();
                let mut done = 0u64;
                copy_tree(
                    &src,
                    &src,
                    &out,
                    &mut files,
                    &mut |n| bytes(n, total),
                    &mut done,
                )?;
                Ok(manifest_from(files))
            })
            .await?;
            Ok(Fetched {
                sha256: m.sha256,
                size_bytes: m.total_bytes,
                files: m.files,
                in_place: None,
            })
        }
    }
}

fn copy_hashing(src: &Path, dest: &Path, on_bytes: impl FnMut(u64)) -> Result<(String, u64)> {
    let mut input = std::fs::File::open(src).context(|| format!("opening {}", src.display()))?;
    let output = std::fs::File::create(dest).context(|| format!("creating {}", dest.display()))?;
    let mut w = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, output));
    copy_with_progress(&mut input, &mut w, on_bytes)
        .context(|| format!("copying {}", src.display()))?;
    let (buf, sha, size) = w.finish();
    let file = buf
        .into_inner()
        .map_err(|e| ModelsError::io(format!("writing {}", dest.display()), e.into_error()))?;
    file.sync_all()
        .context(|| format!("syncing {}", dest.display()))?;
    Ok((sha, size))
}

fn copy_tree(
    root: &Path,
    dir: &Path,
    out_root: &Path,
    files: &mut Vec<FileDigest>,
    on_bytes: &mut dyn FnMut(u64),
    done: &mut u64,
) -> Result<()> {
    for entry in std::fs::read_dir(dir).context(|| format!("listing {}", dir.display()))? {
        let entry = entry.context(|| format!("listing {}", dir.display()))?;
        let p = entry.path();
        let rel: PathBuf = p.strip_prefix(root).expect("under root").to_path_buf();
        let ty = entry
            .file_type()
            .context(|| format!("inspecting {}", p.display()))?;
        if ty.is_dir() {
            copy_tree(root, &p, out_root, files, on_bytes, done)?;
        } else if ty.is_file() {
            let dest = out_root.join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .context(|| format!("creating {}", parent.display()))?;
            }
            let base = *done;
            let (sha256, size_bytes) = copy_hashing(&p, &dest, |n| on_bytes(base + n))?;
            *done += size_bytes;
            files.push(FileDigest {
                path: rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
                size_bytes,
                sha256,
            });
        }
    }
    Ok(())
}
