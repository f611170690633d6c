//! Browser accounts: sign-up rules, sign-in, cookie flags, CSRF, sign-out, throttling, the
//! same API through a session as through a key, and the embedded web app.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::support::{TestServer, expect_error, sse_events};

const PASSWORD: &str = "correct horse battery";

/// A browser: the session cookie and CSRF token it holds.
struct Browser<'a> {
    s: &'a TestServer,
    cookie: String,
    csrf: String,
}

impl Browser<'_> {
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.s
            .client
            .request(method, format!("{}{path}", self.s.url))
            .header("cookie", format!("cairn_session={}", self.cookie))
    }

    /// A write with the CSRF token, as the web app sends it.
    fn write(&self, method: Method, path: &str, body: &Value) -> RequestBuilder {
        self.request(method, path)
            .header("x-csrf-token", &self.csrf)
            .json(body)
    }

    async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.request(Method::GET, path).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }
}

fn unauthenticated(s: &TestServer, path: &str, body: &Value) -> RequestBuilder {
    s.client.post(format!("{}{path}", s.url)).json(body)
}

/// The session cookie's `Set-Cookie` header of a response.
fn set_cookie(response: &Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("cairn_session="))
        .expect("a session cookie")
}

/// Signs in (or up) and returns the browser holding the session.
async fn browser_from(s: &TestServer, response: Response) -> Browser<'_> {
    assert!(response.status().is_success(), "{}", response.status());
    let header = set_cookie(&response);
    let cookie = header
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("cairn_session=")
        .to_string();
    let body: Value = response.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    Browser { s, cookie, csrf }
}

async fn sign_up(s: &TestServer, email: &str, invitation: Option<&str>) -> Response {
    let mut body = json!({ "email": email, "password": PASSWORD });
    if let Some(token) = invitation {
        body["invitation"] = json!(token);
    }
    unauthenticated(s, "/api/auth/signup", &body)
        .send()
        .await
        .unwrap()
}

async fn sign_in(s: &TestServer, email: &str, password: &str) -> Response {
    unauthenticated(
        s,
        "/api/auth/signin",
        &json!({ "email": email, "password": password }),
    )
    .send()
    .await
    .unwrap()
}

