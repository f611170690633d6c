//! A Cairn server on 127.0.0.1:0 in front of the fake upstream, with helpers to make users
//! and call it.

use std::sync::Arc;

use cairn_server::accounts::{self, NewKey, NewUser};
use cairn_server::config::Config;
use cairn_server::metering::Meter;
use cairn_server::pipeline::Hook;
use cairn_server::{AppParts, AppState};
use cairn_store::{SqliteStore, Store, User, UserRole};
use serde_json::Value;

use crate::upstream::Upstream;

pub fn config_text(upstream_url: &str) -> String {
    let cairn = env!("CARGO_BIN_EXE_cairn");
    format!(
        r#"
default_tier = "free"

[tools]
code_runner = "{cairn}"

[metering]
flush_interval_ms = 20
batch_max_records = 100
currency = "USD"

[providers.up]
kind = "openai"
base_url = "{upstream_url}"
connect_timeout_ms = 1000
first_token_timeout_ms = 1000
between_chunks_timeout_ms = 500
total_timeout_ms = 10000

[providers.local]
kind = "local"

[models.gpt]
provider = "up"
target = "up-echo"
input_price_per_million = 2.0
output_price_per_million = 8.0

[models.big]
provider = "up"
target = "up-echo"

[models.nousage]
provider = "up"
target = "up-nousage"

[models.broken]
provider = "up"
target = "up-fail"

[models.slow]
provider = "up"
target = "up-slow"

[models.stall]
provider = "up"
target = "up-stall"

[models.emb]
provider = "up"
target = "up-emb"
kind = "embedding"

[models.tools]
provider = "up"
target = "up-tools"

[models.writer]
provider = "up"
target = "up-writer"

[models.small]
provider = "local"
target = "smollm2-135m"

[models.minilm]
provider = "local"
target = "all-minilm-l6-v2"
kind = "embedding"

[tiers.free]
models = ["gpt", "nousage", "broken", "slow", "stall", "emb", "tools", "writer", "small", "minilm"]
default_model = "gpt"
requests_per_minute = 10000
tokens_per_minute = 10000000

[tiers.pro]
models = ["gpt", "big", "emb"]
default_model = "big"
requests_per_minute = 10000
tokens_per_minute = 10000000

[tiers.tiny]
models = ["gpt"]
default_model = "gpt"
requests_per_minute = 5
tokens_per_minute = 10000000

[tiers.budget]
models = ["gpt"]
default_model = "gpt"
requests_per_minute = 10000
tokens_per_minute = 10000000
monthly_tokens = 20
"#
    )
}

