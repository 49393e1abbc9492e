//! Playbook and step variables: typed values, scoping, and substitution into commands.
//!
//! CACAO 2.0 names a variable `__name__` and reads its value as `__name__:value` in commands,
//! targets and headers. Here:
//! - [`Variables::from_json`] reads a `playbook_variables` or `step_variables` object (each entry
//!   `{type, value, constant, external, description}`); a step's variables shadow the playbook's
//!   ([`Variables::scoped`]).
//! - [`Variables::set`] stores a captured `out_args` value; constants refuse it.
//! - [`references`] finds `__name__:value` (and bare `__name__`) in a text; [`Variables::substitute`]
//!   replaces the defined ones through a caller-given renderer, because *how* a value may enter
//!   a command is the connector's business: the bash connector passes values in environment
//!   variables and writes `"$CACAO_VAR_1"` instead of the value, so no value can inject shell
//!   syntax; a dry run writes the value itself for the reviewer. References to undefined
//!   variables are left as they are and listed.
//! - Limits: [`MAX_VALUE_BYTES`] per value, [`MAX_VARIABLES`] per scope.

use indexmap::IndexMap;
use serde_json::Value;

/// Largest variable value accepted, in bytes (a captured command output is cut by the connector
/// before it is stored).
pub const MAX_VALUE_BYTES: usize = 1 << 20;
/// Longest variable name recognised in a text, without the underscores around it.
pub const MAX_NAME_BYTES: usize = 256;
/// Most variables in one scope.
pub const MAX_VARIABLES: usize = 10_000;

/// A variable's declaration and current value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The CACAO variable type (`string`, `ipv4-addr`, `bool`, `integer`, ...).
    pub kind: String,
    pub value: String,
    pub constant: bool,
    pub external: bool,
}

/// Why variables could not be read or set; `at` is a JSON pointer (reading) or the variable name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct VariableError {
    pub at: String,
    pub message: String,
}

/// One scope of variables; a step's scope is its own variables over the playbook's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    vars: IndexMap<String, Variable>,
}

/// A reference to a variable in a text: its byte range and the variable's name (`__name__`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub start: usize,
    pub end: usize,
    pub name: String,
}

impl Variables {
    /// Reads a `playbook_variables` / `step_variables` object; `pointer` is where it sits in the
    /// playbook (for error messages).
    pub fn from_json(value: &Value, pointer: &str) -> Result<Variables, VariableError> {
        let fail = |at: String, message: String| VariableError { at, message };
        let Some(map) = value.as_object() else {
            return Err(fail(pointer.to_owned(), "variables must be an object of name -> declaration".into()));
        };
        if map.len() > MAX_VARIABLES {
            return Err(fail(pointer.to_owned(), format!("more than {MAX_VARIABLES} variables")));
        }
        let mut vars = IndexMap::new();
        for (name, decl) in map {
            let at = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
            if !is_name(name) {
                return Err(fail(at, format!("`{name}` is not a variable name of the form __name__")));
            }
            let text = |key: &str| decl.get(key).and_then(Value::as_str).map(str::to_owned);
            let flag = |key: &str| decl.get(key).and_then(Value::as_bool).unwrap_or(false);
            let Some(kind) = text("type") else {
                return Err(fail(at, "a variable declares its `type`".into()));
            };
            let value = match decl.get("value") {
                None => String::new(),
                Some(Value::String(s)) => s.clone(),
                // Values are strings in CACAO; numbers and booleans written bare are read as text.
                Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
                Some(_) => return Err(fail(format!("{at}/value"), "a variable's value is a string".into())),
            };
            check_size(name, &value)?;
            vars.insert(name.clone(), Variable { kind, value, constant: flag("constant"), external: flag("external") });
        }
        Ok(Variables { vars })
    }

