//! Writing GBNF, llama.cpp's grammar notation: quoted literals, a set of named rules, and the
//! JSON building blocks every JSON grammar here shares.

use std::collections::{BTreeMap, HashMap, HashSet};

/// At most one space wherever JSON allows whitespace, and never a newline: a small model that
/// likes to pretty-print cannot then spend its whole budget on indentation.
pub(crate) const WS: &str = r#"ws ::= " "?"#;

/// One character of a JSON string: anything but a quote, a backslash or a control character,
/// or an escape. `\u` escapes exclude the surrogate range D800–DFFF, which a lone half would
/// make invalid (serde_json, among others, refuses a lone surrogate).
const CHAR: &str = r#"char ::= [^"\\\x00-\x1F\x7F] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))"#;

/// Numbers with bounded digits, so a model cannot write digits forever: 16 integer digits
/// (beyond them an i64/f64 loses precision anyway), 16 decimals, a 3-digit exponent.
const INTEGER: &str = r#"integer ::= "-"? ("0" | [1-9] [0-9]{0,15})"#;
const NUMBER: &str = r#"number ::= integer ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?"#;

/// The building blocks by name, with the blocks each one uses.
fn primitive(name: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match name {
        "ws" => (WS, &[]),
        "char" => (CHAR, &[]),
        "string" => (r#"string ::= "\"" char* "\"""#, &["char"]),
        "integer" => (INTEGER, &[]),
        "number" => (NUMBER, &["integer"]),
        "boolean" => (r#"boolean ::= "true" | "false""#, &[]),
        "null" => (r#"null ::= "null""#, &[]),
        "value" => (
            "value ::= object | array | string | number | boolean | null",
            &["object", "array", "string", "number", "boolean", "null"],
        ),
        "object" => (
            r#"object ::= "{" ws (member ("," ws member)* ws)? "}""#,
            &["ws", "member"],
        ),
        "member" => (
            r#"member ::= string ":" ws value"#,
            &["string", "ws", "value"],
        ),
        "array" => (
            r#"array ::= "[" ws (value ("," ws value)* ws)? "]""#,
            &["ws", "value"],
        ),
        _ => return None,
    })
}

/// `text` as a GBNF string literal, quotes included.
pub(crate) fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Named rules under construction. Identical bodies share one rule; names are made unique.
#[derive(Default)]
pub(crate) struct Rules {
    rules: BTreeMap<String, String>,
    order: Vec<String>,
    by_body: HashMap<String, String>,
    primitives: HashSet<&'static str>,
}

impl Rules {
    /// A building block by name (`string`, `value`, `ws`...), added with what it needs.
    pub fn primitive(&mut self, name: &'static str) -> &'static str {
        if self.primitives.insert(name) {
            let (_, needs) = primitive(name).expect("a known building block");
            for need in needs {
                self.primitive(need);
            }
        }
        name
    }

    /// Adds a rule with this body and returns its name, or the name of an existing rule with
    /// the same body.
    pub fn add(&mut self, hint: &str, body: String) -> String {
        if let Some(name) = self.by_body.get(&body) {
            return name.clone();
        }
        let name = self.reserve(hint);
        self.define(&name, body);
        name
    }

    /// A fresh rule name from a hint (a property name, a `$defs` key...), to define later.
    pub fn reserve(&mut self, hint: &str) -> String {
        let mut base: String = hint
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        base = base.trim_matches('-').to_string();
        if base.is_empty() {
            base = "rule".into();
        }
        let mut name = base.clone();
        let mut n = 1;
        while self.rules.contains_key(&name) || primitive(&name).is_some() || name == "root" {
            n += 1;
            name = format!("{base}-{n}");
        }
        self.rules.insert(name.clone(), String::new());
        self.order.push(name.clone());
        name
    }

    pub fn define(&mut self, name: &str, body: String) {
        self.by_body.insert(body.clone(), name.to_string());
        self.rules.insert(name.to_string(), body);
    }

    /// The grammar text: `root` first, then the rules in the order they were made, then the
    /// building blocks used.
    pub fn finish(self, root: &str) -> String {
        let mut out = format!("root ::= {root}\n");
        for name in &self.order {
            out.push_str(&format!("{name} ::= {}\n", self.rules[name]));
        }
        let mut primitives: Vec<&str> = self.primitives.into_iter().collect();
        primitives.sort_unstable();
        for name in primitives {
            out.push_str(primitive(name).expect("a known building block").0);
            out.push('\n');
        }
        out
    }
}
