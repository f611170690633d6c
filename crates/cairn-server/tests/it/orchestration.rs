//! Orchestration over HTTP against the fake upstream: workflow validation and runs (map,
//! condition, review, re-run, failure, cancel), templates, the agent loop through native
//! tool calls, isolation. The same machinery with the real local models is in
//! `orchestration_local.rs`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{TestServer, expect_error};

/// Polls a run until it is no longer running.
pub async fn settled(s: &TestServer, key: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let run = s.get_json(&format!("/api/runs/{id}"), key).await;
        if run["status"] != "running" {
            return run;
        }
        assert!(Instant::now() < deadline, "the run did not settle: {run}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn step<'a>(run: &'a Value, key: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no step {key} in {run}"))
}

const PIPELINE: &str = r#"
name = "pipeline"
[inputs.name]
type = "string"
required = true

[[steps]]
id = "greet"
kind = "model"
model = "gpt"
prompt = "hello {{ inputs.name }}"

[[steps]]
id = "items"
kind = "condition"
expr = '["red", "green", "blue"]'

[[steps]]
id = "each"
kind = "map"
over = "steps.items"
as = "colour"
concurrency = 2
[steps.step]
kind = "model"
model = "gpt"
prompt = "{{ index }}: {{ colour }}"

[[steps]]
id = "three"
kind = "condition"
expr = "steps.each | length == 3"

[[steps]]
id = "never"
kind = "model"
model = "gpt"
when = "not steps.three"
prompt = "unreachable"

[[steps]]
id = "sum"
kind = "render"
template = "{{ steps.greet }} / {{ steps.each | join(', ') }}"
"#;

#[tokio::test]
async fn a_workflow_runs_its_steps_in_order_with_a_map_and_conditions() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let run = s
        .post_json(
            "/api/workflows/runs",
            &key,
            &json!({"workflow": PIPELINE, "inputs": {"name": "Ada"}, "wait": true}),
        )
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(step(&run, "greet")["output"], "echo: hello Ada");
    assert_eq!(step(&run, "each[1]")["output"], "echo: 1: green");
    assert_eq!(
        step(&run, "each")["output"],
        json!(["echo: 0: red", "echo: 1: green", "echo: 2: blue"])
    );
    assert_eq!(step(&run, "never")["status"], "skipped");
    assert_eq!(
        run["output"],
        "echo: hello Ada / echo: 0: red, echo: 1: green, echo: 2: blue"
    );
    // Every model call's tokens are counted: 4 calls.
    assert!(run["tokens"].as_i64().unwrap() >= 4 * 7, "{run}");
    // The model steps keep what they sent.
    assert_eq!(step(&run, "greet")["input"]["prompt"], "hello Ada");

    // The calls were metered as the user's.
    let usage = s.get_json("/api/usage?group_by=model", &key).await;
    assert!(usage.to_string().contains("\"gpt\""), "{usage}");
}

#[tokio::test]
async fn a_bad_workflow_gets_every_problem_at_once() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let bad = r#"
name = "bad"
[inputs.topic]
type = "string"

[[steps]]
id = "a"
kind = "model"
prompt = "{{ steps.b }} {{ inputs.topik }}"

[[steps]]
id = "b"
kind = "map"
over = "steps.a"
[steps.step]
kind = "model"
prompt = "{{ item }} {{ nope }}"

[[steps]]
id = "a"
kind = "render"
template = "{{ unclosed "
"#;
    let response = s
        .post("/api/workflows/validate", &key, &json!({"workflow": bad}))
        .send()
        .await
        .unwrap();
    let body = expect_error(response, 400, "invalid_value").await;
    let message = body["error"]["message"].as_str().unwrap();
    for expected in [
        "steps[0] (a).prompt: 'steps.b' is not an earlier step",
        "steps[0] (a).prompt: unknown input 'topik'",
        "steps[1] (b).step.prompt: unknown name 'nope'",
        "steps[2] (a): the id is used by an earlier step",
        "steps[2] (a).template: template error",
    ] {
        assert!(
            message.contains(expected),
            "missing {expected:?} in {message}"
        );
    }
    assert_eq!(body["error"]["param"], "workflow");

    // A syntax error and an unknown field name their place.
    for (source, expected) in [
        (
            "name = \"x\"\nsteps = [{ id = \"a\", kind = \"model\", prompt = \"p\", tempo = 1 }]",
            "tempo",
        ),
        ("name = \"x\"\n[[steps]\nid = \"a\"", "line 2"),
        (
            "name = \"x\"\nsteps = [{ id = \"a\", kind = \"teleport\" }]",
            "teleport",
        ),
    ] {
        let response = s
            .post("/api/workflows/runs", &key, &json!({"workflow": source}))
            .send()
            .await
            .unwrap();
        let body = expect_error(response, 400, "invalid_value").await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected:?} not in {message}");
    }

    // Inputs are checked against their declarations.
    let response = s
        .post(
            "/api/workflows/runs",
            &key,
            &json!({"workflow": PIPELINE, "inputs": {"name": 3, "extra": true}}),
        )
        .send()
        .await
        .unwrap();
    let body = expect_error(response, 400, "invalid_value").await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("inputs.name: expected string"),
        "{message}"
    );
    assert!(
        message.contains("inputs.extra: the workflow has no such input"),
        "{message}"
    );
}