    /// This scope with `inner`'s variables over it (a step's variables shadow the playbook's).
    pub fn scoped(&self, inner: &Variables) -> Variables {
        let mut vars = self.vars.clone();
        for (k, v) in &inner.vars {
            vars.insert(k.clone(), v.clone());
        }
        Variables { vars }
    }

    pub fn get(&self, name: &str) -> Option<&Variable> {
        self.vars.get(name)
    }

    /// The value of `name`, as conditions read it.
    pub fn value(&self, name: &str) -> Option<String> {
        self.vars.get(name).map(|v| v.value.clone())
    }

    /// Sets `name` to `value` (a captured out_arg, or `--var name=value` for an external
    /// variable). A constant refuses; an undeclared name is declared as a string.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), VariableError> {
        if !is_name(name) {
            return Err(VariableError {
                at: name.to_owned(),
                message: "not a variable name of the form __name__".into(),
            });
        }
        check_size(name, value)?;
        let full = self.vars.len() >= MAX_VARIABLES;
        match self.vars.get_mut(name) {
            Some(v) if v.constant => {
                Err(VariableError { at: name.to_owned(), message: "a constant cannot be set".into() })
            }
            Some(v) => {
                v.value = value.to_owned();
                Ok(())
            }
            None if full => {
                Err(VariableError { at: name.to_owned(), message: format!("more than {MAX_VARIABLES} variables") })
            }
            None => {
                let v = Variable { kind: "string".into(), value: value.to_owned(), constant: false, external: false };
                self.vars.insert(name.to_owned(), v);
                Ok(())
            }
        }
    }

    /// The variables, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Variable)> + '_ {
        self.vars.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.vars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// `text` with every reference to a defined variable replaced by `render(name, value)`, and
    /// the names referenced but not defined (left in the text as written).
    pub fn substitute(&self, text: &str, mut render: impl FnMut(&str, &str) -> String) -> (String, Vec<String>) {
        let mut out = String::with_capacity(text.len());
        let mut undefined: Vec<String> = Vec::new();
        let mut last = 0;
        for r in references(text) {
            out.push_str(&text[last..r.start]);
            match self.vars.get(&r.name) {
                Some(v) => out.push_str(&render(&r.name, &v.value)),
                None => {
                    out.push_str(&text[r.start..r.end]);
                    if !undefined.contains(&r.name) {
                        undefined.push(r.name.clone());
                    }
                }
            }
            last = r.end;
        }
        out.push_str(&text[last..]);
        (out, undefined)
    }
}

/// Every `__name__:value` or bare `__name__` in `text`, left to right, not overlapping.
pub fn references(text: &str) -> Vec<Reference> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find("__") {
        let start = i + off;
        // The run of name characters after the opening `__` (at most a name's length), and in it
        // the longest prefix that ends in `__` and is a name.
        let body = start + 2;
        let len = b[body..]
            .iter()
            .take(MAX_NAME_BYTES + 2)
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
            .count();
        let run = &text[start..body + len];
        let end = run.rmatch_indices("__").map(|(k, _)| k + 2).find(|&k| is_name(&run[..k])).map(|k| start + k);
        match end {
            Some(e) => {
                let glued_before = start > 0 && (b[start - 1].is_ascii_alphanumeric());
                let name = text[start..e].to_owned();
                let suffix = text[e..].starts_with(":value")
                    && !b.get(e + ":value".len()).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
                let e_full = if suffix { e + ":value".len() } else { e };
                if !glued_before {
                    out.push(Reference { start, end: e_full, name });
                }
                i = e_full;
            }
            None => i = body.max(start + 1),
        }
    }
    out
}

