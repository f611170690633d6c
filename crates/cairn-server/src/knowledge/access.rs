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
