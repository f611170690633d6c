//! The workflow file format and its validation.
//!
//! A workflow is TOML (or the same shape as JSON): declared inputs, then steps that run in
//! order, each step's output available to later ones as `steps.<id>`. Text fields are
//! minijinja templates (`"Outline for {{ inputs.topic }}"`); fields that pick a value are
//! expressions (`over = "steps.outline.sections"`). Example:
//!
//! ```toml
//! name = "brief"
//! [inputs.topic]
//! type = "string"
//! required = true
//!
//! [[steps]]
//! id = "facts"
//! kind = "retrieve"
//! query = "{{ inputs.topic }}"
//!
//! [[steps]]
//! id = "points"
//! kind = "model"
//! prompt = "List three points about {{ inputs.topic }}."
//! output = "lines"
//!
//! [[steps]]
//! id = "expanded"
//! kind = "map"
//! over = "steps.points"
//! as = "point"
//! concurrency = 2
//! [steps.step]
//! kind = "model"
//! prompt = "Explain in two sentences: {{ point }}"
//! ```
//!
//! Parsing rejects unknown fields; [`Workflow::validate`] then reports every problem at once
//! (unknown step references, forward references, bad templates, a map without a step...).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::expr;

/// Most steps a workflow may have (map items are not counted: they are bounded by
/// `MAX_MAP_ITEMS`).
pub const MAX_STEPS: usize = 64;
pub const MAX_MAP_ITEMS: usize = 100;
pub const MAX_CONCURRENCY: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub inputs: BTreeMap<String, InputSpec>,
    pub steps: Vec<Step>,
    /// An expression for the run's output; the last step's output when absent.
    #[serde(default)]
    pub output: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    #[serde(rename = "type")]
    pub kind: InputType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<Value>,
    #[serde(default)]
    pub description: String,
}

/// Unknown fields are refused by the action's own struct: serde's `deny_unknown_fields`
/// cannot be combined with `flatten` here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub id: String,
    /// Run only when this expression is truthy; skipped otherwise.
    #[serde(default)]
    pub when: Option<String>,
    #[serde(flatten)]
    pub action: Action,
}

