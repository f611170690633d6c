//! The real `cairn` binary: the CLI, first start, and acknowledged writes surviving `kill -9`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{config_text, hello};
use crate::upstream::Upstream;

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Env {
    fn new(upstream: &Upstream) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("cairn.toml");
        // Batches are written once a minute, so usage acknowledged before a kill exists only in
        // the metering journal: the restart must recover it from there.
        let text = config_text(&upstream.base_url())
            .replace("flush_interval_ms = 20", "flush_interval_ms = 60000");
        std::fs::write(&config, text).unwrap();
        Env { dir, config }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cairn(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
        command
            .arg("--config")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(self.data());
        command.env("CAIRN_LOG", "warn");
        command
    }

    fn run(&self, args: &[&str]) -> String {
        let output = self.cairn().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "cairn {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn serve(&self) -> (Child, String) {
        let addr_file = self.dir.path().join("addr");
        let _ = std::fs::remove_file(&addr_file);
        let child = self
            .cairn()
            .args(["serve", "--listen", "127.0.0.1:0", "--addr-file"])
            .arg(&addr_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        (child, format!("http://{}", wait_for_file(&addr_file)))
    }
}

fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let upstream = Upstream::start().await;
    let env = Env::new(&upstream);
    env.run(&["users", "create", "--email", "ops@example.test"]);
    let stdout = env.run(&[
        "keys",
        "create",
        "--user",
        "ops@example.test",
        "--name",
        "script",
    ]);
    let key = stdout.trim_end().to_string();
    assert!(
        key.starts_with("sk-cairn-") && !key.contains('\n'),
        "stdout holds the key and nothing else: {stdout:?}"
    );

    let (mut server, url) = env.serve();
    let client = reqwest::Client::new();
    let chat = client
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(chat.status(), 200);
    let new_key: Value = client
        .post(format!("{url}/api/keys"))
        .bearer_auth(&key)
        .json(&json!({ "name": "made over http" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conversation: Value = client
        .post(format!("{url}/api/conversations"))
        .bearer_auth(&key)
        .json(&json!({ "title": "kept" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = conversation["id"].as_str().unwrap();
    let turn = client
        .post(format!("{url}/api/conversations/{id}/messages"))
        .bearer_auth(&key)
        .json(&json!({ "content": "remember me", "stream": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(turn.status(), 200);
    turn.bytes().await.unwrap();

    // No grace: SIGKILL right after the last acknowledgement.
    server.kill().unwrap();
    server.wait().unwrap();

    let (mut server, url) = env.serve();
    let new_secret = new_key["key"].as_str().unwrap();
    let me = client
        .get(format!("{url}/api/me"))
        .bearer_auth(new_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "the key created over HTTP survived");
    let read: Value = client
        .get(format!("{url}/api/conversations/{id}"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let contents: Vec<&str> = read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["remember me", "echo: remember me"]);
    let usage: Value = client
        .get(format!("{url}/api/usage?group_by=model"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The turn's memory extraction is a third call when it finished before the kill: it runs
    // after the answer, so it may or may not have happened.
    let requests = usage["data"][0]["requests"].as_u64().unwrap();
    assert!(
        (2..=3).contains(&requests),
        "both acknowledged calls survived: {usage}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn first_start_creates_an_admin_and_a_private_key_file() {
    let upstream = Upstream::start().await;
    let env = Env::new(&upstream);
    let (mut server, url) = env.serve();
    let key_file = env.data().join("admin-key.txt");
    let key = std::fs::read_to_string(&key_file)
        .unwrap()
        .trim()
        .to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let me: Value = reqwest::Client::new()
        .get(format!("{url}/api/me"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["role"], "admin");
    server.kill().unwrap();
    server.wait().unwrap();

    let listed = env.run(&["users", "list"]);
    assert!(listed.contains("admin@localhost\tadmin"), "{listed}");
    let keys = env.run(&["keys", "list"]);
    let id = keys.split('\t').next().unwrap().to_string();
    env.run(&["keys", "revoke", &id]);
    assert!(env.run(&["keys", "list"]).contains("revoked"));
}

async fn wait_ready(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Ok(response) = client.get(format!("{url}/readyz")).send().await
            && let Ok(body) = response.json::<Value>().await
        {
            if body["knowledge"] == "ready" {
                return;
            }
            assert!(!body.to_string().contains("failed"), "{body}");
        }
        assert!(Instant::now() < deadline, "knowledge did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get_json(client: &reqwest::Client, url: &str, key: &str) -> Value {
    client
        .get(url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn document_status(client: &reqwest::Client, url: &str, key: &str, id: &str) -> Value {
    get_json(client, &format!("{url}/api/documents/{id}"), key).await
}

async fn bm25(client: &reqwest::Client, url: &str, key: &str, query: &str) -> Vec<Value> {
    let body: Value = client
        .post(format!("{url}/api/search"))
        .bearer_auth(key)
        .json(&json!({ "query": query, "mode": "bm25" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"].as_array().cloned().unwrap_or_default()
}

/// Kill -9 in the middle of embedding a large document: it is never half-visible, and the
/// restart resumes it to the end; a deletion acknowledged before a kill stays deleted; and
/// `cairn ingest` fills a collection from a folder.
#[tokio::test]
async fn ingestion_survives_kill_9_and_the_index_follows_the_database() {
    let upstream = Upstream::start().await;
    let env = Env::new(&upstream);
    env.run(&["users", "create", "--email", "kb@example.test"]);
    let key = env
        .run(&["keys", "create", "--user", "kb@example.test"])
        .trim_end()
        .to_string();
    let (mut server, url) = env.serve();
    let client = reqwest::Client::new();
    wait_ready(&client, &url).await;

    // `cairn ingest` on a folder: known kinds, recursively, hidden files skipped.
    let folder = env.dir.path().join("notes");
    std::fs::create_dir_all(folder.join("deeper")).unwrap();
    std::fs::write(
        folder.join("alpha.md"),
        "# Alpha\n\nThe alpha notes mention a quokka named Quentin.\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("deeper/beta.txt"),
        "Beta: the wombat Wilma sleeps all day.\n",
    )
    .unwrap();
    std::fs::write(folder.join(".hidden.md"), "# Hidden\n\nnever sent\n").unwrap();
    std::fs::write(folder.join("image.bin"), [0u8, 1, 2, 3]).unwrap();
    let output = env
        .cairn()
        .args([
            "ingest",
            "--collection",
            "notes",
            "--server",
            &url,
            "--key",
            &key,
        ])
        .arg(&folder)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("2 indexed, 0 failed"), "{stdout}");
    assert_eq!(
        bm25(&client, &url, &key, "quokka Quentin").await[0]["document_name"],
        "alpha.md"
    );
    let wombat = bm25(&client, &url, &key, "wombat Wilma").await;
    let beta = wombat[0]["document_id"].as_str().unwrap().to_string();
    let collections = get_json(&client, &format!("{url}/api/collections"), &key).await;
    let collection = collections["data"][0]["id"].as_str().unwrap().to_string();

    // Delete one, then a large document; kill while it is being embedded.
    let deleted = client
        .delete(format!("{url}/api/documents/{beta}"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let large: String = (0..8_000)
        .map(|i| format!("Entry {i}: the zebrafish ledger notes routine tank maintenance. "))
        .collect();
    let form = reqwest::multipart::Form::new()
        .text("collection_id", collection.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(large.into_bytes()).file_name("ledger.txt"),
        );
    let answer: Value = client
        .post(format!("{url}/api/documents"))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ledger = answer["data"][0]["document"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let d = document_status(&client, &url, &key, &ledger).await;
        if d["status"] == "embedding" && d["chunks_done"].as_u64().unwrap_or(0) > 0 {
            assert!(
                d["chunks_done"].as_u64() < d["chunks_total"].as_u64(),
                "{d}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "embedding never started: {d}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Half-embedded is invisible.
    assert!(
        bm25(&client, &url, &key, "zebrafish ledger")
            .await
            .is_empty()
    );
    server.kill().unwrap();
    server.wait().unwrap();

    let (mut server, url) = env.serve();
    wait_ready(&client, &url).await;
    let deadline = Instant::now() + Duration::from_secs(600);
    let done = loop {
        let d = document_status(&client, &url, &key, &ledger).await;
        if d["status"] == "indexed" {
            break d;
        }
        assert_ne!(d["status"], "failed", "{d}");
        assert!(
            Instant::now() < deadline,
            "the ingestion did not resume: {d}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(done["chunks_done"], done["chunks_total"]);
    let hits = bm25(&client, &url, &key, "zebrafish ledger").await;
    assert_eq!(hits[0]["document_id"], ledger.as_str());
    assert!(
        bm25(&client, &url, &key, "wombat Wilma").await.is_empty(),
        "the deletion held"
    );
    assert_eq!(
        bm25(&client, &url, &key, "quokka Quentin").await[0]["document_name"],
        "alpha.md"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

const RESUMABLE: &str = r#"
name = "resumable"
[[steps]]
id = "first"
kind = "model"
model = "small"
prompt = "Say hello."
max_tokens = 8
temperature = 0

[[steps]]
id = "stories"
kind = "map"
over = '["a cat", "a dog", "a fox", "an owl"]'
as = "animal"
concurrency = 1
[steps.step]
kind = "model"
model = "small"
prompt = "Write a long story about {{ animal }}."
max_tokens = 60
temperature = 0

[[steps]]
id = "summary"
kind = "render"
template = "{{ steps.first }} / {{ steps.stories | length }} stories"
"#;

/// A workflow on the real small model survives `kill -9` in the middle: after the restart it
/// resumes after its last finished step; finished steps (and map items) are not run again.
#[tokio::test]
async fn a_workflow_resumes_after_kill_9_from_its_last_finished_step() {
    let upstream = Upstream::start().await;
    let env = Env::new(&upstream);
    env.run(&["users", "create", "--email", "flow@example.test"]);
    let key = env
        .run(&[
            "keys",
            "create",
            "--user",
            "flow@example.test",
            "--name",
            "flow",
        ])
        .trim_end()
        .to_string();
    let (mut server, url) = env.serve();
    let client = reqwest::Client::new();
    let started: Value = client
        .post(format!("{url}/api/workflows/runs"))
        .bearer_auth(&key)
        .json(&json!({ "workflow": RESUMABLE }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["id"].as_str().expect("a run id").to_string();
    let read = |url: String| {
        let client = client.clone();
        let key = key.clone();
        let id = id.clone();
        async move {
            client
                .get(format!("{url}/api/runs/{id}"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let status_of = |run: &Value, key: &str| -> Option<String> {
        run["steps"]
            .as_array()?
            .iter()
            .find(|s| s["key"] == key)
            .map(|s| s["status"].as_str().unwrap().to_string())
    };
    // Wait for the first story to be written, then kill while the others are.
    let deadline = Instant::now() + Duration::from_secs(300);
    let before = loop {
        let run = read(url.clone()).await;
        if status_of(&run, "stories[0]").as_deref() == Some("succeeded") {
            break run;
        }
        assert_eq!(run["status"], "running", "{run}");
        assert!(
            Instant::now() < deadline,
            "the first story never finished: {run}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    server.kill().unwrap();
    server.wait().unwrap();
    assert_ne!(
        status_of(&before, "stories[3]").as_deref(),
        Some("succeeded"),
        "the run finished before the kill; the test proves nothing"
    );

    let (mut server, url) = env.serve();
    let deadline = Instant::now() + Duration::from_secs(300);
    let after = loop {
        let run = read(url.clone()).await;
        if run["status"] != "running" {
            break run;
        }
        assert!(Instant::now() < deadline, "the run did not resume: {run}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(after["status"], "succeeded", "{after}");
    let find = |run: &Value, key: &str| {
        run["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .cloned()
            .unwrap()
    };
    for done in ["first", "stories[0]"] {
        let (was, is) = (find(&before, done), find(&after, done));
        assert_eq!(is["attempts"], 1, "{done} ran again: {is}");
        assert_eq!(is["finished_at"], was["finished_at"], "{done} ran again");
        assert_eq!(is["output"], was["output"]);
    }
    assert_eq!(
        find(&after, "stories")["output"].as_array().unwrap().len(),
        4
    );
    let summary = after["output"].as_str().unwrap();
    assert!(summary.ends_with("/ 4 stories"), "{summary}");
    server.kill().unwrap();
    server.wait().unwrap();
}
