use crate::records::*;
use crate::sqlite::SqliteStore;
use crate::{ConversationSummary, Memory, MemoryStore, MemoryUpdate, Store};

async fn store() -> (tempfile::TempDir, SqliteStore) {
    crate::sqlite::test_support::with_users(&["alice", "bob"]).await
}

fn memory(id: &str, user_id: &str, text: &str, at: i64) -> Memory {
    Memory {
        id: id.into(),
        user_id: user_id.into(),
        text: text.into(),
        embedding: Some(vec![0.25, -1.5, 3.0]),
        embedding_model: Some("minilm".into()),
        source_conversation_id: None,
        source_message_id: None,
        created_at: at,
        updated_at: at,
    }
}

#[tokio::test]
async fn memories_round_trip_and_stay_with_their_owner() {
    let (_dir, s) = store().await;
    s.insert_memory(&memory("m1", "alice", "The user's name is Ada.", 1))
        .await
        .unwrap();
    s.insert_memory(&memory("m2", "alice", "The user prefers Rust.", 2))
        .await
        .unwrap();
    let listed = s.list_memories("alice", 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["m2", "m1"]
    );
    assert_eq!(listed[1].embedding.as_deref(), Some(&[0.25, -1.5, 3.0][..]));
    assert_eq!(s.count_memories("alice").await.unwrap(), 2);

    // Bob sees none of it and can change none of it.
    assert!(s.list_memories("bob", 10).await.unwrap().is_empty());
    assert!(s.get_memory("bob", "m1").await.unwrap().is_none());
    let update = MemoryUpdate {
        text: "The user's name is Eve.".into(),
        embedding: None,
        embedding_model: None,
        at_ms: 5,
    };
    assert!(
        s.update_memory("bob", "m1", &update)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!s.delete_memory("bob", "m1").await.unwrap());

    let updated = s
        .update_memory("alice", "m1", &update)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (updated.text.as_str(), updated.embedding, updated.updated_at),
        ("The user's name is Eve.", None, 5)
    );
    assert!(s.delete_memory("alice", "m1").await.unwrap());
    assert_eq!(s.count_memories("alice").await.unwrap(), 1);
}

#[tokio::test]
async fn the_memory_setting_defaults_to_unset_and_is_per_user() {
    let (_dir, s) = store().await;
    assert_eq!(s.memory_enabled("alice").await.unwrap(), None);
    s.set_memory_enabled("alice", false, 1).await.unwrap();
    s.set_memory_enabled("alice", false, 2).await.unwrap();
    assert_eq!(s.memory_enabled("alice").await.unwrap(), Some(false));
    assert_eq!(s.memory_enabled("bob").await.unwrap(), None);
    s.set_memory_enabled("alice", true, 3).await.unwrap();
    assert_eq!(s.memory_enabled("alice").await.unwrap(), Some(true));
}

#[tokio::test]
async fn summaries_only_move_forward_and_only_for_the_owner() {
    let (_dir, s) = store().await;
    s.create_conversation(&Conversation {
        id: "c1".into(),
        user_id: "alice".into(),
        title: "t".into(),
        model: None,
        system_prompt: None,
        created_at: 1,
        updated_at: 1,
    })
    .await
    .unwrap();
    let summary = |text: &str, through_seq| ConversationSummary {
        conversation_id: "c1".into(),
        summary: text.into(),
        through_seq,
        updated_at: through_seq,
    };
    assert!(!s.put_summary("bob", &summary("stolen", 4)).await.unwrap());
    assert!(s.get_summary("alice", "c1").await.unwrap().is_none());
    assert!(s.put_summary("alice", &summary("first", 4)).await.unwrap());
    assert!(s.put_summary("alice", &summary("second", 8)).await.unwrap());
    // An older summary arriving late does not replace a newer one.
    assert!(!s.put_summary("alice", &summary("late", 6)).await.unwrap());
    let stored = s.get_summary("alice", "c1").await.unwrap().unwrap();
    assert_eq!((stored.summary.as_str(), stored.through_seq), ("second", 8));
    assert!(s.get_summary("bob", "c1").await.unwrap().is_none());
    // Deleting the conversation deletes its summary.
    assert!(s.delete_conversation("alice", "c1").await.unwrap());
    assert!(s.get_summary("alice", "c1").await.unwrap().is_none());
}
