//! The admin dashboard's API: usage over time by model and user with latency percentiles,
//! the newest requests, provider health and tiers.

use serde_json::{Value, json};

use crate::support::{TestServer, expect_error, hello};

/// A server with a second upstream nobody listens on.
async fn server() -> TestServer {
    TestServer::start_with(|text| {
        text + r#"
[providers.gone]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"
connect_timeout_ms = 500
"#
    })
    .await
}

/// Four answers from `gpt` (one streamed) and one upstream failure, by one member.
async fn traffic(s: &TestServer, key: &str) {
    for _ in 0..3 {
        assert_eq!(s.chat(key, hello()).await.0, 200);
    }
    let mut streamed = hello();
    streamed["stream"] = json!(true);
    let response = s
        .post("/v1/chat/completions", key, &streamed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();
    let mut failing = hello();
    failing["model"] = json!("broken");
    assert_eq!(s.chat(key, failing).await.0, 502);
}

fn group<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == name)
        .unwrap_or_else(|| panic!("no series {name} in {body}"))
}

#[tokio::test]
async fn usage_over_time_by_model_and_user() {
    let s = server().await;
    let (user, key) = s.user("free").await;
    traffic(&s, &key).await;

    let body = s
        .get_json("/api/admin/dashboard?span=1h&by=model", &s.admin_key)
        .await;
    assert_eq!(
        (body["span"].as_str(), body["by"].as_str()),
        (Some("1h"), Some("model"))
    );
    assert_eq!(body["truncated"], false);
    assert_eq!(body["overall"]["requests"], 5);
    assert_eq!(body["overall"]["errors"], 1);
    let gpt = group(&body, "gpt");
    // The busiest group comes first.
    assert_eq!(body["series"][0]["group"], "gpt");
    assert_eq!(gpt["total"]["requests"], 4);
    assert_eq!(gpt["total"]["errors"], 0);
    assert_eq!(gpt["total"]["prompt_tokens"], 28);
    assert!(gpt["total"]["latency_p50_ms"].is_u64());
    assert!(gpt["total"]["latency_p95_ms"].as_u64() >= gpt["total"]["latency_p50_ms"].as_u64());
    // Only the streamed answer has a time to first token.
    assert!(gpt["total"]["ttft_p50_ms"].is_u64());
    let points = gpt["points"].as_array().unwrap();
    assert_eq!(points.len(), 60, "one point a minute");
    assert_eq!(
        points
            .iter()
            .map(|p| p["requests"].as_u64().unwrap())
            .sum::<u64>(),
        4
    );
    assert!(
        points
            .windows(2)
            .all(|w| w[1]["at"].as_i64().unwrap() - w[0]["at"].as_i64().unwrap() == 60_000)
    );
    let broken = group(&body, "broken");
    assert_eq!(
        (
            broken["total"]["errors"].as_u64(),
            broken["total"]["server_errors"].as_u64()
        ),
        (Some(1), Some(1))
    );

    // Split by user, the user's e-mail comes along for the legend.
    let body = s
        .get_json("/api/admin/dashboard?span=24h&by=user", &s.admin_key)
        .await;
    let mine = group(&body, &user.id);
    assert_eq!(mine["total"]["requests"], 5);
    assert_eq!(mine["points"].as_array().unwrap().len(), 24);
    assert_eq!(body["labels"][&user.id], user.email.as_str());

    // Filtered to one model, then to another user: only theirs.
    let body = s
        .get_json("/api/admin/dashboard?model=broken", &s.admin_key)
        .await;
    assert_eq!(body["overall"]["requests"], 1);
    let (other, _) = s.user("free").await;
    let body = s
        .get_json(
            &format!("/api/admin/dashboard?user={}", other.email),
            &s.admin_key,
        )
        .await;
    assert_eq!(body["overall"]["requests"], 0);
    assert_eq!(body["series"], json!([]));
}