/// What a step does. Map items use the same shape without `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// A model call.
    Model(ModelStep),
    /// A knowledge search.
    Retrieve(RetrieveStep),
    /// A registered tool.
    Tool(ToolStep),
    /// The same step for every item of a list, in parallel.
    Map(Box<MapStep>),
    /// A value computed from an expression (a branch's test, a count...).
    Condition(ConditionStep),
    /// Waits for the user to approve (and optionally edit) a value, then continues.
    Review(ReviewStep),
    /// The article writer's originality check (see `crate::writer`).
    Originality(OriginalityStep),
    /// Text made from a template (assembling a document from earlier outputs).
    Render(RenderStep),
    /// An agent (model + tools loop) given a task; its output is its answer.
    Agent(AgentStep),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    /// The answer as it is, trimmed.
    #[default]
    Text,
    /// The answer parsed as JSON (constrained by `schema` when given).
    Json,
    /// One item per non-empty line, list markers removed.
    Lines,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelStep {
    /// The user message: a template.
    #[serde(default)]
    pub prompt: Option<String>,
    /// A named prompt template (built in, or the user's) rendered with `vars` instead.
    #[serde(default)]
    pub template: Option<String>,
    /// Template variables: each value's strings are templates themselves.
    #[serde(default)]
    pub vars: BTreeMap<String, Value>,
    /// The system message: a template.
    #[serde(default)]
    pub system: Option<String>,
    /// A model name; the run's model (or the tier's default) when absent.
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub output: OutputFormat,
    /// JSON Schema the answer must match (`output = "json"`): sent as `response_format`,
    /// which the local engine enforces by grammar.
    #[serde(default)]
    pub schema: Option<Value>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrieveStep {
    /// A template.
    pub query: String,
    /// An expression giving a list of collection ids; every readable collection when absent.
    #[serde(default)]
    pub collections: Option<String>,
    #[serde(default)]
    pub k: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolStep {
    pub tool: String,
    /// The call's arguments: strings are templates; a string that is exactly one
    /// `{{ expression }}` keeps the expression's type.
    #[serde(default)]
    pub arguments: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapStep {
    /// An expression giving the list.
    pub over: String,
    /// The item's name inside the step (`item` when absent); `index` is its position.
    #[serde(default = "default_item_name", rename = "as")]
    pub item: String,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    pub step: Action,
}

fn default_item_name() -> String {
    "item".into()
}

fn default_concurrency() -> usize {
    4
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionStep {
    pub expr: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewStep {
    /// An expression: the value the user reviews; what they approve becomes the output.
    pub value: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentStep {
    /// The task: a template.
    pub task: String,
    /// Who the agent is (a template): first in its system prompt.
    #[serde(default)]
    pub role: Option<String>,
    /// Tool names the agent may call.
    #[serde(default)]
    pub tools: Vec<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub max_steps: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderStep {
    pub template: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginalityStep {
    /// An expression giving the sections to check: a list of `{heading, text}` or strings.
    pub sections: String,
    /// An expression giving collection ids to compare against (every readable one when
    /// absent), besides the user's earlier articles.
    #[serde(default)]
    pub collections: Option<String>,
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Model(_) => "model",
            Action::Retrieve(_) => "retrieve",
            Action::Tool(_) => "tool",
            Action::Map(_) => "map",
            Action::Condition(_) => "condition",
            Action::Review(_) => "review",
            Action::Originality(_) => "originality",
            Action::Render(_) => "render",
            Action::Agent(_) => "agent",
        }
    }
}

/// A workflow that does not parse or does not hold together: every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<String>);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.join("; "))
    }
}

impl Workflow {
    /// Parses TOML source and validates it.
    pub fn from_toml(source: &str) -> Result<Workflow, Invalid> {
        let workflow: Workflow = toml::from_str(source)
            .map_err(|e| Invalid(vec![e.message().to_string() + &at(source, e.span())]))?;
        workflow.validate()?;
        Ok(workflow)
    }

    /// Parses the JSON shape and validates it.
    pub fn from_json(value: Value) -> Result<Workflow, Invalid> {
        let workflow: Workflow = serde_path_to_error::deserialize(value)
            .map_err(|e| Invalid(vec![format!("{}: {}", e.path(), e.inner())]))?;
        workflow.validate()?;
        Ok(workflow)
    }

    /// Checks everything that can be checked before running; all problems at once.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push("name: must not be empty".to_string());
        }
        if self.steps.is_empty() {
            problems.push("steps: a workflow needs at least one step".to_string());
        }
        if self.steps.len() > MAX_STEPS {
            problems.push(format!("steps: at most {MAX_STEPS} steps"));
        }
        for (name, spec) in &self.inputs {
            if !is_identifier(name) {
                problems.push(format!("inputs.{name}: names are letters, digits and '_'"));
            }
            if spec.required && spec.default.is_some() {
                problems.push(format!("inputs.{name}: a required input has no default"));
            }
        }
        let mut earlier: HashSet<&str> = HashSet::new();
        for (i, step) in self.steps.iter().enumerate() {
            let here = format!("steps[{i}] ({})", step.id);
            if !is_identifier(&step.id) {
                problems.push(format!(
                    "steps[{i}].id: '{}' must be letters, digits and '_'",
                    step.id
                ));
            } else if earlier.contains(step.id.as_str()) {
                problems.push(format!("{here}: the id is used by an earlier step"));
            }
            let scope = Scope {
                inputs: &self.inputs,
                earlier: &earlier,
                locals: &[],
            };
            if let Some(when) = &step.when {
                scope.check_expr(&format!("{here}.when"), when, &mut problems);
            }
            check_action(&here, &step.action, &scope, true, &mut problems);
            earlier.insert(step.id.as_str());
        }
        if let Some(output) = &self.output {
            let scope = Scope {
                inputs: &self.inputs,
                earlier: &earlier,
                locals: &[],
            };
            scope.check_expr("output", output, &mut problems);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Invalid(problems))
        }
    }

    /// The run's inputs: the given ones checked against the declarations, defaults filled in.
    pub fn bind_inputs(&self, given: &serde_json::Map<String, Value>) -> Result<Value, Invalid> {
        let mut problems = Vec::new();
        let mut bound = serde_json::Map::new();
        for name in given.keys() {
            if !self.inputs.contains_key(name) {
                problems.push(format!("inputs.{name}: the workflow has no such input"));
            }
        }
        for (name, spec) in &self.inputs {
            match given.get(name).filter(|v| !v.is_null()) {
                Some(value) if type_matches(spec.kind, value) => {
                    bound.insert(name.clone(), value.clone());
                }
                Some(_) => problems.push(format!(
                    "inputs.{name}: expected {}",
                    format!("{:?}", spec.kind).to_lowercase()
                )),
                None if spec.required => problems.push(format!("inputs.{name}: required")),
                None => {
                    bound.insert(name.clone(), spec.default.clone().unwrap_or(Value::Null));
                }
            }
        }
        if problems.is_empty() {
            Ok(Value::Object(bound))
        } else {
            Err(Invalid(problems))
        }
    }
}

fn at(source: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(span) => {
            let before = &source[..span.start.min(source.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!(" (line {line}, column {column})")
        }
        None => String::new(),
    }
}

fn type_matches(kind: InputType, value: &Value) -> bool {
    match kind {
        InputType::String => value.is_string(),
        InputType::Number => value.is_number(),
        InputType::Integer => value.is_i64() || value.is_u64(),
        InputType::Boolean => value.is_boolean(),
        InputType::Array => value.is_array(),
        InputType::Object => value.is_object(),
    }
}

pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// What names a template or expression may use at one place in a workflow.
struct Scope<'a> {
    inputs: &'a BTreeMap<String, InputSpec>,
    earlier: &'a HashSet<&'a str>,
    /// A map's item name and `index`.
    locals: &'a [&'a str],
}

