//! Who may read and change a collection.

use cairn_store::{Collection, Owner, User, UserRole};

/// Its owner reads a personal collection; every member of an organisation reads the
/// organisation's.
pub fn can_read(user: &User, collection: &Collection) -> bool {
    match &collection.owner {
        Owner::User(id) => *id == user.id,
        Owner::Org(org) => user.org_id.as_deref() == Some(org.as_str()),
    }
}

/// Its owner changes a personal collection; an organisation's is changed by whoever created
/// it and by administrators who belong to the organisation.
pub fn can_write(user: &User, collection: &Collection) -> bool {
    match &collection.owner {
        Owner::User(id) => *id == user.id,
        Owner::Org(_) => {
            can_read(user, collection)
                && (collection.created_by == user.id || user.role == UserRole::Admin)
        }
    }
}

/// A document the user may read, by id or by file name (the most recent of that name among
/// their readable collections); `None` for anything else.
pub async fn find_readable_document(
    app: &crate::state::AppState,
    user: &User,
    id_or_name: &str,
) -> Result<Option<cairn_store::Document>, crate::error::ApiError> {
    if let Some(document) = app.store.get_document(id_or_name).await?
        && let Some(collection) = app.store.get_collection(&document.collection_id).await?
        && can_read(user, &collection)
    {
        return Ok(Some(document));
    }
    let collections = super::readable_collections(app, user, None).await?;
    let mut best: Option<cairn_store::Document> = None;
    for collection_id in collections {
        let page = cairn_store::Page {
            limit: 1_000,
            before: None,
        };
        for document in app.store.list_documents(&collection_id, page).await? {
            if document.name == id_or_name
                && best
                    .as_ref()
                    .is_none_or(|b| document.created_at > b.created_at)
            {
                best = Some(document);
            }
        }
    }
    Ok(best)
}
