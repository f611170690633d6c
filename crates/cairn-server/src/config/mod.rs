//! Cairn's configuration: one typed tree, loaded in two steps.
//!
//! 1. [`raw::RawConfig`] is the tree as written (built-in defaults, then the file, then
//!    `CAIRN__SECTION__KEY` environment variables), refusing unknown keys.
//! 2. [`Config`] is what the rest of the server sees: validated, cross-checked (every tier
//!    names existing models, every model an existing provider), secrets resolved, units
//!    applied. Nothing downstream re-checks what this module guarantees.

mod orchestration;
mod raw;

pub use orchestration::{AgentConfig, HttpToolConfig, ToolsConfig};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Serialized};

use raw::{RawConfig, RawKnowledge, RawModel, RawProvider, RawTier};

const DEFAULTS: &str = include_str!("defaults.toml");
/// Tables a config file replaces whole instead of merging into the defaults.
const REPLACED_WHOLE: [&str; 3] = ["providers", "models", "tiers"];

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub metering: MeteringConfig,
    pub knowledge: KnowledgeConfig,
    pub memory: MemoryConfig,
    pub web: WebConfig,
    pub tools: ToolsConfig,
    pub agent: AgentConfig,
    pub providers: BTreeMap<String, ProviderConfig>,
    pub models: BTreeMap<String, ModelConfig>,
    pub tiers: BTreeMap<String, TierConfig>,
    pub default_tier: String,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    pub max_inflight_requests: usize,
    pub log_format: LogFormat,
    pub log_prompts: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub data_dir: PathBuf,
}

impl StoreConfig {
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("cairn.db")
    }
}

#[derive(Debug, Clone)]
pub struct KnowledgeConfig {
    /// A `models` entry of kind embedding; `None` turns knowledge off.
    pub embedding_model: Option<String>,
    pub max_upload_bytes: usize,
    pub chunk_tokens: usize,
    pub chunk_overlap_tokens: usize,
    pub ingest_workers: usize,
    pub embed_batch: usize,
    pub grounding_sources: usize,
    pub grounding_tokens: usize,
}

#[derive(Debug, Clone)]
pub struct MeteringConfig {
    pub flush_interval: Duration,
    pub batch_max_records: usize,
    pub currency: String,
}

#[derive(Debug, Clone)]
pub struct MemoryConfig {
    pub enabled: bool,
    /// `None`: the caller's tier's first embedding model.
    pub embedding_model: Option<String>,
    /// `None`: the conversation's own model.
    pub model: Option<String>,
    pub extract_with_patterns: bool,
    pub extract_with_model: bool,
    pub recall_max: usize,
    pub recall_min_similarity: f32,
    pub duplicate_similarity: f32,
    pub update_similarity: f32,
    pub max_per_user: u64,
    pub summary_max_tokens: u32,
    pub reply_reserve_tokens: u32,
    pub default_context_tokens: u32,
}

/// Browser accounts and sessions (`[web]`).
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub signup: Signup,
    pub secure_cookies: SecureCookies,
    pub session_ttl: Duration,
    pub invitation_ttl: Duration,
    /// Failed sign-ins allowed per e-mail and client address within `login_window`.
    pub login_max_failures: u32,
    pub login_window: Duration,
}

/// Who may create an account from the sign-up page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signup {
    /// Anyone.
    Open,
    /// Only with an admin's invitation.
    Invite,
}

/// When session cookies carry `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecureCookies {
    /// When the request reached Cairn over HTTPS, as a TLS-terminating proxy says with
    /// `X-Forwarded-Proto: https`.
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone)]
pub enum ProviderConfig {
    OpenAi(OpenAiProviderConfig),
    Local(LocalProviderConfig),
}

#[derive(Debug, Clone)]
pub struct OpenAiProviderConfig {
    /// Base URL up to and including the API version, e.g. `https://host/v1`, no trailing `/`.
    pub base_url: String,
    pub api_key: Option<String>,
    pub timeouts: UpstreamTimeouts,
}

