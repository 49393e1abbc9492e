//! Building small valid playbooks for the execution tests.
#![allow(dead_code)]

use serde_json::{json, Map, Value};

/// A CACAO id of `kind` numbered `n`.
pub fn id(kind: &str, n: u64) -> String {
    format!("{kind}--00000000-0000-4000-8000-{n:012}")
}

/// The local agent every test action runs on.
pub fn agent() -> String {
    id("linux", 1)
}

/// A playbook builder: steps by short name (`a1`, `if1`); links are written with short names
/// too and resolved to ids when built.
#[derive(Debug, Clone, Default)]
pub struct Pb {
    steps: Vec<(String, Value)>,
    vars: Map<String, Value>,
    exception: Option<String>,
    id: u64,
    extra: Map<String, Value>,
}

/// The id a short step name stands for: its kind from the prefix (`a` action, `if`, `while`,
/// `switch`, `par`, `sub`, `start`, `end`), its number from the digits.
pub fn sid(short: &str) -> String {
    let digits: String = short.chars().filter(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().unwrap_or(0);
    let prefix: String = short.chars().take_while(|c| !c.is_ascii_digit()).collect();
    let kind = match prefix.as_str() {
        "a" => "action",
        "if" => "if-condition",
        "while" => "while-condition",
        "switch" => "switch-condition",
        "par" => "parallel",
        "sub" => "playbook-action",
        "start" => "start",
        "end" => "end",
        other => panic!("unknown step prefix {other}"),
    };
    id(kind, n)
}

const LINKS: &[&str] = &["on_completion", "on_success", "on_failure", "on_true", "on_false"];

impl Pb {
    pub fn new(n: u64) -> Pb {
        Pb { id: n, ..Pb::default() }
    }

    /// Adds a step; link properties and next_steps/cases name steps by short name.
    pub fn step(mut self, short: &str, mut body: Value) -> Pb {
        let obj = body.as_object_mut().expect("a step is an object");
        for key in LINKS {
            if let Some(Value::String(s)) = obj.get(*key) {
                let resolved = sid(s);
                obj.insert((*key).into(), json!(resolved));
            }
        }
        if let Some(Value::Array(a)) = obj.get_mut("next_steps") {
            for v in a.iter_mut() {
                *v = json!(sid(v.as_str().unwrap()));
            }
        }
        if let Some(Value::Object(c)) = obj.get_mut("cases") {
            for v in c.values_mut() {
                *v = json!(sid(v.as_str().unwrap()));
            }
        }
        let kind = sid(short);
        let t = kind.split("--").next().unwrap().to_owned();
        obj.insert("type".into(), json!(t));
        if t == "action" {
            obj.entry("agent").or_insert(json!(agent()));
            obj.entry("name").or_insert(json!(short));
        }
        self.steps.push((kind, body));
        self
    }

    /// An action step running `bash` commands, then `next` (a short name).
    pub fn bash(self, short: &str, commands: &[&str], next: &str) -> Pb {
        let cmds: Vec<Value> = commands.iter().map(|c| json!({"type": "bash", "command": c})).collect();
        self.step(short, json!({"commands": cmds, "on_completion": next}))
    }

    pub fn var(mut self, name: &str, kind: &str, value: &str) -> Pb {
        self.vars.insert(name.into(), json!({"type": kind, "value": value, "external": true}));
        self
    }

    pub fn exception(mut self, short: &str) -> Pb {
        self.exception = Some(sid(short));
        self
    }

    pub fn set(mut self, key: &str, value: Value) -> Pb {
        self.extra.insert(key.into(), value);
        self
    }

    pub fn build(self) -> Value {
        let mut wf = Map::new();
        for (k, v) in self.steps {
            wf.insert(k, v);
        }
        let mut doc = json!({
            "type": "playbook", "spec_version": "cacao-2.0", "id": id("playbook", self.id), "name": format!("test playbook {}", self.id),
            "created_by": id("identity", 1), "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
            "workflow_start": id("start", 1), "workflow": wf,
            "agent_definitions": {agent(): {"type": "linux", "name": "local host", "address": {"ipv4": ["127.0.0.1"]}}},
        });
        if !self.vars.is_empty() {
            doc["playbook_variables"] = Value::Object(self.vars);
        }
        if let Some(e) = self.exception {
            doc["workflow_exception"] = json!(e);
        }
        for (k, v) in self.extra {
            doc[k] = v;
        }
        doc
    }
}
