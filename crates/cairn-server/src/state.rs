//! The application state, built once at start and shared by every request.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;

use cairn_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Semaphore;

use crate::auth::KeyCache;
use crate::config::{Config, TierConfig};
use crate::error::ApiError;
use crate::knowledge::Knowledge;
use crate::limits::Limiter;
use crate::memory::MemoryTasks;
use crate::metering::Meter;
use crate::orchestration::Runs;
use crate::pipeline::{Budgets, Hook, RoutePolicy, TierDefault};
use crate::providers::Provider;
use crate::web::throttle::LoginThrottle;

pub struct App {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub keys: KeyCache,
    pub limiter: Limiter,
    pub budgets: Budgets,
    pub meter: Meter,
    pub providers: BTreeMap<String, Provider>,
    /// Model calls in flight; `try_acquire` failing means "answer 429 now".
    pub inflight: Arc<Semaphore>,
    pub hooks: Vec<Arc<dyn Hook>>,
    pub route_policy: Arc<dyn RoutePolicy>,
    pub metrics: PrometheusHandle,
    pub knowledge: Knowledge,
    /// Background memory extraction (see `crate::memory`).
    pub memory_tasks: MemoryTasks,
    /// Failed browser sign-ins per e-mail and address (see `crate::web::throttle`).
    pub login_throttle: LoginThrottle,
    /// Agent, workflow and article runs executing in this process.
    pub runs: Runs,
}

/// What handlers receive: a cheap clone of the shared [`App`].
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl AppState {
    /// Starts what runs in the background: metrics upkeep; local models pull and load; the
    /// knowledge index opens (once the embedding model is ready) and ingestion resumes;
    /// interrupted workflow runs and articles resume.
    pub fn start_background(&self) {
        self.start_models();
        crate::knowledge::start(self.clone());
        let app = self.clone();
        tokio::spawn(async move { crate::orchestration::resume(&app).await });
    }
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// The parts [`App::new`] needs besides the config; tests build these themselves.
pub struct AppParts {
    pub store: Arc<dyn Store>,
    pub meter: Meter,
    pub metrics: PrometheusHandle,
    pub hooks: Vec<Arc<dyn Hook>>,
}

impl App {
    pub fn new(config: Config, parts: AppParts) -> anyhow::Result<App> {
        let providers = config
            .providers
            .iter()
            .map(|(name, p)| Ok((name.clone(), Provider::from_config(name, p)?)))
            .collect::<anyhow::Result<_>>()?;
        Ok(App {
            inflight: Arc::new(Semaphore::new(config.server.max_inflight_requests)),
            store: parts.store,
            keys: KeyCache::default(),
            limiter: Limiter::default(),
            budgets: Budgets::default(),
            meter: parts.meter,
            providers,
            hooks: parts.hooks,
            route_policy: Arc::new(TierDefault),
            metrics: parts.metrics,
            knowledge: Knowledge::new(config.knowledge.clone(), &config.store.data_dir),
            memory_tasks: MemoryTasks::default(),
            login_throttle: LoginThrottle::new(
                config.web.login_max_failures,
                config.web.login_window,
            ),
            runs: Runs::default(),
            config,
        })
    }

    /// Starts metrics upkeep, and local models pulling and loading.
    fn start_models(&self) {
        crate::telemetry::spawn_metrics_upkeep(self.metrics.clone());
        for (name, provider) in &self.providers {
            if let Provider::Local(local) = provider {
                let targets = self
                    .config
                    .models
                    .values()
                    .filter(|m| &m.provider == name)
                    .map(|m| m.target.clone())
                    .collect();
                local.start(targets);
            }
        }
    }

    /// The tier a user is on. A user whose tier was removed from the config falls back to
    /// the default tier rather than losing access.
    pub fn tier_of(&self, tier_name: &str) -> Result<&TierConfig, ApiError> {
        self.config
            .tier(tier_name)
            .or_else(|| self.config.tier(&self.config.default_tier))
            .ok_or_else(|| ApiError::Internal("the default tier is missing".into()))
    }
}
