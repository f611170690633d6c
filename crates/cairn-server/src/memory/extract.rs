//! Finding durable facts about the user in what they wrote: deterministic patterns, the
//! model's answer to a strict prompt, and the cheap filters every candidate must pass.
//!
//! Pure functions (no IO), so the rules are tested directly. Facts are kept in one form,
//! third person ("The user prefers Rust."), whichever way they were found.

use cairn_types::Role;

use super::chat_message;
use crate::openai::chat::ChatMessage;

/// Where a candidate fact came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Pattern,
    Model,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Pattern => "pattern",
            Source::Model => "model",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub text: String,
    pub source: Source,
}

/// Most facts kept from one message: a message that yields more is rarely all durable.
pub const MAX_FACTS_PER_TURN: usize = 5;
const MIN_FACT_CHARS: usize = 8;
const MAX_FACT_CHARS: usize = 200;
const MAX_FACT_WORDS: usize = 30;
/// Share of a fact's content words that must appear in the user's own message.
const MIN_GROUNDING: f32 = 0.6;

/// What a captured phrase becomes; `{}` is the phrase.
struct Rule {
    trigger: &'static str,
    template: &'static str,
    /// Most words captured after the trigger.
    max_words: usize,
    /// Capture to the end of the sentence, not just the clause (`remember that ...`).
    whole_sentence: bool,
}

const fn rule(trigger: &'static str, template: &'static str, max_words: usize) -> Rule {
    Rule {
        trigger,
        template,
        max_words,
        whole_sentence: false,
    }
}

/// First-person statements that are durable by their form. Matched case-insensitively at a
/// word boundary, in sentences that are not questions.
const RULES: &[Rule] = &[
    rule("my name is ", "The user's name is {}.", 3),
    rule("my name's ", "The user's name is {}.", 3),
    rule("please call me ", "The user wants to be called {}.", 3),
    rule("you can call me ", "The user wants to be called {}.", 3),
    rule("i prefer ", "The user prefers {}.", 8),
    rule("i'd prefer ", "The user prefers {}.", 8),
    rule("i work on ", "The user works on {}.", 8),
    rule("i'm working on ", "The user is working on {}.", 8),
    rule("i am working on ", "The user is working on {}.", 8),
    rule("i work at ", "The user works at {}.", 6),
    rule("i work for ", "The user works for {}.", 6),
    rule("i work as ", "The user works as {}.", 6),
    rule("i live in ", "The user lives in {}.", 5),
    rule("i'm from ", "The user is from {}.", 5),
    rule("i am from ", "The user is from {}.", 5),
    rule("i'm allergic to ", "The user is allergic to {}.", 5),
    rule("i am allergic to ", "The user is allergic to {}.", 5),
    rule("i'm learning ", "The user is learning {}.", 6),
    rule("i am learning ", "The user is learning {}.", 6),
    rule("i'm building ", "The user is building {}.", 8),
    rule("i am building ", "The user is building {}.", 8),
    rule("i speak ", "The user speaks {}.", 5),
    rule("my favorite ", "The user's favorite {}.", 8),
    rule("my favourite ", "The user's favourite {}.", 8),
    Rule {
        trigger: "remember that ",
        template: "{}",
        max_words: 20,
        whole_sentence: true,
    },
];

/// Words that end a captured clause.
const CLAUSE_ENDS: &[&str] = &[
    "and", "but", "because", "so", "since", "though", "although", "which", "when", "while", "if",
    "or", "then", "who", "from",
];

/// Words that mark something passing, not durable, or about the conversation itself.
const TRANSIENT: &[&str] = &[
    "today",
    "tonight",
    "tomorrow",
    "yesterday",
    "now",
    "currently",
    "asking",
    "asked",
    "asks",
    "ask",
    "question",
    "questions",
    "remember",
    "remembered",
    // Opinions about the conversation and passing states, not facts about the person.
    "think",
    "thought",
    "feel",
    "wrong",
    "understand",
    "mean",
    "meant",
    "tired",
    "confused",
    "help",
    "explain",
    "debug",
    "debugging",
    "error",
    "wants to know",
    "would like to know",
    "needs help",
    "wants help",
    "looking for help",
    "this conversation",
    "the assistant",
    "assistant",
    "chatbot",
    "ai model",
    "language model",
];

const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank",
    "ok",
    "okay",
    "sure",
    "sorry",
    "yes",
    "no",
    "great",
    "good",
    "bye",
    "goodbye",
    "welcome",
    "certainly",
    "of course",
    "as an ai",
];

const STOPWORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "am",
    "to",
    "of",
    "in",
    "on",
    "at",
    "for",
    "with",
    "and",
    "or",
    "but",
    "user",
    "user's",
    "users",
    "their",
    "they",
    "them",
    "his",
    "her",
    "he",
    "she",
    "it",
    "its",
    "that",
    "this",
    "as",
    "by",
    "from",
    "has",
    "have",
    "had",
    "i",
    "my",
    "me",
    "i'm",
    "mine",
    "wants",
    "want",
    "likes",
    "like",
    "prefers",
    "prefer",
    "called",
    "named",
    "name",
    "name's",
    "works",
    "work",
    "working",
    "lives",
    "live",
    "uses",
    "use",
    "using",
    "does",
    "do",
    "not",
    "very",
    "really",
    "also",
    "favorite",
    "favourite",
];