pub struct TestServer {
    pub url: String,
    pub app: AppState,
    pub upstream: Upstream,
    pub admin_key: String,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::with_hooks(Vec::new()).await
    }

    pub async fn with_hooks(hooks: Vec<Arc<dyn Hook>>) -> TestServer {
        TestServer::build(hooks, |text| text).await
    }

    /// A server whose config text is edited first.
    pub async fn start_with(edit: impl FnOnce(String) -> String) -> TestServer {
        TestServer::build(Vec::new(), edit).await
    }

    /// A server with hooks whose config text is edited first.
    pub async fn start_with_hooks(
        hooks: Vec<Arc<dyn Hook>>,
        edit: impl FnOnce(String) -> String,
    ) -> TestServer {
        TestServer::build(hooks, edit).await
    }

    async fn build(hooks: Vec<Arc<dyn Hook>>, edit: impl FnOnce(String) -> String) -> TestServer {
        let upstream = Upstream::start().await;
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("cairn.toml");
        std::fs::write(&config_path, edit(config_text(&upstream.base_url()))).unwrap();
        let mut config = Config::load(Some(&config_path)).unwrap();
        config.store.data_dir = dir.path().join("data");
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&config.store.database_path())
                .await
                .unwrap(),
        );
        let (meter, _) = Meter::start(
            store.clone(),
            &config.store.data_dir.join("metering"),
            config.metering.flush_interval,
            config.metering.batch_max_records,
        )
        .await
        .unwrap();
        let app = cairn_server::App::new(
            config,
            AppParts {
                store,
                meter,
                metrics: cairn_server::telemetry::metrics_handle(),
                hooks,
            },
        )
        .unwrap();
        let app = AppState(Arc::new(app));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = cairn_server::router(app.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let mut server = TestServer {
            url,
            app,
            upstream,
            admin_key: String::new(),
            client: reqwest::Client::new(),
            _dir: dir,
        };
        server.admin_key = server.user_with_role("pro", UserRole::Admin).await.1;
        server
    }

    /// A new member on `tier`, with a key.
    pub async fn user(&self, tier: &str) -> (User, String) {
        self.user_with_role(tier, UserRole::Member).await
    }

    async fn user_with_role(&self, tier: &str, role: UserRole) -> (User, String) {
        let store = self.app.store.as_ref();
        let email = format!("{}@example.test", cairn_server::util::new_id());
        let user = accounts::create_user(
            store,
            &self.app.config,
            NewUser {
                email,
                name: None,
                role,
                tier: Some(tier.into()),
                org: None,
            },
        )
        .await
        .unwrap();
        let (_, secret) = accounts::create_key(
            store,
            &user,
            NewKey {
                name: None,
                expires_in_days: None,
                requests_per_minute: None,
                tokens_per_minute: None,
            },
        )
        .await
        .unwrap();
        (user, secret)
    }

    pub fn post(&self, path: &str, key: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
            .json(body)
    }

    pub fn get(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.url))
            .bearer_auth(key)
    }

    pub fn delete(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.client
            .delete(format!("{}{path}", self.url))
            .bearer_auth(key)
    }

    /// A multipart upload to `/api/documents`.
    pub fn upload_form(
        &self,
        key: &str,
        form: reqwest::multipart::Form,
    ) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}/api/documents", self.url))
            .bearer_auth(key)
            .multipart(form)
    }

    /// Polls `/readyz` until `ready` says so; fails on anything reported as failed, or after
    /// `within`.
    pub async fn wait_ready(&self, within: std::time::Duration, ready: impl Fn(&Value) -> bool) {
        let deadline = std::time::Instant::now() + within;
        loop {
            let body: Value = self
                .client
                .get(format!("{}/readyz", self.url))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if ready(&body) {
                return;
            }
            assert!(
                !body.to_string().contains("failed"),
                "a model or the index failed: {body}"
            );
            assert!(
                std::time::Instant::now() < deadline,
                "not ready in time: {body}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Polls the article `id` until it is neither running nor about to run again (done,
    /// failed, or waiting for a review); fails after `within`.
    pub async fn article_settled(&self, key: &str, id: &str, within: std::time::Duration) -> Value {
        let deadline = std::time::Instant::now() + within;
        loop {
            let article = self.get_json(&format!("/api/articles/{id}"), key).await;
            if article["status"] != "running" {
                return article;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the article did not settle: {article}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// GET, expecting a JSON body.
    pub async fn get_json(&self, path: &str, key: &str) -> Value {
        self.get(path, key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// POST, expecting a JSON body.
    pub async fn post_json(&self, path: &str, key: &str, body: &Value) -> Value {
        self.post(path, key, body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn chat(&self, key: &str, body: Value) -> (u16, Value) {
        let response = self
            .post("/v1/chat/completions", key, &body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }
}

/// Asserts an OpenAI error envelope with this status and code.
pub async fn expect_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body["error"]["type"].is_string(), "{body}");
    body
}

/// The `data:` payloads of an SSE body, in order.
pub fn sse_data(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|event| {
            event
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .map(str::to_string)
        })
        .collect()
}

/// `(event, data)` pairs of a named-event SSE body.
pub fn sse_events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|event| {
            let name = event
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or("message");
            let data = event
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or("null");
            (name.to_string(), serde_json::from_str(data).unwrap())
        })
        .collect()
}

pub fn hello() -> Value {
    serde_json::json!({ "model": "gpt", "messages": [{ "role": "user", "content": "hello there" }] })
}
