//! Uploaded files, kept until their document is deleted: ingestion reads them (again, after a
//! crash or when the index must be rebuilt), so an upload is on disk before it is
//! acknowledged.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

pub struct Blobs {
    dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("the file is larger than the upload limit")]
    TooLarge,
    #[error("the upload broke off: {0}")]
    Body(String),
    #[error("cannot store the upload: {0}")]
    Io(#[from] std::io::Error),
}

/// An upload written to a temporary file, not yet kept.
pub struct PendingBlob {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
}

impl Blobs {
    pub fn new(dir: PathBuf) -> Blobs {
        Blobs { dir }
    }

    pub fn path(&self, document_id: &str) -> PathBuf {
        self.dir.join(document_id)
    }

    /// Streams chunks into a temporary file, hashing as it goes, refusing more than `limit`
    /// bytes. On any failure the partial file is removed.
    pub async fn receive<S>(&self, mut chunks: S, limit: usize) -> Result<PendingBlob, ReceiveError>
    where
        S: futures::Stream<Item = Result<bytes::Bytes, ReceiveError>> + Unpin,
    {
        use futures::StreamExt;
        tokio::fs::create_dir_all(&self.dir).await?;
        let path = self.dir.join(format!(".upload-{}", crate::util::new_id()));
        let mut file = tokio::fs::File::create(&path).await?;
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        let outcome = async {
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk?;
                bytes += chunk.len() as u64;
                if bytes > limit as u64 {
                    return Err(ReceiveError::TooLarge);
                }
                hasher.update(&chunk);
                file.write_all(&chunk).await?;
            }
            file.sync_all().await?;
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => Ok(PendingBlob {
                path,
                bytes,
                sha256: hex::encode(hasher.finalize()),
            }),
            Err(err) => {
                let _ = tokio::fs::remove_file(&path).await;
                Err(err)
            }
        }
    }

    /// Keeps a received upload as the document's file (renamed, then the directory synced,
    /// so the name survives a crash).
    pub async fn keep(&self, pending: &PendingBlob, document_id: &str) -> std::io::Result<()> {
        tokio::fs::rename(&pending.path, self.path(document_id)).await?;
        sync_dir(&self.dir).await
    }

    pub async fn discard(&self, pending: &PendingBlob) {
        let _ = tokio::fs::remove_file(&pending.path).await;
    }

    /// Removes a document's file, or any other name in the folder (a leftover upload).
    pub async fn remove(&self, document_id: &str) {
        let _ = tokio::fs::remove_file(self.path(document_id)).await;
    }

    /// Names in the directory (document ids and leftover temporary uploads).
    pub async fn list(&self) -> std::io::Result<Vec<String>> {
        let mut names = Vec::new();
        let mut dir = match tokio::fs::read_dir(&self.dir).await {
            Ok(dir) => dir,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(names),
            Err(err) => return Err(err),
        };
        while let Some(entry) = dir.next_entry().await? {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }

    /// Time since a file in the folder was last written.
    pub async fn age(&self, name: &str) -> Option<std::time::Duration> {
        let modified = tokio::fs::metadata(self.dir.join(name))
            .await
            .ok()?
            .modified()
            .ok()?;
        modified.elapsed().ok()
    }
}

async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(std::io::Error::other)?
}
