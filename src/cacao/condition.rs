//! The condition language of `if-condition`, `while-condition` and the executor's decisions.
//!
//! CACAO 2.0 says conditions are STIX-pattern-like comparisons over playbook variables; it gives no
//! grammar. This is ours, decided once:
//!
//! ```text
//! condition  := or                        (optionally wrapped in [ ], as STIX patterns are)
//! or         := and ( "OR" and )*
//! and        := not ( "AND" not )*
//! not        := "NOT" not | primary
//! primary    := "(" or ")" | operand op operand | operand
//! op         := "=" | "==" | "!=" | "<>" | "<" | ">" | "<=" | ">=" | "IN" | "LIKE" | "MATCHES"
//! operand    := variable | 'text' | "text" | number | true | false | "(" operand ( "," operand )* ")"
//! variable   := __name__ | __name__:value
//! ```
//!
//! - Keywords and `true`/`false` are case-insensitive; variable names are not.
//! - A bare operand is a boolean test: the variable's value must read `true` or `false`.
//! - Comparison: two numbers compare as numbers; `true`/`false` against a variable compare as
//!   booleans (case-insensitive); anything else compares as text (`<`, `>` by code points).
//! - `IN` takes a parenthesized list on the right. `LIKE` is SQL's: `%` any run of characters, `_`
//!   one character, case-sensitive. `MATCHES` is a regular expression (Rust `regex` syntax, size
//!   limited), searched anywhere in the value.
//! - Free text, as language models write it (`host is still infected`, `malware_detected == true`),
//!   is a parse error at the first word that is no variable, literal or keyword, with its position,
//!   so validation can reject it (or a run can route it to a person).
//! - Limits: [`MAX_CONDITION_BYTES`] of text, [`MAX_NESTING`] levels of parentheses and `NOT`.

use std::fmt;

/// Longest condition accepted, in bytes.
pub const MAX_CONDITION_BYTES: usize = 4096;
/// Deepest nesting of parentheses and `NOT` accepted.
pub const MAX_NESTING: usize = 64;
/// Largest compiled `MATCHES` pattern, in bytes of the regex engine's program.
const MAX_REGEX_SIZE: usize = 1 << 20;

/// Why a condition does not parse, with the byte offset in the condition text where it goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {at}: {message}")]
pub struct ConditionError {
    pub at: usize,
    pub message: String,
}

/// Why a parsed condition cannot be evaluated with the given variables.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {at}: {message}")]
pub struct EvalError {
    pub at: usize,
    pub message: String,
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare { left: Operand, op: Op, right: Operand, at: usize },
    Test { operand: Operand, at: usize },
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Var { name: String, at: usize },
    Text(String),
    Number(f64),
    Bool(bool),
    List(Vec<Operand>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    Like,
    Matches,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::In => "IN",
            Op::Like => "LIKE",
            Op::Matches => "MATCHES",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Comma,
    Op(Op),
    And,
    Or,
    Not,
    Bool(bool),
    Var(String),
    Text(String),
    Number(f64),
}

impl Condition {
    /// Parses a condition (see the module documentation for the language).
    pub fn parse(text: &str) -> Result<Condition, ConditionError> {
        if text.len() > MAX_CONDITION_BYTES {
            return Err(err(MAX_CONDITION_BYTES, format!("longer than {MAX_CONDITION_BYTES} bytes")));
        }
        let toks = lex(text)?;
        let mut p = Parser { toks: &toks, pos: 0, end: text.len(), depth: 0 };
        // A STIX pattern's outer brackets.
        let bracketed = matches!(p.peek(), Some(Tok::OpenBracket));
        if bracketed {
            p.pos += 1;
        }
        let expr = p.or()?;
        if bracketed {
            p.expect(&Tok::CloseBracket, "`]` closing the `[` at the start")?;
        }
        if let Some((_, at)) = toks.get(p.pos) {
            return Err(err(*at, "unexpected text after a complete condition".into()));
        }
        Ok(Condition { expr })
    }

    /// The names of the variables the condition reads (`__name__`), in order of first use.
    pub fn variables(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.expr.variables(&mut out);
        out
    }