#[derive(Debug, Clone, Copy)]
pub struct UpstreamTimeouts {
    pub connect: Duration,
    pub first_token: Duration,
    pub between_chunks: Duration,
    pub total: Duration,
}

#[derive(Debug, Clone)]
pub struct LocalProviderConfig {
    pub threads: Option<u32>,
    pub max_sequences: u32,
    pub context_tokens: u32,
    pub queue_capacity: usize,
    pub pull_on_start: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Chat,
    Embedding,
}

#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// The public name clients send as `model`.
    pub name: String,
    pub provider: String,
    pub target: String,
    pub kind: ModelKind,
    pub price: Price,
    /// The context window, when configured (local models report their own).
    pub context_tokens: Option<u32>,
}

/// Price per token in billionths of the currency unit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Price {
    pub input_nanos_per_token: f64,
    pub output_nanos_per_token: f64,
}

impl Price {
    pub fn cost_nanos(self, prompt_tokens: u32, completion_tokens: u32) -> i64 {
        (f64::from(prompt_tokens) * self.input_nanos_per_token
            + f64::from(completion_tokens) * self.output_nanos_per_token)
            .round() as i64
    }
}

#[derive(Debug, Clone)]
pub struct TierConfig {
    pub name: String,
    pub models: Vec<String>,
    pub default_model: String,
    pub requests_per_minute: u32,
    pub tokens_per_minute: u32,
    pub monthly_tokens: Option<u64>,
}

impl TierConfig {
    pub fn allows(&self, model: &str) -> bool {
        self.models.iter().any(|m| m == model)
    }
}

impl Config {
    /// Loads defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut defaults: toml::Table = toml::from_str(DEFAULTS).context("built-in defaults")?;
        let mut figment = Figment::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            let user: toml::Table = toml::from_str(&text)
                .with_context(|| format!("config file {} is not valid TOML", path.display()))?;
            for key in REPLACED_WHOLE {
                if user.contains_key(key) {
                    defaults.remove(key);
                }
            }
            figment = figment
                .merge(Serialized::defaults(defaults))
                .merge(Serialized::defaults(user));
        } else {
            figment = figment.merge(Serialized::defaults(defaults));
        }
        let raw: RawConfig = figment
            .merge(Env::prefixed("CAIRN__").split("__"))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        Config::validate(raw)
    }

    fn validate(raw: RawConfig) -> anyhow::Result<Config> {
        let mut problems = Vec::new();
        let server = raw::validate_server(&raw.server, &mut problems);
        let providers: BTreeMap<_, _> = raw
            .providers
            .iter()
            .filter_map(|(name, p)| Some((name.clone(), provider(name, p, &mut problems)?)))
            .collect();
        let models: BTreeMap<_, _> = raw
            .models
            .iter()
            .filter_map(|(name, m)| {
                Some((name.clone(), model(name, m, &providers, &mut problems)?))
            })
            .collect();
        let tiers: BTreeMap<_, _> = raw
            .tiers
            .iter()
            .map(|(name, t)| (name.clone(), tier(name, t, &models, &mut problems)))
            .collect();
        if !tiers.contains_key(&raw.default_tier) {
            problems.push(format!(
                "default_tier {:?} is not a defined tier",
                raw.default_tier
            ));
        }
        if raw.metering.batch_max_records == 0 {
            problems.push("metering.batch_max_records must be at least 1".into());
        }
        let knowledge = knowledge(&raw.knowledge, &providers, &models, &mut problems);
        let memory = memory(&raw.memory, &models, &mut problems);
        let web = web(&raw.web, &mut problems);
        let tools = orchestration::tools(&raw.tools, &mut problems);
        let agent = orchestration::agent(&raw.agent, &mut problems);
        let data_dir = if raw.store.data_dir.is_empty() {
            default_data_dir()
        } else {
            PathBuf::from(&raw.store.data_dir)
        };
        if !problems.is_empty() {
            bail!("invalid configuration:\n  - {}", problems.join("\n  - "));
        }
        Ok(Config {
            server: server.expect("no problems means the server section is valid"),
            store: StoreConfig { data_dir },
            metering: MeteringConfig {
                flush_interval: Duration::from_millis(raw.metering.flush_interval_ms.max(1)),
                batch_max_records: raw.metering.batch_max_records as usize,
                currency: raw.metering.currency,
            },
            knowledge,
            memory,
            web,
            tools,
            agent,
            providers,
            models,
            tiers,
            default_tier: raw.default_tier,
        })
    }

    pub fn tier(&self, name: &str) -> Option<&TierConfig> {
        self.tiers.get(name)
    }
}

