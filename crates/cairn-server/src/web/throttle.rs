//! Sign-in throttling: after `login_max_failures` wrong passwords for one e-mail from one
//! client address within `login_window`, further attempts for that pair are refused (429
//! with `Retry-After`) until the window that began with the first failure has passed. A
//! success clears the count.
//!
//! Kept in memory, like the rate limiter: a restart forgets it, which costs an attacker's
//! guessing rate nothing worth having. The client address is the TCP peer; behind a proxy
//! every client shares the proxy's address, so the e-mail half still throttles per account.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::error::ApiError;

const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    entries: Mutex<HashMap<(String, String), Failures>>,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> LoginThrottle {
        LoginThrottle {
            max_failures,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Failures>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses when this e-mail and address have used up their failures.
    pub fn check(&self, email: &str, client: &str, now: Instant) -> Result<(), ApiError> {
        let entries = self.entries();
        match entries.get(&(email.to_string(), client.to_string())) {
            Some(f) if f.count >= self.max_failures => {
                let elapsed = now.saturating_duration_since(f.since);
                if elapsed < self.window {
                    Err(ApiError::TooManyAttempts {
                        retry_after: self.window - elapsed,
                    })
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, email: &str, client: &str, now: Instant) {
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES {
            let window = self.window;
            entries.retain(|_, f| now.saturating_duration_since(f.since) < window);
        }
        let entry = entries
            .entry((email.to_string(), client.to_string()))
            .or_insert(Failures {
                count: 0,
                since: now,
            });
        if now.saturating_duration_since(entry.since) >= self.window {
            *entry = Failures {
                count: 0,
                since: now,
            };
        }
        entry.count += 1;
    }

    pub fn succeeded(&self, email: &str, client: &str) {
        self.entries()
            .remove(&(email.to_string(), client.to_string()));
    }
}

/// The client's address (the TCP peer), or "unknown" when the server was started without
/// connection info (as in tests that call the router directly).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_failures_until_the_window_passes() {
        let throttle = LoginThrottle::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(throttle.check("a@x", "1.2.3.4", t0).is_ok(), "attempt {i}");
            throttle.failed("a@x", "1.2.3.4", t0);
        }
        let err = throttle.check("a@x", "1.2.3.4", t0 + Duration::from_secs(10));
        match err {
            Err(ApiError::TooManyAttempts { retry_after }) => {
                assert_eq!(retry_after, Duration::from_secs(50))
            }
            other => panic!("{other:?}"),
        }
        // Other e-mails and other addresses are not held up.
        assert!(throttle.check("b@x", "1.2.3.4", t0).is_ok());
        assert!(throttle.check("a@x", "5.6.7.8", t0).is_ok());
        // After the window the pair starts afresh.
        let later = t0 + Duration::from_secs(60);
        assert!(throttle.check("a@x", "1.2.3.4", later).is_ok());
        throttle.failed("a@x", "1.2.3.4", later);
        assert!(throttle.check("a@x", "1.2.3.4", later).is_ok());
    }

    #[test]
    fn success_clears_the_count() {
        let throttle = LoginThrottle::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        throttle.failed("a@x", "ip", t0);
        throttle.succeeded("a@x", "ip");
        throttle.failed("a@x", "ip", t0);
        assert!(throttle.check("a@x", "ip", t0).is_ok());
        throttle.failed("a@x", "ip", t0);
        assert!(throttle.check("a@x", "ip", t0).is_err());
    }
}