    /// Evaluates the condition; `value` gives a variable's value by name (`__name__`), or `None`
    /// when it is not defined.
    pub fn evaluate(&self, value: &dyn Fn(&str) -> Option<String>) -> Result<bool, EvalError> {
        self.expr.eval(value)
    }
}

fn err(at: usize, message: String) -> ConditionError {
    ConditionError { at, message }
}

fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ConditionError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let at = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let (tok, len) = match c {
            b'(' => (Tok::Open, 1),
            b')' => (Tok::Close, 1),
            b'[' => (Tok::OpenBracket, 1),
            b']' => (Tok::CloseBracket, 1),
            b',' => (Tok::Comma, 1),
            b'=' if b.get(i + 1) == Some(&b'=') => (Tok::Op(Op::Eq), 2),
            b'=' => (Tok::Op(Op::Eq), 1),
            b'!' if b.get(i + 1) == Some(&b'=') => (Tok::Op(Op::Ne), 2),
            b'<' if b.get(i + 1) == Some(&b'>') => (Tok::Op(Op::Ne), 2),
            b'<' if b.get(i + 1) == Some(&b'=') => (Tok::Op(Op::Le), 2),
            b'<' => (Tok::Op(Op::Lt), 1),
            b'>' if b.get(i + 1) == Some(&b'=') => (Tok::Op(Op::Ge), 2),
            b'>' => (Tok::Op(Op::Gt), 1),
            b'\'' | b'"' => {
                let (s, len) = string(text, i)?;
                (Tok::Text(s), len)
            }
            b'-' | b'0'..=b'9' => {
                let len = b[i..]
                    .iter()
                    .enumerate()
                    .take_while(|(k, d)| d.is_ascii_digit() || **d == b'.' || (*k == 0 && **d == b'-'))
                    .count();
                let n: f64 = text[i..i + len]
                    .parse()
                    .map_err(|_| err(at, format!("`{}` is not a number", &text[i..i + len])))?;
                (Tok::Number(n), len)
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let len = b[i..].iter().take_while(|d| d.is_ascii_alphanumeric() || **d == b'_' || **d == b'-').count();
                let word = &text[i..i + len];
                if word.len() > 4 && word.starts_with("__") && word.ends_with("__") {
                    // `__name__` or `__name__:value`.
                    let rest = &text[i + len..];
                    let suffix = if rest.starts_with(":value") { ":value".len() } else { 0 };
                    if suffix == 0 && rest.starts_with(':') {
                        let what: String = rest.chars().take(12).collect();
                        return Err(err(
                            i + len,
                            format!("`{what}`: a variable is read as `{word}` or `{word}:value`"),
                        ));
                    }
                    (Tok::Var(word.to_owned()), len + suffix)
                } else {
                    let tok = match word.to_ascii_uppercase().as_str() {
                        "AND" => Tok::And,
                        "OR" => Tok::Or,
                        "NOT" => Tok::Not,
                        "IN" => Tok::Op(Op::In),
                        "LIKE" => Tok::Op(Op::Like),
                        "MATCHES" => Tok::Op(Op::Matches),
                        "TRUE" => Tok::Bool(true),
                        "FALSE" => Tok::Bool(false),
                        _ => {
                            return Err(err(
                                at,
                                format!(
                                    "`{word}` is not a variable (`__name__`), a quoted literal or an operator; \
                                     free-text conditions are not supported"
                                ),
                            ))
                        }
                    };
                    (tok, len)
                }
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(err(at, format!("unexpected character `{ch}`")));
            }
        };
        out.push((tok, at));
        i += len;
    }
    Ok(out)
}

/// A quoted string starting at `start` (its quote character), with `\` escaping the next
/// character; returns the text and the length including the quotes.
fn string(text: &str, start: usize) -> Result<(String, usize), ConditionError> {
    let quote = text.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = text[start + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => break,
            },
            c if c == quote => return Ok((out, k + 2)),
            c => out.push(c),
        }
    }
    Err(err(start, format!("the string opened with {quote} is not closed")))
}

