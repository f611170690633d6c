//! The HTTP client the CLI's server commands (`ingest`, `write`) share: where the server is,
//! which key to use, and errors in the server's own words.

use anyhow::{Context, bail};
use serde_json::Value;

use crate::bootstrap::ADMIN_KEY_FILE;
use crate::config::Config;

pub struct ApiClient {
    pub http: reqwest::Client,
    pub base: String,
    pub key: String,
}

impl ApiClient {
    /// `server` defaults to `server.listen` of the configuration, `key` to the admin key file
    /// in the data directory.
    pub fn connect(
        server: Option<String>,
        key: Option<String>,
        config: &Config,
    ) -> anyhow::Result<ApiClient> {
        let base = server
            .unwrap_or_else(|| format!("http://{}", config.server.listen))
            .trim_end_matches('/')
            .to_string();
        let key = match key {
            Some(key) => key,
            None => std::fs::read_to_string(config.store.data_dir.join(ADMIN_KEY_FILE))
                .map(|k| k.trim().to_string())
                .context("no API key: pass --key, set CAIRN_API_KEY, or run where the admin key file is readable")?,
        };
        Ok(ApiClient {
            http: reqwest::Client::new(),
            base,
            key,
        })
    }

    /// The JSON body of a successful answer; otherwise the server's error message.
    pub async fn answer(response: reqwest::Response) -> anyhow::Result<Value> {
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["error"]["message"].as_str().unwrap_or("no detail");
            bail!("{status}: {message}");
        }
        Ok(body)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base))?;
        Self::answer(response).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base))?;
        Self::answer(response).await
    }
}
