//! The converter's text and its refusals. That llama.cpp parses the grammars and that what
//! they admit validates is checked with a real model in tests/it/grammar.rs.

use serde_json::json;

use super::gbnf::literal;
use super::{Grammar, Wrapped};
use crate::EngineError;

fn grammar(schema: serde_json::Value) -> String {
    Grammar::json_schema(&schema).unwrap().text().to_string()
}

fn refusal(schema: serde_json::Value) -> String {
    match Grammar::json_schema(&schema) {
        Err(EngineError::Grammar(why)) => why,
        other => panic!("expected a refusal for {schema}, got {other:?}"),
    }
}

#[test]
fn literals_escape_quotes_backslashes_and_control_characters() {
    assert_eq!(literal(r#"{"a":"b\c"}"#), r#""{\"a\":\"b\\c\"}""#);
    assert_eq!(literal("a\nb\tc\u{1}é"), r#""a\nb\tc\x01é""#);
}

#[test]
fn an_object_keeps_declared_order_and_makes_only_optional_members_skippable() {
    let text = grammar(json!({
        "type": "object",
        "properties": {
            "city": { "type": "string" },
            "days": { "type": "integer" },
            "unit": { "enum": ["C", "F"] }
        },
        "required": ["city", "unit"],
        "additionalProperties": false
    }));
    let expected = r#"root ::= schema
schema-unit ::= "\"C\"" | "\"F\""
schema-rest2 ::= "," ws "\"unit\":" ws schema-unit
schema-rest1 ::= ("," ws "\"days\":" ws integer)? schema-rest2
schema ::= "{" ws ("\"city\":" ws string schema-rest1) ws "}"
char ::= [^"\\\x00-\x1F\x7F] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))
integer ::= "-"? ("0" | [1-9] [0-9]{0,15})
string ::= "\"" char* "\""
ws ::= " "?
"#;
    assert_eq!(text, expected);
}

#[test]
fn bounds_become_repetitions() {
    let text = grammar(json!({
        "type": "object",
        "properties": {
            "name": { "type": "string", "minLength": 1, "maxLength": 20 },
            "tags": { "type": "array", "items": { "type": "string" }, "minItems": 1, "maxItems": 3 },
            "none": { "type": "array", "maxItems": 0 },
            "pair": { "type": "array", "items": { "type": "number" }, "minItems": 2, "maxItems": 2 }
        },
        "required": ["name", "tags", "none", "pair"]
    }));
    assert!(
        text.contains(r#"schema-name ::= "\"" char{1,20} "\"""#),
        "{text}"
    );
    assert!(
        text.contains(r#"schema-tags ::= "[" ws string ("," ws string){0,2} ws "]""#),
        "{text}"
    );
    assert!(text.contains(r#"schema-none ::= "[" ws "]""#), "{text}");
    assert!(
        text.contains(r#"schema-pair ::= "[" ws number ("," ws number){1} ws "]""#),
        "{text}"
    );
}

#[test]
fn unions_enums_consts_and_nullable_types() {
    let text = grammar(json!({
        "anyOf": [
            { "type": ["string", "null"] },
            { "const": { "k": [1, true] } },
            { "type": "integer", "enum": [1, "two", 3] }
        ]
    }));
    assert!(text.starts_with("root ::= schema\n"), "{text}");
    assert!(
        text.contains(r#"schema ::= (string | null) | "{\"k\":[1,true]}" | schema-2"#),
        "{text}"
    );
    // Enum values of another type than the schema's are left out: they would not validate.
    assert!(text.contains(r#"schema-2 ::= "1" | "3""#), "{text}");
}

#[test]
fn refs_to_definitions_become_rules_and_may_recurse() {
    let text = grammar(json!({
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "value": { "type": "integer" },
                    "children": { "type": "array", "items": { "$ref": "#/$defs/node" } }
                },
                "required": ["value", "children"]
            }
        },
        "$ref": "#/$defs/node"
    }));
    assert!(text.starts_with("root ::= node\n"), "{text}");
    assert!(
        text.contains(r#"node-children ::= "[" ws (node ("," ws node)* ws)? "]""#),
        "{text}"
    );
}

#[test]
fn an_unconstrained_object_or_value_uses_the_generic_rules() {
    let text = grammar(json!({ "type": "object" }));
    assert!(text.starts_with("root ::= object\n"), "{text}");
    assert!(text.contains("value ::= object | array"), "{text}");
    assert!(grammar(json!({ "description": "anything" })).starts_with("root ::= value\n"));
    assert!(grammar(json!(true)).starts_with("root ::= value\n"));
    let map = grammar(json!({ "type": "object", "additionalProperties": { "type": "boolean" } }));
    assert!(
        map.contains(r#"schema-member ::= string ":" ws boolean"#),
        "{map}"
    );
}

#[test]
fn whitespace_is_at_most_one_space() {
    let text = Grammar::json_object().text().to_string();
    assert!(text.starts_with("root ::= object\n"), "{text}");
    assert!(text.contains("ws ::= \" \"?\n"), "{text}");
    assert!(
        !text.contains("\\n\""),
        "no newline is ever allowed: {text}"
    );
}

#[test]
fn unsupported_or_malformed_schemas_are_refused_by_name() {
    let cases = [
        (
            json!({ "type": "integer", "minimum": 0 }),
            "keyword 'minimum' (at #)",
        ),
        (
            json!({ "type": "object", "properties": { "id": { "type": "string", "pattern": "^a" } } }),
            "keyword 'pattern' (at #/properties/id)",
        ),
        (
            json!({ "type": "array", "items": [{ "type": "string" }] }),
            "'items' as an array",
        ),
        (json!({ "allOf": [{}, {}] }), "'allOf' (at #)"),
        (
            json!({ "$ref": "other.json#/a" }),
            "must point into this schema",
        ),
        (json!({ "$ref": "#/$defs/missing" }), "does not exist"),
        (
            json!({ "type": "object", "properties": {}, "required": ["a"] }),
            "names 'a', which is not in 'properties'",
        ),
        (
            json!({ "type": "string", "maxLength": 5000 }),
            "'maxLength' 5000 (at #) is above 1000",
        ),
        (
            json!({ "type": "string", "minLength": 3, "maxLength": 2 }),
            "'minLength' is above 'maxLength'",
        ),
        (json!(false), "accepts nothing"),
        (json!({ "type": "date" }), "unknown type 'date'"),
        (json!({ "anyOf": [] }), "non-empty array"),
        (
            json!({ "type": "object", "anyOf": [{}] }),
            "'anyOf' together with 'type'",
        ),
        (
            json!({ "enum": [1], "type": "string" }),
            "no value of the schema's type",
        ),
        (json!("string"), "must be an object or a boolean"),
    ];
    for (schema, expected) in cases {
        let why = refusal(schema.clone());
        assert!(why.contains(expected), "{schema}: {why}");
    }
}

#[test]
fn wrapped_alternatives_put_fixed_text_around_each_schema() {
    let a = json!({ "type": "object", "properties": { "x": { "type": "integer" } }, "required": ["x"] });
    let b = json!({ "type": "object" });
    let grammar = Grammar::json_schema_wrapped(&[
        Wrapped {
            before: "<call>{\"name\": \"a\", \"arguments\": ".into(),
            schema: &a,
            after: "}</call>".into(),
        },
        Wrapped {
            before: "<call>{\"name\": \"b\", \"arguments\": ".into(),
            schema: &b,
            after: "}</call>".into(),
        },
    ])
    .unwrap();
    let first_line = grammar.text().lines().next().unwrap();
    assert_eq!(
        first_line,
        r#"root ::= "<call>{\"name\": \"a\", \"arguments\": " schema0 "}</call>" | "<call>{\"name\": \"b\", \"arguments\": " object "}</call>""#
    );
    assert!(Grammar::json_schema_wrapped(&[]).is_err());
}

#[test]
fn hand_written_grammars_are_checked_for_what_can_be_checked_without_llama_cpp() {
    assert!(Grammar::gbnf("root ::= \"yes\" | \"no\"", "root").is_ok());
    assert!(Grammar::gbnf("answer ::= [0-9]+", "answer").is_ok());
    for (text, root, expected) in [
        ("  ", "root", "empty"),
        (
            "root ::= \"a\"",
            "start",
            "does not define its root rule 'start'",
        ),
        ("rooted ::= \"a\"", "root", "does not define"),
        ("root ::= \"a\0\"", "root", "NUL"),
        ("root ::= \"a\"", "ro ot", "letters, digits"),
    ] {
        match Grammar::gbnf(text, root) {
            Err(EngineError::Grammar(why)) => assert!(why.contains(expected), "{why}"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
}
