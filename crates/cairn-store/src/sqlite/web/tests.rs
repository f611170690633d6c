use crate::records::*;
use crate::sqlite::SqliteStore;
use crate::{ConversationSummary, Invitation, MemoryStore, Session, Store, StoreError, WebStore};

async fn store() -> (tempfile::TempDir, SqliteStore) {
    crate::sqlite::test_support::with_users(&["alice", "bob"]).await
}

fn user(id: &str, at: i64) -> User {
    User {
        created_at: at,
        ..crate::sqlite::test_support::user(id)
    }
}

fn session(id: &str, user_id: &str, expires_at: i64) -> Session {
    Session {
        id: id.into(),
        user_id: user_id.into(),
        token_hash: format!("hash-{id}"),
        csrf_token: format!("csrf-{id}"),
        created_at: 1,
        expires_at,
    }
}

fn invitation(id: &str, email: Option<&str>, expires_at: i64) -> Invitation {
    Invitation {
        id: id.into(),
        token_hash: format!("hash-{id}"),
        email: email.map(str::to_string),
        tier: Some("pro".into()),
        created_by: Some("alice".into()),
        created_at: 1,
        expires_at,
        used_at: None,
        used_by: None,
        revoked_at: None,
    }
}

#[tokio::test]
async fn sessions_expire_and_end() {
    let (_dir, store) = store().await;
    store
        .create_session(&session("s1", "alice", 100))
        .await
        .unwrap();
    store
        .create_session(&session("s2", "alice", 200))
        .await
        .unwrap();
    store
        .create_session(&session("s3", "bob", 200))
        .await
        .unwrap();

    let found = store.find_session("hash-s1", 99).await.unwrap().unwrap();
    assert_eq!(
        (found.user_id.as_str(), found.csrf_token.as_str()),
        ("alice", "csrf-s1")
    );
    assert_eq!(
        store.find_session("hash-s1", 100).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(store.find_session("nope", 0).await.unwrap(), None);

    assert_eq!(store.delete_expired_sessions(150).await.unwrap(), 1);
    assert_eq!(
        store
            .delete_user_sessions("alice", Some("s2"))
            .await
            .unwrap(),
        0
    );
    assert!(store.find_session("hash-s2", 0).await.unwrap().is_some());
    assert_eq!(store.delete_user_sessions("alice", None).await.unwrap(), 1);
    assert!(store.find_session("hash-s2", 0).await.unwrap().is_none());
    assert!(store.delete_session("s3").await.unwrap());
    assert!(!store.delete_session("s3").await.unwrap());
}

#[tokio::test]
async fn passwords_are_set_and_removed() {
    let (_dir, store) = store().await;
    assert!(
        store
            .set_password_hash("alice", Some("$argon2id$x"))
            .await
            .unwrap()
    );
    let alice = store.find_user("alice").await.unwrap().unwrap();
    assert_eq!(alice.password_hash.as_deref(), Some("$argon2id$x"));
    assert!(store.set_password_hash("alice", None).await.unwrap());
    assert!(
        store
            .find_user("alice")
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .is_none()
    );
    assert!(!store.set_password_hash("nobody", Some("x")).await.unwrap());
}

#[tokio::test]
async fn an_invitation_signs_up_one_user_once() {
    let (_dir, store) = store().await;
    store
        .create_invitation(&invitation("i1", None, 1_000))
        .await
        .unwrap();

    store
        .create_user_with_invitation(&user("carol", 10), "hash-i1")
        .await
        .unwrap();
    let used = store.find_invitation("hash-i1").await.unwrap().unwrap();
    assert_eq!(
        (used.used_at, used.used_by.as_deref()),
        (Some(10), Some("carol"))
    );
    assert!(!used.is_open(11));

    // Used up: the second sign-up fails and leaves no user behind.
    let err = store
        .create_user_with_invitation(&user("dave", 20), "hash-i1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "invitation" }),
        "{err}"
    );
    assert!(store.find_user("dave").await.unwrap().is_none());
}

#[tokio::test]
async fn invitations_that_are_expired_revoked_or_for_someone_else_refuse() {
    let (_dir, store) = store().await;
    store
        .create_invitation(&invitation("old", None, 50))
        .await
        .unwrap();
    store
        .create_invitation(&invitation("mine", Some("erin@example.test"), 1_000))
        .await
        .unwrap();
    store
        .create_invitation(&invitation("gone", None, 1_000))
        .await
        .unwrap();
    assert!(store.revoke_invitation("gone", 5).await.unwrap());
    assert!(!store.revoke_invitation("unknown", 5).await.unwrap());

    for (who, token) in [
        ("frank", "hash-old"),
        ("frank", "hash-mine"),
        ("frank", "hash-gone"),
    ] {
        let err = store
            .create_user_with_invitation(&user(who, 60), token)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{token}: {err}");
    }
    assert!(store.find_user("frank").await.unwrap().is_none());
    store
        .create_user_with_invitation(&user("erin", 60), "hash-mine")
        .await
        .unwrap();

    // A taken e-mail is a conflict, and the invitation stays open.
    store
        .create_invitation(&invitation("again", None, 1_000))
        .await
        .unwrap();
    let err = store
        .create_user_with_invitation(&user("alice", 70), "hash-again")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { what: "user" }),
        "{err}"
    );
    assert!(
        store
            .find_invitation("hash-again")
            .await
            .unwrap()
            .unwrap()
            .is_open(71)
    );

    let listed: Vec<_> = store
        .list_invitations()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed.len(), 4);
}

async fn conversation(store: &SqliteStore, id: &str, user_id: &str, title: &str, at: i64) {
    store
        .create_conversation(&Conversation {
            id: id.into(),
            user_id: user_id.into(),
            title: title.into(),
            model: None,
            system_prompt: None,
            created_at: at,
            updated_at: at,
        })
        .await
        .unwrap();
}

