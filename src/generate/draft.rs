//! The playbook draft: the one shape every generation backend produces.
//!
//! A backend (the knowledge-based planner, a local LLM under constrained decoding, an
//! OpenAI-compatible server) says *what* to do: a flat, ordered list of response steps with their
//! phase, command type and command. It never writes CACAO ids, references, agents or variables:
//! `generate::assemble` builds the CACAO v2.0 playbook from the draft deterministically (phases,
//! parallel groups, approvals before destructive steps, checks, on_failure paths), so every
//! backend's output gets the same structure and the same validity guarantees.
//!
//! The shape is small on purpose: a 0.5B model under a JSON grammar must be able to fill it, and
//! [`draft_json_schema`] is what constrained decoding and the OpenAI `response_format` enforce.

use crate::attack::responses::{CommandType, Phase};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Most steps a draft may hold (a limit for hostile or runaway model output).
pub const MAX_DRAFT_STEPS: usize = 40;
/// Longest accepted step name, description or command, in bytes.
pub const MAX_FIELD_BYTES: usize = 4096;

/// What a backend proposes for one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaybookDraft {
    /// Playbook name, e.g. "Contain SSH brute force against bastion-01".
    pub name: String,
    /// One or two sentences: the incident and the response.
    pub description: String,
    /// Response steps in the order they should run.
    pub steps: Vec<DraftStep>,
    /// What [`parse_draft`] had to repair in the model's output, each as `pointer: what`;
    /// recorded in the playbook for reviewers. Never part of the shape asked for.
    #[serde(skip)]
    pub repairs: Vec<String>,
    /// The step the repeat-until-clean loop runs (a full malware scan of the host), when the
    /// backend knows a concrete one; else the loop runs a generic sweep. Never part of the shape
    /// asked for.
    #[serde(skip)]
    pub sweep: Option<DraftStep>,
}

/// One response step of a draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftStep {
    /// Imperative, specific: "Block 203.0.113.45 at the perimeter firewall".
    pub name: String,
    /// Why: the rationale a responder accepts.
    #[serde(default)]
    pub description: String,
    pub phase: Phase,
    pub command_type: CommandType,
    /// The concrete command (for `manual`: the instruction to the human).
    pub command: String,
    /// The host or device the command runs on, when the incident names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The ATT&CK technique the step answers (`T1110`, `T1059.001`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technique: Option<String>,
    /// The ATT&CK mitigation it implements (`M1036`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitigation: Option<String>,
    /// Deletes, kills, disables or reimages: a human approves it first.
    #[serde(default)]
    pub destructive: bool,
    /// For verification steps: what a passing result looks like; the assembled playbook checks
    /// it with an if-condition (and repeats eradication while it fails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
}

/// The pattern of a draft step's `technique` (an ATT&CK technique or sub-technique id); the
/// GGUF constraint compiles the schema and recognises it by this text.
pub(crate) const TECHNIQUE_PATTERN: &str = "^T[0-9]{4}(\\.[0-9]{3})?$";
/// The pattern of a draft step's `mitigation` (an ATT&CK mitigation id).
pub(crate) const MITIGATION_PATTERN: &str = "^M[0-9]{4}$";

/// The JSON Schema (draft 2020-12 subset that llguidance and OpenAI structured outputs both
/// accept: no `$ref`, every object closed, every property listed in `required`) of a
/// [`PlaybookDraft`]. Optional fields are nullable rather than absent, which strict OpenAI mode
/// requires.
pub fn draft_json_schema() -> Value {
    let phases: Vec<&str> = Phase::ALL.iter().map(|p| p.as_str()).collect();
    let command_types: Vec<&str> = CommandType::ALL.iter().map(|t| t.as_str()).collect();
    let text = |max: usize| json!({"type": "string", "maxLength": max});
    let nullable_text = |max: usize| json!({"type": ["string", "null"], "maxLength": max});
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "description", "steps"],
        "properties": {
            "name": text(200),
            "description": text(1000),
            "steps": {
                "type": "array",
                "minItems": 1,
                "maxItems": 12,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "description", "phase", "command_type", "command", "target",
                                 "technique", "mitigation", "destructive", "expect"],
                    "properties": {
                        "name": text(200),
                        "description": text(600),
                        "phase": {"type": "string", "enum": phases},
                        "command_type": {"type": "string", "enum": command_types},
                        "command": text(600),
                        "target": nullable_text(200),
                        "technique": {"type": ["string", "null"], "pattern": TECHNIQUE_PATTERN},
                        "mitigation": {"type": ["string", "null"], "pattern": MITIGATION_PATTERN},
                        "destructive": {"type": "boolean"},
                        "expect": nullable_text(300)
                    }
                }
            }
        }
    })
}