/// Sentences with whether each is a question.
fn sentences(text: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?' | ';' | '\n') {
            // A dot between two non-space characters (a version, "e.g.", a file name) does
            // not end a sentence.
            if c == '.'
                && text[i + 1..]
                    .chars()
                    .next()
                    .is_some_and(|n| !n.is_whitespace())
            {
                continue;
            }
            let s = text[start..i].trim();
            if !s.is_empty() {
                out.push((s, c == '?'));
            }
            start = i + c.len_utf8();
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push((rest, false));
    }
    out
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '\'' || c == '-'
}

/// Byte offsets where `needle` (lowercase ASCII) starts at a word boundary in `haystack`
/// (already ASCII-lowercased, so offsets match the original).
fn word_matches(haystack: &str, needle: &str) -> Vec<usize> {
    haystack
        .match_indices(needle)
        .filter(|(i, _)| {
            haystack[..*i]
                .chars()
                .next_back()
                .is_none_or(|c| !is_word_char(c))
        })
        .map(|(i, _)| i)
        .collect()
}

/// The phrase after a trigger: up to the end of its clause (or sentence), at most
/// `max_words` words, without trailing punctuation.
fn capture(rest: &str, rule: &Rule) -> Option<String> {
    let mut words = Vec::new();
    for raw in rest.split_whitespace() {
        let word = raw.trim_end_matches([',', ':', ')', '"', '\'']);
        if !rule.whole_sentence && CLAUSE_ENDS.contains(&word.to_ascii_lowercase().as_str()) {
            break;
        }
        words.push(word);
        if raw.ends_with(',') && !rule.whole_sentence {
            break;
        }
        if words.len() > rule.max_words {
            // Longer than the rule allows: too likely to be a story, not a fact.
            return None;
        }
    }
    let phrase = words.join(" ");
    let phrase =
        phrase.trim_matches(|c: char| !c.is_alphanumeric() && !matches!(c, ')' | '+' | '#'));
    (!phrase.is_empty()).then(|| phrase.to_string())
}

/// First person → third person, for `remember that ...` facts.
fn third_person(text: &str) -> String {
    let mut out = Vec::new();
    for (i, word) in text.split_whitespace().enumerate() {
        let lower = word.to_ascii_lowercase();
        let bare = lower.trim_end_matches([',', '.', '!']);
        let tail = &word[bare.len().min(word.len())..];
        let replaced = match bare {
            "i" => Some("the user"),
            "i'm" => Some("the user is"),
            "i've" => Some("the user has"),
            "i'd" => Some("the user would"),
            "i'll" => Some("the user will"),
            "my" => Some("the user's"),
            "me" | "myself" => Some("the user"),
            "mine" => Some("the user's"),
            "am" => Some("is"),
            _ => None,
        };
        let piece = match replaced {
            Some(r) => format!("{r}{tail}"),
            None => word.to_string(),
        };
        out.push(if i == 0 { capitalize(&piece) } else { piece });
    }
    out.join(" ")
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn finish_sentence(mut s: String) -> String {
    while s.ends_with(['.', ',', ';', ':', '!']) {
        s.pop();
    }
    s.push('.');
    s
}

/// Facts found by the deterministic rules, in order, without repeats.
pub fn pattern_facts(user_text: &str) -> Vec<String> {
    let mut facts: Vec<String> = Vec::new();
    for (sentence, question) in sentences(user_text) {
        if question {
            continue;
        }
        let lower = sentence.to_ascii_lowercase();
        for rule in RULES {
            for at in word_matches(&lower, rule.trigger) {
                let rest = &sentence[at + rule.trigger.len()..];
                let Some(phrase) = capture(rest, rule) else {
                    continue;
                };
                if phrase.to_ascii_lowercase().starts_with("not ") {
                    continue;
                }
                let fact = if rule.template == "{}" {
                    finish_sentence(third_person(&phrase))
                } else {
                    finish_sentence(rule.template.replace("{}", &phrase))
                };
                if !facts.iter().any(|f| f.eq_ignore_ascii_case(&fact)) {
                    facts.push(fact);
                }
            }
        }
    }
    facts
}

/// Whether the message states something about its writer: a sentence that is not a question
/// and speaks in the first person (or asks to remember). Messages without one never go to
/// the model for extraction, which keeps most turns free of that cost.
pub fn has_first_person_statement(user_text: &str) -> bool {
    sentences(user_text).iter().any(|(sentence, question)| {
        !question
            && sentence
                .split(|c: char| !is_word_char(c))
                .map(str::to_ascii_lowercase)
                .any(|w| {
                    matches!(
                        w.as_str(),
                        "i" | "i'm" | "i've" | "i'd" | "my" | "me" | "mine" | "myself" | "remember"
                    )
                })
    })
}

/// The strict extraction prompt. Examples show the form; facts copied from them are caught
/// by the grounding filter (their words are not in the user's message).
pub fn extraction_messages(user_text: &str) -> Vec<ChatMessage> {
    let system = "You pick out long-term memories about the user from one message they wrote.\n\
Keep only durable facts the user states about themselves: their name, preferences, projects, \
job, tools, where they live, people close to them, and things they ask you to remember.\n\
Ignore questions, requests for help, greetings, feelings about this conversation, and \
anything temporary.\n\
Write each fact on its own line as a short sentence that starts with \"The user\". \
If there is no durable fact, answer exactly: NONE\n\n\
Message: Hi! Can you explain closures in JavaScript?\n\
Facts:\nNONE\n\n\
Message: I'm Sam, a nurse in Leeds, and I prefer short answers.\n\
Facts:\nThe user's name is Sam.\nThe user is a nurse.\nThe user lives in Leeds.\n\
The user prefers short answers.";
    vec![
        chat_message(Role::System, system),
        chat_message(Role::User, &format!("Message: {user_text}\nFacts:")),
    ]
}

/// The facts in the model's answer: one per line, bullets and numbering removed, in the
/// third-person form. Lines that are not in that form are left out here.
pub fn parse_model_facts(output: &str) -> Vec<String> {
    let mut facts = Vec::new();
    for line in output.lines() {
        let line = line
            .trim()
            .trim_start_matches(|c: char| {
                c == '-' || c == '*' || c == '•' || c.is_ascii_digit() || c == ')'
            })
            .trim_start_matches(". ")
            .trim()
            .trim_matches('"')
            .trim();
        if line.is_empty() || line.eq_ignore_ascii_case("none") || line.starts_with("Facts") {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        let normalised = if lower.starts_with("the user") {
            line.to_string()
        } else if lower.starts_with("user") {
            format!("The {}", capitalize_not(line))
        } else {
            continue;
        };
        facts.push(finish_sentence(normalised));
    }
    facts
}

fn capitalize_not(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Why a candidate was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    Length,
    Question,
    Greeting,
    NotAboutUser,
    Transient,
    /// Its words are not the user's: invented, copied from the examples, or echoed from the
    /// assistant's answer.
    Ungrounded,
}

impl Reject {
    pub fn as_str(self) -> &'static str {
        match self {
            Reject::Length => "length",
            Reject::Question => "question",
            Reject::Greeting => "greeting",
            Reject::NotAboutUser => "not_about_user",
            Reject::Transient => "transient",
            Reject::Ungrounded => "ungrounded",
        }
    }
}

/// Lowercase words with light stemming (a trailing `'s` or `s`), for overlap checks.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '+' || c == '#'))
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            let w = w.trim_matches('\'');
            let w = w.strip_suffix("'s").unwrap_or(w);
            if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
                w[..w.len() - 1].to_string()
            } else {
                w.to_string()
            }
        })
        .collect()
}

