//! Arithmetic for models, which are bad at it.
//!
//! A small hand-written recursive-descent evaluator rather than a crate: the grammar is a
//! few dozen lines, it needs no dependency, and it gives what the general expression crates
//! do not all give together: error positions, a hard bound on length and nesting (no stack
//! overflow on `((((...`), errors instead of `inf`/`NaN`, and the notations small models
//! write (`12 × 37`, `12 x 37`, `1,234 + 5`, `2**10`, `−3`).
//!
//! Grammar (loosest first); `^` is right-associative and binds tighter than unary minus,
//! so `-2^2` is -4 and `2^-1` is 0.5:
//!
//! ```text
//! expr    = term (("+" | "-") term)*
//! term    = unary (("*" | "/" | "%" | "×" | "÷" | "x") unary)*
//! unary   = ("-" | "+") unary | power
//! power   = primary (("^" | "**") unary)?
//! primary = number | constant | name "(" expr ("," expr)* ")" | "(" expr ")"
//! ```
//!
//! A comma between digit groups of exactly three (`1,234,567`) is a thousands separator,
//! except directly inside a function's argument list, where it separates arguments:
//! `max(1,234)` is 234, `max(1,234 + 0)` too, `(1,234)` is 1234.

use crate::ToolError;

/// Longer input is refused before parsing.
pub const MAX_EXPRESSION_CHARS: usize = 1_000;
/// Nesting of parentheses and unary signs; deeper input is refused, never overflows the stack.
const MAX_DEPTH: usize = 100;

/// Evaluates an arithmetic expression. Angles are in radians.
pub fn evaluate(expression: &str) -> Result<f64, ToolError> {
    let chars: Vec<char> = expression.chars().collect();
    if chars.len() > MAX_EXPRESSION_CHARS {
        return Err(ToolError::InvalidInput(format!(
            "the expression is too long ({} characters; at most {MAX_EXPRESSION_CHARS})",
            chars.len()
        )));
    }
    let mut parser = Parser {
        chars,
        pos: 0,
        depth: 0,
        in_arguments: false,
    };
    parser.skip_space();
    if parser.peek().is_none() {
        return Err(ToolError::InvalidInput("the expression is empty".into()));
    }
    let value = parser.expr()?;
    parser.skip_space();
    // "2 + 2 =" is how people (and models) often end a sum.
    if parser.peek() == Some('=') {
        parser.pos += 1;
        parser.skip_space();
    }
    if let Some(c) = parser.peek() {
        return Err(parser.error(format!("unexpected {c:?}; expected an operator")));
    }
    // -0 reads oddly in an answer.
    Ok(if value == 0.0 { 0.0 } else { value })
}

