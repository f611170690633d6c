//! The four kinds of source. Each fetches a model into the pull's staging
//! area and reports what it wrote with checksums; `crate::Models::pull`
//! compares those with the catalog and installs atomically.

pub(crate) mod http;
pub mod huggingface;
pub(crate) mod local;
pub mod pypi;
pub(crate) mod url;

use std::path::PathBuf;
use std::sync::Arc;

use crate::catalog::ModelEntry;
use crate::hashing::FileDigest;
use crate::options::FetchOptions;
use crate::progress::{Progress, ProgressEvent, Stage};

/// Everything a source needs for one pull.
pub(crate) struct PullCtx<'a> {
    pub entry: &'a ModelEntry,
    /// `<root>/.staging/<name>/`, kept across interrupted pulls.
    pub staging: PathBuf,
    /// `<staging>/out`: absent at the start; the source creates it holding
    /// exactly the installed layout (the one file, or the model's files).
    pub out: PathBuf,
    pub options: &'a FetchOptions,
    pub progress: Arc<dyn Progress>,
}

impl PullCtx<'_> {
    pub fn emit(&self, event: ProgressEvent) {
        self.progress.on_event(&event);
    }

    pub fn stage(&self, stage: Stage, total_bytes: Option<u64>) {
        self.emit(ProgressEvent::Stage {
            model: self.entry.name.clone(),
            stage,
            total_bytes,
        });
    }

    pub fn bytes(&self, done: u64, total: Option<u64>) {
        self.emit(ProgressEvent::Bytes {
            model: self.entry.name.clone(),
            done,
            total,
        });
    }

    pub fn part(&self, index: usize, count: usize, label: String, cached: bool) {
        self.emit(ProgressEvent::Part {
            model: self.entry.name.clone(),
            index,
            count,
            label,
            cached,
        });
    }
}

/// What a source produced, with checksums computed while writing.
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    /// sha256 of the file, or of the folder manifest.
    pub sha256: String,
    pub size_bytes: u64,
    /// Folder models: every file.
    pub files: Vec<FileDigest>,
    /// Set when the model is used where it is (a local source without copy).
    pub in_place: Option<PathBuf>,
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| crate::ModelsError::Task(e.to_string()))?
}