/// Why a backend's output is not a usable draft.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DraftError {
    #[error("draft is not JSON of the draft shape at {path}: {message}")]
    Shape { path: String, message: String },
    #[error("draft has no steps")]
    Empty,
    #[error("draft has {0} steps; at most {MAX_DRAFT_STEPS} are accepted")]
    TooManySteps(usize),
    #[error("draft {pointer} is {len} bytes; at most {MAX_FIELD_BYTES} are accepted")]
    FieldTooLong { pointer: String, len: usize },
}

/// Reads a draft from model output: the JSON object itself, or the first JSON object in the text
/// (models wrap it in prose or a ``` fence despite instructions). Common mistakes are repaired
/// and listed in [`PlaybookDraft::repairs`] (see [`repair_draft_value`]); what cannot be repaired
/// is an error naming the JSON path that does not fit.
pub fn parse_draft(text: &str) -> Result<PlaybookDraft, DraftError> {
    let body = json_object_in(text).unwrap_or(text);
    let mut value: Value = serde_json::from_str(body)
        .map_err(|e| DraftError::Shape { path: ".".into(), message: format!("not JSON: {e}") })?;
    let repairs = repair_draft_value(&mut value);
    let mut draft: PlaybookDraft = serde_path_to_error::deserialize(value)
        .map_err(|e| DraftError::Shape { path: e.path().to_string(), message: e.inner().to_string() })?;
    draft.repairs = repairs;
    check_draft(&draft)?;
    Ok(draft)
}