struct Parser<'t> {
    toks: &'t [(Tok, usize)],
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(_, at)| *at)
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), ConditionError> {
        if self.peek() == Some(want) {
            self.pos += 1;
            Ok(())
        } else {
            Err(err(self.at(), format!("expected {what}")))
        }
    }

    fn nest(&mut self) -> Result<(), ConditionError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(err(self.at(), format!("nested deeper than {MAX_NESTING} levels")));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.not()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ConditionError> {
        if self.peek() == Some(&Tok::Not) {
            self.pos += 1;
            self.nest()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ConditionError> {
        // `(` opens either a sub-condition or a list operand (`IN (...)` only, on the right).
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            self.nest()?;
            let inner = self.or()?;
            self.expect(&Tok::Close, "`)`")?;
            self.depth -= 1;
            return Ok(inner);
        }
        let left_at = self.at();
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Op(op)) => *op,
            _ => return Ok(Expr::Test { operand: left, at: left_at }),
        };
        let at = self.at();
        self.pos += 1;
        let right = if op == Op::In { self.list()? } else { self.operand()? };
        if let (Op::Matches, Operand::Text(pattern)) = (op, &right) {
            compile(pattern).map_err(|m| err(at, m))?;
        }
        Ok(Expr::Compare { left, op, right, at })
    }

    fn operand(&mut self) -> Result<Operand, ConditionError> {
        let at = self.at();
        let operand = match self.peek() {
            Some(Tok::Var(name)) => Operand::Var { name: name.clone(), at },
            Some(Tok::Text(s)) => Operand::Text(s.clone()),
            Some(Tok::Number(n)) => Operand::Number(*n),
            Some(Tok::Bool(b)) => Operand::Bool(*b),
            Some(t) => return Err(err(at, format!("expected a variable or a literal, found {}", describe(t)))),
            None => return Err(err(at, "the condition ends where a variable or a literal is expected".into())),
        };
        self.pos += 1;
        Ok(operand)
    }

    fn list(&mut self) -> Result<Operand, ConditionError> {
        self.expect(&Tok::Open, "`(` starting the list after IN")?;
        let mut items = vec![self.operand()?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            items.push(self.operand()?);
        }
        self.expect(&Tok::Close, "`)` or `,` in the list after IN")?;
        Ok(Operand::List(items))
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Open => "`(`".into(),
        Tok::Close => "`)`".into(),
        Tok::OpenBracket => "`[`".into(),
        Tok::CloseBracket => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Op(op) => format!("the operator `{op}`"),
        Tok::And => "`AND`".into(),
        Tok::Or => "`OR`".into(),
        Tok::Not => "`NOT`".into(),
        Tok::Bool(b) => format!("`{b}`"),
        Tok::Var(v) => format!("`{v}`"),
        Tok::Text(s) => format!("'{s}'"),
        Tok::Number(n) => format!("`{n}`"),
    }
}

fn compile(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_SIZE)
        .build()
        .map_err(|e| format!("MATCHES pattern does not compile: {e}"))
}

/// A resolved operand.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    List(Vec<Value>),
}

impl Expr {
    fn variables(&self, out: &mut Vec<String>) {
        match self {
            Expr::Or(a, b) | Expr::And(a, b) => {
                a.variables(out);
                b.variables(out);
            }
            Expr::Not(a) => a.variables(out),
            Expr::Compare { left, right, .. } => {
                left.variables(out);
                right.variables(out);
            }
            Expr::Test { operand, .. } => operand.variables(out),
        }
    }

    fn eval(&self, value: &dyn Fn(&str) -> Option<String>) -> Result<bool, EvalError> {
        match self {
            Expr::Or(a, b) => Ok(a.eval(value)? || b.eval(value)?),
            Expr::And(a, b) => Ok(a.eval(value)? && b.eval(value)?),
            Expr::Not(a) => Ok(!a.eval(value)?),
            Expr::Test { operand, at } => match operand.resolve(value)? {
                Value::Bool(b) => Ok(b),
                Value::Text(t) => as_bool(&t).ok_or_else(|| EvalError {
                    at: *at,
                    message: format!("`{t}` is not true or false, so it cannot stand alone as a condition"),
                }),
                other => Err(EvalError { at: *at, message: format!("{other:?} cannot stand alone as a condition") }),
            },
            Expr::Compare { left, op, right, at } => {
                let (l, r) = (left.resolve(value)?, right.resolve(value)?);
                compare(&l, *op, &r).map_err(|message| EvalError { at: *at, message })
            }
        }
    }
}

