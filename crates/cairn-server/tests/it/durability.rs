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
    assert_eq!(
        usage["data"][0]["requests"], 2,
        "both metered calls survived: {usage}"
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