impl Scope<'_> {
    fn check_names(&self, at: &str, names: HashSet<String>, problems: &mut Vec<String>) {
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort();
        for name in names {
            let mut parts = name.split('.');
            let root = parts.next().unwrap_or_default();
            let field = parts.next();
            match (root, field) {
                ("inputs", Some(input)) if !self.inputs.contains_key(input) => {
                    problems.push(format!("{at}: unknown input '{input}'"))
                }
                ("steps", Some(step)) if !self.earlier.contains(step) => problems.push(format!(
                    "{at}: 'steps.{step}' is not an earlier step (steps can only use the outputs of steps before them)"
                )),
                ("inputs" | "steps", _) => {}
                (local, _) if self.locals.contains(&local) => {}
                (other, _) => problems.push(format!(
                    "{at}: unknown name '{other}' (use inputs.<name>, steps.<id>{})",
                    if self.locals.is_empty() { "" } else { " or the map's item" }
                )),
            }
        }
    }

    fn check_template(&self, at: &str, source: &str, problems: &mut Vec<String>) {
        match expr::template_names(source) {
            Ok(names) => self.check_names(at, names, problems),
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    }

    fn check_expr(&self, at: &str, source: &str, problems: &mut Vec<String>) {
        match expr::expression_names(source) {
            Ok(names) => self.check_names(at, names, problems),
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    }

    fn check_value(&self, at: &str, value: &Value, problems: &mut Vec<String>) {
        match value {
            Value::String(s) => self.check_template(at, s, problems),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_value(&format!("{at}[{i}]"), item, problems);
                }
            }
            Value::Object(fields) => {
                for (k, v) in fields {
                    self.check_value(&format!("{at}.{k}"), v, problems);
                }
            }
            _ => {}
        }
    }
}

fn check_action(
    here: &str,
    action: &Action,
    scope: &Scope<'_>,
    top_level: bool,
    problems: &mut Vec<String>,
) {
    match action {
        Action::Model(m) => {
            match (&m.prompt, &m.template) {
                (Some(p), None) => scope.check_template(&format!("{here}.prompt"), p, problems),
                (None, Some(_)) => {
                    for (k, v) in &m.vars {
                        scope.check_value(&format!("{here}.vars.{k}"), v, problems);
                    }
                }
                _ => problems.push(format!(
                    "{here}: a model step has exactly one of 'prompt' or 'template'"
                )),
            }
            if let Some(system) = &m.system {
                scope.check_template(&format!("{here}.system"), system, problems);
            }
            if m.schema.is_some() && m.output != OutputFormat::Json {
                problems.push(format!("{here}.schema: only with output = \"json\""));
            }
            if let Some(schema) = &m.schema
                && !schema.is_object()
            {
                problems.push(format!("{here}.schema: must be a JSON Schema object"));
            }
            if m.max_tokens == Some(0) {
                problems.push(format!("{here}.max_tokens: must be at least 1"));
            }
            if let Some(t) = m.temperature
                && !(0.0..=2.0).contains(&t)
            {
                problems.push(format!("{here}.temperature: between 0 and 2"));
            }
        }
        Action::Retrieve(r) => {
            scope.check_template(&format!("{here}.query"), &r.query, problems);
            if let Some(c) = &r.collections {
                scope.check_expr(&format!("{here}.collections"), c, problems);
            }
            if r.k.is_some_and(|k| !(1..=50).contains(&k)) {
                problems.push(format!("{here}.k: between 1 and 50"));
            }
        }
        Action::Tool(t) => {
            if t.tool.trim().is_empty() {
                problems.push(format!("{here}.tool: must name a tool"));
            }
            for (k, v) in &t.arguments {
                scope.check_value(&format!("{here}.arguments.{k}"), v, problems);
            }
        }
        Action::Map(map) => {
            if !top_level {
                problems.push(format!("{here}: a map cannot be inside a map"));
            }
            scope.check_expr(&format!("{here}.over"), &map.over, problems);
            if !is_identifier(&map.item)
                || matches!(map.item.as_str(), "inputs" | "steps" | "index")
            {
                problems.push(format!(
                    "{here}.as: '{}' must be a name other than inputs, steps and index",
                    map.item
                ));
            }
            if !(1..=MAX_CONCURRENCY).contains(&map.concurrency) {
                problems.push(format!(
                    "{here}.concurrency: between 1 and {MAX_CONCURRENCY}"
                ));
            }
            if matches!(map.step, Action::Review(_)) {
                problems.push(format!("{here}.step: a review cannot be mapped"));
            }
            let locals = [map.item.as_str(), "index"];
            let inner = Scope {
                inputs: scope.inputs,
                earlier: scope.earlier,
                locals: &locals,
            };
            check_action(&format!("{here}.step"), &map.step, &inner, false, problems);
        }
        Action::Condition(c) => scope.check_expr(&format!("{here}.expr"), &c.expr, problems),
        Action::Review(r) => scope.check_expr(&format!("{here}.value"), &r.value, problems),
        Action::Render(r) => {
            scope.check_template(&format!("{here}.template"), &r.template, problems)
        }
        Action::Agent(a) => {
            scope.check_template(&format!("{here}.task"), &a.task, problems);
            if let Some(role) = &a.role {
                scope.check_template(&format!("{here}.role"), role, problems);
            }
            if a.max_steps.is_some_and(|n| !(1..=20).contains(&n)) {
                problems.push(format!("{here}.max_steps: between 1 and 20"));
            }
        }
        Action::Originality(o) => {
            scope.check_expr(&format!("{here}.sections"), &o.sections, problems);
            if let Some(c) = &o.collections {
                scope.check_expr(&format!("{here}.collections"), c, problems);
            }
        }
    }
}