async fn invite(s: &TestServer, body: Value) -> Value {
    let r = s
        .post("/api/admin/invitations", &s.admin_key, &body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

fn open_signup(config: String) -> String {
    format!("{config}\n[web]\nsignup = \"open\"\n")
}

#[tokio::test]
async fn sign_up_is_by_invitation_unless_open() {
    let s = TestServer::start().await;
    let options: Value = s
        .client
        .get(format!("{}/api/auth/options", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(options["signup"], "invite");
    expect_error(
        sign_up(&s, "ann@example.test", None).await,
        403,
        "invitation_required",
    )
    .await;
    expect_error(
        sign_up(&s, "ann@example.test", Some("made-up")).await,
        404,
        "invitation_invalid",
    )
    .await;

    // Members cannot invite.
    let (_, member_key) = s.user("free").await;
    let r = s
        .post("/api/admin/invitations", &member_key, &json!({}))
        .send()
        .await
        .unwrap();
    expect_error(r, 403, "admin_required").await;

    let invitation = invite(&s, json!({ "tier": "pro" })).await;
    let token = invitation["token"].as_str().unwrap();
    assert_eq!(
        invitation["path"],
        format!("/signup?invitation={token}").as_str()
    );
    let r = sign_up(&s, "Ann@Example.test", Some(token)).await;
    assert_eq!(r.status(), 201);
    let ann = browser_from(&s, r).await;
    let (status, me) = ann.get_json("/api/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["user"]["email"], "ann@example.test");
    assert_eq!(me["tier"]["name"], "pro", "the invitation's tier");

    // Used once, never again; the list shows who used it and never the token.
    expect_error(
        sign_up(&s, "bob@example.test", Some(token)).await,
        404,
        "invitation_invalid",
    )
    .await;
    let listed = s.get_json("/api/admin/invitations", &s.admin_key).await;
    let first = &listed["data"][0];
    assert_eq!(first["used_by"], me["user"]["id"]);
    assert!(first.get("token").is_none() && first.get("token_hash").is_none());

    // An invitation for one address refuses another; a revoked one refuses everyone.
    let for_cy = invite(&s, json!({ "email": "cy@example.test" })).await;
    let cy_token = for_cy["token"].as_str().unwrap();
    expect_error(
        sign_up(&s, "dan@example.test", Some(cy_token)).await,
        403,
        "invitation_for_other_email",
    )
    .await;
    let r = s
        .delete(
            &format!("/api/admin/invitations/{}", for_cy["id"].as_str().unwrap()),
            &s.admin_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    expect_error(
        sign_up(&s, "cy@example.test", Some(cy_token)).await,
        404,
        "invitation_invalid",
    )
    .await;

    // Open sign-up needs no invitation, but still a fair password and a free address.
    let open = TestServer::start_with(open_signup).await;
    let r = unauthenticated(
        &open,
        "/api/auth/signup",
        &json!({ "email": "eve@example.test", "password": "short" }),
    )
    .send()
    .await
    .unwrap();
    expect_error(r, 400, "invalid_value").await;
    assert_eq!(sign_up(&open, "eve@example.test", None).await.status(), 201);
    expect_error(
        sign_up(&open, "eve@example.test", None).await,
        409,
        "already_exists",
    )
    .await;
}

#[tokio::test]
async fn sign_in_sets_a_protected_cookie_and_refuses_wrong_passwords_alike() {
    let s = TestServer::start_with(open_signup).await;
    assert_eq!(sign_up(&s, "fay@example.test", None).await.status(), 201);

    let wrong = sign_in(&s, "fay@example.test", "not the password").await;
    let wrong = expect_error(wrong, 401, "invalid_api_key").await;
    let unknown = sign_in(&s, "nobody@example.test", PASSWORD).await;
    let unknown = expect_error(unknown, 401, "invalid_api_key").await;
    assert_eq!(wrong, unknown, "no telling which accounts exist");

    let r = sign_in(&s, "FAY@example.test ", PASSWORD).await;
    assert_eq!(r.status(), 200);
    let cookie = set_cookie(&r);
    let flags: Vec<&str> = cookie.split(';').map(str::trim).skip(1).collect();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(flags.contains(&flag), "{cookie}");
    }
    assert!(!flags.contains(&"Secure"), "plain HTTP: {cookie}");
    assert!(flags.iter().any(|f| f.starts_with("Max-Age=")), "{cookie}");
    let fay = browser_from(&s, r).await;
    let (status, session) = fay.get_json("/api/session").await;
    assert_eq!(status, 200);
    assert_eq!(session["user"]["email"], "fay@example.test");
    assert_eq!(session["csrf_token"], fay.csrf.as_str());
    assert!(session["user"].get("password_hash").is_none());
    // The model picker's list: the tier's models without the embedding ones.
    let chat_models: Vec<&str> = session["tier"]["chat_models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let tier_models = session["tier"]["models"].as_array().unwrap();
    assert_eq!(chat_models.len(), tier_models.len() - 2, "{chat_models:?}");
    assert!(chat_models.contains(&"gpt") && chat_models.contains(&"small"));
    assert!(!chat_models.contains(&"emb") && !chat_models.contains(&"minilm"));

    // Behind a TLS proxy the cookie is Secure.
    let r = unauthenticated(
        &s,
        "/api/auth/signin",
        &json!({ "email": "fay@example.test", "password": PASSWORD }),
    )
    .header("x-forwarded-proto", "https")
    .send()
    .await
    .unwrap();
    assert!(set_cookie(&r).split(';').any(|f| f.trim() == "Secure"));

    // Another site's page cannot sign anyone in.
    let r = unauthenticated(
        &s,
        "/api/auth/signin",
        &json!({ "email": "fay@example.test", "password": PASSWORD }),
    )
    .header("origin", "https://elsewhere.example")
    .send()
    .await
    .unwrap();
    expect_error(r, 403, "cross_origin").await;

    // A disabled account cannot sign in.
    let id = session["user"]["id"].as_str().unwrap();
    let r = s
        .client
        .patch(format!("{}/api/admin/users/{id}", s.url))
        .bearer_auth(&s.admin_key)
        .json(&json!({ "disabled": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    expect_error(
        sign_in(&s, "fay@example.test", PASSWORD).await,
        401,
        "invalid_api_key",
    )
    .await;
    let (status, _) = fay.get_json("/api/session").await;
    assert_eq!(status, 401, "nor keep using a session");
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_that_email_out() {
    let s = TestServer::start_with(|c| {
        format!("{c}\n[web]\nsignup = \"open\"\nlogin_max_failures = 3\n")
    })
    .await;
    assert_eq!(sign_up(&s, "gus@example.test", None).await.status(), 201);
    for _ in 0..3 {
        expect_error(
            sign_in(&s, "gus@example.test", "guess").await,
            401,
            "invalid_api_key",
        )
        .await;
    }
    // Now even the right password is refused until the window passes.
    let r = sign_in(&s, "gus@example.test", PASSWORD).await;
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 900, "{retry_after}");
    expect_error(r, 429, "too_many_attempts").await;
    // Other accounts are unaffected.
    assert_eq!(sign_up(&s, "hal@example.test", None).await.status(), 201);
    assert_eq!(
        sign_in(&s, "hal@example.test", PASSWORD).await.status(),
        200
    );
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_token() {
    let s = TestServer::start_with(open_signup).await;
    let ivy = browser_from(&s, sign_up(&s, "ivy@example.test", None).await).await;
    let body = json!({ "title": "Notes" });

    let missing = ivy
        .request(Method::POST, "/api/conversations")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(missing, 403, "csrf_failed").await;
    let wrong = ivy
        .request(Method::POST, "/api/conversations")
        .header("x-csrf-token", "forged")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(wrong, 403, "csrf_failed").await;
    let (_, listed) = ivy.get_json("/api/conversations").await;
    assert_eq!(listed["data"], json!([]), "refused writes did nothing");

    let created = ivy
        .write(Method::POST, "/api/conversations", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The browser talks to the whole API: a streamed turn, the tier's models, own keys.
    let r = ivy
        .write(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            &json!({ "content": "hi" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let events = sse_events(&r.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "done");
    let (status, models) = ivy.get_json("/v1/models").await;
    assert_eq!(status, 200);
    assert!(!models["data"].as_array().unwrap().is_empty());
    let key = ivy
        .write(Method::POST, "/api/keys", &json!({ "name": "laptop" }))
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), 201);

    // A key-authenticated write needs no CSRF token (no cookie, nothing to forge).
    let secret = key.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s
        .post("/api/conversations", &secret, &body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let s = TestServer::start_with(open_signup).await;
    let jo = browser_from(&s, sign_up(&s, "jo@example.test", None).await).await;
    let other = browser_from(&s, sign_in(&s, "jo@example.test", PASSWORD).await).await;

    let r = jo
        .request(Method::POST, "/api/auth/signout")
        .send()
        .await
        .unwrap();
    expect_error(r, 403, "csrf_failed").await;
    let r = jo
        .write(Method::POST, "/api/auth/signout", &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        set_cookie(&r).contains("Max-Age=0"),
        "the cookie is cleared"
    );
    let (status, body) = jo.get_json("/api/session").await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = jo.get_json("/api/conversations").await;
    assert_eq!(status, 401);
    // Only that browser: the other session goes on.
    assert_eq!(other.get_json("/api/session").await.0, 200);

    // A password change ends the other sessions but not the one that made it.
    let bystander = browser_from(&s, sign_in(&s, "jo@example.test", PASSWORD).await).await;
    let r = other
        .write(
            Method::POST,
            "/api/auth/password",
            &json!({ "current_password": PASSWORD, "new_password": "a new passphrase" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let third = browser_from(&s, sign_in(&s, "jo@example.test", "a new passphrase").await).await;
    assert_eq!(other.get_json("/api/session").await.0, 200);
    assert_eq!(bystander.get_json("/api/session").await.0, 401);
    let r = third
        .write(
            Method::POST,
            "/api/auth/password",
            &json!({ "current_password": "wrong", "new_password": "whatever else" }),
        )
        .send()
        .await
        .unwrap();
    expect_error(r, 403, "wrong_password").await;
}

#[tokio::test]
async fn a_session_cannot_touch_another_users_conversations() {
    let s = TestServer::start_with(open_signup).await;
    let kim = browser_from(&s, sign_up(&s, "kim@example.test", None).await).await;
    let lee = browser_from(&s, sign_up(&s, "lee@example.test", None).await).await;
    let created: Value = kim
        .write(
            Method::POST,
            "/api/conversations",
            &json!({ "title": "Kim's" }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/api/conversations/{}", created["id"].as_str().unwrap());

    assert_eq!(lee.get_json(&path).await.0, 404);
    for (method, body) in [
        (Method::PATCH, json!({ "title": "mine now" })),
        (Method::DELETE, json!({})),
    ] {
        let r = lee.write(method, &path, &body).send().await.unwrap();
        expect_error(r, 404, "not_found").await;
    }
    let r = lee
        .write(
            Method::POST,
            &format!("{path}/messages"),
            &json!({ "content": "hi" }),
        )
        .send()
        .await
        .unwrap();
    expect_error(r, 404, "not_found").await;
    let (_, listed) = lee.get_json("/api/conversations").await;
    assert_eq!(listed["data"], json!([]));
    let (_, still) = kim.get_json(&path).await;
    assert_eq!(still["title"], "Kim's");
}

#[tokio::test]
async fn conversations_are_searched_and_turns_replaced() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let mut ids = Vec::new();
    for title in ["Paris trip", "Groceries"] {
        let c = s
            .post_json("/api/conversations", &key, &json!({ "title": title }))
            .await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    let turn = |content: &str, replace_from: Option<&str>| {
        let mut body = json!({ "content": content, "stream": false });
        if let Some(id) = replace_from {
            body["replace_from"] = json!(id);
        }
        body
    };
    let first = s
        .post_json(
            &format!("/api/conversations/{}/messages", ids[1]),
            &key,
            &turn("buy croissants", None),
        )
        .await;
    let found = s.get_json("/api/conversations?q=CROISSANT", &key).await;
    let titles: Vec<_> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].clone())
        .collect();
    assert_eq!(titles, [json!("Groceries")]);
    let found = s.get_json("/api/conversations?q=paris", &key).await;
    assert_eq!(found["data"][0]["id"], ids[0].as_str());

    // Edit and resend: the edited turn replaces the first and its answer.
    let user_message = first["user_message"]["id"].as_str().unwrap();
    let edited = s
        .post_json(
            &format!("/api/conversations/{}/messages", ids[1]),
            &key,
            &turn("buy baguettes", Some(user_message)),
        )
        .await;
    assert_eq!(
        edited["assistant_message"]["content"],
        "echo: buy baguettes"
    );
    let read = s
        .get_json(&format!("/api/conversations/{}", ids[1]), &key)
        .await;
    let contents: Vec<_> = read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].clone())
        .collect();
    assert_eq!(
        contents,
        [json!("buy baguettes"), json!("echo: buy baguettes")]
    );
    assert_eq!(
        s.upstream.last_request()["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Only a user message of this conversation can be replaced.
    let assistant = edited["assistant_message"]["id"].as_str().unwrap();
    let r = s
        .post(
            &format!("/api/conversations/{}/messages", ids[1]),
            &key,
            &turn("x", Some(assistant)),
        )
        .send()
        .await
        .unwrap();
    expect_error(r, 404, "not_found").await;
}

#[tokio::test]
async fn the_web_app_is_served_with_a_strict_policy() {
    let s = TestServer::start().await;
    let get = |path: &str| s.client.get(format!("{}{path}", s.url)).send();
    let root = get("/").await.unwrap();
    assert_eq!(root.status(), 200);
    let headers = root.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(headers["cache-control"], "no-cache");
    let html = root.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline scripts");
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page loads a script")
        .to_string();
    assert!(script.starts_with("/assets/"), "{script}");

    let js = get(&script).await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert!(
        js.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = js.headers()["etag"].clone();
    let again = s
        .client
        .get(format!("{}{script}", s.url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // Client-side routes get the page; unknown API paths and assets stay 404s.
    let page = get("/chat/some-id").await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.text().await.unwrap(), html);
    expect_error(get("/api/nothing").await.unwrap(), 404, "unknown_url").await;
    expect_error(get("/v1/nothing").await.unwrap(), 404, "unknown_url").await;
    expect_error(get("/assets/missing.js").await.unwrap(), 404, "unknown_url").await;
}
