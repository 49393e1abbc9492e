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
use serde_json::{json, Value};

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

/// The JSON Schema (draft 2020-12 subset that llguidance and OpenAI structured outputs both
/// accept: no `$ref`, every object closed, every property listed in `required`) of a
/// [`PlaybookDraft`]. Optional fields are nullable rather than absent, which strict OpenAI mode
/// requires.
pub fn draft_json_schema() -> Value {
    let phases: Vec<&str> = Phase::ALL.iter().map(|p| p.as_str()).collect();
    let command_types = ["bash", "powershell", "ssh", "http-api", "openc2-http", "manual"];
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
                        "technique": {"type": ["string", "null"], "pattern": "^T[0-9]{4}(\\.[0-9]{3})?$"},
                        "mitigation": {"type": ["string", "null"], "pattern": "^M[0-9]{4}$"},
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
/// (models wrap it in prose or a ``` fence despite instructions). Null optional fields read as
/// absent. The error names the JSON path that does not fit.
pub fn parse_draft(text: &str) -> Result<PlaybookDraft, DraftError> {
    let body = json_object_in(text).unwrap_or(text);
    let mut de = serde_json::Deserializer::from_str(body);
    let draft: PlaybookDraft = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| DraftError::Shape { path: e.path().to_string(), message: e.inner().to_string() })?;
    check_draft(&draft)?;
    Ok(draft)
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
        let mut doc = json!({"name": "p", "description": "d", "steps": [step("a")]});
        doc["steps"][0]["phase"] = json!("panic");
        let err = parse_draft(&doc.to_string()).unwrap_err().to_string();
        assert!(err.contains("steps[0].phase"), "{err}");
        assert_eq!(parse_draft(r#"{"name":"p","description":"d","steps":[]}"#), Err(DraftError::Empty));
        let many = json!({"name": "p", "description": "d", "steps": vec![step("a"); MAX_DRAFT_STEPS + 1]});
        assert!(matches!(parse_draft(&many.to_string()), Err(DraftError::TooManySteps(_))));
        assert!(parse_draft("no json here").is_err());
        assert!(parse_draft("{\"name\": \"unterminated").is_err());
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
