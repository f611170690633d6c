//! An embeddings call through the same stages as chat: route, limit, provider, meter.

use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

use super::{CallContext, Settlement, resolve_model};
use crate::auth::Principal;
use crate::config::ModelKind;
use crate::error::ApiError;
use crate::limits::RateLimitHeaders;
use crate::openai::embeddings::EmbeddingRequest;
use crate::openai::{estimate_tokens, read_usage, usage_json};
use crate::state::AppState;
use crate::util::now_ms;

pub async fn run_embeddings(
    app: &AppState,
    principal: Principal,
    request_id: String,
    request: EmbeddingRequest,
) -> Result<(Value, RateLimitHeaders), ApiError> {
    request.validate()?;
    let tier = app.tier_of(&principal.user.tier)?;
    let model = resolve_model(
        &app.config,
        app.route_policy.as_ref(),
        tier,
        request.model.as_deref(),
        ModelKind::Embedding,
    )?;
    app.budgets
        .check(
            app.store.as_ref(),
            &principal.user.id,
            tier.monthly_tokens,
            now_ms(),
        )
        .await?;
    let estimate = estimate_tokens(request.input_chars());
    let admission = app
        .limiter
        .admit(&super::chat::scopes(&principal, tier), estimate)?;
    let headers = admission.headers.clone();
    let permit = app
        .inflight
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Overloaded {
            message: "the server is at its limit of model calls in flight; retry shortly".into(),
        })?;
    let settlement = Settlement {
        app: app.clone(),
        cx: CallContext {
            request_id,
            route: "/v1/embeddings",
            principal,
            model: Arc::new(model.clone()),
            started: Instant::now(),
        },
        admission: Some(admission),
        stream: false,
        prompt_estimate: estimate,
        _permit: Some(permit),
    };
    let provider = app
        .providers
        .get(&model.provider)
        .ok_or_else(|| ApiError::Internal(format!("provider '{}' is not built", model.provider)))?;
    let mut body = serde_json::to_value(&request).map_err(ApiError::internal)?;
    body["model"] = Value::String(model.target.clone());
    match provider.embed(body).await {
        Err(err) => {
            settlement.finish(err.status().as_u16(), None, "", None);
            Err(err)
        }
        Ok(mut response) => {
            let usage = read_usage(&response).map(|u| cairn_types::Usage {
                completion_tokens: 0,
                ..u
            });
            let usage = settlement.finish(
                200,
                usage.or(Some(cairn_types::Usage {
                    prompt_tokens: estimate,
                    completion_tokens: 0,
                })),
                "",
                None,
            );
            response["model"] = Value::String(model.name.clone());
            let mut usage = usage_json(usage);
            if let Some(object) = usage.as_object_mut() {
                object.remove("completion_tokens");
            }
            response["usage"] = usage;
            Ok((response, headers))
        }
    }
}