/// `__name__`: two underscores, a name of letters, digits, `_` or `-` that neither starts nor
/// ends with `_`, two underscores.
pub fn is_name(s: &str) -> bool {
    let Some(inner) = s.strip_prefix("__").and_then(|r| r.strip_suffix("__")) else { return false };
    !inner.is_empty()
        && !inner.starts_with('_')
        && !inner.ends_with('_')
        && inner.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

fn check_size(name: &str, value: &str) -> Result<(), VariableError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(VariableError {
            at: name.to_owned(),
            message: format!("value of {} bytes is over the {MAX_VALUE_BYTES}-byte limit", value.len()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Variables {
        Variables::from_json(
            &json!({
                "__attacker_ip__": {"type": "ipv4-addr", "value": "203.0.113.45", "constant": true},
                "__host__": {"type": "string", "value": "web-01"},
                "__count__": {"type": "integer", "value": 3},
                "__empty__": {"type": "string"}
            }),
            "/playbook_variables",
        )
        .unwrap()
    }

    #[test]
    fn reads_declarations_and_substitutes_through_the_renderer() {
        let v = vars();
        assert_eq!(v.len(), 4);
        assert_eq!(v.get("__count__").unwrap().value, "3");
        assert!(v.get("__attacker_ip__").unwrap().constant);
        let (out, undefined) = v.substitute(
            "iptables -I INPUT -s __attacker_ip__:value -j DROP # on __host__ then __nope__:value",
            |name, value| format!("<{name}={value}>"),
        );
        assert_eq!(
            out,
            "iptables -I INPUT -s <__attacker_ip__=203.0.113.45> -j DROP # on <__host__=web-01> then __nope__:value"
        );
        assert_eq!(undefined, ["__nope__"]);
    }

    #[test]
    fn references_are_names_only() {
        let refs = references("a __x__:value b__y__ __not_a__name__ ___ __z-1__:valuex __q_:value");
        let names: Vec<&str> = refs.iter().map(|r| r.name.as_str()).collect();
        // `b__y__` is glued to a word; `__not_a__name__` is the longest name that fits.
        assert_eq!(names, ["__x__", "__not_a__name__", "__z-1__"]);
        assert_eq!(&"a __x__:value"[refs[0].start..refs[0].end], "__x__:value");
        assert!(is_name("__a__") && !is_name("____") && !is_name("__a") && !is_name("___a__"));
        // Long runs of name characters cost a name's length at most, and a name over the limit is
        // not a reference.
        assert!(references(&"_".repeat(200_000)).is_empty());
        let long = format!("__{}__", "a".repeat(MAX_NAME_BYTES + 1));
        assert!(references(&long).is_empty());
        let fits = format!("__{}__", "a".repeat(MAX_NAME_BYTES));
        assert_eq!(references(&fits).len(), 1);
    }

    #[test]
    fn scopes_and_setting() {
        let mut v = vars();
        let step = Variables::from_json(&json!({"__host__": {"type": "string", "value": "db-02"}}), "/s").unwrap();
        let scoped = v.scoped(&step);
        assert_eq!(scoped.value("__host__").as_deref(), Some("db-02"));
        assert_eq!(v.value("__host__").as_deref(), Some("web-01"));
        assert!(v.set("__attacker_ip__", "1.2.3.4").unwrap_err().message.contains("constant"));
        v.set("__host__", "web-02").unwrap();
        v.set("__new__", "x").unwrap();
        assert_eq!(v.get("__new__").unwrap().kind, "string");
        assert!(v.set("bad", "x").is_err());
        assert!(v.set("__big__", &"x".repeat(MAX_VALUE_BYTES + 1)).is_err());
    }

    #[test]
    fn bad_declarations_point_at_the_place() {
        let e = Variables::from_json(&json!({"x": {"type": "string"}}), "/playbook_variables").unwrap_err();
        assert_eq!(e.at, "/playbook_variables/x");
        let e = Variables::from_json(&json!({"__a__": {"value": "1"}}), "/p").unwrap_err();
        assert!(e.message.contains("type"));
        let e = Variables::from_json(&json!({"__a__": {"type": "string", "value": [1]}}), "/p").unwrap_err();
        assert_eq!(e.at, "/p/__a__/value");
        assert!(Variables::from_json(&json!([1]), "/p").is_err());
    }
}
