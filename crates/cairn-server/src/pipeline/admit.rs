//! The stages every model call passes before a provider sees it: route, budget, limits,
//! capacity. What they grant is a [`Settlement`] the call must end with.

use std::sync::Arc;
use std::time::Instant;

use super::{CallContext, Settlement, resolve_model, scopes};
use crate::auth::Principal;
use crate::config::{ModelConfig, ModelKind};
use crate::error::ApiError;
use crate::limits::RateLimitHeaders;
use crate::state::AppState;
use crate::util::now_ms;

/// One call to admit.
pub struct Call<'a> {
    pub principal: Principal,
    pub request_id: String,
    pub route: &'static str,
    pub requested_model: Option<&'a str>,
    pub kind: ModelKind,
    /// Prompt tokens, estimated from the request, charged to the limits up front.
    pub prompt_estimate: u32,
    pub stream: bool,
}

pub struct Admitted<'a> {
    pub model: &'a ModelConfig,
    pub settlement: Settlement,
    pub headers: RateLimitHeaders,
}

/// Routes the call to a model the caller's tier allows, checks the monthly budget, charges
/// the rate limits, and takes an in-flight permit; refuses with the matching error otherwise.
pub async fn admit<'a>(app: &'a AppState, call: Call<'_>) -> Result<Admitted<'a>, ApiError> {
    let tier = app.tier_of(&call.principal.user.tier)?;
    let model = resolve_model(
        &app.config,
        app.route_policy.as_ref(),
        tier,
        call.requested_model,
        call.kind,
    )?;
    app.budgets
        .check(
            app.store.as_ref(),
            &call.principal.user.id,
            tier.monthly_tokens,
            now_ms(),
        )
        .await?;
    let admission = app
        .limiter
        .admit(&scopes(&call.principal, tier), call.prompt_estimate)?;
    let permit = app
        .inflight
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Overloaded {
            message: "the server is at its limit of model calls in flight; retry shortly".into(),
        })?;
    let headers = admission.headers.clone();
    let settlement = Settlement {
        app: app.clone(),
        cx: CallContext {
            request_id: call.request_id,
            route: call.route,
            principal: call.principal,
            model: Arc::new(model.clone()),
            started: Instant::now(),
        },
        admission: Some(admission),
        stream: call.stream,
        prompt_estimate: call.prompt_estimate,
        _permit: Some(permit),
    };
    Ok(Admitted {
        model,
        settlement,
        headers,
    })
}