impl Workflow {
    /// The ids of the earlier steps a step reads (`steps.<id>` in any of its templates or
    /// expressions).
    pub fn reads(&self, step: &Step) -> HashSet<String> {
        let mut names = HashSet::new();
        if let Some(when) = &step.when {
            names.extend(expr::expression_names(when).unwrap_or_default());
        }
        action_names(&step.action, &mut names);
        names
            .into_iter()
            .filter_map(|n| {
                let mut parts = n.split('.');
                (parts.next() == Some("steps")).then(|| parts.next().map(str::to_string))?
            })
            .collect()
    }

    /// The steps to run again when `id` runs again: itself and every later step that reads
    /// it, directly or through another such step.
    pub fn dependents(&self, id: &str) -> Vec<String> {
        let mut stale: Vec<String> = vec![id.to_string()];
        for step in &self.steps {
            if step.id != id && self.reads(step).iter().any(|r| stale.contains(r)) {
                stale.push(step.id.clone());
            }
        }
        stale
    }
}

fn action_names(action: &Action, names: &mut HashSet<String>) {
    let mut template = |s: &str| names.extend(expr::template_names(s).unwrap_or_default());
    match action {
        Action::Model(m) => {
            m.prompt.as_deref().map(&mut template);
            m.system.as_deref().map(&mut template);
            for v in m.vars.values() {
                value_names(v, &mut template);
            }
        }
        Action::Retrieve(r) => {
            template(&r.query);
            if let Some(c) = &r.collections {
                names.extend(expr::expression_names(c).unwrap_or_default());
            }
        }
        Action::Tool(t) => {
            for v in t.arguments.values() {
                value_names(v, &mut template);
            }
        }
        Action::Map(map) => {
            names.extend(expr::expression_names(&map.over).unwrap_or_default());
            action_names(&map.step, names);
        }
        Action::Condition(c) => names.extend(expr::expression_names(&c.expr).unwrap_or_default()),
        Action::Review(r) => names.extend(expr::expression_names(&r.value).unwrap_or_default()),
        Action::Render(r) => names.extend(expr::template_names(&r.template).unwrap_or_default()),
        Action::Agent(a) => {
            names.extend(expr::template_names(&a.task).unwrap_or_default());
            if let Some(role) = &a.role {
                names.extend(expr::template_names(role).unwrap_or_default());
            }
        }
        Action::Originality(o) => {
            names.extend(expr::expression_names(&o.sections).unwrap_or_default());
            if let Some(c) = &o.collections {
                names.extend(expr::expression_names(c).unwrap_or_default());
            }
        }
    }
}

fn value_names(value: &Value, template: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => template(s),
        Value::Array(items) => items.iter().for_each(|v| value_names(v, template)),
        Value::Object(fields) => fields.values().for_each(|v| value_names(v, template)),
        _ => {}
    }
}
