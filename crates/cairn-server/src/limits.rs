//! Requests- and tokens-per-minute limits, and monthly token budgets.
//!
//! Each scope (a user under its tier, a key with its own limits) has two token buckets: one
//! counted in requests, one in model tokens. A bucket holds at most a minute's allowance
//! and refills continuously, so a burst of N parallel requests against a limit of M lets
//! exactly M through. All scopes of one request are checked and charged under one lock, so
//! concurrent requests can never both take the last unit.
//!
//! Token use is known only after the call: admission charges an estimate of the prompt, and
//! [`Limiter::settle`] charges the difference once usage is metered (a bucket may go
//! negative, which delays later requests until it refills; the same approach OpenAI takes).
//!
//! The state is in-process, which is exact on one replica; the multi-replica deployment
//! moves it to Redis behind the same methods.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::error::ApiError;

/// Limits of one scope, in units per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeLimits {
    pub requests_per_minute: u32,
    pub tokens_per_minute: u32,
}

/// The state reported in `x-ratelimit-*` headers (the tightest scope).
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitHeaders {
    pub limit_requests: u32,
    pub remaining_requests: u32,
    pub reset_requests: Duration,
    pub limit_tokens: u32,
    pub remaining_tokens: u32,
    pub reset_tokens: Duration,
}

impl RateLimitHeaders {
    pub fn apply(&self, headers: &mut HeaderMap) {
        let mut put = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        };
        put(
            "x-ratelimit-limit-requests",
            self.limit_requests.to_string(),
        );
        put(
            "x-ratelimit-remaining-requests",
            self.remaining_requests.to_string(),
        );
        put(
            "x-ratelimit-reset-requests",
            format_reset(self.reset_requests),
        );
        put("x-ratelimit-limit-tokens", self.limit_tokens.to_string());
        put(
            "x-ratelimit-remaining-tokens",
            self.remaining_tokens.to_string(),
        );
        put("x-ratelimit-reset-tokens", format_reset(self.reset_tokens));
    }
}

/// OpenAI's reset format: `1s`, `6m0s`, `120ms`.
fn format_reset(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{}s", ms.div_ceil(1000))
    } else {
        let secs = ms.div_ceil(1000);
        format!("{}m{}s", secs / 60, secs % 60)
    }
}

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    level: f64,
    per_second: f64,
    at: Instant,
}

impl Bucket {
    fn new(per_minute: u32, now: Instant) -> Bucket {
        let capacity = f64::from(per_minute);
        Bucket {
            capacity,
            level: capacity,
            per_second: capacity / 60.0,
            at: now,
        }
    }

    /// Brings the level up to `now`, and adopts a changed limit (a tier edit) on the way.
    fn refill(&mut self, per_minute: u32, now: Instant) {
        let capacity = f64::from(per_minute);
        if capacity != self.capacity {
            self.level = self.level.min(capacity);
            self.capacity = capacity;
            self.per_second = capacity / 60.0;
        }
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.level = (self.level + elapsed * self.per_second).min(self.capacity);
        self.at = now;
    }

    /// How long until `amount` units are available.
    fn wait_for(&self, amount: f64) -> Duration {
        if self.level >= amount {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((amount - self.level) / self.per_second)
        }
    }

    fn until_full(&self) -> Duration {
        Duration::from_secs_f64(((self.capacity - self.level) / self.per_second).max(0.0))
    }

    fn remaining(&self) -> u32 {
        self.level.max(0.0).floor() as u32
    }
}

#[derive(Debug)]
struct ScopeState {
    requests: Bucket,
    tokens: Bucket,
}

/// A scope to check: a stable name (`user:ID`, `key:ID`) and its limits.
#[derive(Debug, Clone)]
pub struct Scope {
    pub name: String,
    pub limits: ScopeLimits,
}

/// What admission charged, handed back to [`Limiter::settle`].
#[derive(Debug, Clone)]
pub struct Admission {
    scopes: Vec<String>,
    charged_tokens: u32,
    pub headers: RateLimitHeaders,
}

#[derive(Debug, Default)]
pub struct Limiter {
    scopes: Mutex<HashMap<String, ScopeState>>,
}