/// Formats a result for a model to read: integers without a decimal point, other numbers
/// with at most 12 significant digits (so 0.1 + 0.2 reads 0.3).
pub fn format_number(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    let magnitude = value.abs().log10().floor() as i32;
    if !(-6..15).contains(&magnitude) {
        let text = format!("{value:.11e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    let decimals = (11 - magnitude).max(0) as usize;
    trim_zeros(&format!("{value:.decimals$}")).to_string()
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    /// Directly inside a function's argument list, where ',' separates arguments.
    in_arguments: bool,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn error(&self, message: impl Into<String>) -> ToolError {
        ToolError::Syntax {
            position: self.pos + 1,
            message: message.into(),
        }
    }

    fn expr(&mut self) -> Result<f64, ToolError> {
        let mut value = self.term()?;
        loop {
            self.skip_space();
            let sign = match self.peek() {
                Some('+') => 1.0,
                Some('-' | '−') => -1.0,
                _ => return Ok(value),
            };
            self.pos += 1;
            value = finite(value + sign * self.term()?)?;
        }
    }

    fn term(&mut self) -> Result<f64, ToolError> {
        let mut value = self.unary()?;
        loop {
            self.skip_space();
            let op = match self.peek() {
                Some('*') if self.peek_at(1) == Some('*') => return Ok(value),
                Some('*' | '×' | '·' | '⋅') => '*',
                // "12 x 37": a name never follows an operand, so x there can only mean times.
                Some('x' | 'X') if !self.peek_at(1).is_some_and(char::is_alphabetic) => '*',
                Some('/' | '÷') => '/',
                Some('%') => '%',
                _ => return Ok(value),
            };
            self.pos += 1;
            let rhs = self.unary()?;
            value = match op {
                '*' => finite(value * rhs)?,
                '/' if rhs == 0.0 => return Err(math("division by zero")),
                '/' => finite(value / rhs)?,
                _ if rhs == 0.0 => return Err(math("remainder of a division by zero")),
                _ => finite(value % rhs)?,
            };
        }
    }

    fn unary(&mut self) -> Result<f64, ToolError> {
        self.skip_space();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        let value = match self.peek() {
            Some('-' | '−') => {
                self.pos += 1;
                -self.unary()?
            }
            Some('+') => {
                self.pos += 1;
                self.unary()?
            }
            _ => self.power()?,
        };
        self.depth -= 1;
        Ok(value)
    }

    fn power(&mut self) -> Result<f64, ToolError> {
        let base = self.primary()?;
        self.skip_space();
        let width = match (self.peek(), self.peek_at(1)) {
            (Some('^'), _) => 1,
            (Some('*'), Some('*')) => 2,
            _ => return Ok(base),
        };
        self.pos += width;
        let exponent = self.unary()?;
        pow(base, exponent)
    }

    fn primary(&mut self) -> Result<f64, ToolError> {
        self.skip_space();
        match self.peek() {
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(),
            Some('(') => {
                self.pos += 1;
                let outer = std::mem::replace(&mut self.in_arguments, false);
                let value = self.expr()?;
                self.in_arguments = outer;
                self.expect(')')?;
                Ok(value)
            }
            Some(c) if c.is_alphabetic() => self.name(),
            Some(c) => Err(self.error(format!(
                "unexpected {c:?}; expected a number, a name or '('"
            ))),
            None => Err(self.error("the expression ends too early; expected a number")),
        }
    }

    fn expect(&mut self, wanted: char) -> Result<(), ToolError> {
        self.skip_space();
        match self.peek() {
            Some(c) if c == wanted => {
                self.pos += 1;
                Ok(())
            }
            Some(c) => Err(self.error(format!("expected {wanted:?}, found {c:?}"))),
            None => Err(self.error(format!(
                "the expression ends too early; expected {wanted:?}"
            ))),
        }
    }

    fn digits(&mut self, into: &mut String) -> usize {
        let start = self.pos;
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            into.push(c);
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<f64, ToolError> {
        let start = self.pos;
        let mut text = String::new();
        let leading = self.digits(&mut text);
        if !self.in_arguments && (1..=3).contains(&leading) {
            // Thousands separators: ",ddd" groups, each exactly three digits.
            while self.peek() == Some(',')
                && (1..=3).all(|i| self.peek_at(i).is_some_and(|c| c.is_ascii_digit()))
                && !self.peek_at(4).is_some_and(|c| c.is_ascii_digit())
            {
                self.pos += 1;
                self.digits(&mut text);
            }
        }
        if self.peek() == Some('.') {
            text.push('.');
            self.pos += 1;
            if self.digits(&mut text) == 0 && leading == 0 {
                self.pos = start;
                return Err(self.error("expected a number"));
            }
        }
        let exponent_sign = usize::from(matches!(self.peek_at(1), Some('+' | '-')));
        if matches!(self.peek(), Some('e' | 'E'))
            && self
                .peek_at(1 + exponent_sign)
                .is_some_and(|c| c.is_ascii_digit())
        {
            text.push('e');
            if exponent_sign == 1 {
                text.push(self.chars[self.pos + 1]);
            }
            self.pos += 1 + exponent_sign;
            self.digits(&mut text);
        }
        let value: f64 = text.parse().map_err(|_| ToolError::Syntax {
            position: start + 1,
            message: format!("{text:?} is not a number"),
        })?;
        finite(value)
    }

    fn name(&mut self) -> Result<f64, ToolError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos]
            .iter()
            .collect::<String>()
            .to_lowercase();
        self.skip_space();
        if self.peek() != Some('(') {
            return match name.as_str() {
                "pi" | "π" => Ok(std::f64::consts::PI),
                "tau" | "τ" => Ok(std::f64::consts::TAU),
                "e" => Ok(std::f64::consts::E),
                _ if FUNCTIONS.contains(&name.as_str()) => {
                    Err(self.error(format!("{name} is a function; write {name}(...)")))
                }
                _ => Err(ToolError::Syntax {
                    position: start + 1,
                    message: unknown(&name),
                }),
            };
        }
        if !FUNCTIONS.contains(&name.as_str()) {
            return Err(ToolError::Syntax {
                position: start + 1,
                message: unknown(&name),
            });
        }
        self.pos += 1;
        let outer = std::mem::replace(&mut self.in_arguments, true);
        let mut args = vec![self.expr()?];
        self.skip_space();
        while self.peek() == Some(',') {
            self.pos += 1;
            args.push(self.expr()?);
            self.skip_space();
        }
        self.in_arguments = outer;
        self.expect(')')?;
        call(&name, &args).map_err(|error| match error {
            CallError::Arity(wanted) => ToolError::Syntax {
                position: start + 1,
                message: format!("{name} takes {wanted}, not {}", args.len()),
            },
            CallError::Math(error) => error,
        })
    }
}

const FUNCTIONS: &[&str] = &[
    "sqrt", "cbrt", "abs", "round", "floor", "ceil", "trunc", "ln", "log", "log10", "log2", "exp",
    "sin", "cos", "tan", "asin", "acos", "atan", "min", "max", "pow", "hypot",
];

fn unknown(name: &str) -> String {
    format!(
        "unknown name {name:?}; known are pi, e, tau and {}",
        FUNCTIONS.join(", ")
    )
}

enum CallError {
    Arity(&'static str),
    Math(ToolError),
}

impl From<ToolError> for CallError {
    fn from(error: ToolError) -> Self {
        CallError::Math(error)
    }
}

fn call(name: &str, args: &[f64]) -> Result<f64, CallError> {
    let one = || match args {
        [x] => Ok(*x),
        _ => Err(CallError::Arity("one argument")),
    };
    let two = || match args {
        [x, y] => Ok((*x, *y)),
        _ => Err(CallError::Arity("two arguments")),
    };
    let value = match name {
        "sqrt" => {
            let x = one()?;
            if x < 0.0 {
                return Err(math("the square root of a negative number is not real").into());
            }
            x.sqrt()
        }
        "cbrt" => one()?.cbrt(),
        "abs" => one()?.abs(),
        "round" => match args {
            [x] => x.round(),
            [x, digits] if digits.fract() == 0.0 && (0.0..=15.0).contains(digits) => {
                let scale = 10f64.powi(*digits as i32);
                (x * scale).round() / scale
            }
            [_, _] => return Err(math("round(x, digits) needs whole digits from 0 to 15").into()),
            _ => return Err(CallError::Arity("one or two arguments")),
        },
        "floor" => one()?.floor(),
        "ceil" => one()?.ceil(),
        "trunc" => one()?.trunc(),
        "ln" => logarithm(one()?, std::f64::consts::E)?,
        "log" => match args {
            [x] => logarithm(*x, 10.0)?,
            [x, base] => logarithm(*x, *base)?,
            _ => return Err(CallError::Arity("one or two arguments")),
        },
        "log10" => logarithm(one()?, 10.0)?,
        "log2" => logarithm(one()?, 2.0)?,
        "exp" => one()?.exp(),
        "sin" => one()?.sin(),
        "cos" => one()?.cos(),
        "tan" => one()?.tan(),
        "asin" | "acos" => {
            let x = one()?;
            if !(-1.0..=1.0).contains(&x) {
                return Err(math(format!("{name} is defined only from -1 to 1")).into());
            }
            if name == "asin" { x.asin() } else { x.acos() }
        }
        "atan" => one()?.atan(),
        "min" | "max" if args.is_empty() => return Err(CallError::Arity("at least one argument")),
        "min" => args.iter().copied().fold(f64::INFINITY, f64::min),
        "max" => args.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        "pow" => {
            let (x, y) = two()?;
            pow(x, y)?
        }
        "hypot" => {
            let (x, y) = two()?;
            x.hypot(y)
        }
        _ => unreachable!("every name in FUNCTIONS is handled"),
    };
    Ok(finite(value)?)
}

fn logarithm(x: f64, base: f64) -> Result<f64, ToolError> {
    if x <= 0.0 {
        return Err(math(
            "the logarithm of zero or a negative number is not defined",
        ));
    }
    if base <= 0.0 || base == 1.0 {
        return Err(math("a logarithm's base must be positive and not 1"));
    }
    finite(x.ln() / base.ln())
}

fn pow(base: f64, exponent: f64) -> Result<f64, ToolError> {
    if base == 0.0 && exponent < 0.0 {
        return Err(math("zero to a negative power is a division by zero"));
    }
    finite(base.powf(exponent))
}

fn finite(value: f64) -> Result<f64, ToolError> {
    if value.is_nan() {
        Err(math("the result is not a real number"))
    } else if value.is_infinite() {
        Err(math("the result is too large"))
    } else {
        Ok(value)
    }
}

fn math(message: impl Into<String>) -> ToolError {
    ToolError::Math(message.into())
}
