//! Knowledge: collections of documents, their ingestion into the index, search, and the
//! numbered sources of a grounded answer.
//!
//! The database is the source of truth for which documents exist, who may read them and how
//! far their ingestion got; the index ([`KnowledgeIndex`]) holds chunks and vectors. A document
//! becomes `indexed` in the database only after the index committed all of its chunks, and
//! search answers only with documents the database says are indexed and readable, so a
//! document is never half-visible. At start the index is reconciled with the database:
//! documents the database no longer has are dropped from it, indexed documents it lost are
//! ingested again, and unfinished ingestions resume from the stored upload.

mod access;
mod blobs;
mod embedder;
mod grounding;
mod ingest;
mod search;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use cairn_index::{KnowledgeIndex, LocalIndex, LocalIndexConfig};
use tokio::sync::{Mutex, mpsc};

pub use access::{can_read, can_write, find_readable_document};
pub use blobs::{Blobs, PendingBlob, ReceiveError};
pub use embedder::KnowledgeEmbedder;
pub use grounding::{Citation, Grounding, ground};
pub use search::{SearchHit, SearchQuery, readable_collections, search};

use crate::config::KnowledgeConfig;
use crate::error::ApiError;
use crate::state::AppState;

/// The knowledge layer's shared parts, built at start; the index opens in the background once
/// the embedding model is ready (its dimensions decide the index's).
pub struct Knowledge {
    pub config: KnowledgeConfig,
    pub blobs: Blobs,
    index_dir: PathBuf,
    index: OnceLock<Arc<dyn KnowledgeIndex>>,
    /// Why the index could not open, when it could not.
    failure: OnceLock<String>,
    /// Whether [`start`] ran (tests of other layers never start it).
    started: AtomicBool,
    /// Index writes are staged then committed together: one writer at a time.
    index_writes: Mutex<()>,
    jobs: mpsc::UnboundedSender<String>,
    job_queue: Arc<Mutex<mpsc::UnboundedReceiver<String>>>,
    /// Documents a worker is ingesting: one queued twice (an upload during the start-up
    /// reconciliation) is not ingested twice at once.
    in_flight: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Knowledge {
    pub fn new(config: KnowledgeConfig, data_dir: &std::path::Path) -> Knowledge {
        let (jobs, receiver) = mpsc::unbounded_channel();
        Knowledge {
            config,
            blobs: Blobs::new(data_dir.join("uploads")),
            index_dir: data_dir.join("knowledge"),
            index: OnceLock::new(),
            failure: OnceLock::new(),
            started: AtomicBool::new(false),
            index_writes: Mutex::new(()),
            jobs,
            job_queue: Arc::new(Mutex::new(receiver)),
            in_flight: Default::default(),
        }
    }

    /// The index, or 503 while it is still opening (or when knowledge is off).
    pub fn index(&self) -> Result<Arc<dyn KnowledgeIndex>, ApiError> {
        self.index
            .get()
            .cloned()
            .ok_or_else(|| ApiError::Unavailable {
                message: if self.config.embedding_model.is_some() {
                    "the knowledge index is starting (waiting for the embedding model)".into()
                } else {
                    "knowledge is turned off: set knowledge.embedding_model".into()
                },
            })
    }

    /// For `/readyz`: what the layer is doing, and whether that is settled.
    pub fn status(&self) -> (String, bool) {
        if self.index.get().is_some() {
            ("ready".into(), true)
        } else if let Some(reason) = self.failure.get() {
            (format!("failed: {reason}"), true)
        } else if self.config.embedding_model.is_none() || !self.started.load(Ordering::Relaxed) {
            ("off".into(), true)
        } else {
            ("starting".into(), false)
        }
    }

    fn fail(&self, reason: String) {
        tracing::error!(%reason, "the knowledge layer is off");
        let _ = self.failure.set(reason);
    }

    /// Queues a document for ingestion.
    pub fn enqueue(&self, document_id: String) {
        let _ = self.jobs.send(document_id);
    }

    /// Removes documents from the index (after the database forgot them).
    pub async fn remove_from_index(&self, document_ids: Vec<String>) -> Result<(), ApiError> {
        if document_ids.is_empty() {
            return Ok(());
        }
        let Some(index) = self.index.get().cloned() else {
            // Not open yet: the start-up reconciliation drops them.
            return Ok(());
        };
        let _writer = self.index_writes.lock().await;
        tokio::task::spawn_blocking(move || {
            for id in &document_ids {
                index.delete_document(id)?;
            }
            index.commit().map(|_| ())
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
    }
}

/// Opens the index once the embedding model answers, reconciles it with the database, and
/// starts the ingestion workers.
pub fn start(app: AppState) {
    let Some(embedder) = KnowledgeEmbedder::new(&app) else {
        tracing::info!("knowledge is turned off (no knowledge.embedding_model)");
        return;
    };
    app.knowledge.started.store(true, Ordering::Relaxed);
    tokio::spawn(async move {
        let dims = loop {
            match embedder.dims(&app).await {
                Ok(dims) => break dims,
                Err(ApiError::Unavailable { message }) => {
                    if let Some(reason) = embedder.load_failure(&app) {
                        app.knowledge
                            .fail(format!("the embedding model did not load: {reason}"));
                        return;
                    }
                    tracing::debug!(%message, "waiting for the embedding model");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(err) => {
                    app.knowledge
                        .fail(format!("the embedding model cannot embed: {err}"));
                    return;
                }
            }
        };
        let dir = app.knowledge.index_dir.clone();
        let opened = tokio::task::spawn_blocking(move || {
            LocalIndex::open(&dir, LocalIndexConfig::new(dims))
        })
        .await;
        let index: Arc<dyn KnowledgeIndex> = match opened {
            Ok(Ok(index)) => Arc::new(index),
            Ok(Err(err)) => return app.knowledge.fail(format!("cannot open the index: {err}")),
            Err(err) => return app.knowledge.fail(format!("cannot open the index: {err}")),
        };
        let _ = app.knowledge.index.set(index);
        if let Err(err) = ingest::reconcile(&app).await {
            tracing::error!(error = %err, "cannot reconcile the knowledge index with the database");
        }
        for _ in 0..app.knowledge.config.ingest_workers {
            tokio::spawn(ingest::worker(app.clone(), app.knowledge.job_queue.clone()));
        }
        tracing::info!(dims, "knowledge index ready");
    });
}