#[tokio::test]
async fn the_dashboard_is_for_admins_and_checks_its_parameters() {
    let s = server().await;
    let (_, key) = s.user("free").await;
    for path in [
        "/api/admin/dashboard",
        "/api/admin/requests",
        "/api/admin/providers",
        "/api/admin/tiers",
    ] {
        expect_error(
            s.get(path, &key).send().await.unwrap(),
            403,
            "admin_required",
        )
        .await;
    }
    let bad_span = s
        .get("/api/admin/dashboard?span=2h", &s.admin_key)
        .send()
        .await
        .unwrap();
    let error = expect_error(bad_span, 400, "invalid_value").await;
    assert_eq!(error["error"]["param"], "span");
    let bad_split = s
        .get("/api/admin/dashboard?by=colour", &s.admin_key)
        .send()
        .await
        .unwrap();
    expect_error(bad_split, 400, "invalid_value").await;
    let unknown = s
        .get("/api/admin/requests?since=1", &s.admin_key)
        .send()
        .await
        .unwrap();
    expect_error(unknown, 400, "invalid_value").await;
    let nobody = s
        .get("/api/admin/requests?user=nobody@example.test", &s.admin_key)
        .send()
        .await
        .unwrap();
    expect_error(nobody, 404, "not_found").await;
}

#[tokio::test]
async fn recent_requests_page_newest_first() {
    let s = server().await;
    let (user, key) = s.user("free").await;
    traffic(&s, &key).await;

    let first = s
        .get_json("/api/admin/requests?limit=2", &s.admin_key)
        .await;
    let rows = first["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(first["has_more"], true);
    // The failure was the last call.
    assert_eq!(
        (rows[0]["model"].as_str(), rows[0]["status"].as_u64()),
        (Some("broken"), Some(502))
    );
    assert_eq!(rows[0]["user_email"], user.email.as_str());
    assert_eq!(rows[0]["route"], "/v1/chat/completions");
    assert_eq!(rows[1]["stream"], true);
    assert!(rows[1]["ttft_ms"].is_u64());

    let mut seen: Vec<Value> = rows.clone();
    let cursor = |page: &Value| {
        format!(
            "before={}&before_id={}",
            page["next_before"].as_i64().unwrap(),
            page["next_before_id"].as_str().unwrap()
        )
    };
    let mut next = cursor(&first);
    loop {
        let page = s
            .get_json(&format!("/api/admin/requests?limit=2&{next}"), &s.admin_key)
            .await;
        seen.extend(page["data"].as_array().unwrap().iter().cloned());
        if page["has_more"] == false {
            assert_eq!(page["next_before"], Value::Null);
            break;
        }
        next = cursor(&page);
    }
    // Every call once, even those metered in the same millisecond.
    let ids: Vec<&str> = seen.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert_eq!(
        ids.iter().collect::<std::collections::HashSet<_>>().len(),
        5
    );
    let bad = s
        .get("/api/admin/requests?before_id=x", &s.admin_key)
        .send()
        .await
        .unwrap();
    expect_error(bad, 400, "invalid_value").await;
    let only_gpt = s
        .get_json("/api/admin/requests?model=gpt", &s.admin_key)
        .await;
    assert_eq!(only_gpt["data"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn provider_health_probes_upstreams_and_judges_recent_calls() {
    let s = server().await;
    let (_, key) = s.user("free").await;
    traffic(&s, &key).await;

    let body = s.get_json("/api/admin/providers", &s.admin_key).await;
    let find = |name: &str| {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no provider {name} in {body}"))
            .clone()
    };
    let up = find("up");
    assert_eq!(up["kind"], "openai");
    assert!(up["probe_ms"].is_u64(), "{up}");
    assert_eq!(up["recent"]["requests"], 5);
    // One failure in five calls is enough to call it degraded.
    assert_eq!(up["status"], "degraded", "{up}");
    assert_eq!(up["detail"], "1 of its last 5 calls failed");
    assert!(up["last_error_at"].is_i64());

    let gone = find("gone");
    assert_eq!(gone["status"], "down");
    assert_eq!(gone["probe_ms"], Value::Null);
    assert!(
        gone["detail"]
            .as_str()
            .unwrap()
            .contains("cannot reach upstream 'gone'"),
        "{gone}"
    );

    // The test server never starts its local models (the local tests do).
    let local = find("local");
    assert_eq!(
        (local["kind"].as_str(), local["status"].as_str()),
        (Some("local"), Some("down"))
    );
    assert_eq!(local["detail"], "no models loaded");
}

#[tokio::test]
async fn tiers_are_listed_with_their_models() {
    let s = server().await;
    let body = s.get_json("/api/admin/tiers", &s.admin_key).await;
    let tiers = body["data"].as_array().unwrap();
    let free = tiers.iter().find(|t| t["name"] == "free").unwrap();
    assert_eq!(free["default"], true);
    assert_eq!(free["default_model"], "gpt");
    assert!(
        tiers
            .iter()
            .any(|t| t["name"] == "pro" && t["default"] == false)
    );
}
