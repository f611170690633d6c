//! Closing the books on one model call: usage record, metrics, limits, budget, hooks.

use std::time::Duration;

use cairn_store::UsageRecord;
use cairn_types::Usage;
use tokio::sync::OwnedSemaphorePermit;

use super::CallContext;
use crate::limits::Admission;
use crate::openai::estimate_tokens;
use crate::state::AppState;
use crate::util::{day_of, new_id, now_ms};

/// Everything needed to meter a call once it ends. Holding it also holds the call's
/// in-flight permit, so a call counts against server capacity until it is settled.
pub struct Settlement {
    pub(super) app: AppState,
    pub(super) cx: CallContext,
    pub(super) admission: Option<Admission>,
    pub(super) stream: bool,
    pub(super) prompt_estimate: u32,
    pub(super) _permit: Option<OwnedSemaphorePermit>,
}

impl Settlement {
    pub fn context(&self) -> &CallContext {
        &self.cx
    }

    /// Meters the call. `usage` is what the provider reported; when it reported none, the
    /// tokens are estimated from the text so that nothing goes unbilled.
    pub fn finish(
        self,
        status: u16,
        usage: Option<Usage>,
        output: &str,
        ttft: Option<Duration>,
    ) -> Usage {
        let usage = usage.unwrap_or_else(|| Usage {
            prompt_tokens: if status < 400 || !output.is_empty() {
                self.prompt_estimate
            } else {
                0
            },
            completion_tokens: estimate_tokens(output.len()),
        });
        let now = now_ms();
        let latency = self.cx.started.elapsed();
        let model = &self.cx.model;
        let key = self.cx.principal.key.as_ref();
        self.app.meter.record(UsageRecord {
            id: new_id(),
            at: now,
            day: day_of(now),
            request_id: self.cx.request_id.clone(),
            user_id: self.cx.principal.user.id.clone(),
            key_id: key.map(|k| k.id.clone()),
            org_id: self.cx.principal.user.org_id.clone(),
            route: self.cx.route.to_string(),
            model: model.name.clone(),
            provider: model.provider.clone(),
            status,
            stream: self.stream,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cost_nanos: model
                .price
                .cost_nanos(usage.prompt_tokens, usage.completion_tokens),
            latency_ms: u32::try_from(latency.as_millis()).unwrap_or(u32::MAX),
            ttft_ms: ttft.map(|t| u32::try_from(t.as_millis()).unwrap_or(u32::MAX)),
        });
        let labels = [
            ("model", model.name.clone()),
            ("provider", model.provider.clone()),
            ("status", status.to_string()),
        ];
        metrics::counter!("cairn_model_requests_total", &labels).increment(1);
        metrics::histogram!("cairn_model_request_duration_seconds", "model" => model.name.clone())
            .record(latency.as_secs_f64());
        if let Some(ttft) = ttft {
            metrics::histogram!("cairn_model_time_to_first_token_seconds", "model" => model.name.clone())
                .record(ttft.as_secs_f64());
        }
        metrics::counter!("cairn_model_tokens_total", "model" => model.name.clone(), "kind" => "prompt")
            .increment(u64::from(usage.prompt_tokens));
        metrics::counter!("cairn_model_tokens_total", "model" => model.name.clone(), "kind" => "completion")
            .increment(u64::from(usage.completion_tokens));
        if let Some(admission) = &self.admission {
            self.app.limiter.settle(admission, usage.total());
        }
        self.app
            .budgets
            .add(&self.cx.principal.user.id, u64::from(usage.total()), now);
        tracing::info!(
            model = %model.name,
            provider = %model.provider,
            status,
            prompt_tokens = usage.prompt_tokens,
            completion_tokens = usage.completion_tokens,
            latency_ms = latency.as_millis() as u64,
            ttft_ms = ttft.map(|t| t.as_millis() as u64),
            "model call finished"
        );
        if self.app.config.server.log_prompts {
            tracing::info!(model = %model.name, %output, "completion");
        }
        if !self.app.hooks.is_empty() {
            let hooks = self.app.hooks.clone();
            let cx = self.cx.clone();
            let output = output.to_string();
            tokio::spawn(async move {
                for hook in hooks {
                    hook.on_complete(&cx, status, &output).await;
                }
            });
        }
        usage
    }
}