impl Operand {
    fn variables(&self, out: &mut Vec<String>) {
        match self {
            Operand::Var { name, .. } if !out.contains(name) => out.push(name.clone()),
            Operand::List(items) => items.iter().for_each(|i| i.variables(out)),
            _ => {}
        }
    }

    fn resolve(&self, value: &dyn Fn(&str) -> Option<String>) -> Result<Value, EvalError> {
        Ok(match self {
            Operand::Var { name, at } => Value::Text(
                value(name).ok_or_else(|| EvalError { at: *at, message: format!("variable {name} is not defined") })?,
            ),
            Operand::Text(s) => Value::Text(s.clone()),
            Operand::Number(n) => Value::Number(*n),
            Operand::Bool(b) => Value::Bool(*b),
            Operand::List(items) => Value::List(items.iter().map(|i| i.resolve(value)).collect::<Result<_, _>>()?),
        })
    }
}

fn as_bool(t: &str) -> Option<bool> {
    match t.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::Text(t) => t.trim().parse().ok().filter(|n: &f64| n.is_finite()),
        _ => None,
    }
}

fn equal(l: &Value, r: &Value) -> bool {
    match (l, r) {
        (Value::Bool(a), other) | (other, Value::Bool(a)) => match other {
            Value::Bool(b) => a == b,
            Value::Text(t) => as_bool(t) == Some(*a),
            _ => false,
        },
        _ => match (as_number(l), as_number(r)) {
            (Some(a), Some(b)) => a == b,
            _ => text(l) == text(r),
        },
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(items) => format!("{items:?}"),
    }
}

fn compare(l: &Value, op: Op, r: &Value) -> Result<bool, String> {
    use std::cmp::Ordering;
    let order = || -> Result<Ordering, String> {
        match (as_number(l), as_number(r)) {
            (Some(a), Some(b)) => a.partial_cmp(&b).ok_or_else(|| "numbers that do not compare".to_owned()),
            _ if matches!(l, Value::Bool(_)) || matches!(r, Value::Bool(_)) => {
                Err(format!("`{op}` does not order true and false"))
            }
            _ => Ok(text(l).cmp(&text(r))),
        }
    };
    Ok(match op {
        Op::Eq => equal(l, r),
        Op::Ne => !equal(l, r),
        Op::Lt => order()? == Ordering::Less,
        Op::Gt => order()? == Ordering::Greater,
        Op::Le => order()? != Ordering::Greater,
        Op::Ge => order()? != Ordering::Less,
        Op::In => match r {
            Value::List(items) => items.iter().any(|i| equal(l, i)),
            _ => return Err("IN needs a list on the right: (a, b, c)".into()),
        },
        Op::Like => like(&text(l), &text(r)),
        Op::Matches => compile(&text(r))?.is_match(&text(l)),
    })
}

