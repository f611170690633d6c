//! Ingestion jobs: upload → parse → chunk → embed (in bounded batches) → index → `indexed`.
//!
//! Each step records the document's status, so a user sees where it is and why it failed.
//! A document is added to the index whole and committed before it is marked `indexed`; a
//! crash in between leaves it pending, and the start-up [`reconcile`] ingests it again
//! (adding a document id replaces it, so that is idempotent).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cairn_index::{ChunkInput, Chunker, ChunkerConfig, DocumentInput, embedding_text};
use cairn_store::{Document, DocumentStatus};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc};

use super::KnowledgeEmbedder;
use crate::state::AppState;
use crate::util::now_ms;

/// Pulls document ids off the shared queue and ingests them, one at a time per worker.
pub(super) async fn worker(app: AppState, queue: Arc<Mutex<mpsc::UnboundedReceiver<String>>>) {
    loop {
        let next = queue.lock().await.recv().await;
        let Some(id) = next else { return };
        let document = match app.store.get_document(&id).await {
            Ok(Some(document)) if document.status.is_pending() => document,
            Ok(_) => continue, // deleted, or already done
            Err(err) => {
                tracing::error!(document = %id, error = %err, "cannot read a queued document");
                continue;
            }
        };
        if !app
            .knowledge
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone())
        {
            continue;
        }
        let started = std::time::Instant::now();
        let outcome = ingest(&app, &document).await;
        app.knowledge
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        match outcome {
            Ok(Outcome::Indexed { chunks }) => {
                tracing::info!(document = %id, chunks, ms = started.elapsed().as_millis() as u64, "document indexed");
            }
            Ok(Outcome::Deleted) => {
                tracing::info!(document = %id, "document deleted during ingestion");
            }
            Err(reason) => {
                tracing::warn!(document = %id, %reason, "document ingestion failed");
                let _ = app
                    .store
                    .set_document_status(&id, DocumentStatus::Failed, Some(&reason), 0, 0, now_ms())
                    .await;
            }
        }
    }
}

enum Outcome {
    Indexed { chunks: usize },
    Deleted,
}

/// Records a step; `false` when the document is gone (deleted meanwhile).
async fn step(
    app: &AppState,
    id: &str,
    status: DocumentStatus,
    total: usize,
    done: usize,
) -> Result<bool, String> {
    app.store
        .set_document_status(id, status, None, total as i64, done as i64, now_ms())
        .await
        .map_err(|e| format!("cannot record progress: {e}"))
}

async fn ingest(app: &AppState, document: &Document) -> Result<Outcome, String> {
    let knowledge = &app.knowledge;
    if !step(app, &document.id, DocumentStatus::Parsing, 0, 0).await? {
        return Ok(Outcome::Deleted);
    }
    let path = knowledge.blobs.path(&document.id);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| format!("the uploaded file cannot be read: {e}"))?;
    let name = document.name.clone();
    let mime = document.mime.clone();
    let embedder = KnowledgeEmbedder::configured(app).map_err(|e| e.to_string())?;
    let chunker = Chunker::with_counter(
        ChunkerConfig {
            max_tokens: knowledge.config.chunk_tokens,
            overlap_tokens: knowledge.config.chunk_overlap_tokens,
        },
        embedder.token_counter(app),
    );
    // Parsing and chunking are CPU work on possibly large, possibly hostile input: off the
    // async threads, with the parser's own limits.
    let chunks = tokio::task::spawn_blocking(move || {
        let parsed = cairn_docs::parse(
            &bytes,
            &name,
            mime.as_deref(),
            &cairn_docs::Limits::default(),
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, String>(chunker.chunk(&parsed.blocks))
    })
    .await
    .map_err(|e| format!("the parser stopped: {e}"))??;
    if chunks.is_empty() {
        return Err("the document holds no text".into());
    }
    let total = chunks.len();
    if !step(app, &document.id, DocumentStatus::Embedding, total, 0).await? {
        return Ok(Outcome::Deleted);
    }
    // Bounded batches: the embedder serves everyone, so one large document holds others up
    // for one batch at most, and progress is visible as it goes.
    let mut inputs = Vec::with_capacity(total);
    for batch in chunks.chunks(knowledge.config.embed_batch) {
        let texts = batch.iter().map(embedding_text).collect();
        let vectors = embedder
            .embed(app, texts)
            .await
            .map_err(|e| format!("embedding failed: {e}"))?;
        inputs.extend(
            batch
                .iter()
                .cloned()
                .zip(vectors)
                .map(|(chunk, vector)| ChunkInput { chunk, vector }),
        );
        if !step(
            app,
            &document.id,
            DocumentStatus::Embedding,
            total,
            inputs.len(),
        )
        .await?
        {
            return Ok(Outcome::Deleted);
        }
    }
    let input = DocumentInput {
        doc_id: document.id.clone(),
        collection_id: document.collection_id.clone(),
        metadata: filter_metadata(document),
        chunks: inputs,
    };
    let index = knowledge.index().map_err(|e| e.to_string())?;
    {
        let _writer = knowledge.index_writes.lock().await;
        let index = index.clone();
        tokio::task::spawn_blocking(move || {
            index.add_document(input)?;
            index.commit()
        })
        .await
        .map_err(|e| format!("the index stopped: {e}"))?
        .map_err(|e| format!("the index refused the document: {e}"))?;
    }
    if !step(app, &document.id, DocumentStatus::Indexed, total, total).await? {
        // Deleted while it was being indexed: take it out again.
        knowledge
            .remove_from_index(vec![document.id.clone()])
            .await
            .map_err(|e| e.to_string())?;
        return Ok(Outcome::Deleted);
    }
    Ok(Outcome::Indexed { chunks: total })
}

