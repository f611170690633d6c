use cairn_models::ModelsError;
use cairn_models::source::huggingface::{DEFAULT_HF_ENDPOINT, resolve_url};

use crate::support::{FileServer, ServerState, TestEnv, recorder, sha256_hex, test_bytes};

#[test]
fn resolve_urls_follow_the_hub_layout() {
    let check = |endpoint: &str, repo: &str, rev: &str, file: &str, expected: &str| {
        assert_eq!(resolve_url(endpoint, repo, rev, file), expected);
    };
    check(
        DEFAULT_HF_ENDPOINT,
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "main",
        "model.safetensors",
        "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/resolve/main/model.safetensors",
    );
    check(
        "http://mirror.local:8080/",
        "org/repo",
        "refs/pr/1",
        "gguf/q4 k.gguf",
        "http://mirror.local:8080/org/repo/resolve/refs%2Fpr%2F1/gguf/q4%20k.gguf",
    );
    check(
        "http://h",
        "sentence-transformers/all-MiniLM-L6-v2",
        "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
        "1_Pooling/config.json",
        "http://h/sentence-transformers/all-MiniLM-L6-v2/resolve/c9745ed1d9f207416be6d2e6f8de32d1f16199bf/1_Pooling/config.json",
    );
}

fn hub_entry(sha: &str) -> String {
    format!(
        "[[model]]\nname = \"hubby\"\nkind = \"chat\"\nformat = \"gguf\"\nfile = \"hubby.gguf\"\nsha256 = \"{sha}\"\n\
         source = {{ type = \"hugging_face\", repo = \"org/hubby-GGUF\", revision = \"v1.0\", files = [\"gguf/hubby-q4.gguf\"] }}\n"
    )
}

#[tokio::test]
async fn an_unreachable_hub_is_reported_clearly() {
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let endpoint = format!("http://127.0.0.1:{closed_port}");
    let env = TestEnv::with_options(&hub_entry(&sha256_hex(b"x")), |o| {
        o.hf_endpoint = endpoint.clone()
    });
    let err = env
        .models
        .pull("hubby", recorder(), false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ModelsError::SourceUnreachable { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    for part in [
        "cannot reach the Hugging Face hub",
        endpoint.as_str(),
        "org/hubby-GGUF@v1.0",
        "/org/hubby-GGUF/resolve/v1.0/gguf/hubby-q4.gguf",
        "offline",
        "HF_ENDPOINT",
    ] {
        assert!(msg.contains(part), "{msg:?} lacks {part:?}");
    }
    assert!(env.models.installed("hubby").unwrap().is_none());
}

#[tokio::test]
async fn a_reachable_hub_serves_the_pinned_file_with_the_token() {
    let data = test_bytes(20_000, 20);
    let srv = FileServer::start(ServerState {
        files: [(
            "/org/hubby-GGUF/resolve/v1.0/gguf/hubby-q4.gguf".to_string(),
            data.clone(),
        )]
        .into(),
        support_ranges: true,
        ..Default::default()
    })
    .await;
    let env = TestEnv::with_options(&hub_entry(&sha256_hex(&data)), |o| {
        o.hf_endpoint = format!("http://{}", srv.addr);
        o.hf_token = Some("hf_secret".into());
    });
    let m = env.models.pull("hubby", recorder(), false).await.unwrap();
    assert_eq!(std::fs::read(&m.path).unwrap(), data);
    assert_eq!(m.path, env.root().join("hubby/hubby.gguf"));
    let seen = srv.state.seen.lock().unwrap().clone();
    assert_eq!(seen[0].2.as_deref(), Some("Bearer hf_secret"));
}

#[tokio::test]
async fn a_hub_folder_model_fetches_every_file() {
    let weights = test_bytes(9_000, 21);
    let files = [
        ("model.safetensors", weights.clone()),
        ("tokenizer.json", b"{\"t\":1}".to_vec()),
        ("1_Pooling/config.json", b"{}".to_vec()),
    ];
    let srv = FileServer::start(ServerState {
        files: files
            .iter()
            .map(|(f, d)| (format!("/org/emb/resolve/main/{f}"), d.clone()))
            .collect(),
        support_ranges: true,
        ..Default::default()
    })
    .await;
    let digests = files
        .iter()
        .map(|(f, d)| cairn_models::hashing::FileDigest {
            path: f.to_string(),
            size_bytes: d.len() as u64,
            sha256: sha256_hex(d),
        })
        .collect();
    let expected = cairn_models::hashing::manifest_from(digests);
    let toml = format!(
        "[[model]]\nname = \"emb\"\nkind = \"embedding\"\nformat = \"sentence-transformers\"\ndirectory = true\n\
         sha256 = \"{}\"\nsource = {{ type = \"hugging_face\", repo = \"org/emb\", files = [\"model.safetensors\", \"tokenizer.json\", \"1_Pooling/config.json\"] }}\n",
        expected.sha256
    );
    let env = TestEnv::with_options(&toml, |o| o.hf_endpoint = format!("http://{}", srv.addr));
    let m = env.models.pull("emb", recorder(), false).await.unwrap();
    assert_eq!(
        std::fs::read(m.path.join("model.safetensors")).unwrap(),
        weights
    );
    assert_eq!(m.files.len(), 3);
    assert_eq!(
        srv.state.seen.lock().unwrap()[0].2,
        None,
        "no token, no header"
    );
}

#[tokio::test]
async fn a_gated_repo_suggests_hf_token() {
    let srv = FileServer::start(ServerState::default()).await;
    let env = TestEnv::with_options(&hub_entry(&sha256_hex(b"x")), |o| {
        o.hf_endpoint = format!("http://{}", srv.addr)
    });
    let msg = env
        .models
        .pull("hubby", recorder(), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("HTTP 404") && msg.contains("check the repo, revision and file names"),
        "{msg}"
    );
}

#[tokio::test]
async fn hf_hub_offline_fails_without_contacting_the_hub() {
    let srv = FileServer::start(ServerState::default()).await;
    let env = TestEnv::with_options(&hub_entry(&sha256_hex(b"x")), |o| {
        o.hf_endpoint = format!("http://{}", srv.addr);
        o.hf_offline = true;
    });
    let msg = env
        .models
        .pull("hubby", recorder(), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("HF_HUB_OFFLINE is set"), "{msg}");
    assert!(srv.state.seen.lock().unwrap().is_empty());
}