async fn say(
    store: &SqliteStore,
    user_id: &str,
    conversation_id: &str,
    text: &str,
    at: i64,
) -> Message {
    store
        .append_message(
            user_id,
            NewMessage {
                id: format!("{conversation_id}-{at}"),
                conversation_id: conversation_id.into(),
                role: "user".into(),
                content: text.into(),
                model: None,
                prompt_tokens: None,
                completion_tokens: None,
                created_at: at,
            },
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn conversations_are_searched_by_title_and_content_of_their_owner_only() {
    let (_dir, store) = store().await;
    conversation(&store, "c1", "alice", "Rust lifetimes", 1).await;
    conversation(&store, "c2", "alice", "Holidays", 2).await;
    conversation(&store, "c3", "bob", "rust for bob", 3).await;
    say(&store, "alice", "c2", "Is 100% of the RUST gone?", 4).await;
    let page = &CursorPage {
        limit: 10,
        after: None,
    };
    let ids = |v: Vec<Conversation>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();

    assert_eq!(
        ids(store
            .search_conversations("alice", "rust", page)
            .await
            .unwrap()),
        ["c2", "c1"]
    );
    assert_eq!(
        ids(store
            .search_conversations("alice", "100%", page)
            .await
            .unwrap()),
        ["c2"]
    );
    // Wildcards are literal.
    assert!(
        store
            .search_conversations("alice", "%", page)
            .await
            .unwrap()
            .len()
            == 1
    );
    assert!(
        store
            .search_conversations("alice", "_", page)
            .await
            .unwrap()
            .is_empty()
    );
    let before = &CursorPage {
        limit: 10,
        after: Some(Cursor {
            at: 4,
            id: String::new(),
        }),
    };
    assert_eq!(
        ids(store
            .search_conversations("alice", "rust", before)
            .await
            .unwrap()),
        ["c1"]
    );
}

#[tokio::test]
async fn conversation_pages_skip_none_of_those_updated_in_the_same_millisecond() {
    let (_dir, store) = store().await;
    for id in ["c1", "c2", "c3", "c4", "c5"] {
        conversation(&store, id, "alice", id, 7).await;
    }
    conversation(&store, "c0", "alice", "older", 6).await;
    conversation(&store, "b1", "bob", "bob's", 7).await;
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_conversations("alice", &CursorPage { limit: 2, after })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(Cursor {
            at: last.updated_at,
            id: last.id.clone(),
        });
        seen.extend(page.into_iter().map(|c| c.id));
    }
    assert_eq!(seen, ["c5", "c4", "c3", "c2", "c1", "c0"]);
}

#[tokio::test]
async fn an_imported_conversation_is_numbered_in_order_in_one_write() {
    let (_dir, store) = store().await;
    let messages: Vec<NewMessage> = (0..1200)
        .map(|i| NewMessage {
            id: format!("m{i}"),
            conversation_id: "ignored".into(),
            role: if i % 2 == 0 { "user" } else { "assistant" }.into(),
            content: format!("turn {i}"),
            model: (i % 2 == 1).then(|| "small".to_string()),
            prompt_tokens: None,
            completion_tokens: None,
            created_at: 5,
        })
        .collect();
    let c = Conversation {
        id: "c1".into(),
        user_id: "alice".into(),
        title: "imported".into(),
        model: None,
        system_prompt: None,
        created_at: 5,
        updated_at: 5,
    };
    let stored = store.import_conversation(&c, &messages).await.unwrap();
    assert_eq!(stored.len(), 1200);
    let listed = store.list_messages("c1").await.unwrap();
    assert_eq!(listed, stored);
    assert_eq!(listed[0].conversation_id, "c1");
    assert_eq!((listed[0].seq, listed[1199].seq), (1, 1200));
    assert_eq!(listed[1199].content, "turn 1199");
    assert_eq!(store.get_message("c1", "m7").await.unwrap().unwrap().seq, 8);
    assert_eq!(store.get_message("other", "m7").await.unwrap(), None);
    // Numbering continues after the imported turns.
    assert_eq!(say(&store, "alice", "c1", "next", 6).await.seq, 1201);

    // Nothing is half-imported: a clashing message id leaves no conversation behind.
    let clash = Conversation {
        id: "c2".into(),
        ..c
    };
    let err = store
        .import_conversation(&clash, &messages[..3])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert_eq!(store.get_conversation("alice", "c2").await.unwrap(), None);
}

#[tokio::test]
async fn truncating_drops_later_turns_and_a_summary_covering_them() {
    let (_dir, store) = store().await;
    conversation(&store, "c1", "alice", "t", 1).await;
    for at in 1..=4 {
        say(&store, "alice", "c1", &format!("turn {at}"), at).await;
    }
    let summary = ConversationSummary {
        conversation_id: "c1".into(),
        summary: "s".into(),
        through_seq: 3,
        updated_at: 5,
    };
    assert!(store.put_summary("alice", &summary).await.unwrap());

    let err = store
        .truncate_conversation("bob", "c1", 1, 9)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }));
    assert_eq!(
        store
            .truncate_conversation("alice", "c1", 3, 9)
            .await
            .unwrap(),
        2
    );
    let left: Vec<_> = store
        .list_messages("c1")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(left, ["turn 1", "turn 2"]);
    assert_eq!(store.get_summary("alice", "c1").await.unwrap(), None);
    // Numbering continues from what is left.
    assert_eq!(say(&store, "alice", "c1", "again", 10).await.seq, 3);
    assert_eq!(
        store
            .get_conversation("alice", "c1")
            .await
            .unwrap()
            .unwrap()
            .updated_at,
        10
    );
}
