use super::*;

fn check_patterns(text: &str, expected: &[&str]) {
    assert_eq!(pattern_facts(text), expected, "{text}");
}

#[test]
fn patterns_find_first_person_facts() {
    check_patterns(
        "My name is Ada and I prefer Rust.",
        &["The user's name is Ada.", "The user prefers Rust."],
    );
    check_patterns(
        "Hi! my name is Ada Lovelace, and I work at Acme Corp.",
        &[
            "The user's name is Ada Lovelace.",
            "The user works at Acme Corp.",
        ],
    );
    check_patterns(
        "I'm working on a compiler for Cairn v2.1",
        &["The user is working on a compiler for Cairn v2.1."],
    );
    check_patterns(
        "Please remember that my daughter's birthday is on May 3.",
        &["The user's daughter's birthday is on May 3."],
    );
    check_patterns(
        "My favorite editor is Helix",
        &["The user's favorite editor is Helix."],
    );
    check_patterns(
        "I live in Porto. I speak Portuguese and English.",
        &["The user lives in Porto.", "The user speaks Portuguese."],
    );
}

#[test]
fn patterns_skip_questions_negations_and_lookalikes() {
    check_patterns("What is my name?", &[]);
    check_patterns("Do you think I prefer tabs?", &[]);
    check_patterns("I prefer not to say.", &[]);
    check_patterns("Can you summarise this article for me", &[]);
    check_patterns("Hi there, how are you", &[]);
    // "prefer" inside another word is not the trigger.
    check_patterns("Wii prefer lists", &[]);
    // Too long to be one fact: a story, not a preference.
    check_patterns(
        "I prefer the version where the hero goes back home after the long war and finds everyone gone",
        &[],
    );
}

#[test]
fn first_person_statements_gate_the_model() {
    assert!(has_first_person_statement("I have two cats."));
    assert!(has_first_person_statement(
        "Remember: the deadline is Friday"
    ));
    assert!(!has_first_person_statement(
        "What is the capital of France?"
    ));
    assert!(!has_first_person_statement("Can I use serde with enums?"));
    assert!(!has_first_person_statement("Explain monads."));
}

#[test]
fn model_answers_are_parsed_into_facts() {
    assert_eq!(
        parse_model_facts(
            "Facts:\n- The user's name is Ada.\n2. User prefers Rust\n* Sure, here you go\nNONE"
        ),
        ["The user's name is Ada.", "The user prefers Rust."]
    );
    assert!(parse_model_facts("NONE").is_empty());
    assert!(parse_model_facts("").is_empty());
}

#[test]
fn filters_reject_junk() {
    let said = "Hi! I'm Ada, I prefer Rust and I'm asking about lifetimes today.";
    let check_one = |fact: &str| check(fact, said);
    assert_eq!(check_one("The user prefers Rust."), Ok(()));
    assert_eq!(check_one("The user is Ada."), Ok(()));
    assert_eq!(check_one("Rust."), Err(Reject::Length));
    assert_eq!(
        check_one("The user asks whether Rust is fast?"),
        Err(Reject::Question)
    );
    assert_eq!(check_one("Hello, the user is Ada."), Err(Reject::Greeting));
    assert_eq!(check_one("Ada prefers Rust."), Err(Reject::NotAboutUser));
    assert_eq!(
        check_one("The user is asking about lifetimes."),
        Err(Reject::Transient)
    );
    assert_eq!(
        check("The user wants a joke.", "Tell me a joke."),
        Err(Reject::Transient)
    );
    assert_eq!(
        check(
            "The user thinks the last answer was wrong.",
            "I think your last answer was wrong."
        ),
        Err(Reject::Transient)
    );
    assert_eq!(
        check("The user wants to be called Sam.", "Please call me Sam."),
        Ok(())
    );
    // Copied from the prompt's example, or made up: not in the user's words.
    assert_eq!(
        check_one("The user lives in Leeds."),
        Err(Reject::Ungrounded)
    );
    assert_eq!(
        check_one("The user enjoys Python and Go."),
        Err(Reject::Ungrounded)
    );
}
