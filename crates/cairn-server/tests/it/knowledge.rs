//! Knowledge over HTTP with real files and the real embedding model: ingest, search,
//! grounded answers with citations, delete, permissions, hostile files.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{TestServer, expect_error};

const KNOWLEDGE: &str = r#"
[providers.local]
kind = "local"
threads = 2
max_sequences = 2
context_tokens = 2048
pull_on_start = false

[knowledge]
embedding_model = "minilm"
grounding_tokens = 700
"#;

const HANDBOOK: &str = "<html><head><title>Handbook</title><script>var tracking = 1;</script></head>\
<body><nav>Home | About</nav><h1>Employee handbook</h1>\
<h2>Refunds</h2><p>Customers may ask for a refund within thirty days of purchase. \
Refunds are paid back to the original card within five working days.</p>\
<h2>Office hours</h2><p>The office opens at nine in the morning and closes at six.</p>\
<ul><li>Badges are collected at reception.</li></ul></body></html>";

const ROVERS: &str = "# Mars rovers\n\n## Perseverance\n\nPerseverance landed in Jezero crater \
in February 2021 and carries the Ingenuity helicopter.\n\n## Curiosity\n\nCuriosity has explored \
Gale crater since 2012, powered by a radioisotope generator.\n";

pub async fn server() -> TestServer {
    let s = TestServer::start_with(|config| {
        format!(
            "{}{KNOWLEDGE}",
            config.replace("[providers.local]\nkind = \"local\"\n", "")
        )
    })
    .await;
    s.app.start_background();
    s.wait_ready(Duration::from_secs(180), |body| {
        body["knowledge"] == "ready" && body["local_models"]["smollm2-135m"] == "ready"
    })
    .await;
    s
}

pub async fn create_collection(s: &TestServer, key: &str, name: &str) -> String {
    let response = s
        .post("/api/collections", key, &json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

/// Uploads files in one multipart request; the answer's `data`.
pub async fn upload(
    s: &TestServer,
    key: &str,
    collection: &str,
    files: &[(&str, Vec<u8>)],
) -> Vec<Value> {
    let mut form = reqwest::multipart::Form::new().text("collection_id", collection.to_string());
    for (name, bytes) in files {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
        );
    }
    let response = s.upload_form(key, form).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 202, "{body}");
    body["data"].as_array().unwrap().clone()
}

