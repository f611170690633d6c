use super::*;
use crate::openai::chat::ChatRequest;

fn check(body: &[u8], expected_code: &str, expected_param: Option<&str>, needle: &str) {
    let err = parse_json::<ChatRequest>(body)
        .and_then(|r| r.validate().map(|_| r))
        .unwrap_err();
    let json = err.body();
    assert_eq!(json["error"]["code"], expected_code, "{json}");
    assert_eq!(json["error"]["param"].as_str(), expected_param, "{json}");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(message.contains(needle), "{needle:?} not in {message:?}");
}

#[test]
fn bad_bodies_get_clear_errors() {
    check(b"", "invalid_json", None, "empty");
    check(b"{not json", "invalid_json", None, "not valid JSON");
    check(b"{\"messages\": []} x", "invalid_json", None, "trailing");
    check(b"\xff\xfe{}", "invalid_encoding", None, "UTF-8");
    check(
        b"{\"model\": 5, \"messages\": []}",
        "invalid_value",
        Some("model"),
        "invalid type",
    );
    check(
        b"{\"model\": \"m\"}",
        "invalid_value",
        None,
        "missing field `messages`",
    );
    check(
        b"{\"messages\": []}",
        "invalid_value",
        Some("messages"),
        "at least one",
    );
    check(
        b"{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}",
        "invalid_value",
        Some("messages[0].role"),
        "unknown variant `robot`",
    );
    check(
        b"{\"messages\": [{\"role\": \"user\"}]}",
        "invalid_value",
        Some("messages[0].content"),
        "required",
    );
    check(
        b"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": -1}",
        "invalid_value",
        Some("max_tokens"),
        "at least 1",
    );
    check(
        b"{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": 3}",
        "invalid_value",
        Some("temperature"),
        "between 0 and 2",
    );
    check(
        b"{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}",
        "invalid_value",
        Some("messages[0].tool_call_id"),
        "required",
    );
}