/// Words that carry meaning: not stopwords, not the user's pronouns.
pub fn content_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = words(text)
        .into_iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The cheap filters every candidate passes before it is compared with stored memories.
pub fn check(fact: &str, user_text: &str) -> Result<(), Reject> {
    let chars = fact.chars().count();
    let word_count = fact.split_whitespace().count();
    if !(MIN_FACT_CHARS..=MAX_FACT_CHARS).contains(&chars)
        || !(3..=MAX_FACT_WORDS).contains(&word_count)
    {
        return Err(Reject::Length);
    }
    if fact.contains('?') {
        return Err(Reject::Question);
    }
    let lower = fact.to_lowercase();
    let after_subject = lower
        .strip_prefix("the user's ")
        .or_else(|| lower.strip_prefix("the user "))
        .unwrap_or(&lower);
    if GREETINGS.iter().any(|g| {
        after_subject.starts_with(g) && !after_subject[g.len()..].starts_with(char::is_alphanumeric)
    }) || GREETINGS
        .iter()
        .any(|g| lower.starts_with(g) && g.contains(' '))
    {
        return Err(Reject::Greeting);
    }
    if !lower.starts_with("the user") {
        return Err(Reject::NotAboutUser);
    }
    // "The user wants a joke": a request of the moment, not a fact about the person.
    let request = ["the user wants ", "the user would like ", "the user needs "]
        .iter()
        .any(|p| lower.starts_with(p))
        && !lower.starts_with("the user wants to be called");
    let fact_words = words(fact);
    if request
        || TRANSIENT.iter().any(|t| {
            if t.contains(' ') {
                lower.contains(t)
            } else {
                fact_words.iter().any(|w| w == t)
            }
        })
    {
        return Err(Reject::Transient);
    }
    let content = content_words(fact);
    if content.is_empty() {
        return Err(Reject::Ungrounded);
    }
    let user_words = words(user_text);
    let grounded = content
        .iter()
        .filter(|w| user_words.iter().any(|u| u == *w))
        .count();
    if (grounded as f32) < MIN_GROUNDING * content.len() as f32 {
        return Err(Reject::Ungrounded);
    }
    Ok(())
}

/// A key for exact-duplicate checks: content words in order of appearance.
pub fn normalised(text: &str) -> String {
    words(text).join(" ")
}

#[cfg(test)]
mod tests;
