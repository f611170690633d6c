use super::*;

fn scope(name: &str, rpm: u32, tpm: u32) -> Scope {
    Scope {
        name: name.into(),
        limits: ScopeLimits {
            requests_per_minute: rpm,
            tokens_per_minute: tpm,
        },
    }
}

#[test]
fn a_burst_gets_exactly_the_limit() {
    let limiter = Limiter::default();
    let scopes = [scope("user:a", 5, 1_000_000)];
    let admitted = (0..50)
        .filter(|_| limiter.admit(&scopes, 10).is_ok())
        .count();
    assert_eq!(admitted, 5);
}

#[test]
fn refusal_charges_no_scope() {
    let limiter = Limiter::default();
    let user = scope("user:a", 100, 1_000_000);
    let key = scope("key:k", 1, 1_000_000);
    limiter.admit(&[user.clone(), key.clone()], 1).unwrap();
    let err = limiter.admit(&[user.clone(), key], 1).unwrap_err();
    let ApiError::RateLimited {
        retry_after,
        headers,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(retry_after > Duration::from_secs(50), "{retry_after:?}");
    assert_eq!(headers.remaining_requests, 0);
    // The user scope was charged once, by the first request only.
    let ok = limiter.admit(&[user], 1).unwrap();
    assert_eq!(ok.headers.remaining_requests, 98);
}

#[test]
fn tokens_are_settled_after_the_call() {
    let limiter = Limiter::default();
    let scopes = [scope("user:a", 100, 1_000)];
    let admission = limiter.admit(&scopes, 100).unwrap();
    assert_eq!(admission.headers.remaining_tokens, 900);
    limiter.settle(&admission, 1_100);
    let err = limiter.admit(&scopes, 10).unwrap_err();
    assert!(err.to_string().contains("1000 tokens per minute"), "{err}");
}

#[test]
fn reset_is_formatted_like_openai() {
    assert_eq!(format_reset(Duration::from_millis(120)), "120ms");
    assert_eq!(format_reset(Duration::from_millis(1_500)), "2s");
    assert_eq!(format_reset(Duration::from_secs(360)), "6m0s");
}
