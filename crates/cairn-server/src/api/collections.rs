//! `/api/collections`: named sets of documents owned by a user or an organisation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use cairn_store::{Collection, Owner, Page};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::knowledge::{can_read, can_write};
use crate::state::AppState;
use crate::util::{new_id, now_ms};

const MAX_NAME_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 2_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCollection {
    name: String,
    #[serde(default)]
    description: Option<String>,
    /// `user` (the default) or `org`: the caller's organisation, readable by its members.
    #[serde(default)]
    owner: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCollection {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(
            format!("'name' must have 1 to {MAX_NAME_CHARS} characters"),
            Some("name"),
        ));
    }
    Ok(name.to_string())
}

fn check_description(description: &str) -> Result<String, ApiError> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::invalid(
            format!("'description' must have at most {MAX_DESCRIPTION_CHARS} characters"),
            Some("description"),
        ));
    }
    Ok(description.trim().to_string())
}

pub async fn create(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<CreateCollection>,
) -> Result<(StatusCode, Json<Collection>), ApiError> {
    let name = check_name(&input.name)?;
    let description = check_description(input.description.as_deref().unwrap_or_default())?;
    let user = &principal.user;
    let owner =
        match input.owner.as_deref() {
            None | Some("user") => Owner::User(user.id.clone()),
            Some("org") => Owner::Org(user.org_id.clone().ok_or_else(|| {
                ApiError::invalid("you belong to no organisation", Some("owner"))
            })?),
            Some(_) => {
                return Err(ApiError::invalid(
                    "'owner' must be \"user\" or \"org\"",
                    Some("owner"),
                ));
            }
        };
    let now = now_ms();
    let collection = Collection {
        id: new_id(),
        owner,
        name,
        description,
        created_by: user.id.clone(),
        created_at: now,
        updated_at: now,
    };
    app.store.create_collection(&collection).await?;
    Ok((StatusCode::CREATED, Json(collection)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    limit: Option<u32>,
    /// Only collections created before this time (unix ms): the previous page's `next_before`.
    before: Option<i64>,
}

pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let user = &principal.user;
    let items = app
        .store
        .list_collections(
            &user.id,
            user.org_id.as_deref(),
            Page {
                limit: limit + 1,
                before: params.before,
            },
        )
        .await?;
    Ok(super::page::page(items, limit, |c| c.created_at))
}

/// A collection the caller may read; any other is indistinguishable from a missing one.
pub async fn readable(
    app: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<Collection, ApiError> {
    match app.store.get_collection(id).await? {
        Some(c) if can_read(&principal.user, &c) => Ok(c),
        _ => Err(ApiError::not_found("collection")),
    }
}

/// A collection the caller may change: 404 when unreadable, 403 when only readable.
pub async fn writable(
    app: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<Collection, ApiError> {
    let collection = readable(app, principal, id).await?;
    if !can_write(&principal.user, &collection) {
        return Err(ApiError::Forbidden {
            message: "only the collection's creator or an administrator may change it".into(),
            code: "permission_denied",
        });
    }
    Ok(collection)
}

pub async fn read(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Collection>, ApiError> {
    Ok(Json(readable(&app, &principal, &id).await?))
}

pub async fn update(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdateCollection>,
) -> Result<Json<Collection>, ApiError> {
    let collection = writable(&app, &principal, &id).await?;
    let name = input.name.as_deref().map(check_name).transpose()?;
    let description = input
        .description
        .as_deref()
        .map(check_description)
        .transpose()?;
    app.store
        .update_collection(
            &collection.id,
            name.as_deref(),
            description.as_deref(),
            now_ms(),
        )
        .await?;
    Ok(Json(readable(&app, &principal, &id).await?))
}

/// Deletes the collection, its documents, their uploads and their chunks in every index.
pub async fn delete(
    State(app): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let collection = writable(&app, &principal, &id).await?;
    let documents = app
        .store
        .delete_collection(&collection.id)
        .await?
        .ok_or_else(|| ApiError::not_found("collection"))?;
    for document in &documents {
        app.knowledge.blobs.remove(document).await;
    }
    app.knowledge.remove_from_index(documents).await?;
    Ok(StatusCode::NO_CONTENT)
}