fn knowledge(
    raw: &RawKnowledge,
    providers: &BTreeMap<String, ProviderConfig>,
    models: &BTreeMap<String, ModelConfig>,
    problems: &mut Vec<String>,
) -> KnowledgeConfig {
    let embedding_model = match raw.embedding_model.as_str() {
        "" => None,
        // The first embedding model the local engine serves, else the first at all.
        "auto" => {
            let embedding = || {
                models
                    .iter()
                    .filter(|(_, m)| m.kind == ModelKind::Embedding)
            };
            embedding()
                .find(|(_, m)| matches!(providers.get(&m.provider), Some(ProviderConfig::Local(_))))
                .or_else(|| embedding().next())
                .map(|(name, _)| name.clone())
        }
        name => {
            match models.get(name) {
                Some(m) if m.kind == ModelKind::Embedding => {}
                Some(_) => problems.push(format!(
                    "knowledge.embedding_model {name:?} is not an embedding model"
                )),
                None => problems.push(format!(
                    "knowledge.embedding_model {name:?} is not a defined model (name one, \
                     or use \"auto\", or \"\" to turn knowledge off)"
                )),
            }
            Some(name.to_string())
        }
    };
    if raw.chunk_tokens < 16 {
        problems.push("knowledge.chunk_tokens must be at least 16".into());
    }
    if raw.chunk_overlap_tokens >= raw.chunk_tokens {
        problems.push("knowledge.chunk_overlap_tokens must be below chunk_tokens".into());
    }
    for (name, value) in [
        ("max_upload_bytes", raw.max_upload_bytes),
        ("ingest_workers", u64::from(raw.ingest_workers)),
        ("embed_batch", u64::from(raw.embed_batch)),
        ("grounding_sources", u64::from(raw.grounding_sources)),
        ("grounding_tokens", u64::from(raw.grounding_tokens)),
    ] {
        if value == 0 {
            problems.push(format!("knowledge.{name} must be at least 1"));
        }
    }
    KnowledgeConfig {
        embedding_model,
        max_upload_bytes: usize::try_from(raw.max_upload_bytes).unwrap_or(usize::MAX),
        chunk_tokens: raw.chunk_tokens as usize,
        chunk_overlap_tokens: raw.chunk_overlap_tokens as usize,
        ingest_workers: raw.ingest_workers as usize,
        embed_batch: raw.embed_batch as usize,
        grounding_sources: raw.grounding_sources as usize,
        grounding_tokens: raw.grounding_tokens as usize,
    }
}

fn provider(name: &str, raw: &RawProvider, problems: &mut Vec<String>) -> Option<ProviderConfig> {
    match raw {
        RawProvider::Openai {
            base_url,
            api_key,
            connect_timeout_ms,
            first_token_timeout_ms,
            between_chunks_timeout_ms,
            total_timeout_ms,
        } => {
            if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                problems.push(format!(
                    "providers.{name}.base_url must start with http:// or https://"
                ));
                return None;
            }
            let api_key = match api_key.as_deref().map(resolve_secret).transpose() {
                Ok(key) => key,
                Err(e) => {
                    problems.push(format!("providers.{name}.api_key: {e}"));
                    return None;
                }
            };
            Some(ProviderConfig::OpenAi(OpenAiProviderConfig {
                base_url: base_url.trim_end_matches('/').to_string(),
                api_key,
                timeouts: UpstreamTimeouts {
                    connect: Duration::from_millis(*connect_timeout_ms),
                    first_token: Duration::from_millis(*first_token_timeout_ms),
                    between_chunks: Duration::from_millis(*between_chunks_timeout_ms),
                    total: Duration::from_millis(*total_timeout_ms),
                },
            }))
        }
        RawProvider::Local {
            threads,
            max_sequences,
            context_tokens,
            queue_capacity,
            pull_on_start,
        } => {
            if *max_sequences == 0 || *context_tokens < 64 || threads == &Some(0) {
                problems.push(format!(
                    "providers.{name}: max_sequences and threads must be at least 1, context_tokens at least 64"
                ));
                return None;
            }
            Some(ProviderConfig::Local(LocalProviderConfig {
                threads: *threads,
                max_sequences: *max_sequences,
                context_tokens: *context_tokens,
                queue_capacity: *queue_capacity,
                pull_on_start: *pull_on_start,
            }))
        }
    }
}

