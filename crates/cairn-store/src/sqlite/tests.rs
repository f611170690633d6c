use super::*;
use crate::knowledge::*;
use crate::orchestration::*;

use super::test_support::user;

async fn store() -> (tempfile::TempDir, SqliteStore) {
    super::test_support::open().await
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
async fn usage_lists_a_window_newest_first_and_round_trips_every_field() {
    let (_dir, s) = store().await;
    let mut batch: Vec<UsageRecord> = (0..5)
        .map(|i| {
            let mut r = usage(&i.to_string(), if i % 2 == 0 { "u" } else { "v" }, "d", 200);
            r.at = 1_000 + i64::from(i) * 100;
            r
        })
        .collect();
    batch[3].model = "medium".into();
    batch[3].ttft_ms = None;
    batch[3].stream = true;
    s.insert_usage(&batch).await.unwrap();

    let window = |from, to| UsageFilter {
        from_ms: Some(from),
        to_ms: Some(to),
        limit: 100,
        ..UsageFilter::default()
    };
    let ids = |rows: Vec<UsageRecord>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    // The window is half-open: 1100 is in, 1400 is out.
    assert_eq!(
        ids(s.list_usage(&window(1_100, 1_400)).await.unwrap()),
        ["3", "2", "1"]
    );
    let mut by_user = window(0, i64::MAX);
    by_user.user_id = Some("u".into());
    assert_eq!(ids(s.list_usage(&by_user).await.unwrap()), ["4", "2", "0"]);
    let mut by_model = window(0, i64::MAX);
    by_model.model = Some("medium".into());
    let medium = s.list_usage(&by_model).await.unwrap();
    assert_eq!(medium, vec![batch[3].clone()]);
    let mut newest = window(0, i64::MAX);
    newest.limit = 2;
    assert_eq!(ids(s.list_usage(&newest).await.unwrap()), ["4", "3"]);

    // A cursor inside one millisecond: records at the same time page by id.
    let same_ms: Vec<UsageRecord> = ["a", "b", "c"]
        .iter()
        .map(|id| {
            let mut r = usage(id, "w", "d", 200);
            r.at = 5_000;
            r
        })
        .collect();
    s.insert_usage(&same_ms).await.unwrap();
    let mut after_c = window(0, 5_000);
    after_c.before_id = Some("c".into());
    assert_eq!(
        ids(s.list_usage(&after_c).await.unwrap())[..3],
        ["b", "a", "4"]
    );
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

fn document(id: &str, collection: &str, sha: &str) -> Document {
    Document {
        id: id.into(),
        collection_id: collection.into(),
        name: format!("{id}.md"),
        mime: None,
        bytes: 10,
        sha256: sha.into(),
        status: DocumentStatus::Queued,
        error: None,
        chunks_total: 0,
        chunks_done: 0,
        metadata: serde_json::Map::new(),
        created_by: "a".into(),
        created_at: 5,
        updated_at: 5,
    }
}

#[tokio::test]
async fn documents_dedupe_by_content_and_follow_their_collection() {
    let (_dir, s) = store().await;
    s.create_user(&user("a")).await.unwrap();
    let collection = Collection {
        id: "c1".into(),
        owner: Owner::User("a".into()),
        name: "notes".into(),
        description: String::new(),
        created_by: "a".into(),
        created_at: 1,
        updated_at: 1,
    };
    s.create_collection(&collection).await.unwrap();
    assert!(matches!(
        s.add_document(&document("d1", "c1", "aa")).await.unwrap(),
        Added::New(_)
    ));
    let Added::Duplicate(existing) = s.add_document(&document("d2", "c1", "aa")).await.unwrap()
    else {
        panic!("the same content twice is one document");
    };
    assert_eq!(existing.id, "d1");
    assert_eq!(s.pending_documents().await.unwrap().len(), 1);
    assert!(
        s.set_document_status("d1", DocumentStatus::Failed, Some("bad file"), 0, 0, 6)
            .await
            .unwrap()
    );
    let failed = s.get_document("d1").await.unwrap().unwrap();
    assert_eq!(failed.error.as_deref(), Some("bad file"));
    s.set_document_status("d1", DocumentStatus::Indexed, Some("ignored"), 3, 3, 7)
        .await
        .unwrap();
    let indexed = s.get_document("d1").await.unwrap().unwrap();
    assert_eq!((indexed.error, indexed.chunks_done), (None, 3));
    assert_eq!(s.indexed_document_ids().await.unwrap(), ["d1"]);
    let ids = ["d1".to_string(), "zz".to_string()];
    assert_eq!(
        s.visible_documents(&ids, &["c1".into()])
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.visible_documents(&ids, &["other".into()])
            .await
            .unwrap()
            .is_empty()
    );
    // Another user's collection list does not show it; deleting the collection returns its
    // documents for the index to drop.
    assert!(
        s.list_collections(
            "b",
            None,
            Page {
                limit: 10,
                before: None
            }
        )
        .await
        .unwrap()
        .is_empty()
    );
    assert_eq!(
        s.delete_collection("c1").await.unwrap(),
        Some(vec!["d1".to_string()])
    );
    assert!(s.get_document("d1").await.unwrap().is_none());
    assert_eq!(s.delete_collection("c1").await.unwrap(), None);
}

fn template(id: &str, user_id: &str, name: &str, body: &str) -> NewTemplate {
    NewTemplate {
        id: id.into(),
        user_id: user_id.into(),
        name: name.into(),
        description: String::new(),
        body: body.into(),
        created_at: 1,
    }
}

#[tokio::test]
async fn templates_are_versioned_per_user_and_name() {
    let (_dir, s) = store().await;
    s.create_user(&user("a")).await.unwrap();
    s.create_user(&user("b")).await.unwrap();
    let first = s
        .save_template(&template("t1", "a", "greet", "Hi"))
        .await
        .unwrap();
    let second = s
        .save_template(&template("t2", "a", "greet", "Hello"))
        .await
        .unwrap();
    let other = s
        .save_template(&template("t3", "b", "greet", "Yo"))
        .await
        .unwrap();
    assert_eq!((first.version, second.version, other.version), (1, 2, 1));

    let latest = s.get_template("a", "greet", None).await.unwrap().unwrap();
    assert_eq!(latest.body, "Hello");
    let old = s
        .get_template("a", "greet", Some(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.body, "Hi");
    let listed = s.list_templates("a").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].version, 2);
    assert_eq!(s.template_versions("a", "greet").await.unwrap().len(), 2);

    assert!(s.delete_template("a", "greet").await.unwrap());
    assert!(s.get_template("a", "greet", None).await.unwrap().is_none());
    assert!(s.get_template("b", "greet", None).await.unwrap().is_some());
}

fn run(id: &str, user_id: &str) -> Run {
    Run {
        id: id.into(),
        user_id: user_id.into(),
        kind: RunKind::Workflow,
        name: "w".into(),
        status: RunStatus::Running,
        input: serde_json::json!({"topic": "x"}),
        definition: "steps = []".into(),
        output: None,
        error: None,
        tokens: 0,
        created_at: 1,
        updated_at: 1,
        finished_at: None,
    }
}

fn step(run_id: &str, key: &str, status: StepStatus) -> RunStep {
    RunStep {
        run_id: run_id.into(),
        key: key.into(),
        seq: 0,
        kind: "model".into(),
        status,
        input: None,
        output: Some(serde_json::json!("out")),
        error: None,
        tokens: 3,
        elapsed_ms: 5,
        attempts: 1,
        started_at: 2,
        finished_at: None,
    }
}

#[tokio::test]
async fn runs_are_scoped_and_final_states_stick() {
    let (_dir, s) = store().await;
    s.create_user(&user("a")).await.unwrap();
    s.create_user(&user("b")).await.unwrap();
    s.create_run(&run("r1", "a")).await.unwrap();
    assert!(s.get_run("b", "r1").await.unwrap().is_none());
    assert_eq!(s.unfinished_runs().await.unwrap().len(), 1);

    let cancel = RunUpdate {
        status: RunStatus::Cancelled,
        output: None,
        error: Some("cancelled".into()),
        tokens: 7,
        at_ms: 9,
    };
    assert!(s.update_run("r1", &cancel).await.unwrap());
    let late = RunUpdate {
        status: RunStatus::Succeeded,
        ..cancel.clone()
    };
    assert!(
        !s.update_run("r1", &late).await.unwrap(),
        "a final state is kept"
    );
    let stored = s.get_run("a", "r1").await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Cancelled);
    assert_eq!(stored.finished_at, Some(9));
    assert!(s.unfinished_runs().await.unwrap().is_empty());
    let page = Page {
        limit: 10,
        before: None,
    };
    assert_eq!(
        s.list_runs("a", RunKind::Workflow, page)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.list_runs("b", RunKind::Workflow, page)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn steps_keep_their_order_and_count_attempts() {
    let (_dir, s) = store().await;
    s.create_user(&user("a")).await.unwrap();
    s.create_run(&run("r1", "a")).await.unwrap();
    s.put_step(&step("r1", "outline", StepStatus::Running))
        .await
        .unwrap();
    s.put_step(&step("r1", "sections[0]", StepStatus::Succeeded))
        .await
        .unwrap();
    s.put_step(&step("r1", "sections[1]", StepStatus::Succeeded))
        .await
        .unwrap();
    s.put_step(&step("r1", "sectionsx", StepStatus::Succeeded))
        .await
        .unwrap();
    // The outline step starts again (a resumed run) and then finishes.
    s.put_step(&step("r1", "outline", StepStatus::Running))
        .await
        .unwrap();
    s.put_step(&step("r1", "outline", StepStatus::Succeeded))
        .await
        .unwrap();

    let steps = s.list_steps("r1").await.unwrap();
    let keys: Vec<&str> = steps.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["outline", "sections[0]", "sections[1]", "sectionsx"]);
    assert_eq!(steps[0].attempts, 2);
    assert_eq!(steps[0].status, StepStatus::Succeeded);

    let removed = s.delete_steps("r1", &["sections".into()]).await.unwrap();
    assert_eq!(
        removed, 2,
        "the map's items go, a step that only shares the prefix stays"
    );
    assert_eq!(s.list_steps("r1").await.unwrap().len(), 2);
}

#[tokio::test]
async fn only_a_succeeded_run_of_its_owner_gets_a_new_output() {
    let (_dir, s) = store().await;
    s.create_user(&user("a")).await.unwrap();
    s.create_user(&user("b")).await.unwrap();
    s.create_run(&run("r1", "a")).await.unwrap();
    let edited = serde_json::json!({"markdown": "mine"});
    assert!(
        !s.set_run_output("a", "r1", &edited, 5).await.unwrap(),
        "a running run's output is the runner's"
    );
    let done = RunUpdate {
        status: RunStatus::Succeeded,
        output: Some(serde_json::json!({"markdown": "generated"})),
        error: None,
        tokens: 1,
        at_ms: 4,
    };
    assert!(s.update_run("r1", &done).await.unwrap());
    assert!(!s.set_run_output("b", "r1", &edited, 5).await.unwrap());
    assert!(s.set_run_output("a", "r1", &edited, 6).await.unwrap());
    let stored = s.get_run("a", "r1").await.unwrap().unwrap();
    assert_eq!(stored.output, Some(edited));
    assert_eq!(stored.status, RunStatus::Succeeded);
    assert_eq!(stored.updated_at, 6);
    assert_eq!(stored.finished_at, Some(4));
}