/// SQL `LIKE`: `%` any run of characters (also none), `_` exactly one.
fn like(value: &str, pattern: &str) -> bool {
    let (v, p): (Vec<char>, Vec<char>) = (value.chars().collect(), pattern.chars().collect());
    // Iterative match with backtracking to the last `%`, linear in practice.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < v.len() {
        if j < p.len() && (p[j] == '_' || p[j] == v[i]) {
            i += 1;
            j += 1;
        } else if j < p.len() && p[j] == '%' {
            star = Some((j, i));
            j += 1;
        } else if let Some((sj, si)) = star {
            j = sj + 1;
            i = si + 1;
            star = Some((sj, si + 1));
        } else {
            return false;
        }
    }
    p[j..].iter().all(|c| *c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn eval(cond: &str, vars: &[(&str, &str)]) -> Result<bool, String> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let c = Condition::parse(cond).map_err(|e| format!("parse {e}"))?;
        c.evaluate(&|name| map.get(name).cloned()).map_err(|e| format!("eval {e}"))
    }

    #[test]
    fn comparisons_over_variables() {
        let vars = [("__clean__", "true"), ("__count__", "12"), ("__ip__", "203.0.113.45"), ("__host__", "web-01")];
        for (cond, want) in [
            ("__clean__:value = 'true'", true),
            ("__clean__", true),
            ("NOT __clean__", false),
            ("__clean__ = true", true),
            ("__count__:value > 9", true),
            ("__count__ >= 12 AND __count__ < 13", true),
            ("__count__ != 12 OR __host__ = 'web-01'", true),
            ("__ip__ IN ('198.51.100.1', '203.0.113.45')", true),
            ("__host__ LIKE 'web-%'", true),
            ("__host__ LIKE 'web-_'", false),
            ("__host__ MATCHES '^web-[0-9]+$'", true),
            ("[__count__ <= 1]", false),
            ("NOT (__clean__ AND __count__ > 100)", true),
            ("__host__ <> \"db-01\"", true),
            ("'10' = 10.0", true),
            ("'b' > 'a'", true),
        ] {
            assert_eq!(eval(cond, &vars), Ok(want), "{cond}");
        }
    }

    #[test]
    fn the_generated_playbooks_conditions_parse() {
        for cond in ["__incident_clean__:value = 'true'", "__threat_present__:value = 'true'"] {
            let c = Condition::parse(cond).unwrap();
            assert_eq!(c.variables().len(), 1);
        }
    }

    #[test]
    fn free_text_is_an_error_at_its_first_word() {
        let e = Condition::parse("host is still infected").unwrap_err();
        assert_eq!(e.at, 0);
        assert!(e.message.contains("free-text"), "{e}");
        let e = Condition::parse("malware_detected == true").unwrap_err();
        assert!(e.message.contains("`malware_detected`"), "{e}");
        let e = Condition::parse("__scan__:value = 'clean' and host is up").unwrap_err();
        assert_eq!(e.at, 29, "{e}");
    }

    #[test]
    fn errors_name_the_place() {
        for (cond, at, part) in [
            ("__a__ = 'x", 8, "not closed"),
            ("(__a__ = 1", 10, "expected `)`"),
            ("__a__ IN 'x'", 9, "`(` starting the list"),
            ("__a__ =", 7, "ends where"),
            ("__a__ = 1 __b__", 10, "unexpected text"),
            ("__a__:type = 1", 5, "`__a__:value`"),
            ("__a__ MATCHES '('", 6, "does not compile"),
            ("[__a__ = 1", 10, "`]`"),
            ("__a__ = 1 # x", 10, "unexpected character"),
        ] {
            let e = Condition::parse(cond).unwrap_err();
            assert_eq!(e.at, at, "{cond}: {e}");
            assert!(e.message.contains(part), "{cond}: {e}");
        }
        assert!(Condition::parse(&"x".repeat(MAX_CONDITION_BYTES + 1)).is_err());
        let deep = format!("{}__a__{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
        assert!(Condition::parse(&deep).unwrap_err().message.contains("nested"));
        let not_deep = format!("{}__a__", "NOT ".repeat(MAX_NESTING + 1));
        assert!(Condition::parse(&not_deep).unwrap_err().message.contains("nested"));
    }

    #[test]
    fn evaluation_errors() {
        assert!(eval("__missing__ = 1", &[]).unwrap_err().contains("__missing__ is not defined"));
        assert!(eval("__a__", &[("__a__", "maybe")]).unwrap_err().contains("not true or false"));
        let c = Condition::parse("__a__ = 1 OR 'maybe'").unwrap();
        assert_eq!(c.evaluate(&|_| Some("2".into())).unwrap_err().at, 13, "the literal's own position");
        assert!(eval("__a__ < true", &[("__a__", "x")]).unwrap_err().contains("does not order"));
    }

    #[test]
    fn like_matches_sql_semantics() {
        assert!(like("abc", "a%c") && like("ac", "a%c") && like("abc", "%") && like("", "%"));
        assert!(like("abc", "_b_") && !like("abc", "_b") && !like("abc", "A%"));
        assert!(like("aXbXc", "a%b%c") && !like("ab", "a%b%c"));
    }
}