fn model(
    name: &str,
    raw: &RawModel,
    providers: &BTreeMap<String, ProviderConfig>,
    problems: &mut Vec<String>,
) -> Option<ModelConfig> {
    let kind = match raw.kind.as_str() {
        "chat" => ModelKind::Chat,
        "embedding" => ModelKind::Embedding,
        other => {
            problems.push(format!(
                "models.{name}.kind {other:?} must be \"chat\" or \"embedding\""
            ));
            return None;
        }
    };
    if !providers.contains_key(&raw.provider) {
        problems.push(format!(
            "models.{name}.provider {:?} is not a defined provider",
            raw.provider
        ));
        return None;
    }
    if name == "auto" {
        problems.push("\"auto\" is reserved for the tier's default model".into());
    }
    for (field, price) in [
        ("input_price_per_million", raw.input_price_per_million),
        ("output_price_per_million", raw.output_price_per_million),
    ] {
        if !(price.is_finite() && price >= 0.0) {
            problems.push(format!(
                "models.{name}.{field} must be a non-negative number"
            ));
        }
    }
    Some(ModelConfig {
        name: name.to_string(),
        provider: raw.provider.clone(),
        target: raw.target.clone(),
        kind,
        // Per million tokens → per token, in billionths: × 1e-6 × 1e9 = × 1e3.
        price: Price {
            input_nanos_per_token: raw.input_price_per_million * 1e3,
            output_nanos_per_token: raw.output_price_per_million * 1e3,
        },
        context_tokens: raw.context_tokens,
    })
}

fn memory(
    raw: &raw::RawMemory,
    models: &BTreeMap<String, ModelConfig>,
    problems: &mut Vec<String>,
) -> MemoryConfig {
    let named = |field: &str, name: &str, kind: ModelKind, problems: &mut Vec<String>| {
        if name.is_empty() {
            return None;
        }
        match models.get(name) {
            Some(m) if m.kind == kind => {}
            _ => problems.push(format!(
                "memory.{field} {name:?} is not a defined {} model",
                match kind {
                    ModelKind::Chat => "chat",
                    ModelKind::Embedding => "embedding",
                }
            )),
        }
        Some(name.to_string())
    };
    let embedding_model = named(
        "embedding_model",
        &raw.embedding_model,
        ModelKind::Embedding,
        problems,
    );
    let model = named("model", &raw.model, ModelKind::Chat, problems);
    for (field, value) in [
        ("recall_min_similarity", raw.recall_min_similarity),
        ("duplicate_similarity", raw.duplicate_similarity),
        ("update_similarity", raw.update_similarity),
    ] {
        if !(0.0..=1.0).contains(&value) {
            problems.push(format!("memory.{field} must be between 0 and 1"));
        }
    }
    if raw.update_similarity > raw.duplicate_similarity {
        problems.push("memory.update_similarity must not exceed duplicate_similarity".into());
    }
    if raw.recall_max > 50 {
        problems.push("memory.recall_max must be at most 50".into());
    }
    if raw.summary_max_tokens < 16 || raw.default_context_tokens < 256 {
        problems.push(
            "memory.summary_max_tokens must be at least 16, default_context_tokens at least 256"
                .into(),
        );
    }
    MemoryConfig {
        enabled: raw.enabled,
        embedding_model,
        model,
        extract_with_patterns: raw.extract_with_patterns,
        extract_with_model: raw.extract_with_model,
        recall_max: raw.recall_max as usize,
        recall_min_similarity: raw.recall_min_similarity,
        duplicate_similarity: raw.duplicate_similarity,
        update_similarity: raw.update_similarity,
        max_per_user: u64::from(raw.max_per_user),
        summary_max_tokens: raw.summary_max_tokens,
        reply_reserve_tokens: raw.reply_reserve_tokens,
        default_context_tokens: raw.default_context_tokens,
    }
}