/// Repairs what generators commonly get wrong, in place, and says what it did:
/// - the steps under another name (`actions`, `mitigations`, `workflow` as a list) or the whole
///   draft wrapped in `{"playbook": ...}`;
/// - enum values in another case or a synonym (`Containment`, `contain`; `shell`, `cmd`, `pwsh`,
///   `http`, `openc2`, `human`), unknown phases (containment) and command types (manual);
/// - `destructive` as a string (`"yes"`), a number or null; `commands` as a list instead of
///   `command`; a missing name (taken from the command) or command (the name, done by hand);
/// - technique and mitigation ids in the wrong case or not ids at all (dropped);
/// - null or non-string text fields.
pub fn repair_draft_value(value: &mut Value) -> Vec<String> {
    let mut repairs = Vec::new();
    if let Some(inner) = value.get("playbook").filter(|p| p.is_object()).cloned() {
        if value.get("steps").is_none() {
            *value = inner;
            repairs.push("/: the draft was wrapped in \"playbook\"".into());
        }
    }
    let Some(obj) = value.as_object_mut() else { return repairs };
    if !obj.contains_key("steps") {
        if let Some(key) = ["actions", "mitigations", "workflow", "response_steps"]
            .into_iter()
            .find(|k| obj.get(*k).is_some_and(Value::is_array))
        {
            let steps = obj.remove(key).unwrap_or_default();
            obj.insert("steps".into(), steps);
            repairs.push(format!("/steps: found under \"{key}\""));
        }
    }
    for key in ["name", "description"] {
        if !obj.get(key).is_some_and(Value::is_string) {
            let text = obj.get(key).filter(|v| !v.is_null()).map(|v| v.to_string()).unwrap_or_default();
            obj.insert(key.into(), Value::String(text));
            repairs.push(format!("/{key}: not text"));
        }
    }
    let Some(steps) = obj.get_mut("steps").and_then(Value::as_array_mut) else { return repairs };
    for (i, step) in steps.iter_mut().enumerate() {
        let Some(s) = step.as_object_mut() else { continue };
        let at = |field: &str| format!("/steps/{i}/{field}");
        if !s.contains_key("command") {
            if let Some(list) = s.remove("commands") {
                let joined = match &list {
                    Value::Array(items) => items
                        .iter()
                        .map(|c| c.get("command").and_then(Value::as_str).or(c.as_str()).unwrap_or("").to_owned())
                        .filter(|c| !c.is_empty())
                        .collect::<Vec<_>>()
                        .join("\n"),
                    other => other.as_str().unwrap_or("").to_owned(),
                };
                s.insert("command".into(), Value::String(joined));
                repairs.push(format!("{}: taken from \"commands\"", at("command")));
            }
        }
        for field in ["name", "description", "command"] {
            match s.get(field) {
                Some(Value::String(_)) => {}
                None | Some(Value::Null) => {
                    s.insert(field.into(), Value::String(String::new()));
                }
                Some(other) => {
                    let text = other.to_string();
                    s.insert(field.into(), Value::String(text));
                    repairs.push(format!("{}: not text", at(field)));
                }
            }
        }
        let text = |s: &Map<String, Value>, k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").trim().to_owned();
        if text(s, "name").is_empty() {
            let from = if text(s, "description").is_empty() { text(s, "command") } else { text(s, "description") };
            let name: String = from.chars().take(80).collect();
            s.insert("name".into(), Value::String(if name.is_empty() { format!("Step {}", i + 1) } else { name }));
            repairs.push(format!("{}: missing, written from the step's text", at("name")));
        }
        let phase_given = text(s, "phase");
        let phase_raw = phase_given.to_ascii_lowercase();
        let phase = match phase_raw.as_str() {
            "containment" | "eradication" | "recovery" | "verification" => phase_raw.clone(),
            p if p.starts_with("contain") || p.starts_with("isolat") || p.starts_with("block") => "containment".into(),
            p if p.starts_with("eradicat") || p.starts_with("remov") || p.starts_with("remediat") => {
                "eradication".into()
            }
            p if p.starts_with("recover") || p.starts_with("restor") || p.starts_with("harden") => "recovery".into(),
            p if p.starts_with("verif")
                || p.starts_with("validat")
                || p.starts_with("monitor")
                || p.starts_with("lessons") =>
            {
                "verification".into()
            }
            _ => "containment".into(),
        };
        if phase != phase_given {
            repairs.push(format!("{}: {:?} read as {phase}", at("phase"), phase_given));
            s.insert("phase".into(), Value::String(phase));
        }
        let ct_given = text(s, "command_type");
        let ct_raw = ct_given.to_ascii_lowercase().replace('_', "-");
        let ct = match ct_raw.as_str() {
            "bash" | "powershell" | "ssh" | "http-api" | "openc2-http" | "manual" => ct_raw.clone(),
            "shell" | "sh" | "linux" | "zsh" | "command" | "cli" => "bash".into(),
            "pwsh" | "ps" | "ps1" | "cmd" | "windows" | "powershell.exe" => "powershell".into(),
            "http" | "https" | "api" | "rest" | "http-request" | "httpapi" => "http-api".into(),
            "openc2" | "openc2http" => "openc2-http".into(),
            _ => "manual".into(),
        };
        if ct != ct_given {
            repairs.push(format!("{}: {:?} read as {ct}", at("command_type"), ct_given));
            s.insert("command_type".into(), Value::String(ct));
        }
        if text(s, "command").is_empty() {
            let name = text(s, "name");
            s.insert("command".into(), Value::String(name));
            s.insert("command_type".into(), Value::String("manual".into()));
            repairs.push(format!("{}: missing, the step is done by hand", at("command")));
        }
        let destructive = match s.get("destructive") {
            Some(Value::Bool(b)) => Some(*b),
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => {
                Some(matches!(t.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "y" | "1"))
            }
            Some(Value::Number(n)) => Some(n.as_f64().is_some_and(|n| n != 0.0)),
            Some(_) => Some(false),
        };
        if !matches!(s.get("destructive"), Some(Value::Bool(_)) | None | Some(Value::Null)) {
            repairs.push(format!("{}: not a boolean", at("destructive")));
        }
        s.insert("destructive".into(), Value::Bool(destructive.unwrap_or(false)));
        for (field, prefix, digits) in [("technique", 'T', 4usize), ("mitigation", 'M', 4)] {
            let Some(v) = s.get(field).cloned() else { continue };
            if v.is_null() {
                continue;
            }
            let raw = v.as_str().unwrap_or("").trim().to_ascii_uppercase();
            let fixed = normalize_attack_id(&raw, prefix, digits);
            if fixed.as_deref() != v.as_str() {
                repairs.push(format!(
                    "{}: {v} {}",
                    at(field),
                    if fixed.is_some() { "normalized" } else { "is not an id, dropped" }
                ));
                s.insert(field.into(), fixed.map_or(Value::Null, Value::String));
            }
        }
        for field in ["target", "expect"] {
            if let Some(v) = s.get(field).filter(|v| !v.is_null() && !v.is_string()).cloned() {
                s.insert(field.into(), Value::String(v.to_string()));
                repairs.push(format!("{}: not text", at(field)));
            }
        }
    }
    repairs
}