const REVIEWED: &str = r#"
name = "reviewed"
[[steps]]
id = "draft"
kind = "model"
model = "gpt"
prompt = "draft"

[[steps]]
id = "review"
kind = "review"
value = "steps.draft"
message = "check the draft"

[[steps]]
id = "final"
kind = "model"
model = "gpt"
prompt = "final: {{ steps.review }}"

[[steps]]
id = "independent"
kind = "model"
model = "gpt"
prompt = "side"
"#;

#[tokio::test]
async fn a_review_waits_for_the_user_and_a_step_reruns_with_its_dependents_only() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let run = s
        .post_json("/api/workflows/runs", &key, &json!({"workflow": REVIEWED}))
        .await;
    let id = run["id"].as_str().unwrap();
    let run = settled(&s, &key, id).await;
    assert_eq!(run["status"], "waiting", "{run}");
    assert_eq!(step(&run, "review")["output"], "echo: draft");
    assert_eq!(step(&run, "review")["input"]["message"], "check the draft");

    // Approving something that is not waiting is refused; so is re-running during a wait's
    // approval... approve with an edit:
    let approved = s
        .post_json(
            &format!("/api/runs/{id}/approve"),
            &key,
            &json!({"output": "my edit"}),
        )
        .await;
    assert_eq!(approved["status"], "running");
    let run = settled(&s, &key, id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(step(&run, "final")["output"], "echo: final: my edit");
    let response = s
        .post(&format!("/api/runs/{id}/approve"), &key, &json!({}))
        .send()
        .await
        .unwrap();
    expect_error(response, 409, "wrong_state").await;

    // Re-running the draft runs the review again (it reads the draft), and so the run waits.
    let independent_before = step(&run, "independent")["finished_at"].clone();
    s.post_json(
        &format!("/api/runs/{id}/rerun"),
        &key,
        &json!({"step": "draft"}),
    )
    .await;
    let run = settled(&s, &key, id).await;
    assert_eq!(run["status"], "waiting");
    assert!(
        run["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["key"] != "final")
    );
    assert_eq!(step(&run, "draft")["attempts"], 1);
    // Approving without a body keeps the proposed value.
    let response = s
        .client
        .post(format!("{}/api/runs/{id}/approve", s.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let run = settled(&s, &key, id).await;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(step(&run, "final")["output"], "echo: final: echo: draft");
    // The step that reads nothing re-ran was left alone.
    assert_eq!(step(&run, "independent")["finished_at"], independent_before);

    let response = s
        .post(
            &format!("/api/runs/{id}/rerun"),
            &key,
            &json!({"step": "nope"}),
        )
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_value").await;
}

#[tokio::test]
async fn a_failing_step_ends_the_run_with_a_clear_error_and_a_slow_one_can_be_cancelled() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let failing = r#"
name = "failing"
[[steps]]
id = "ok"
kind = "model"
model = "gpt"
prompt = "fine"
[[steps]]
id = "boom"
kind = "model"
model = "broken"
prompt = "explode"
[[steps]]
id = "after"
kind = "model"
model = "gpt"
prompt = "never"
"#;
    let run = s
        .post_json(
            "/api/workflows/runs",
            &key,
            &json!({"workflow": failing, "wait": true}),
        )
        .await;
    assert_eq!(run["status"], "failed");
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("step 'boom' failed") && error.contains("model exploded"),
        "{error}"
    );
    assert_eq!(step(&run, "boom")["status"], "failed");
    assert!(
        run["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["key"] != "after")
    );

    let slow = "name = \"slow\"\n[[steps]]\nid = \"wait\"\nkind = \"model\"\nmodel = \"slow\"\nprompt = \"zzz\"\n";
    let run = s
        .post_json("/api/workflows/runs", &key, &json!({"workflow": slow}))
        .await;
    let id = run["id"].as_str().unwrap();
    let started = Instant::now();
    let cancelled = s
        .post_json(&format!("/api/runs/{id}/cancel"), &key, &json!({}))
        .await;
    let run = settled(&s, &key, id).await;
    assert_eq!(run["status"], "cancelled", "{cancelled} {run}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the cancel waited for the model"
    );
    let response = s
        .post(&format!("/api/runs/{id}/cancel"), &key, &json!({}))
        .send()
        .await
        .unwrap();
    expect_error(response, 409, "wrong_state").await;
}

#[tokio::test]
async fn runs_and_templates_are_their_owners_only() {
    let s = TestServer::start().await;
    let (_, alice) = s.user("free").await;
    let (_, bob) = s.user("free").await;
    let run = s
        .post_json(
            "/api/workflows/runs",
            &alice,
            &json!({"workflow": REVIEWED}),
        )
        .await;
    let id = run["id"].as_str().unwrap();
    settled(&s, &alice, id).await;
    for (method, path) in [
        ("GET", format!("/api/runs/{id}")),
        ("POST", format!("/api/runs/{id}/cancel")),
        ("POST", format!("/api/runs/{id}/approve")),
        ("DELETE", format!("/api/runs/{id}")),
    ] {
        let request = match method {
            "GET" => s.get(&path, &bob),
            "DELETE" => s.delete(&path, &bob),
            _ => s.post(&path, &bob, &json!({})),
        };
        expect_error(request.send().await.unwrap(), 404, "not_found").await;
    }
    let listed = s.get_json("/api/runs?kind=workflow", &bob).await;
    assert_eq!(listed["data"], json!([]));
    let listed = s.get_json("/api/runs?kind=workflow", &alice).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);

    s.post_json(
        "/api/templates",
        &alice,
        &json!({"name": "mine", "body": "hi {{ who }}"}),
    )
    .await;
    expect_error(
        s.get("/api/templates/mine", &bob).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn templates_are_versioned_rendered_and_override_built_ins() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let all = s.get_json("/api/templates", &key).await;
    let names: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for expected in [
        "writer/outline",
        "writer/blog/style",
        "writer/academic/style",
        "chat/summarize",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }

    let v1 = s
        .post_json(
            "/api/templates",
            &key,
            &json!({"name": "greet", "body": "Hello {{ name }}"}),
        )
        .await;
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["variables"], json!(["name"]));
    let v2 = s
        .post_json(
            "/api/templates",
            &key,
            &json!({"name": "greet", "body": "Hi {{ name }}!"}),
        )
        .await;
    assert_eq!(v2["version"], 2);
    let read = s.get_json("/api/templates/greet", &key).await;
    assert_eq!(read["version"], 2);
    assert_eq!(read["versions"].as_array().unwrap().len(), 2);

    let rendered = s
        .post_json(
            "/api/templates/render",
            &key,
            &json!({"name": "greet@1", "variables": {"name": "Ada"}}),
        )
        .await;
    assert_eq!(rendered["text"], "Hello Ada");
    let response = s
        .post(
            "/api/templates/render",
            &key,
            &json!({"name": "greet", "variables": {}}),
        )
        .send()
        .await
        .unwrap();
    let body = expect_error(response, 400, "invalid_value").await;
    assert_eq!(body["error"]["param"], "variables");

    let response = s
        .post(
            "/api/templates",
            &key,
            &json!({"name": "broken", "body": "{% if %}"}),
        )
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_value").await;

    // A user's own writing style replaces the built-in one for them only.
    s.post_json(
        "/api/templates",
        &key,
        &json!({"name": "writer/blog/style", "body": "Style: pirate speak."}),
    )
    .await;
    let mine = s.get_json("/api/templates/writer/blog/style", &key).await;
    assert_eq!(mine["builtin"], false);
    let (_, other) = s.user("free").await;
    let theirs = s.get_json("/api/templates/writer/blog/style", &other).await;
    assert_eq!(theirs["builtin"], true);

    assert_eq!(
        s.delete("/api/templates/greet", &key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    expect_error(
        s.get("/api/templates/greet", &key).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_agent_calls_a_tool_through_native_tool_calls_and_records_every_step() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let run = s
        .post_json(
            "/api/agent/runs",
            &key,
            &json!({"task": "compute 1234 * 5678?", "model": "tools", "tools": ["calculator"], "wait": true}),
        )
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        run["output"]["answer"],
        "the answer is {\"expression\":\"1234 * 5678\",\"result\":\"7006652\"}"
    );
    assert_eq!(run["output"]["tool_calls"], 1);
    let steps = run["steps"].as_array().unwrap();
    let kinds: Vec<&str> = steps.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["model", "tool", "model"]);
    assert_eq!(steps[1]["input"]["tool"], "calculator");
    assert_eq!(steps[1]["input"]["arguments"]["expression"], "1234 * 5678");
    assert_eq!(steps[1]["output"]["result"], "7006652");
    // The model saw the tool through the OpenAI tools API, and its result as a tool message.
    let received = s.upstream.received.lock().unwrap().clone();
    let last = received
        .iter()
        .rev()
        .find(|r| r["model"] == "up-tools")
        .unwrap();
    assert_eq!(last["tools"][0]["function"]["name"], "calculator");
    assert!(
        last["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "tool" && m["tool_call_id"] == "call_1")
    );

    // Limits: one step is not enough for a tool call and an answer.
    let run = s
        .post_json(
            "/api/agent/runs",
            &key,
            &json!({"task": "compute 2 + 2", "model": "tools", "tools": ["calculator"], "max_steps": 1, "wait": true}),
        )
        .await;
    assert_eq!(run["status"], "failed");
    assert!(
        run["error"].as_str().unwrap().contains("limit of 1 steps"),
        "{run}"
    );

    // A tool failure is an observation, not a crash: bad arithmetic comes back as an error
    // the model reads, and the run still ends with an answer.
    let run = s
        .post_json(
            "/api/agent/runs",
            &key,
            &json!({"task": "compute 1 / 0", "model": "tools", "tools": ["calculator"], "wait": true}),
        )
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(step(&run, "002-tool")["status"], "failed");
    assert!(
        step(&run, "002-tool")["error"]
            .as_str()
            .unwrap()
            .contains("division by zero"),
        "{run}"
    );

    for (body, param) in [
        (json!({"task": " "}), "task"),
        (json!({"task": "x", "tools": ["teleport"]}), "tools"),
        (json!({"task": "x", "max_steps": 0}), "max_steps"),
        (json!({"task": "x", "max_steps": 1000}), "max_steps"),
    ] {
        let response = s.post("/api/agent/runs", &key, &body).send().await.unwrap();
        let error = expect_error(response, 400, "invalid_value").await;
        assert_eq!(error["error"]["param"], param, "{body}");
    }
}

#[tokio::test]
async fn a_cancelled_agent_stops_and_says_so() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let run = s
        .post_json(
            "/api/agent/runs",
            &key,
            &json!({"task": "think slowly", "model": "slow", "tools": []}),
        )
        .await;
    let id = run["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.post_json(&format!("/api/runs/{id}/cancel"), &key, &json!({}))
        .await;
    let run = settled(&s, &key, id).await;
    assert_eq!(run["status"], "cancelled", "{run}");
    let listed = s.get_json("/api/runs?kind=agent", &key).await;
    assert_eq!(listed["data"][0]["id"], id);
}

const SANDBOXED: &str = r#"
name = "sandboxed"
[inputs.code]
type = "string"
required = true
[[steps]]
id = "run"
kind = "tool"
tool = "run_code"
arguments = { code = "{{ inputs.code }}" }
"#;

async fn run_code(s: &TestServer, key: &str, code: &str) -> Value {
    s.post_json(
        "/api/workflows/runs",
        key,
        &json!({"workflow": SANDBOXED, "inputs": {"code": code}, "wait": true}),
    )
    .await
}

#[tokio::test]
async fn the_code_tool_runs_javascript_without_files_network_or_forever() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let ok = run_code(
        &s,
        &key,
        "let t = 0; for (let i = 1; i <= 100; i++) t += i; console.log('sum', t); t",
    )
    .await;
    assert_eq!(ok["status"], "succeeded", "{ok}");
    assert_eq!(step(&ok, "run")["output"]["value"], 5050);
    assert_eq!(step(&ok, "run")["output"]["stdout"], "sum 5050\n");

    for (code, expected) in [
        ("require('fs').readFileSync('/etc/hostname')", "require"),
        ("fetch('http://127.0.0.1/')", "fetch"),
        ("while (true) {}", "stopped"),
        ("let s = 'x'; while (true) s += s;", "memory"),
    ] {
        let run = run_code(&s, &key, code).await;
        assert_eq!(run["status"], "failed", "{code}: {run}");
        let error = run["error"].as_str().unwrap();
        assert!(error.contains(expected), "{code}: {error}");
    }
}

#[tokio::test]
async fn http_fetch_refuses_loopback_even_when_allowed_by_name() {
    let s = TestServer::start_with(|config| {
        config.replacen(
            "[tools]\n",
            "[tools]\nfetch_allow_hosts = [\"localhost\", \"127.0.0.1\"]\n",
            1,
        )
    })
    .await;
    let (_, key) = s.user("free").await;
    let tools = s.get_json("/api/tools", &key).await;
    assert!(tools.to_string().contains("http_fetch"), "{tools}");
    let workflow = r#"
name = "fetch"
[inputs.url]
type = "string"
required = true
[[steps]]
id = "get"
kind = "tool"
tool = "http_fetch"
arguments = { url = "{{ inputs.url }}" }
"#;
    for url in [
        format!("{}/healthz", s.url),
        s.url.replace("127.0.0.1", "localhost") + "/healthz",
    ] {
        let run = s
            .post_json(
                "/api/workflows/runs",
                &key,
                &json!({"workflow": workflow, "inputs": {"url": url}, "wait": true}),
            )
            .await;
        assert_eq!(run["status"], "failed", "{url}: {run}");
        let error = run["error"].as_str().unwrap();
        assert!(
            error.contains("not a public address")
                || error.contains("loopback")
                || error.contains("public"),
            "{url}: {error}"
        );
    }
}

/// An operator's HTTP tool: the model's arguments go to the endpoint as JSON with the
/// configured header, and the endpoint's JSON answer is the tool's result.
#[tokio::test]
async fn an_operator_http_tool_is_offered_validated_and_called() {
    use axum::routing::post;
    use axum::{Json, Router};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/weather", listener.local_addr().unwrap());
    let app = Router::new().route(
        "/weather",
        post(
            |headers: axum::http::HeaderMap, Json(body): Json<Value>| async move {
                Json(json!({
                    "city": body["city"],
                    "forecast": "sunny",
                    "token_seen": headers.get("x-token").is_some_and(|v| v == "s3cret"),
                }))
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    // SAFETY: set before the server reads its config, by this test only, with a name no
    // other test uses.
    unsafe { std::env::set_var("CAIRN_TEST_WEATHER_TOKEN", "s3cret") };
    let s = TestServer::start_with(move |config| {
        config.replacen(
            "[tools]\n",
            &format!(
                "[[tools.http]]\nname = \"weather\"\ndescription = \"The weather in a city\"\n\
                 url = \"{endpoint}\"\nheaders = {{ x-token = \"env:CAIRN_TEST_WEATHER_TOKEN\" }}\n\
                 parameters = {{ type = \"object\", properties = {{ city = {{ type = \"string\" }} }}, \
                 required = [\"city\"], additionalProperties = false }}\n\n[tools]\n"
            ),
            1,
        )
    })
    .await;
    let (_, key) = s.user("free").await;
    let tools = s.get_json("/api/tools", &key).await;
    assert!(
        tools.to_string().contains("The weather in a city"),
        "{tools}"
    );
    let workflow = r#"
name = "weather"
[[steps]]
id = "ask"
kind = "tool"
tool = "weather"
arguments = { city = "Lyon" }
[[steps]]
id = "bad"
kind = "tool"
tool = "weather"
arguments = { town = "Lyon" }
"#;
    let run = s
        .post_json(
            "/api/workflows/runs",
            &key,
            &json!({"workflow": workflow, "wait": true}),
        )
        .await;
    assert_eq!(
        step(&run, "ask")["output"],
        json!({"city": "Lyon", "forecast": "sunny", "token_seen": true})
    );
    assert_eq!(run["status"], "failed");
    let error = step(&run, "bad")["error"].as_str().unwrap();
    assert!(error.contains("arguments.city is required"), "{error}");
}

#[tokio::test]
async fn a_map_over_something_that_is_not_a_list_fails_with_what_it_got() {
    let s = TestServer::start().await;
    let (_, key) = s.user("free").await;
    let workflow = r#"
name = "not a list"
[[steps]]
id = "word"
kind = "condition"
expr = "'hello'"
[[steps]]
id = "each"
kind = "map"
over = "steps.word"
[steps.step]
kind = "render"
template = "{{ item }}"
"#;
    let run = s
        .post_json(
            "/api/workflows/runs",
            &key,
            &json!({"workflow": workflow, "wait": true}),
        )
        .await;
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(
        run["error"],
        "step 'each' failed: 'over' gave a string, not a list"
    );
    assert_eq!(step(&run, "each")["status"], "failed");
}
