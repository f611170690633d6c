//! The health of every configured provider: what it says about itself (the local engine's
//! model states, an upstream's answer to `GET /models`) and how its recent calls went.

use std::time::Duration;

use cairn_store::UsageRecord;
use futures::future::join_all;
use serde::Serialize;

use super::series::{Point, Window, overall};
use crate::providers::{ModelHealth, Provider};

/// How far back "recent calls" reach.
pub const RECENT_MS: i64 = 15 * 60_000;
/// How long an upstream gets to answer the probe.
pub const PROBE_WAIT: Duration = Duration::from_secs(3);
/// A provider is degraded when at least this share of its recent calls failed on its side
/// (5xx), counted once it has had [`MIN_CALLS_TO_JUDGE`] calls.
const DEGRADED_SHARE: f64 = 0.2;
const MIN_CALLS_TO_JUDGE: u64 = 5;

#[derive(Debug, Clone, Serialize)]
pub struct ProviderHealth {
    pub name: String,
    pub kind: &'static str,
    /// `ok`, `degraded` (failing calls or failed models), `down` (unreachable, or nothing
    /// loaded), `starting` (models still downloading or loading).
    pub status: &'static str,
    /// Why, in words.
    pub detail: String,
    /// Local models, each with its state.
    pub models: Vec<ModelHealth>,
    /// An upstream's probe round trip.
    pub probe_ms: Option<u64>,
    /// Calls of the last [`RECENT_MS`].
    pub recent: Point,
    pub last_error_at: Option<i64>,
}

/// Health of every provider, probing the upstreams concurrently. `recent` holds the usage
/// records of the last [`RECENT_MS`] (any order).
pub async fn check<'a>(
    providers: impl Iterator<Item = (&'a String, &'a Provider)>,
    recent: &[UsageRecord],
    now_ms: i64,
) -> Vec<ProviderHealth> {
    let window = Window {
        from_ms: now_ms - RECENT_MS,
        to_ms: now_ms + 1,
        bucket_ms: RECENT_MS + 1,
    };
    join_all(providers.map(|(name, provider)| async move {
        let own: Vec<UsageRecord> = recent
            .iter()
            .filter(|r| &r.provider == name)
            .cloned()
            .collect();
        let calls = overall(&own, window);
        let last_error_at = own.iter().filter(|r| r.status >= 500).map(|r| r.at).max();
        let (status, detail, models, probe_ms) = match provider {
            Provider::Local(local) => {
                let models = local.health();
                let (status, detail) = local_status(&models);
                (status, detail, models, None)
            }
            Provider::OpenAi(upstream) => match upstream.probe(PROBE_WAIT).await {
                Ok(took) => (
                    "ok",
                    "answers GET /models".to_string(),
                    Vec::new(),
                    Some(took.as_millis() as u64),
                ),
                Err(why) => ("down", why, Vec::new(), None),
            },
        };
        let (status, detail) = judge_calls(status, detail, &calls);
        ProviderHealth {
            name: name.clone(),
            kind: provider.kind(),
            status,
            detail,
            models,
            probe_ms,
            recent: calls,
            last_error_at,
        }
    }))
    .await
}

fn local_status(models: &[ModelHealth]) -> (&'static str, String) {
    let count = |state: &str| models.iter().filter(|m| m.state == state).count();
    let (ready, failed) = (count("ready"), count("failed"));
    let starting = count("waiting") + count("downloading") + count("loading");
    if models.is_empty() {
        return ("down", "no models loaded".into());
    }
    let status = if starting > 0 {
        "starting"
    } else if ready == 0 {
        "down"
    } else if failed > 0 {
        "degraded"
    } else {
        "ok"
    };
    let mut parts = vec![format!("{ready} of {} models ready", models.len())];
    if starting > 0 {
        parts.push(format!("{starting} starting"));
    }
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    (status, parts.join(", "))
}

/// Lowers an `ok` to `degraded` when too many recent calls failed on the provider's side.
fn judge_calls(status: &'static str, detail: String, calls: &Point) -> (&'static str, String) {
    if status != "ok" || calls.requests < MIN_CALLS_TO_JUDGE {
        return (status, detail);
    }
    let share = calls.server_errors as f64 / calls.requests as f64;
    if share >= DEGRADED_SHARE {
        let why = format!(
            "{} of its last {} calls failed",
            calls.server_errors, calls.requests
        );
        return ("degraded", why);
    }
    (status, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(state: &'static str) -> ModelHealth {
        ModelHealth {
            name: state.into(),
            state,
            detail: state.into(),
            queued: None,
        }
    }

    #[test]
    fn local_status_follows_its_models() {
        assert_eq!(local_status(&[]).0, "down");
        assert_eq!(local_status(&[model("ready"), model("ready")]).0, "ok");
        assert_eq!(
            local_status(&[model("ready"), model("loading")]).0,
            "starting"
        );
        let (status, detail) = local_status(&[model("ready"), model("failed")]);
        assert_eq!(
            (status, detail.as_str()),
            ("degraded", "1 of 2 models ready, 1 failed")
        );
        assert_eq!(local_status(&[model("failed")]).0, "down");
    }

    #[test]
    fn failing_calls_degrade_a_healthy_provider() {
        let calls = |requests, server_errors| Point {
            requests,
            server_errors,
            errors: server_errors,
            ..Point::default()
        };
        let ok = || ("ok", String::new());
        assert_eq!(judge_calls(ok().0, ok().1, &calls(10, 1)).0, "ok");
        assert_eq!(judge_calls(ok().0, ok().1, &calls(4, 4)).0, "ok"); // too few to judge
        let (status, why) = judge_calls(ok().0, ok().1, &calls(10, 2));
        assert_eq!(
            (status, why.as_str()),
            ("degraded", "2 of its last 10 calls failed")
        );
        assert_eq!(judge_calls("down", "x".into(), &calls(10, 0)).0, "down");
    }
}