/// `T1110`, `T1059.001` (also from `t1059.1`), `M1036`; `None` when `raw` is not such an id.
fn normalize_attack_id(raw: &str, prefix: char, digits: usize) -> Option<String> {
    let rest = raw.strip_prefix(prefix)?;
    let (main, sub) = match rest.split_once('.') {
        Some((m, s)) => (m, Some(s)),
        None => (rest, None),
    };
    if main.len() != digits || !main.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match sub {
        None => Some(format!("{prefix}{main}")),
        Some(s) if prefix == 'T' && !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(format!("{prefix}{main}.{:0>3}", s))
        }
        Some(_) => None,
    }
}

/// The limits every draft must respect, whichever backend wrote it.
pub fn check_draft(draft: &PlaybookDraft) -> Result<(), DraftError> {
    if draft.steps.is_empty() {
        return Err(DraftError::Empty);
    }
    if draft.steps.len() > MAX_DRAFT_STEPS {
        return Err(DraftError::TooManySteps(draft.steps.len()));
    }
    let long = |pointer: String, s: &str| {
        (s.len() > MAX_FIELD_BYTES).then_some(DraftError::FieldTooLong { pointer, len: s.len() })
    };
    if let Some(e) = long("/name".into(), &draft.name).or_else(|| long("/description".into(), &draft.description)) {
        return Err(e);
    }
    for (i, s) in draft.steps.iter().enumerate() {
        for (field, value) in [("name", &s.name), ("description", &s.description), ("command", &s.command)] {
            if let Some(e) = long(format!("/steps/{i}/{field}"), value) {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// The span of the first balanced top-level JSON object in `text`, strings and escapes respected.
fn json_object_in(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in text[start..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start..start + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str) -> Value {
        json!({"name": name, "description": "why", "phase": "containment", "command_type": "bash",
               "command": "iptables -I INPUT -s 203.0.113.45 -j DROP", "target": null, "technique": "T1110",
               "mitigation": null, "destructive": false, "expect": null})
    }

    #[test]
    fn a_draft_reads_from_bare_fenced_or_chatty_output() {
        let doc = json!({"name": "p", "description": "d", "steps": [step("Block the address")]});
        let bare = doc.to_string();
        for text in [bare.clone(), format!("```json\n{bare}\n```"), format!("Here you go: {bare} Hope it helps {{")] {
            let d = parse_draft(&text).unwrap();
            assert_eq!(d.steps[0].name, "Block the address");
            assert_eq!(d.steps[0].technique.as_deref(), Some("T1110"));
            assert_eq!(d.steps[0].mitigation, None);
        }
    }

    #[test]
    fn bad_drafts_say_where() {
        let doc = json!({"name": "p", "description": "d", "steps": [step("a"), "not a step"]});
        let err = parse_draft(&doc.to_string()).unwrap_err().to_string();
        assert!(err.contains("steps[1]"), "{err}");
        assert_eq!(parse_draft(r#"{"name":"p","description":"d","steps":[]}"#), Err(DraftError::Empty));
        let many = json!({"name": "p", "description": "d", "steps": vec![step("a"); MAX_DRAFT_STEPS + 1]});
        assert!(matches!(parse_draft(&many.to_string()), Err(DraftError::TooManySteps(_))));
        assert!(parse_draft("no json here").is_err());
        assert!(parse_draft(r#"{"name":"p","description":"d","steps":"none"}"#).is_err());
        assert!(parse_draft("{\"name\": \"unterminated").is_err());
    }

    #[test]
    fn common_generator_mistakes_are_repaired_and_listed() {
        let text = r#"{"playbook": {"name": "p", "description": null, "actions": [
            {"name": "Block IP", "phase": "Containment", "command_type": "shell", "commands": [{"command": "iptables -I INPUT -s 1.2.3.4 -j DROP"}],
             "destructive": "no", "technique": "t1110", "mitigation": "M1036"},
            {"description": "Kill the miner", "phase": "eradicate", "command_type": "cmd", "command": "taskkill /F /IM xmr.exe",
             "destructive": "yes", "technique": "T1059.1", "mitigation": "mitigate it"},
            {"name": "Tell the user", "phase": "weird", "command_type": "email", "command": null}
        ]}}"#;
        let d = parse_draft(text).unwrap();
        assert_eq!(d.steps.len(), 3);
        assert_eq!((d.steps[0].phase, d.steps[0].command_type), (Phase::Containment, CommandType::Bash));
        assert_eq!(d.steps[0].command, "iptables -I INPUT -s 1.2.3.4 -j DROP");
        assert_eq!(d.steps[0].technique.as_deref(), Some("T1110"));
        assert!(!d.steps[0].destructive);
        assert_eq!(d.steps[1].name, "Kill the miner");
        assert_eq!((d.steps[1].phase, d.steps[1].command_type), (Phase::Eradication, CommandType::Powershell));
        assert!(d.steps[1].destructive);
        assert_eq!(d.steps[1].technique.as_deref(), Some("T1059.001"));
        assert_eq!(d.steps[1].mitigation, None);
        assert_eq!((d.steps[2].command_type, d.steps[2].command.as_str()), (CommandType::Manual, "Tell the user"));
        assert!(d.repairs.iter().any(|r| r.starts_with("/steps/1/technique")), "{:?}", d.repairs);
        assert!(d.repairs.len() >= 8, "{:?}", d.repairs);
        // A clean draft needs no repair.
        let clean = json!({"name": "p", "description": "d", "steps": [step("a")]});
        assert!(parse_draft(&clean.to_string()).unwrap().repairs.is_empty());
    }

    #[test]
    fn the_schema_lists_every_field_of_a_step_as_required() {
        let schema = draft_json_schema();
        let item = &schema["properties"]["steps"]["items"];
        let props: Vec<&String> = item["properties"].as_object().unwrap().keys().collect();
        let required: Vec<&str> = item["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(props.len(), required.len());
        for p in props {
            assert!(required.contains(&p.as_str()), "{p} not required");
        }
        // A draft that fits the schema reads as a draft.
        let doc = json!({"name": "p", "description": "d", "steps": [step("a")]});
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(validator.is_valid(&doc));
        parse_draft(&doc.to_string()).unwrap();
    }
}
