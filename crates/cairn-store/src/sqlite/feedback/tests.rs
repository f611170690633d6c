use crate::records::*;
use crate::sqlite::SqliteStore;
use crate::{Store, StoreError};

/// Alice's conversation c1: a question and its answer by `small`, then a second question and
/// its answer by `large`; Bob has none.
async fn store() -> (tempfile::TempDir, SqliteStore) {
    let (dir, store) = crate::sqlite::test_support::with_users(&["alice", "bob"]).await;
    let turns = [
        ("q1", "user", "What is a cairn?", None),
        ("a1", "assistant", "A pile of stones.", Some("small")),
        ("q2", "user", "Who builds them?", None),
        ("a2", "assistant", "Hikers.", Some("large")),
    ];
    let messages: Vec<NewMessage> = turns
        .iter()
        .map(|(id, role, content, model)| NewMessage {
            id: (*id).into(),
            conversation_id: "c1".into(),
            role: (*role).into(),
            content: (*content).into(),
            model: model.map(str::to_string),
            prompt_tokens: None,
            completion_tokens: None,
            created_at: 2,
        })
        .collect();
    store
        .import_conversation(
            &Conversation {
                id: "c1".into(),
                user_id: "alice".into(),
                title: "Cairns".into(),
                model: None,
                system_prompt: Some("Be brief.".into()),
                created_at: 2,
                updated_at: 2,
            },
            &messages,
        )
        .await
        .unwrap();
    (dir, store)
}

fn rate(id: &str, message_id: &str, user_id: &str, rating: Rating, at: i64) -> NewFeedback {
    NewFeedback {
        id: id.into(),
        message_id: message_id.into(),
        user_id: user_id.into(),
        rating,
        comment: None,
        at,
    }
}

fn everything() -> FeedbackQuery {
    FeedbackQuery {
        rating: None,
        model: None,
        page: CursorPage {
            limit: 10,
            after: None,
        },
    }
}

#[tokio::test]
async fn feedback_is_one_per_answer_and_user_and_changes_in_place() {
    let (_dir, s) = store().await;
    let first = s
        .put_feedback(&rate("f1", "a1", "alice", Rating::Up, 10))
        .await
        .unwrap();
    assert_eq!(first.conversation_id, "c1");
    assert_eq!(first.model.as_deref(), Some("small"));
    assert_eq!((first.created_at, first.updated_at), (10, 10));

    // Rating again keeps the first id and creation time.
    let changed = s
        .put_feedback(&NewFeedback {
            comment: Some("too short".into()),
            ..rate("f2", "a1", "alice", Rating::Down, 20)
        })
        .await
        .unwrap();
    assert_eq!(changed.id, "f1");
    assert_eq!(changed.rating, Rating::Down);
    assert_eq!(changed.comment.as_deref(), Some("too short"));
    assert_eq!((changed.created_at, changed.updated_at), (10, 20));
    assert_eq!(
        s.conversation_feedback("alice", "c1").await.unwrap(),
        std::slice::from_ref(&changed)
    );

    // A change without a comment clears it.
    let cleared = s
        .put_feedback(&rate("f3", "a1", "alice", Rating::Down, 30))
        .await
        .unwrap();
    assert_eq!(cleared.comment, None);

    assert!(s.delete_feedback("alice", "a1").await.unwrap());
    assert!(!s.delete_feedback("alice", "a1").await.unwrap());
    assert!(
        s.conversation_feedback("alice", "c1")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn only_the_owner_rates_and_only_answers() {
    let (_dir, s) = store().await;
    for (message, user) in [("a1", "bob"), ("q1", "alice"), ("nope", "alice")] {
        let err = s
            .put_feedback(&rate("f", message, user, Rating::Up, 10))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound { .. }),
            "{message}: {err}"
        );
    }
    s.put_feedback(&rate("f1", "a1", "alice", Rating::Up, 10))
        .await
        .unwrap();
    // Bob neither sees nor takes back Alice's.
    assert!(
        s.conversation_feedback("bob", "c1")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!s.delete_feedback("bob", "a1").await.unwrap());
    assert_eq!(
        s.conversation_feedback("alice", "c1").await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn listing_has_the_answer_and_its_prompt_filters_and_pages() {
    let (_dir, s) = store().await;
    // Given in the same millisecond: the larger id comes first, and paging skips neither.
    s.put_feedback(&rate("f1", "a1", "alice", Rating::Up, 20))
        .await
        .unwrap();
    s.put_feedback(&NewFeedback {
        comment: Some("vague".into()),
        ..rate("f2", "a2", "alice", Rating::Down, 20)
    })
    .await
    .unwrap();

    let all = s.list_feedback(&everything()).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|e| e.feedback.id.as_str()).collect();
    assert_eq!(ids, ["f2", "f1"]);
    assert_eq!(all[0].answer, "Hikers.");
    assert_eq!(all[0].prompt.as_deref(), Some("Who builds them?"));
    assert_eq!(all[0].system_prompt.as_deref(), Some("Be brief."));
    assert_eq!(all[1].prompt.as_deref(), Some("What is a cairn?"));

    let down = s
        .list_feedback(&FeedbackQuery {
            rating: Some(Rating::Down),
            ..everything()
        })
        .await
        .unwrap();
    assert_eq!(down.len(), 1);
    assert_eq!(down[0].feedback.comment.as_deref(), Some("vague"));
    let small = s
        .list_feedback(&FeedbackQuery {
            model: Some("small".into()),
            ..everything()
        })
        .await
        .unwrap();
    assert_eq!(small.len(), 1);
    assert_eq!(small[0].feedback.message_id, "a1");

    let first = s
        .list_feedback(&FeedbackQuery {
            page: CursorPage {
                limit: 1,
                after: None,
            },
            ..everything()
        })
        .await
        .unwrap();
    let next = s
        .list_feedback(&FeedbackQuery {
            page: CursorPage {
                limit: 1,
                after: Some(Cursor {
                    at: first[0].feedback.updated_at,
                    id: first[0].feedback.id.clone(),
                }),
            },
            ..everything()
        })
        .await
        .unwrap();
    assert_eq!(next[0].feedback.id, "f1");
}

#[tokio::test]
async fn feedback_goes_with_its_answer() {
    let (_dir, s) = store().await;
    s.put_feedback(&rate("f1", "a1", "alice", Rating::Up, 10))
        .await
        .unwrap();
    s.put_feedback(&rate("f2", "a2", "alice", Rating::Up, 10))
        .await
        .unwrap();
    // Regenerating the second answer drops it, and its feedback.
    s.truncate_conversation("alice", "c1", 3, 11).await.unwrap();
    let left = s.conversation_feedback("alice", "c1").await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].message_id, "a1");
    assert!(s.delete_conversation("alice", "c1").await.unwrap());
    assert!(s.list_feedback(&everything()).await.unwrap().is_empty());
}
