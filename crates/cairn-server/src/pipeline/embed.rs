//! An embeddings call through the same stages as chat: route, limit, provider, meter.

use serde_json::Value;

use super::admit::{Admitted, Call, admit};
use crate::auth::Principal;
use crate::config::ModelKind;
use crate::error::ApiError;
use crate::limits::RateLimitHeaders;
use crate::openai::embeddings::EmbeddingRequest;
use crate::openai::{estimate_tokens, read_usage, usage_json};
use crate::state::AppState;

pub async fn run_embeddings(
    app: &AppState,
    principal: Principal,
    request_id: String,
    route: &'static str,
    request: EmbeddingRequest,
) -> Result<(Value, RateLimitHeaders), ApiError> {
    request.validate()?;
    let estimate = estimate_tokens(request.input_chars());
    let Admitted {
        model,
        settlement,
        headers,
    } = admit(
        app,
        Call {
            principal,
            request_id,
            route,
            requested_model: request.model.as_deref(),
            kind: ModelKind::Embedding,
            prompt_estimate: estimate,
            stream: false,
        },
    )
    .await?;
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