fn web(raw: &raw::RawWeb, problems: &mut Vec<String>) -> WebConfig {
    let signup = match raw.signup.as_str() {
        "open" => Signup::Open,
        "invite" => Signup::Invite,
        other => {
            problems.push(format!(
                "web.signup {other:?} must be \"open\" or \"invite\""
            ));
            Signup::Invite
        }
    };
    let secure_cookies = match raw.secure_cookies.as_str() {
        "auto" => SecureCookies::Auto,
        "always" => SecureCookies::Always,
        "never" => SecureCookies::Never,
        other => {
            problems.push(format!(
                "web.secure_cookies {other:?} must be \"auto\", \"always\" or \"never\""
            ));
            SecureCookies::Auto
        }
    };
    for (name, value) in [
        ("session_ttl_hours", raw.session_ttl_hours),
        ("invitation_ttl_hours", raw.invitation_ttl_hours),
        ("login_max_failures", raw.login_max_failures),
        ("login_window_secs", raw.login_window_secs),
    ] {
        if value == 0 {
            problems.push(format!("web.{name} must be at least 1"));
        }
    }
    let hours = |h: u32| Duration::from_secs(u64::from(h) * 3600);
    WebConfig {
        signup,
        secure_cookies,
        session_ttl: hours(raw.session_ttl_hours),
        invitation_ttl: hours(raw.invitation_ttl_hours),
        login_max_failures: raw.login_max_failures,
        login_window: Duration::from_secs(u64::from(raw.login_window_secs)),
    }
}

fn tier(
    name: &str,
    raw: &RawTier,
    models: &BTreeMap<String, ModelConfig>,
    problems: &mut Vec<String>,
) -> TierConfig {
    for m in &raw.models {
        if !models.contains_key(m) {
            problems.push(format!(
                "tiers.{name}.models names {m:?}, which is not a defined model"
            ));
        }
    }
    if !raw.models.contains(&raw.default_model) {
        problems.push(format!(
            "tiers.{name}.default_model {:?} is not among the tier's models",
            raw.default_model
        ));
    }
    if raw.requests_per_minute == 0 || raw.tokens_per_minute == 0 {
        problems.push(format!(
            "tiers.{name}: requests_per_minute and tokens_per_minute must be at least 1"
        ));
    }
    TierConfig {
        name: name.to_string(),
        models: raw.models.clone(),
        default_model: raw.default_model.clone(),
        requests_per_minute: raw.requests_per_minute,
        tokens_per_minute: raw.tokens_per_minute,
        monthly_tokens: (raw.monthly_tokens > 0).then_some(raw.monthly_tokens),
    }
}

/// Resolves `env:NAME` or `file:PATH`. Literal secrets are refused so that config files can
/// be shared and committed without leaking keys.
fn resolve_secret(reference: &str) -> anyhow::Result<String> {
    if let Some(var) = reference.strip_prefix("env:") {
        std::env::var(var).with_context(|| format!("environment variable {var} is not set"))
    } else if let Some(path) = reference.strip_prefix("file:") {
        Ok(std::fs::read_to_string(path)
            .with_context(|| format!("cannot read secret file {path}"))?
            .trim()
            .to_string())
    } else {
        bail!(
            "must be a reference like \"env:OPENAI_API_KEY\" or \"file:/run/secrets/key\", not the secret itself"
        )
    }
}

fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("cairn")
}

#[cfg(test)]
mod tests;