/// The document's metadata as the index filters it: string values only, plus its name.
fn filter_metadata(document: &Document) -> BTreeMap<String, String> {
    let mut metadata: BTreeMap<String, String> = document
        .metadata
        .iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            Value::Number(n) => Some((k.clone(), n.to_string())),
            Value::Bool(b) => Some((k.clone(), b.to_string())),
            _ => None,
        })
        .collect();
    metadata.insert("name".into(), document.name.clone());
    metadata
}

/// Brings the index in line with the database after a start: drops what the database
/// deleted, queues again what the index lost and what was unfinished, and removes uploads no
/// document owns.
pub(super) async fn reconcile(app: &AppState) -> anyhow::Result<()> {
    let knowledge = &app.knowledge;
    let index = knowledge.index()?;
    let in_index = {
        let index = index.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let report = index.check_consistency()?;
            let mut ids = index.document_ids()?;
            // A document only one side holds is suspect on both: ingest it again.
            for id in report.full_text_only.iter().chain(&report.vectors_only) {
                ids.remove(id);
            }
            Ok(ids)
        })
        .await??
    };
    let indexed: BTreeSet<String> = app
        .store
        .indexed_document_ids()
        .await?
        .into_iter()
        .collect();
    let pending = app.store.pending_documents().await?;
    let pending_ids: BTreeSet<&str> = pending.iter().map(|d| d.id.as_str()).collect();

    let orphans: Vec<String> = in_index
        .iter()
        .filter(|id| !indexed.contains(*id) && !pending_ids.contains(id.as_str()))
        .cloned()
        .collect();
    if !orphans.is_empty() {
        tracing::info!(
            documents = orphans.len(),
            "dropping documents the database no longer has from the index"
        );
        knowledge.remove_from_index(orphans).await?;
    }
    let lost: Vec<&String> = indexed
        .iter()
        .filter(|id| !in_index.contains(*id))
        .collect();
    for id in &lost {
        app.store
            .set_document_status(id, DocumentStatus::Queued, None, 0, 0, now_ms())
            .await?;
        knowledge.enqueue((*id).clone());
    }
    if !lost.is_empty() {
        tracing::warn!(
            documents = lost.len(),
            "indexed documents missing from the index; ingesting them again"
        );
    }
    for document in &pending {
        knowledge.enqueue(document.id.clone());
    }
    if !pending.is_empty() {
        tracing::info!(documents = pending.len(), "resuming unfinished ingestions");
    }
    // Uploads that never became a document (a crash between receiving and recording); only
    // old ones, since an upload may be arriving right now.
    for name in knowledge.blobs.list().await? {
        let owned =
            !name.starts_with('.') && matches!(app.store.get_document(&name).await, Ok(Some(_)));
        if !owned
            && knowledge
                .blobs
                .age(&name)
                .await
                .is_some_and(|age| age > ABANDONED_UPLOAD)
        {
            knowledge.blobs.remove(&name).await;
        }
    }
    Ok(())
}

/// How old a file in the uploads folder with no document must be to be removed.
const ABANDONED_UPLOAD: std::time::Duration = std::time::Duration::from_secs(3600);