impl Limiter {
    /// Admits one request estimated at `estimated_tokens` prompt tokens, or says how long to
    /// wait. Charges every scope or none.
    pub fn admit(&self, scopes: &[Scope], estimated_tokens: u32) -> Result<Admission, ApiError> {
        let now = Instant::now();
        let mut map = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        let mut refused: Option<(Duration, String)> = None;
        for scope in scopes {
            let state = map.entry(scope.name.clone()).or_insert_with(|| ScopeState {
                requests: Bucket::new(scope.limits.requests_per_minute, now),
                tokens: Bucket::new(scope.limits.tokens_per_minute, now),
            });
            state.requests.refill(scope.limits.requests_per_minute, now);
            state.tokens.refill(scope.limits.tokens_per_minute, now);
            // A request larger than a whole minute's allowance could never pass; it is
            // admitted when the bucket is full instead of starving forever.
            let token_need = f64::from(estimated_tokens)
                .min(state.tokens.capacity)
                .max(1.0);
            let wait_requests = state.requests.wait_for(1.0);
            let wait_tokens = state.tokens.wait_for(token_need);
            if !wait_requests.is_zero() {
                let msg = format!(
                    "rate limit reached: {} requests per minute; retry in {:.1}s",
                    scope.limits.requests_per_minute,
                    wait_requests.as_secs_f64()
                );
                refused = Some(max_wait(refused, wait_requests, msg));
            }
            if !wait_tokens.is_zero() {
                let msg = format!(
                    "rate limit reached: {} tokens per minute; retry in {:.1}s",
                    scope.limits.tokens_per_minute,
                    wait_tokens.as_secs_f64()
                );
                refused = Some(max_wait(refused, wait_tokens, msg));
            }
        }
        let headers = tightest_headers(scopes, &map);
        if let Some((retry_after, message)) = refused {
            return Err(ApiError::RateLimited {
                message,
                retry_after,
                headers: Box::new(headers),
            });
        }
        for scope in scopes {
            let state = map.get_mut(&scope.name).expect("inserted above");
            state.requests.level -= 1.0;
            state.tokens.level -= f64::from(estimated_tokens);
        }
        let headers = tightest_headers(scopes, &map);
        Ok(Admission {
            scopes: scopes.iter().map(|s| s.name.clone()).collect(),
            charged_tokens: estimated_tokens,
            headers,
        })
    }

    /// Charges the difference between the tokens actually used and the admission estimate.
    pub fn settle(&self, admission: &Admission, actual_tokens: u32) {
        let delta = f64::from(actual_tokens) - f64::from(admission.charged_tokens);
        if delta == 0.0 {
            return;
        }
        let mut map = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        for name in &admission.scopes {
            if let Some(state) = map.get_mut(name) {
                state.tokens.level = (state.tokens.level - delta).min(state.tokens.capacity);
            }
        }
    }
}

fn max_wait(
    current: Option<(Duration, String)>,
    wait: Duration,
    msg: String,
) -> (Duration, String) {
    match current {
        Some((w, m)) if w >= wait => (w, m),
        _ => (wait, msg),
    }
}

fn tightest_headers(scopes: &[Scope], map: &HashMap<String, ScopeState>) -> RateLimitHeaders {
    let mut best: Option<RateLimitHeaders> = None;
    for scope in scopes {
        let Some(state) = map.get(&scope.name) else {
            continue;
        };
        let h = RateLimitHeaders {
            limit_requests: scope.limits.requests_per_minute,
            remaining_requests: state.requests.remaining(),
            reset_requests: state.requests.until_full(),
            limit_tokens: scope.limits.tokens_per_minute,
            remaining_tokens: state.tokens.remaining(),
            reset_tokens: state.tokens.until_full(),
        };
        best = Some(match best {
            Some(b) if b.remaining_requests <= h.remaining_requests => b,
            _ => h,
        });
    }
    best.unwrap_or(RateLimitHeaders {
        limit_requests: 0,
        remaining_requests: 0,
        reset_requests: Duration::ZERO,
        limit_tokens: 0,
        remaining_tokens: 0,
        reset_tokens: Duration::ZERO,
    })
}

#[cfg(test)]
mod tests;
