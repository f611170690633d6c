//! Constrained output with the real small model: grammars llama.cpp parses, admit what the
//! schema allows and nothing else, and make sampled answers valid.

use cairn_engine::{
    ChatEngine, EngineError, GenerateRequest, Grammar, PromptMessage, SamplingParams,
};
use cairn_types::FinishReason;
use serde_json::{Value, json};

use crate::schema_check::validate;
use crate::support::{collect, engine, greedy, run};

/// A tool-like schema with every kind the converter supports; every string is bounded, so a
/// valid answer is short and must end well within the token budget.
fn booking() -> Value {
    json!({
        "$defs": {
            "guest": {
                "type": "object",
                "properties": {
                    "name": { "type": "string", "minLength": 1, "maxLength": 24 },
                    "age": { "type": "integer" },
                    "vegetarian": { "type": "boolean" }
                },
                "required": ["name", "age"],
                "additionalProperties": false
            }
        },
        "type": "object",
        "properties": {
            "city": { "type": "string", "enum": ["Paris", "Oslo", "Lima"] },
            "nights": { "type": "integer" },
            "budget": { "type": ["number", "null"] },
            "guests": { "type": "array", "items": { "$ref": "#/$defs/guest" }, "minItems": 1, "maxItems": 3 },
            "note": { "anyOf": [{ "type": "string", "maxLength": 40 }, { "type": "null" }] },
            "confirmed": { "const": true }
        },
        "required": ["city", "nights", "guests", "confirmed"],
        "additionalProperties": false
    })
}

fn accepts(engine: &ChatEngine, grammar: &Grammar, text: &str) -> bool {
    engine.grammar_accepts(grammar, text).unwrap()
}

