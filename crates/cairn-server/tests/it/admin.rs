use serde_json::{Value, json};

use crate::support::{TestServer, expect_error, hello};

#[tokio::test]
async fn admins_manage_users_orgs_and_keys() {
    let s = TestServer::start().await;
    let admin = &s.admin_key;
    let org: Value = s
        .post_json("/api/admin/orgs", admin, &json!({ "name": "Acme" }))
        .await;
    assert_eq!(org["name"], "Acme");
    let dup = s
        .post("/api/admin/orgs", admin, &json!({ "name": "Acme" }))
        .send()
        .await
        .unwrap();
    expect_error(dup, 409, "already_exists").await;

    let created = s
        .post(
            "/api/admin/users",
            admin,
            &json!({ "email": "Dana@Example.test", "tier": "free", "org": "Acme" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let user: Value = created.json().await.unwrap();
    assert_eq!(user["email"], "dana@example.test");
    assert_eq!(user["org_id"], org["id"]);
    assert!(user.get("password_hash").is_none());
    let bad_tier = s
        .post(
            "/api/admin/users",
            admin,
            &json!({ "email": "x@y.z", "tier": "gold" }),
        )
        .send()
        .await
        .unwrap();
    expect_error(bad_tier, 400, "invalid_value").await;

    let key: Value = s
        .post_json(
            "/api/admin/keys",
            admin,
            &json!({ "user": "dana@example.test", "name": "laptop", "expires_in_days": 30 }),
        )
        .await;
    let secret = key["key"].as_str().unwrap().to_string();
    assert!(secret.starts_with(key["prefix"].as_str().unwrap()));
    assert!(key["expires_at"].is_i64());
    assert_eq!(s.chat(&secret, hello()).await.0, 200);

    // Upgrading the tier applies to the very next request.
    let mut big = hello();
    big["model"] = json!("big");
    assert_eq!(s.chat(&secret, big.clone()).await.0, 403);
    let patched = s
        .client
        .patch(format!(
            "{}/api/admin/users/{}",
            s.url,
            user["id"].as_str().unwrap()
        ))
        .bearer_auth(admin)
        .json(&json!({ "tier": "pro" }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(s.chat(&secret, big).await.0, 200);

    // Revoking applies at once.
    let revoke = s
        .client
        .delete(format!(
            "{}/api/admin/keys/{}",
            s.url,
            key["id"].as_str().unwrap()
        ))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_eq!(s.chat(&secret, hello()).await.0, 401);

    let listed: Value = s
        .get_json("/api/admin/keys?user=dana@example.test", admin)
        .await;
    assert!(listed["data"][0]["revoked_at"].is_i64());
}

#[tokio::test]
async fn members_cannot_use_admin_routes() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    for path in ["/api/admin/users", "/api/admin/orgs", "/api/admin/keys"] {
        expect_error(
            s.get(path, &key).send().await.unwrap(),
            403,
            "admin_required",
        )
        .await;
    }
    let create = s
        .post("/api/admin/users", &key, &json!({ "email": "a@b.c" }))
        .send()
        .await
        .unwrap();
    expect_error(create, 403, "admin_required").await;
    let me: Value = s.get_json("/api/me", &key).await;
    assert_eq!(me["tier"]["name"], "free");
    assert_eq!(me["user"]["role"], "member");
}
