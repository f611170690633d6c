//! Where models live on disk.
//!
//! ```text
//! <root>/<name>/            the installed model: one file inside, or the model's files
//! <root>/<name>.json        its install manifest, written last: present = installed
//! <root>/.staging/<name>/   work area of a pull (wheels, `.part` files); kept after an
//!                           interruption so the next pull resumes, removed on success
//! <root>/.staging/<name>.lock   held while a pull runs (one pull per model at a time)
//! ```
//!
//! `<root>` is `$CAIRN_MODELS_DIR`, else `$XDG_CACHE_HOME/cairn/models`, else
//! `$HOME/.cache/cairn/models`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::{Layout, ModelEntry};
use crate::error::{IoContext, ModelsError, Result};
use crate::hashing::FileDigest;

/// The root folder of the model cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheDir {
    root: PathBuf,
}

/// An installed model, as recorded in its manifest `<root>/<name>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledModel {
    pub name: String,
    /// The model file, or the model folder.
    pub path: PathBuf,
    pub size_bytes: u64,
    /// Verified sha256 (of the file, or of the folder manifest).
    pub sha256: String,
    /// The source summary at install time.
    pub source: String,
    /// Seconds since the Unix epoch.
    pub installed_at_unix: u64,
    /// True when `path` is a local file used where it is (never deleted by `rm`).
    #[serde(default)]
    pub in_place: bool,
    /// For folder models, every file with its checksum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileDigest>,
}

impl CacheDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        CacheDir { root: root.into() }
    }

    /// Resolve the root from the environment (see the module docs).
    pub fn from_env() -> Result<Self> {
        Self::resolve(|k| std::env::var_os(k))
    }

    /// Resolve with a custom variable lookup (tests pass a map).
    pub fn resolve(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<Self> {
        let non_empty = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(dir) = non_empty("CAIRN_MODELS_DIR") {
            return Ok(Self::new(dir));
        }
        if let Some(xdg) = non_empty("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
            return Ok(Self::new(xdg.join("cairn").join("models")));
        }
        if let Some(home) = non_empty("HOME") {
            return Ok(Self::new(home.join(".cache").join("cairn").join("models")));
        }
        Err(ModelsError::io(
            "cannot place the model cache",
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "none of CAIRN_MODELS_DIR, XDG_CACHE_HOME or HOME is set",
            ),
        ))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/<name>/`
    pub fn model_dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Where the model is (or will be) once installed from the cache: the
    /// file for single-file models, the folder otherwise.
    pub fn artifact_path(&self, entry: &ModelEntry) -> PathBuf {
        match &entry.layout {
            Layout::File { file_name } => self.model_dir(&entry.name).join(file_name),
            Layout::Directory => self.model_dir(&entry.name),
        }
    }

    pub fn manifest_path(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.json"))
    }

    pub fn staging_root(&self) -> PathBuf {
        self.root.join(".staging")
    }

    pub fn staging_dir(&self, name: &str) -> PathBuf {
        self.staging_root().join(name)
    }

    pub fn lock_path(&self, name: &str) -> PathBuf {
        self.staging_root().join(format!("{name}.lock"))
    }

    /// The manifest of an installed model whose artifact is still present.
    pub fn read_manifest(&self, name: &str) -> Result<Option<InstalledModel>> {
        let path = self.manifest_path(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ModelsError::io(format!("reading {}", path.display()), e)),
        };
        let manifest: InstalledModel = match serde_json::from_str(&text) {
            Ok(m) => m,
            // A manifest we cannot read means "not installed": the next pull rewrites it.
            Err(_) => return Ok(None),
        };
        if !manifest.path.exists() {
            return Ok(None);
        }
        Ok(Some(manifest))
    }

    /// Write the manifest atomically (temp file + rename).
    pub fn write_manifest(&self, manifest: &InstalledModel) -> Result<()> {
        let path = self.manifest_path(&manifest.name);
        let tmp = self.root.join(format!(".{}.json.tmp", manifest.name));
        let text = serde_json::to_string_pretty(manifest).expect("manifest serializes");
        std::fs::write(&tmp, text + "\n").context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).context(|| format!("renaming to {}", path.display()))
    }
}

/// Remove a file or folder if present.
pub(crate) fn remove_any(path: &Path) -> Result<bool> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(ModelsError::io(format!("inspecting {}", path.display()), e)),
    };
    if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
    .context(|| format!("removing {}", path.display()))?;
    Ok(true)
}
