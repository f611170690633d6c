//! `/api/documents`: uploads into a collection (multipart), their ingestion status, deletion.
//!
//! An upload is answered once its file is on disk and its document recorded (status
//! `queued`); parsing, embedding and indexing follow in the background, visible through the
//! document's `status`, `chunks_done` / `chunks_total` and, on failure, `error`.

use axum::Json;
use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use cairn_store::{Added, Document, DocumentStatus, Page};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::collections::{readable, writable};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::knowledge::{PendingBlob, ReceiveError};
use crate::state::AppState;
use crate::util::{new_id, now_ms};

const MAX_FILES_PER_UPLOAD: usize = 100;
const MAX_NAME_CHARS: usize = 255;
const MAX_METADATA_BYTES: usize = 16 * 1024;

fn multipart_error(err: MultipartError, limit: usize) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge { limit_bytes: limit };
    }
    ApiError::invalid(
        format!("malformed multipart body: {}", err.body_text()),
        None,
    )
}

struct Upload {
    name: String,
    mime: Option<String>,
    blob: PendingBlob,
}

/// `POST /api/documents`: fields `collection_id`, optional `metadata` (a JSON object), and one
/// or more `file`s.
pub async fn upload(
    State(app): State<AppState>,
    principal: Principal,
    multipart: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    receive(app, principal, None, multipart).await
}

/// `POST /api/collections/{id}/documents`: the same, the collection named by the path.
pub async fn upload_into(
    State(app): State<AppState>,
    principal: Principal,
    Path(collection_id): Path<String>,
    multipart: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    receive(app, principal, Some(collection_id), multipart).await
}

async fn receive(
    app: AppState,
    principal: Principal,
    mut collection_id: Option<String>,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let limit = app.knowledge.config.max_upload_bytes;
    let mut uploads: Vec<Upload> = Vec::new();
    let mut metadata = Map::new();
    let outcome = async {
        while let Some(field) = next_field(&mut multipart, limit).await? {
            let name = field.name().unwrap_or_default().to_string();
            match name.as_str() {
                "collection_id" => collection_id = Some(text_field(field, limit).await?),
                "metadata" => metadata = parse_metadata(&text_field(field, limit).await?)?,
                "file" | "files" | "files[]" => {
                    if uploads.len() == MAX_FILES_PER_UPLOAD {
                        return Err(ApiError::invalid(
                            format!("at most {MAX_FILES_PER_UPLOAD} files per upload"),
                            Some("file"),
                        ));
                    }
                    uploads.push(file_field(&app, field, limit).await?);
                }
                other => {
                    return Err(ApiError::invalid(
                        format!(
                            "unknown field '{other}'; expected collection_id, metadata or file"
                        ),
                        Some(other),
                    ));
                }
            }
        }
        Ok(())
    }
    .await;
    let result = match outcome {
        Ok(()) => record(&app, &principal, collection_id, metadata, &uploads).await,
        Err(err) => Err(err),
    };
    // Whatever was not kept as a document's file goes.
    for upload in &uploads {
        app.knowledge.blobs.discard(&upload.blob).await;
    }
    result
}

async fn next_field<'a>(
    multipart: &'a mut Multipart,
    limit: usize,
) -> Result<Option<Field<'a>>, ApiError> {
    multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))
}

async fn text_field(field: Field<'_>, limit: usize) -> Result<String, ApiError> {
    let name = field.name().unwrap_or_default().to_string();
    let text = field.text().await.map_err(|e| multipart_error(e, limit))?;
    if text.len() > MAX_METADATA_BYTES {
        return Err(ApiError::invalid(
            format!("'{name}' must be at most {MAX_METADATA_BYTES} bytes"),
            Some(&name),
        ));
    }
    Ok(text.trim().to_string())
}

fn parse_metadata(text: &str) -> Result<Map<String, Value>, ApiError> {
    if text.is_empty() {
        return Ok(Map::new());
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return Err(ApiError::invalid(
            "'metadata' must be a JSON object",
            Some("metadata"),
        ));
    };
    for (key, value) in &map {
        if !(value.is_string() || value.is_number() || value.is_boolean()) {
            return Err(ApiError::invalid(
                format!("metadata '{key}' must be a string, a number or a boolean"),
                Some("metadata"),
            ));
        }
    }
    Ok(map)
}