/// Waits until every document has left the queue; returns them by name.
pub async fn settle(s: &TestServer, key: &str, ids: &[String]) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let mut documents = Vec::new();
        for id in ids {
            documents.push(s.get_json(&format!("/api/documents/{id}"), key).await);
        }
        if documents
            .iter()
            .all(|d| d["status"] == "indexed" || d["status"] == "failed")
        {
            return documents;
        }
        assert!(
            Instant::now() < deadline,
            "ingestion stalled: {documents:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ids(data: &[Value]) -> Vec<String> {
    data.iter()
        .map(|d| d["document"]["id"].as_str().unwrap().to_string())
        .collect()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../cairn-docs/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn search(s: &TestServer, key: &str, body: Value) -> Vec<Value> {
    let response = s.post("/api/search", key, &body).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn documents_are_ingested_searched_cited_and_deleted() {
    let s = server().await;
    let (_, key) = s.user("free").await;
    let collection = create_collection(&s, &key, "Company").await;
    // A large text: thousands of chunks, embedded in bounded batches.
    let large: String = (0..6_000)
        .map(|i| format!("Line {i} of the archive records an unremarkable day at the warehouse. "))
        .collect();
    let data = upload(
        &s,
        &key,
        &collection,
        &[
            ("handbook.html", HANDBOOK.as_bytes().to_vec()),
            ("rovers.md", ROVERS.as_bytes().to_vec()),
            ("sample.pdf", fixture("sample.pdf")),
            ("sample.docx", fixture("sample.docx")),
            ("archive.txt", large.into_bytes()),
        ],
    )
    .await;
    assert!(data.iter().all(|d| d["duplicate"] == false));
    assert!(data.iter().all(|d| d["document"]["status"] == "queued"));
    let documents = settle(&s, &key, &ids(&data)).await;
    for d in &documents {
        assert_eq!(d["status"], "indexed", "{d}");
        assert!(d["chunks_total"].as_u64().unwrap() >= 1, "{d}");
        assert_eq!(d["chunks_done"], d["chunks_total"]);
    }
    assert!(documents[4]["chunks_total"].as_u64().unwrap() > 100);
    let handbook = documents[0]["id"].as_str().unwrap().to_string();

    // Hybrid search finds the right chunk, with its heading path, and skips the page chrome.
    let hits = search(
        &s,
        &key,
        json!({ "query": "how long do customers have to get a refund", "k": 3 }),
    )
    .await;
    assert_eq!(hits[0]["document_id"], handbook, "{hits:?}");
    assert_eq!(hits[0]["document_name"], "handbook.html");
    assert_eq!(
        hits[0]["heading_path"],
        json!(["Employee handbook", "Refunds"])
    );
    assert!(hits[0]["text"].as_str().unwrap().contains("thirty days"));
    assert!(!hits[0]["text"].as_str().unwrap().contains("tracking"));
    // Each mode on its own, and a metadata filter.
    for mode in ["bm25", "dense"] {
        let hits = search(
            &s,
            &key,
            json!({ "query": "Which rover carries a helicopter?", "mode": mode, "k": 2 }),
        )
        .await;
        assert_eq!(hits[0]["document_name"], "rovers.md", "{mode}: {hits:?}");
    }
    let hits = search(
        &s,
        &key,
        json!({ "query": "refund", "metadata": { "name": "rovers.md" } }),
    )
    .await;
    assert!(hits.iter().all(|h| h["document_name"] == "rovers.md"));

    // A grounded answer: numbered sources in the prompt, the citation list in the answer.
    let (status, body) = s
        .chat(
            &key,
            json!({ "model": "gpt", "collections": [collection],
                    "messages": [{ "role": "user", "content": "How many days do customers have to ask for a refund?" }] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let citations = body["citations"].as_array().unwrap();
    assert_eq!(citations[0]["index"], 1);
    assert_eq!(citations[0]["document_id"], handbook);
    assert!(
        citations[0]["snippet"]
            .as_str()
            .unwrap()
            .contains("thirty days")
    );
    let sent = s.upstream.last_request();
    assert!(
        sent.get("collections").is_none(),
        "the extension leaked upstream"
    );
    let system = sent["messages"][0]["content"].as_str().unwrap();
    assert_eq!(sent["messages"][0]["role"], "system");
    assert!(
        system.contains("[1] handbook.html › Employee handbook › Refunds"),
        "{system}"
    );
    assert!(system.contains("thirty days"));

    // The same through a conversation with the real local model, streamed.
    let conversation = s
        .post_json(
            "/api/conversations",
            &key,
            &json!({ "model": "small", "collections": [collection] }),
        )
        .await;
    let path = format!(
        "/api/conversations/{}/messages",
        conversation["id"].as_str().unwrap()
    );
    let text = s
        .post(
            &path,
            &key,
            &json!({ "content": "When did Perseverance land?", "max_tokens": 24 }),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = crate::support::sse_events(&text);
    let cited = events
        .iter()
        .find(|(name, _)| name == "citations")
        .expect("a citations event");
    assert_eq!(cited.1["citations"][0]["document_name"], "rovers.md");
    assert!(events.iter().any(|(name, _)| name == "done"), "{text}");
    let stored = s
        .get_json(
            &format!(
                "/api/conversations/{}",
                conversation["id"].as_str().unwrap()
            ),
            &key,
        )
        .await;
    assert_eq!(
        stored["messages"][1]["citations"][0]["document_name"],
        "rovers.md"
    );

    // The same content again is the same document.
    let again = upload(
        &s,
        &key,
        &collection,
        &[("copy.html", HANDBOOK.as_bytes().to_vec())],
    )
    .await;
    assert_eq!(again[0]["duplicate"], true);
    assert_eq!(again[0]["document"]["id"], handbook);

    // Deleting a document removes it from every kind of search.
    let response = s
        .delete(&format!("/api/documents/{handbook}"), &key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    for mode in ["bm25", "dense", "hybrid"] {
        let hits = search(
            &s,
            &key,
            json!({ "query": "refund within thirty days", "mode": mode }),
        )
        .await;
        assert!(
            hits.iter().all(|h| h["document_id"] != handbook),
            "{mode}: {hits:?}"
        );
    }
    let report = s
        .app
        .knowledge
        .index()
        .unwrap()
        .check_consistency()
        .unwrap();
    assert!(report.is_consistent(), "{report:?}");
    expect_error(
        s.get(&format!("/api/documents/{handbook}"), &key)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn nobody_reads_a_collection_they_may_not() {
    let s = server().await;
    let (_, alice) = s.user("free").await;
    let (_, bob) = s.user("free").await;
    let private = create_collection(&s, &alice, "Alice's notes").await;
    let data = upload(
        &s,
        &alice,
        &private,
        &[("rovers.md", ROVERS.as_bytes().to_vec())],
    )
    .await;
    let document = ids(&data).remove(0);
    settle(&s, &alice, std::slice::from_ref(&document)).await;

    // Bob sees nothing of it, and cannot tell it exists.
    for path in [
        format!("/api/collections/{private}"),
        format!("/api/documents/{document}"),
        format!("/api/documents?collection_id={private}"),
    ] {
        expect_error(s.get(&path, &bob).send().await.unwrap(), 404, "not_found").await;
    }
    let listed = s.get_json("/api/collections", &bob).await;
    assert_eq!(listed["data"], json!([]));
    assert!(
        search(&s, &bob, json!({ "query": "Perseverance rover" }))
            .await
            .is_empty()
    );
    let response = s
        .post(
            "/api/search",
            &bob,
            &json!({ "query": "Perseverance", "collections": [private] }),
        )
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "not_found").await;
    let (status, body) = s
        .chat(&bob, json!({ "model": "gpt", "collections": [private], "messages": [{ "role": "user", "content": "rovers?" }] }))
        .await;
    assert_eq!(status, 404, "{body}");
    let response = s
        .post(
            "/api/conversations",
            &bob,
            &json!({ "collections": [private] }),
        )
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "not_found").await;
    let form = reqwest::multipart::Form::new()
        .text("collection_id", private.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"sneaky".to_vec()).file_name("x.txt"),
        );
    let response = s.upload_form(&bob, form).send().await.unwrap();
    expect_error(response, 404, "not_found").await;
    for path in [
        format!("/api/documents/{document}"),
        format!("/api/collections/{private}"),
    ] {
        let response = s.delete(&path, &bob).send().await.unwrap();
        expect_error(response, 404, "not_found").await;
    }
    // Alice still has it all.
    let hits = search(&s, &alice, json!({ "query": "Perseverance rover" })).await;
    assert_eq!(hits[0]["document_id"], document);

    // Deleting the collection deletes its documents everywhere.
    let response = s
        .delete(&format!("/api/collections/{private}"), &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(
        search(&s, &alice, json!({ "query": "Perseverance rover" }))
            .await
            .is_empty()
    );
    let ids = s.app.knowledge.index().unwrap().document_ids().unwrap();
    assert!(!ids.contains(&document));
}

#[tokio::test]
async fn hostile_files_fail_alone_with_a_reason() {
    let s = server().await;
    let (_, key) = s.user("free").await;
    let collection = create_collection(&s, &key, "Mixed").await;
    let pdf = fixture("sample.pdf");
    let truncated = pdf[..pdf.len() / 3].to_vec();
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let data = upload(
        &s,
        &key,
        &collection,
        &[
            ("empty.txt", Vec::new()),
            ("junk.txt", junk),
            ("truncated.pdf", truncated),
            ("bomb.docx", zip_bomb()),
            ("rovers.md", ROVERS.as_bytes().to_vec()),
        ],
    )
    .await;
    let documents = settle(&s, &key, &ids(&data)).await;
    for d in &documents[..4] {
        assert_eq!(d["status"], "failed", "{d}");
        assert!(!d["error"].as_str().unwrap_or_default().is_empty(), "{d}");
    }
    assert_eq!(documents[4]["status"], "indexed");
    let hits = search(&s, &key, json!({ "query": "Curiosity Gale crater" })).await;
    assert_eq!(hits[0]["document_name"], "rovers.md");

    // Bad requests get a clear error.
    let response = s
        .post("/api/search", &key, &json!({ "query": "" }))
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_value").await;
    let response = s
        .post("/api/search", &key, &json!({ "query": "x", "k": 0 }))
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_value").await;
    let form = reqwest::multipart::Form::new().text("collection_id", collection.clone());
    let response = s.upload_form(&key, form).send().await.unwrap();
    expect_error(response, 400, "invalid_value").await;
    let form = reqwest::multipart::Form::new()
        .text("collection_id", collection.clone())
        .text("metadata", "[1, 2]")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"text".to_vec()).file_name("a.txt"),
        );
    let response = s.upload_form(&key, form).send().await.unwrap();
    expect_error(response, 400, "invalid_value").await;
}

/// A DOCX whose one entry inflates to 1 GiB of zeros.
fn zip_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(b"<Types/>").unwrap();
    zip.start_file("word/document.xml", options).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}
