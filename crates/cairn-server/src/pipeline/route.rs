//! Choosing the model that serves a call.

use crate::config::{Config, ModelConfig, ModelKind, TierConfig};
use crate::error::ApiError;

/// Picks a model when the caller leaves the choice to Cairn (`model` omitted or `"auto"`).
/// The default follows the tier ("free users get the small model, premium the best"); a
/// smarter policy (by difficulty, cost, latency, load) replaces it without touching callers.
pub trait RoutePolicy: Send + Sync {
    fn choose(&self, tier: &TierConfig, kind: ModelKind, config: &Config) -> Option<String>;
}

pub struct TierDefault;

impl RoutePolicy for TierDefault {
    fn choose(&self, tier: &TierConfig, kind: ModelKind, config: &Config) -> Option<String> {
        match kind {
            ModelKind::Chat => Some(tier.default_model.clone()),
            ModelKind::Embedding => tier
                .models
                .iter()
                .find(|m| {
                    config
                        .models
                        .get(*m)
                        .is_some_and(|c| c.kind == ModelKind::Embedding)
                })
                .cloned(),
        }
    }
}

/// Resolves the requested model for a caller on `tier`: 404 for a name Cairn does not
/// serve, 403 for one outside the tier, 400 for one of the wrong kind.
pub fn resolve_model<'a>(
    config: &'a Config,
    policy: &dyn RoutePolicy,
    tier: &TierConfig,
    requested: Option<&str>,
    kind: ModelKind,
) -> Result<&'a ModelConfig, ApiError> {
    let name = match requested {
        None | Some("auto") => {
            policy
                .choose(tier, kind, config)
                .ok_or_else(|| ApiError::Forbidden {
                    message: format!("the '{}' tier has no {} model", tier.name, kind_name(kind)),
                    code: "model_not_allowed",
                })?
        }
        Some(name) => name.to_string(),
    };
    let model = config.models.get(&name).ok_or_else(|| ApiError::NotFound {
        message: format!("the model '{name}' does not exist"),
        param: Some("model".into()),
        code: "model_not_found",
    })?;
    if !tier.allows(&name) {
        return Err(ApiError::Forbidden {
            message: format!(
                "the model '{name}' is not available on the '{}' tier",
                tier.name
            ),
            code: "model_not_allowed",
        });
    }
    if model.kind != kind {
        return Err(ApiError::invalid(
            format!(
                "the model '{name}' is a {} model, not a {} model",
                kind_name(model.kind),
                kind_name(kind)
            ),
            Some("model"),
        ));
    }
    Ok(model)
}

fn kind_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Chat => "chat",
        ModelKind::Embedding => "embedding",
    }
}