async fn file_field(app: &AppState, field: Field<'_>, limit: usize) -> Result<Upload, ApiError> {
    let name = field
        .file_name()
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::invalid("each file needs a file name", Some("file")))?;
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            format!("file names must have at most {MAX_NAME_CHARS} printable characters"),
            Some("file"),
        ));
    }
    let mime = field.content_type().map(str::to_string);
    let chunks = field.map(|r| {
        r.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ReceiveError::TooLarge
            } else {
                ReceiveError::Body(e.body_text())
            }
        })
    });
    let blob = app
        .knowledge
        .blobs
        .receive(Box::pin(chunks), limit)
        .await
        .map_err(|e| match e {
            ReceiveError::TooLarge => ApiError::PayloadTooLarge { limit_bytes: limit },
            ReceiveError::Body(reason) => {
                ApiError::invalid(format!("the upload broke off: {reason}"), Some("file"))
            }
            ReceiveError::Io(err) => ApiError::internal(format!("cannot store an upload: {err}")),
        })?;
    Ok(Upload { name, mime, blob })
}

/// Records each upload as a document (or finds the one with the same content), keeps its
/// file, and queues its ingestion.
async fn record(
    app: &AppState,
    principal: &Principal,
    collection_id: Option<String>,
    metadata: Map<String, Value>,
    uploads: &[Upload],
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let collection_id = collection_id
        .ok_or_else(|| ApiError::invalid("'collection_id' is required", Some("collection_id")))?;
    let collection = writable(app, principal, &collection_id).await?;
    if uploads.is_empty() {
        return Err(ApiError::invalid("no file in the upload", Some("file")));
    }
    let mut out = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let now = now_ms();
        let document = Document {
            id: new_id(),
            collection_id: collection.id.clone(),
            name: upload.name.clone(),
            mime: upload.mime.clone(),
            bytes: upload.blob.bytes as i64,
            sha256: upload.blob.sha256.clone(),
            status: DocumentStatus::Queued,
            error: None,
            chunks_total: 0,
            chunks_done: 0,
            metadata: metadata.clone(),
            created_by: principal.user.id.clone(),
            created_at: now,
            updated_at: now,
        };
        // The file is kept under the document's id before the document is recorded: an
        // acknowledged document always has its file (a crash in between leaves a stray file,
        // removed at a later start).
        app.knowledge
            .blobs
            .keep(&upload.blob, &document.id)
            .await
            .map_err(|e| ApiError::internal(format!("cannot keep an upload: {e}")))?;
        match app.store.add_document(&document).await {
            Ok(Added::New(document)) => {
                app.knowledge.enqueue(document.id.clone());
                out.push(json!({ "duplicate": false, "document": document }));
            }
            Ok(Added::Duplicate(existing)) => {
                app.knowledge.blobs.remove(&document.id).await;
                out.push(json!({ "duplicate": true, "document": existing }));
            }
            Err(err) => {
                app.knowledge.blobs.remove(&document.id).await;
                return Err(err.into());
            }
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "object": "list", "data": out })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    collection_id: String,
    limit: Option<u32>,
    before: Option<i64>,
}

pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let collection = readable(&app, &principal, &params.collection_id).await?;
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let items = app
        .store
        .list_documents(
            &collection.id,
            Page {
                limit: limit + 1,
                before: params.before,
            },
        )
        .await?;
    Ok(super::page::page(items, limit, |d| d.created_at))
}

/// A document in a collection the caller may read.
async fn visible(app: &AppState, principal: &Principal, id: &str) -> Result<Document, ApiError> {
    let document = app
        .store
        .get_document(id)
        .await?
        .ok_or_else(|| ApiError::not_found("document"))?;
    readable(app, principal, &document.collection_id)
        .await
        .map_err(|_| ApiError::not_found("document"))?;
    Ok(document)
}

pub async fn read(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Document>, ApiError> {
    Ok(Json(visible(&app, &principal, &id).await?))
}

/// Deletes the document: first from the database (from then on no search returns it), then
/// its chunks from every index and its file.
pub async fn delete(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let document = visible(&app, &principal, &id).await?;
    writable(&app, &principal, &document.collection_id).await?;
    if !app.store.delete_document(&document.id).await? {
        return Err(ApiError::not_found("document"));
    }
    app.knowledge
        .remove_from_index(vec![document.id.clone()])
        .await?;
    app.knowledge.blobs.remove(&document.id).await;
    Ok(StatusCode::NO_CONTENT)
}