#[test]
fn schema_grammars_parse_in_llama_cpp_and_admit_exactly_valid_json() {
    let engine = engine("smollm2-135m", |_| {});
    let schema = booking();
    let grammar = Grammar::json_schema(&schema).unwrap();
    let valid = [
        r#"{"city": "Oslo", "nights": 3, "guests": [{"name": "Ada", "age": 36}], "confirmed": true}"#,
        r#"{"city":"Lima","nights":-1,"budget":12.5e3,"guests":[{"name":"B\u00e9a \"Q\"","age":0,"vegetarian":false},{"name":"Zoë","age":7}],"note":null,"confirmed":true}"#,
        r#"{ "city": "Paris", "nights": 0, "budget": null, "guests": [ {"name": "x", "age": 1} ], "note": "late\narrival", "confirmed": true }"#,
    ];
    for text in valid {
        let value: Value = serde_json::from_str(text).unwrap();
        validate(&value, &schema, &schema).unwrap();
        assert!(accepts(&engine, &grammar, text), "rejected {text}");
    }
    let invalid = [
        // a required key missing; an enum broken; a float where an integer goes
        r#"{"city": "Oslo", "guests": [{"name": "Ada", "age": 36}], "confirmed": true}"#,
        r#"{"city": "Rome", "nights": 3, "guests": [{"name": "Ada", "age": 36}], "confirmed": true}"#,
        r#"{"city": "Oslo", "nights": 3.5, "guests": [{"name": "Ada", "age": 36}], "confirmed": true}"#,
        // out of declared order; an unknown key; too many guests; an empty name; a long note
        r#"{"nights": 3, "city": "Oslo", "guests": [{"name": "Ada", "age": 36}], "confirmed": true}"#,
        r#"{"city": "Oslo", "nights": 3, "pets": 1, "guests": [{"name": "Ada", "age": 36}], "confirmed": true}"#,
        r#"{"city": "Oslo", "nights": 3, "guests": [{"name": "a", "age": 1}, {"name": "b", "age": 2}, {"name": "c", "age": 3}, {"name": "d", "age": 4}], "confirmed": true}"#,
        r#"{"city": "Oslo", "nights": 3, "guests": [{"name": "", "age": 36}], "confirmed": true}"#,
        r#"{"city": "Oslo", "nights": 3, "guests": [{"name": "Ada", "age": 36}], "note": "this note is far longer than forty characters", "confirmed": true}"#,
        // raw control characters, a lone surrogate, a trailing comma
        "{\"city\": \"Oslo\", \"nights\": 3, \"guests\": [{\"name\": \"A\nda\", \"age\": 36}], \"confirmed\": true}",
        r#"{"city": "Oslo", "nights": 3, "guests": [{"name": "\ud800", "age": 36}], "confirmed": true}"#,
        r#"{"city": "Oslo", "nights": 3, "guests": [{"name": "Ada", "age": 36},], "confirmed": true}"#,
        // whitespace beyond one space; a newline; text after the value; an unfinished value
        r#"{"city":  "Oslo", "nights": 3, "guests": [{"name": "Ada", "age": 36}], "confirmed": true}"#,
        "{\n\"city\": \"Oslo\", \"nights\": 3, \"guests\": [{\"name\": \"Ada\", \"age\": 36}], \"confirmed\": true}",
        r#"{"city": "Oslo", "nights": 3, "guests": [{"name": "Ada", "age": 36}], "confirmed": true} "#,
        r#"{"city": "Oslo", "nights": 3"#,
        // an integer with more digits than any i64
        r#"{"city": "Oslo", "nights": 12345678901234567890, "guests": [{"name": "Ada", "age": 36}], "confirmed": true}"#,
    ];
    for text in invalid {
        assert!(!accepts(&engine, &grammar, text), "admitted {text}");
    }

    // Optional members anywhere, including all of them.
    let optional = json!({ "type": "object", "properties": { "a": { "type": "integer" }, "b": { "type": "string" }, "c": { "type": "boolean" } }, "required": ["b"] });
    let grammar = Grammar::json_schema(&optional).unwrap();
    for (text, ok) in [
        (r#"{"b": "x"}"#, true),
        (r#"{"a": 1, "b": "x"}"#, true),
        (r#"{"b": "x", "c": true}"#, true),
        (r#"{"a": 1, "b": "x", "c": false}"#, true),
        (r#"{"a": 1}"#, false),
        (r#"{"a": 1, "c": false}"#, false),
        (r#"{, "b": "x"}"#, false),
    ] {
        assert_eq!(accepts(&engine, &grammar, text), ok, "{text}");
    }
    let none_required = json!({ "type": "object", "properties": { "a": { "type": "integer" }, "b": { "type": "integer" } } });
    let grammar = Grammar::json_schema(&none_required).unwrap();
    for (text, ok) in [
        ("{}", true),
        (r#"{"b": 2}"#, true),
        (r#"{"a": 1, "b": 2}"#, true),
        (r#"{"a": 1,}"#, false),
    ] {
        assert_eq!(accepts(&engine, &grammar, text), ok, "{text}");
    }

    // Any JSON object, for `json_object`: nested values yes, a bare value or an array no.
    let any = Grammar::json_object();
    for (text, ok) in [
        (
            r#"{"a": [1, -2.5e-3, "x", null, true, {"b": {}}], "c": []}"#,
            true,
        ),
        ("{}", true),
        ("[1]", false),
        ("\"text\"", false),
        (r#"{"a": 01}"#, false),
    ] {
        assert_eq!(accepts(&engine, &any, text), ok, "{text}");
    }
}

fn prompt(engine: &ChatEngine, request: &str) -> String {
    engine
        .render_prompt(&[PromptMessage::text("user", request)], None)
        .unwrap()
}

/// The bar: whatever the seed, at a temperature that lets a 135M model wander, the answer
/// parses, matches the schema, and ends by itself once the grammar is complete.
#[tokio::test]
async fn sampled_answers_always_match_the_schema() {
    let engine = engine("smollm2-135m", |c| c.max_sequences = 2);
    let schema = booking();
    let grammar = Grammar::json_schema(&schema).unwrap();
    let prompt = prompt(
        &engine,
        "Book a hotel as JSON: city, nights, budget, guests (name, age), a note, confirmed.",
    );
    for seed in 1..=6 {
        let out = run(
            &engine,
            &prompt,
            SamplingParams {
                temperature: 0.8,
                seed: Some(seed),
                max_tokens: Some(400),
                grammar: Some(grammar.clone()),
                ..SamplingParams::default()
            },
        )
        .await;
        assert_eq!(
            out.finish_reason,
            FinishReason::Stop,
            "seed {seed}: the answer did not end: {}",
            out.text
        );
        let value: Value = serde_json::from_str(&out.text)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}: {}", out.text));
        validate(&value, &schema, &schema).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }

    // `json_object`: any object, greedy and sampled.
    let any = Grammar::json_object();
    for (seed, temperature) in [(1, 0.0), (2, 0.8), (3, 0.8)] {
        let out = run(
            &engine,
            &prompt,
            SamplingParams {
                temperature,
                seed: Some(seed),
                max_tokens: Some(200),
                grammar: Some(any.clone()),
                ..SamplingParams::default()
            },
        )
        .await;
        // A free-form object may be cut by the token budget; if it ended, it is complete.
        if out.finish_reason == FinishReason::Stop {
            let value: Value = serde_json::from_str(&out.text)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}: {}", out.text));
            assert!(value.is_object(), "{value}");
        } else {
            assert!(out.text.starts_with('{'), "{}", out.text);
        }
    }
}

/// A grammar that fixes the whole answer leaves the model one path, and the answer ends at
/// its end even when the model would rather go on.
#[tokio::test]
async fn a_complete_grammar_ends_the_answer() {
    let engine = engine("smollm2-135m", |_| {});
    let grammar = Grammar::gbnf(r#"root ::= "yes" | "no""#, "root").unwrap();
    let prompt = prompt(&engine, "Write a long story about a fox.");
    let mut sampling = greedy(50);
    sampling.grammar = Some(grammar);
    let out = run(&engine, &prompt, sampling).await;
    assert!(out.text == "yes" || out.text == "no", "{}", out.text);
    assert_eq!(out.finish_reason, FinishReason::Stop);
    assert!(out.usage.completion_tokens <= 4, "{:?}", out.usage);
}

#[tokio::test]
async fn a_grammar_llama_cpp_cannot_use_is_an_error_not_a_crash() {
    let engine = engine("smollm2-135m", |_| {});
    let prompt = prompt(&engine, "Hi");
    let gbnf = |text: &str| Grammar::gbnf(text, "root").unwrap();
    let grammars = [
        gbnf("root ::= answer"),             // an undefined rule
        gbnf("root ::= \"unterminated"),     // a syntax error
        gbnf("root ::= root \"a\" | \"a\""), // left recursion
        gbnf("root ::= [a-z]{3000}"),        // more repetitions than llama.cpp allows
        // A schema that refers to itself before writing anything: left recursion too.
        Grammar::json_schema(&json!({ "anyOf": [{ "$ref": "#" }, { "type": "null" }] })).unwrap(),
    ];
    for grammar in grammars {
        let mut sampling = greedy(4);
        sampling.grammar = Some(grammar.clone());
        match engine.generate(GenerateRequest {
            prompt: prompt.clone(),
            sampling,
        }) {
            Err(EngineError::Grammar(why)) => assert!(why.contains("llama.cpp"), "{why}"),
            Err(other) => panic!("{}: {other}", grammar.text()),
            Ok(_) => panic!("{}: accepted", grammar.text()),
        }
        assert!(matches!(
            engine.grammar_accepts(&grammar, "a"),
            Err(EngineError::Grammar(_))
        ));
    }
    // The engine is unharmed.
    let out = collect(
        engine
            .generate(GenerateRequest {
                prompt,
                sampling: greedy(4),
            })
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(out.usage.completion_tokens, 4);
}
