use super::*;

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("cairn.db"))
        .await
        .unwrap();
    (dir, store)
}

fn user(id: &str) -> User {
    User {
        id: id.into(),
        email: format!("{id}@example.test"),
        name: id.into(),
        role: UserRole::Member,
        tier: "free".into(),
        org_id: None,
        password_hash: None,
        disabled: false,
        created_at: 1,
    }
}

fn usage(id: &str, user_id: &str, day: &str, status: u16) -> UsageRecord {
    UsageRecord {
        id: id.into(),
        at: 1_000,
        day: day.into(),
        request_id: format!("req-{id}"),
        user_id: user_id.into(),
        key_id: Some("k1".into()),
        org_id: None,
        route: "/v1/chat/completions".into(),
        model: "small".into(),
        provider: "local".into(),
        status,
        stream: false,
        prompt_tokens: 10,
        completion_tokens: 5,
        cost_nanos: 150,
        latency_ms: 20,
        ttft_ms: Some(3),
    }
}

#[tokio::test]
async fn duplicate_email_is_a_conflict() {
    let (_dir, s) = store().await;
    s.create_user(&user("a")).await.unwrap();
    let mut again = user("b");
    again.email = "a@example.test".into();
    assert!(matches!(
        s.create_user(&again).await,
        Err(StoreError::Conflict { what: "user" })
    ));
}

#[tokio::test]
async fn usage_replay_is_idempotent_and_groups_by_day() {
    let (_dir, s) = store().await;
    let batch = [
        usage("1", "u", "2026-11-01", 200),
        usage("2", "u", "2026-11-02", 500),
    ];
    s.insert_usage(&batch).await.unwrap();
    s.insert_usage(&batch).await.unwrap();
    let rows = s
        .usage_summary(&UsageQuery {
            user_id: Some("u".into()),
            key_id: None,
            from_day: None,
            to_day: None,
            group_by: UsageGroup::Day,
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].group.as_str(), rows[0].requests, rows[0].errors),
        ("2026-11-01", 1, 0)
    );
    assert_eq!(
        (rows[1].group.as_str(), rows[1].errors, rows[1].cost_nanos),
        ("2026-11-02", 1, 150)
    );
    assert_eq!(s.user_tokens_since("u", 0).await.unwrap(), 30);
}

#[tokio::test]
async fn messages_are_numbered_and_private_to_their_owner() {
    let (_dir, s) = store().await;
    s.create_user(&user("alice")).await.unwrap();
    s.create_user(&user("bob")).await.unwrap();
    let conv = Conversation {
        id: "c1".into(),
        user_id: "alice".into(),
        title: "t".into(),
        model: None,
        system_prompt: None,
        created_at: 1,
        updated_at: 1,
    };
    s.create_conversation(&conv).await.unwrap();
    let msg = |id: &str| NewMessage {
        id: id.into(),
        conversation_id: "c1".into(),
        role: "user".into(),
        content: "hi".into(),
        model: None,
        prompt_tokens: None,
        completion_tokens: None,
        created_at: 5,
    };
    assert_eq!(s.append_message("alice", msg("m1")).await.unwrap().seq, 1);
    assert_eq!(s.append_message("alice", msg("m2")).await.unwrap().seq, 2);
    assert!(matches!(
        s.append_message("bob", msg("m3")).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(s.get_conversation("bob", "c1").await.unwrap().is_none());
    assert!(!s.delete_conversation("bob", "c1").await.unwrap());
    assert!(s.delete_conversation("alice", "c1").await.unwrap());
    assert!(s.list_messages("c1").await.unwrap().is_empty());
}
