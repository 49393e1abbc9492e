//! JSON Schema validation against the project's own CACAO v2.0 schemas (schemas/, embedded).
//!
//! Every file of `schemas/` is compiled into the binary, registered under its `$id` in a local
//! registry (nothing is ever fetched) and the playbook schema is compiled once ([`shared`]).
//! [`SchemaValidator::check`] turns the validator's errors into [`Finding`]s that point at the
//! offending value and say what is wrong in a responder's words.

use crate::finding::{push_segment, Finding};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::Value;
use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

/// The base of every `$id` in `schemas/`; a file's `$id` is this plus its path.
pub const SCHEMA_BASE: &str = "https://cacao-forge.dev/schemas/";

/// The `$id` of the entry point, the playbook schema.
pub const PLAYBOOK_SCHEMA_ID: &str = "https://cacao-forge.dev/schemas/playbook.json";

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../schemas/", $path)))),*]
    };
}

static SCHEMAS: &[(&str, &str)] = embed![
    "playbook.json",
    "workflows/workflow-step.json",
    "workflows/start.json",
    "workflows/end.json",
    "workflows/action.json",
    "workflows/playbook-action.json",
    "workflows/parallel.json",
    "workflows/if-condition.json",
    "workflows/while-condition.json",
    "workflows/switch-condition.json",
    "commands/command-data.json",
    "commands/manual.json",
    "commands/bash.json",
    "commands/caldera-cmd.json",
    "commands/elastic.json",
    "commands/http-api.json",
    "commands/jupyter.json",
    "commands/kestrel.json",
    "commands/openc2-http.json",
    "commands/powershell.json",
    "commands/sigma.json",
    "commands/ssh.json",
    "commands/yara.json",
    "authentication-info/authentication-info.json",
    "authentication-info/http-basic.json",
    "authentication-info/oauth2.json",
    "authentication-info/user-auth.json",
    "agent-target/agent-target.json",
    "agent-target/group.json",
    "agent-target/individual.json",
    "agent-target/location.json",
    "agent-target/organization.json",
    "agent-target/sector.json",
    "agent-target/net-address.json",
    "agent-target/security-category.json",
    "agent-target/http-api.json",
    "agent-target/ssh.json",
    "agent-target/linux.json",
    "data-markings/data-marking.json",
    "data-markings/marking-statement.json",
    "data-markings/marking-tlp.json",
    "data-markings/marking-iep.json",
    "data-types/identifier.json",
    "data-types/timestamp.json",
    "data-types/variable.json",
    "data-types/external-reference.json",
    "data-types/signature.json",
    "data-types/contact.json",
    "data-types/civic-location.json",
    "data-types/playbook-processing-summary.json",
    "extension-definition/extension-definition.json",
];

/// Every schema file, as `(path under schemas/, contents)`, the entry point first.
pub fn embedded_schemas() -> &'static [(&'static str, &'static str)] {
    SCHEMAS
}

/// Why the embedded schemas could not be turned into a validator (a build defect, never input).
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("embedded schema `{path}` is not valid JSON: {source}")]
    Parse {
        path: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("embedded schema `{path}` has `$id` {found:?}, expected `{expected}`")]
    WrongId { path: &'static str, found: Option<String>, expected: String },
    #[error("cannot register the embedded schemas: {0}")]
    Registry(String),
    #[error("cannot compile the playbook schema: {0}")]
    Compile(String),
}

/// The compiled playbook schema. Build it once ([`shared`]) and reuse it: validation is `&self`.
pub struct SchemaValidator {
    validator: Validator,
    identifier_pattern: String,
    timestamp_pattern: String,
    step_id_pattern: String,
}

impl fmt::Debug for SchemaValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaValidator").field("schema", &PLAYBOOK_SCHEMA_ID).finish_non_exhaustive()
    }
}

static SHARED: LazyLock<SchemaValidator> =
    LazyLock::new(|| SchemaValidator::new().expect("the embedded CACAO schemas compile (checked by unit tests)"));

/// The process-wide validator, compiled on first use.
pub fn shared() -> &'static SchemaValidator {
    &SHARED
}

impl SchemaValidator {
    /// Parses and registers every embedded schema by `$id` and compiles the playbook schema.
    pub fn new() -> Result<Self, SchemaError> {
        let mut resources = Vec::with_capacity(SCHEMAS.len());
        for &(path, text) in SCHEMAS {
            let value: Value = serde_json::from_str(text).map_err(|source| SchemaError::Parse { path, source })?;
            let expected = format!("{SCHEMA_BASE}{path}");
            let found = value.get("$id").and_then(Value::as_str);
            if found != Some(expected.as_str()) {
                return Err(SchemaError::WrongId { path, found: found.map(str::to_owned), expected });
            }
            resources.push((expected, value));
        }
        // The patterns whose failures get a dedicated message (resources are in SCHEMAS order).
        let pattern_of = |path: &str, pointer: &str| -> String {
            let index = SCHEMAS.iter().position(|(p, _)| *p == path).unwrap_or(0);
            resources[index].1.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned()
        };
        let identifier_pattern = pattern_of("data-types/identifier.json", "/pattern");
        let timestamp_pattern = pattern_of("data-types/timestamp.json", "/pattern");
        let step_id_pattern = pattern_of("workflows/workflow-step.json", "/$defs/step-id/pattern");
        let root = resources[0].1.clone();
        let registry = Registry::new()
            .extend(resources)
            .and_then(|builder| builder.prepare())
            .map_err(|e| SchemaError::Registry(e.to_string()))?;
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&registry)
            .offline()
            // Our patterns need no look-around: the `regex` engine is linear-time (no catastrophic
            // backtracking on hostile strings) and faster than the default fancy-regex.
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(&root)
            .map_err(|e| SchemaError::Compile(e.to_string()))?;
        Ok(SchemaValidator { validator, identifier_pattern, timestamp_pattern, step_id_pattern })
    }

    /// True when `doc` satisfies the playbook schema. The fast path: no error is built.
    pub fn is_valid(&self, doc: &Value) -> bool {
        self.validator.is_valid(doc)
    }

    /// Every schema error of `doc` as a finding (deduplicated, in the validator's order); empty
    /// when the document is valid.
    pub fn check(&self, doc: &Value) -> Vec<Finding> {
        if self.validator.is_valid(doc) {
            return Vec::new();
        }
        let mut findings: Vec<Finding> = Vec::new();
        // Hashes of the findings kept so far; a hash hit is confirmed by comparing the findings.
        let mut seen = HashSet::new();
        for error in self.validator.iter_errors(doc) {
            self.translate(&error, doc, &mut |finding| {
                let mut hasher = DefaultHasher::new();
                (&finding.code, &finding.pointer, &finding.message).hash(&mut hasher);
                if seen.insert(hasher.finish()) || !findings.contains(&finding) {
                    findings.push(finding);
                }
            });
        }
        findings
    }

    /// Turns one validator error into one finding, or several (one per unexpected property).
    fn translate(&self, error: &ValidationError<'_>, doc: &Value, emit: &mut dyn FnMut(Finding)) {
        let pointer = error.instance_path().as_str();
        let instance = error.instance();
        let at = Place::new(pointer);
        let subject = at.subject();
        match error.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                emit(Finding::error(
                    "schema.required",
                    pointer,
                    format!("missing required property `{name}` of {}", at.kind(instance)),
                ));
            }
            ValidationErrorKind::UnevaluatedProperties { unexpected }
            | ValidationErrorKind::AdditionalProperties { unexpected } => {
                let code = if matches!(error.kind(), ValidationErrorKind::UnevaluatedProperties { .. }) {
                    "schema.unevaluated-property"
                } else {
                    "schema.additional-property"
                };
                for name in unexpected {
                    emit(Finding::error(code, pointer, at.unexpected(name, instance)));
                }
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(t) => with_article(t.as_str()),
                    TypeKind::Multiple(set) => {
                        let names: Vec<&str> = set.iter().map(|t| t.as_str()).collect();
                        names.join(" or ")
                    }
                };
                emit(Finding::error(
                    "schema.type",
                    pointer,
                    format!("{subject} must be {expected}, found {}", describe(instance)),
                ));
            }
            ValidationErrorKind::Enum { options } => {
                let allowed = list_values(options);
                emit(Finding::error(
                    "schema.enum",
                    pointer,
                    format!("{subject} must be one of {allowed}, found {}", describe(instance)),
                ));
            }
            ValidationErrorKind::Constant { expected_value } => {
                let why = if at.parent_is_definition_key() && at.last() == Some("type") {
                    " (it must agree with the prefix of the id)"
                } else {
                    ""
                };
                emit(Finding::error(
                    "schema.const",
                    pointer,
                    format!("{subject} must be {}{why}, found {}", short(expected_value), describe(instance)),
                ));
            }
            ValidationErrorKind::Pattern { pattern } => {
                let message = if *pattern == self.identifier_pattern {
                    format!(
                        "{subject} must be a CACAO identifier `<object-type>--<UUID v1-5>`, found {}",
                        describe(instance)
                    )
                } else if *pattern == self.timestamp_pattern {
                    format!(
                        "{subject} must be an RFC 3339 UTC timestamp such as `2024-01-31T12:00:00.000Z`, found {}",
                        describe(instance)
                    )
                } else if *pattern == self.step_id_pattern {
                    format!(
                        "{subject} must be the id of a workflow step (`<step-type>--<UUID>`), found {}",
                        describe(instance)
                    )
                } else {
                    format!(
                        "{subject} does not have the expected form (pattern `{pattern}`), found {}",
                        describe(instance)
                    )
                };
                emit(Finding::error("schema.pattern", pointer, message));
            }
            ValidationErrorKind::PropertyNames { error: inner } => {
                let name = inner.instance().as_str().unwrap_or_default();
                let rule = at
                    .last()
                    .and_then(|dict| DEFINITION_DICTS.iter().find(|(d, _)| *d == dict))
                    .map_or("ids are CACAO identifiers `<object-type>--<UUID v1-5>`", |(_, rule)| *rule);
                emit(Finding::error(
                    "schema.property-names",
                    pointer,
                    format!("`{name}` is not a valid id in {}: {rule}", at.kind(instance)),
                ));
            }
            ValidationErrorKind::FalseSchema => {
                let name = at.last().unwrap_or_default();
                let parent = Place::new(at.parent_pointer());
                let object = doc.pointer(at.parent_pointer()).unwrap_or(&Value::Null);
                emit(Finding::error(
                    "schema.not-allowed",
                    pointer,
                    format!("`{name}` is not allowed on {}", parent.kind(object)),
                ));
            }
            ValidationErrorKind::Not { schema } => {
                // `{"not": {"required": ["on_completion", X]}}`: blame X, where the responder must act.
                let excluded = schema.get("required").and_then(Value::as_array).and_then(|r| match r.as_slice() {
                    [Value::String(a), Value::String(b)] if a == "on_completion" => Some(b.as_str()),
                    _ => None,
                });
                if let Some(name) = excluded {
                    let mut at_name = pointer.to_owned();
                    push_segment(&mut at_name, name);
                    emit(Finding::error(
                        "schema.not-allowed",
                        at_name,
                        format!("`{name}` must not be used together with `on_completion`"),
                    ));
                } else if at.parent_is_definition_key() && at.last() == Some("type") {
                    let ty = instance.as_str().unwrap_or_default();
                    emit(Finding::error(
                        "schema.not",
                        pointer,
                        format!("`{ty}` is a built-in type: its definition must use an id that starts with `{ty}--`"),
                    ));
                } else {
                    emit(Finding::error(
                        "schema.not",
                        pointer,
                        format!("{subject} has a value that is not allowed here: {}", describe(instance)),
                    ));
                }
            }
            ValidationErrorKind::MinItems { limit } => emit(Finding::error(
                "schema.min-items",
                pointer,
                format!("{subject} must have at least {limit} item{}", plural(*limit)),
            )),
            ValidationErrorKind::MaxItems { limit } => emit(Finding::error(
                "schema.max-items",
                pointer,
                format!("{subject} must have at most {limit} item{}", plural(*limit)),
            )),
            ValidationErrorKind::MinProperties { limit } => emit(Finding::error(
                "schema.min-properties",
                pointer,
                format!("{subject} must have at least {limit} entr{}", if *limit == 1 { "y" } else { "ies" }),
            )),
            ValidationErrorKind::Minimum { limit } => emit(Finding::error(
                "schema.minimum",
                pointer,
                format!("{subject} must be at least {limit}, found {}", describe(instance)),
            )),
            ValidationErrorKind::Maximum { limit } => emit(Finding::error(
                "schema.maximum",
                pointer,
                format!("{subject} must be at most {limit}, found {}", describe(instance)),
            )),
            ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::OneOfMultipleValid { .. } => {
                let message = if at.parent_last() == Some("signatures") || at.last() == Some("signature") {
                    "a signature needs exactly one of `public_key`, `public_cert_chain`, `cert_url`, `thumbprint`"
                        .to_owned()
                } else {
                    format!("{subject} must match exactly one of its allowed forms, found {}", describe(instance))
                };
                emit(Finding::error("schema.one-of", pointer, message));
            }
            other => {
                let code = kebab(other.keyword());
                emit(Finding::error(format!("schema.{code}"), pointer, format!("{subject}: {error}")));
            }
        }
    }
}

/// Where an error is, read from its JSON pointer: enough context to name the object in words.
struct Place<'a> {
    pointer: &'a str,
    /// Unescaped segments of the pointer.
    segments: Vec<String>,
}

impl<'a> Place<'a> {
    fn new(pointer: &'a str) -> Self {
        let segments = if pointer.is_empty() {
            Vec::new()
        } else {
            pointer[1..].split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect()
        };
        Place { pointer, segments }
    }

    fn last(&self) -> Option<&str> {
        self.segments.last().map(String::as_str)
    }

    fn parent_last(&self) -> Option<&str> {
        let n = self.segments.len();
        (n >= 2).then(|| self.segments[n - 2].as_str())
    }

    fn parent_pointer(&self) -> &'a str {
        match self.pointer.rfind('/') {
            Some(i) => &self.pointer[..i],
            None => "",
        }
    }

    /// True when the value sits directly in an object keyed by id, e.g. `/workflow/<id>/type`.
    fn parent_is_definition_key(&self) -> bool {
        let n = self.segments.len();
        n == 3 && DEFINITION_DICTS.iter().any(|(dict, _)| *dict == self.segments[0])
    }

    /// `the playbook`, `` `timeout` ``, `item 2 of `targets``.
    fn subject(&self) -> String {
        match self.segments.as_slice() {
            [] => "the playbook".to_owned(),
            [.., parent, last] if last.parse::<usize>().is_ok() => format!("item {last} of `{parent}`"),
            [.., last] => format!("`{last}`"),
        }
    }

    /// The object at this place in words: "an action step", "an ssh target", "a variable".
    fn kind(&self, object: &Value) -> String {
        let ty = object.get("type").and_then(Value::as_str);
        let typed = |noun: &str| match ty {
            Some(t) if !t.is_empty() => format!("{} {noun}", with_article(&format!("`{t}`"))),
            _ => with_article(noun),
        };
        let s: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        match s.as_slice() {
            [] => "the playbook".to_owned(),
            ["workflow"] => "the workflow".to_owned(),
            ["workflow", _] => match ty {
                Some(t) if !t.is_empty() => format!("{} step", with_article(t)),
                _ => "a workflow step".to_owned(),
            },
            ["workflow", _, "commands", _] => typed("command"),
            ["agent_definitions"] => "`agent_definitions`".to_owned(),
            ["target_definitions"] => "`target_definitions`".to_owned(),
            ["agent_definitions", _] => typed("agent"),
            ["target_definitions", _] => typed("target"),
            ["authentication_info_definitions", _] => typed("authentication info"),
            ["data_marking_definitions", _] => typed("data marking"),
            ["extension_definitions", _] => "an extension definition".to_owned(),
            ["signatures", ..] => "a signature".to_owned(),
            ["playbook_processing_summary"] => "the playbook processing summary".to_owned(),
            [.., "external_references", _] => "an external reference".to_owned(),
            [.., "playbook_variables" | "step_variables", _] => "a variable".to_owned(),
            [.., "location"] => "a civic location".to_owned(),
            [.., "contact"] => "a contact".to_owned(),
            [.., "address"] => "an address".to_owned(),
            [.., last] => format!("`{last}`"),
        }
    }

    /// The message for a property that the schema of this object does not know.
    fn unexpected(&self, name: &str, object: &Value) -> String {
        let s: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        let dict = match s.as_slice() {
            [d] => DEFINITION_DICTS.iter().find(|(dict, _)| dict == d).map(|(_, what)| *what),
            [.., "playbook_variables" | "step_variables"] => {
                return format!("`{name}` is not a valid variable name: names look like `__name__`");
            }
            [.., last] if last.ends_with("_extensions") => {
                return format!("`{name}` is not an extension-definition id (`extension-definition--<UUID>`)");
            }
            _ => None,
        };
        match dict {
            Some(what) => format!("`{name}` is not a valid id here: {what}"),
            None => match s.as_slice() {
                [.., "address"] => {
                    format!("`{name}` is not an address kind: use url, l2mac, ipv4, ipv6, vlan or dname")
                }
                _ => format!("`{name}` is not a CACAO property of {}", self.kind(object)),
            },
        }
    }
}

/// Dictionaries keyed by typed ids, with what a valid key looks like.
const DEFINITION_DICTS: &[(&str, &str)] = &[
    (
        "workflow",
        "a step id is `<step-type>--<UUID>` with a step type of start, end, action, playbook-action, parallel, \
         if-condition, while-condition or switch-condition",
    ),
    ("agent_definitions", "an agent id is `<agent-type>--<UUID>`"),
    ("target_definitions", "a target id is `<target-type>--<UUID>`"),
    (
        "authentication_info_definitions",
        "an authentication info id is `http-basic--`, `oauth2--` or `user-auth--` followed by a UUID",
    ),
    (
        "data_marking_definitions",
        "a data marking id is `marking-statement--`, `marking-tlp--` or `marking-iep--` followed by a UUID",
    ),
    ("extension_definitions", "an extension definition id is `extension-definition--<UUID>`"),
];

fn with_article(word: &str) -> String {
    let first = word.trim_start_matches('`').chars().next().unwrap_or('x');
    let article = if "aeiou".contains(first.to_ascii_lowercase()) { "an" } else { "a" };
    format!("{article} {word}")
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A short, readable rendering of a value: strings quoted and cut, containers summarized.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {}", short_str(s)),
        Value::Array(a) => format!("an array of {} item{}", a.len(), plural(a.len() as u64)),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn short(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        other => other.to_string(),
    }
}

fn short_str(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

fn list_values(options: &Value) -> String {
    match options.as_array() {
        Some(items) => {
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}", short(item));
            }
            out
        }
        None => short(options),
    }
}

fn kebab(keyword: &str) -> String {
    let mut out = String::with_capacity(keyword.len() + 4);
    for ch in keyword.trim_start_matches('$').chars() {
        if ch.is_ascii_uppercase() {
            out.push('-');
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::pointer as pointer_of;
    use serde_json::json;

    const START: &str = "start--07bea005-4a36-4a77-bd1f-79a6e4682a13";
    const ACTION: &str = "action--7f40f9d7-de39-4027-ab97-15035beff2ff";
    const END: &str = "end--6b6d9c4f-3a6e-4a56-9c1f-8a0e1fb6a0c1";
    const AGENT: &str = "individual--75baba7d-a198-4c5c-805c-af616b4f7a31";

    fn minimal() -> Value {
        json!({
            "type": "playbook",
            "spec_version": "cacao-2.0",
            "id": "playbook--fe85f68d-1960-4596-96a2-228113e143cf",
            "name": "Block a MAC address",
            "created_by": "identity--351b1469-64b4-4778-8d93-f7949a88990d",
            "created": "2023-02-19T01:09:00.000Z",
            "modified": "2023-02-19T01:09:00.000Z",
            "workflow_start": START,
            "workflow": {
                START: { "type": "start", "on_completion": ACTION },
                ACTION: {
                    "type": "action",
                    "commands": [{ "type": "manual", "command": "Block the MAC address on the switch" }],
                    "agent": AGENT,
                    "on_completion": END
                },
                END: { "type": "end" }
            },
            "agent_definitions": { AGENT: { "type": "individual", "name": "Network admin" } }
        })
    }

    fn check(doc: &Value) -> Vec<Finding> {
        shared().check(doc)
    }

    fn has(findings: &[Finding], code: &str, pointer: &str, needle: &str) -> bool {
        findings.iter().any(|f| f.code == code && f.pointer == pointer && f.message.contains(needle))
    }

    /// schemas/ also holds the project's non-CACAO schemas (the incident), which are not embedded here.
    fn is_not_cacao(path: &std::path::Path) -> bool {
        path.file_name().is_some_and(|n| n == "incident.json")
    }

    #[test]
    fn every_file_is_embedded_with_its_id() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let mut on_disk = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "json") && !is_not_cacao(&p) {
                    on_disk.push(p.strip_prefix(&dir).unwrap().to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let mut embedded: Vec<String> = embedded_schemas().iter().map(|(p, _)| (*p).to_owned()).collect();
        on_disk.sort();
        embedded.sort();
        assert_eq!(on_disk, embedded, "schemas/ and the embedded list differ");
        for (path, text) in embedded_schemas() {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema", "{path}");
            assert_eq!(v["$id"], format!("{SCHEMA_BASE}{path}"), "{path}");
        }
        assert_eq!(embedded_schemas()[0].0, "playbook.json");
    }

    #[test]
    fn compiles_and_shares_one_instance() {
        assert!(SchemaValidator::new().is_ok());
        assert!(std::ptr::eq(shared(), shared()));
        assert!(!format!("{:?}", shared()).is_empty());
    }

    #[test]
    fn minimal_playbook_is_valid() {
        let doc = minimal();
        assert!(shared().is_valid(&doc));
        assert_eq!(check(&doc), Vec::<Finding>::new());
    }

    #[test]
    fn missing_required_property_points_at_the_object() {
        let mut doc = minimal();
        doc.as_object_mut().unwrap().remove("name");
        let f = check(&doc);
        assert!(has(&f, "schema.required", "", "missing required property `name`"), "{f:#?}");
        assert!(f.iter().all(|f| f.is_error()));
    }

    #[test]
    fn wrong_type_names_property_and_found_value() {
        let mut doc = minimal();
        doc["workflow"][ACTION]["timeout"] = json!("5s");
        let f = check(&doc);
        let ptr = pointer_of(&["workflow", ACTION, "timeout"]);
        assert!(has(&f, "schema.type", &ptr, "`timeout` must be an integer, found string \"5s\""), "{f:#?}");
        assert_eq!(f.len(), 1, "{f:#?}");
    }

    #[test]
    fn unknown_step_property_is_named_with_the_step_kind() {
        let mut doc = minimal();
        doc["workflow"][ACTION]["foo"] = json!(1);
        let f = check(&doc);
        let ptr = pointer_of(&["workflow", ACTION]);
        assert!(
            has(&f, "schema.unevaluated-property", &ptr, "`foo` is not a CACAO property of an action step"),
            "{f:#?}"
        );
        assert_eq!(f.len(), 1, "{f:#?}");
    }

    #[test]
    fn error_inside_a_command_stays_in_the_command() {
        let mut doc = minimal();
        doc["workflow"][ACTION]["commands"][0] = json!({ "type": "http-api", "headers": { "Accept": "json" } });
        let f = check(&doc);
        let cmd = pointer_of(&["workflow", ACTION, "commands", "0"]);
        assert!(has(&f, "schema.required", &cmd, "missing required property `command`"), "{f:#?}");
        assert!(has(&f, "schema.type", &format!("{cmd}/headers/Accept"), "must be an array"), "{f:#?}");
        // No cascade: the step itself is not blamed for properties the command schema rejected.
        assert!(f.iter().all(|x| x.pointer.starts_with(&cmd)), "{f:#?}");
    }

    #[test]
    fn step_type_must_agree_with_its_id() {
        let mut doc = minimal();
        doc["workflow"][ACTION]["type"] = json!("end");
        let f = check(&doc);
        let ptr = pointer_of(&["workflow", ACTION, "type"]);
        assert!(has(&f, "schema.const", &ptr, "must be `action`"), "{f:#?}");
    }

    #[test]
    fn bad_step_id_is_reported_on_the_workflow() {
        let mut doc = minimal();
        let step = doc["workflow"].as_object_mut().unwrap().remove(END).unwrap();
        doc["workflow"]["finish--6b6d9c4f-3a6e-4a56-9c1f-8a0e1fb6a0c1"] = step;
        let f = check(&doc);
        assert!(has(&f, "schema.property-names", "/workflow", "`finish--"), "{f:#?}");
        assert_eq!(f.len(), 1, "{f:#?}");
    }

    #[test]
    fn identifiers_timestamps_and_enums_have_plain_messages() {
        let mut doc = minimal();
        doc["workflow"][ACTION]["agent"] = json!("individual--not-a-uuid");
        doc["created"] = json!("2023-02-19 01:09");
        doc["agent_definitions"][AGENT]["location"] = json!({ "region": "atlantis" });
        let f = check(&doc);
        let agent = pointer_of(&["workflow", ACTION, "agent"]);
        assert!(has(&f, "schema.pattern", &agent, "must be a CACAO identifier"), "{f:#?}");
        assert!(has(&f, "schema.pattern", "/created", "RFC 3339"), "{f:#?}");
        let region = pointer_of(&["agent_definitions", AGENT, "location", "region"]);
        assert!(has(&f, "schema.enum", &region, "must be one of `africa`"), "{f:#?}");
    }

    #[test]
    fn custom_agent_types_are_accepted_but_not_builtin_types_under_custom_ids() {
        let mut doc = minimal();
        let soarca = "soarca--00040001-1000-1000-a000-000100010001";
        doc["agent_definitions"][soarca] = json!({ "type": "soarca", "name": "soarca-manual" });
        assert!(shared().is_valid(&doc), "{:#?}", check(&doc));
        doc["agent_definitions"][soarca]["type"] = json!("ssh");
        let f = check(&doc);
        let ptr = pointer_of(&["agent_definitions", soarca, "type"]);
        assert!(has(&f, "schema.not", &ptr, "built-in type"), "{f:#?}");
        doc["agent_definitions"][soarca] = json!({ "type": "soarca", "name": "x", "url": "http://x" });
        let f = check(&doc);
        let ptr = pointer_of(&["agent_definitions", soarca]);
        assert!(
            has(&f, "schema.unevaluated-property", &ptr, "`url` is not a CACAO property of a `soarca` agent"),
            "{f:#?}"
        );
    }

    #[test]
    fn malformed_agent_id_is_reported() {
        let mut doc = minimal();
        doc["agent_definitions"]["soarca-fin-f896bb3b-bb37-429e-8ece-2d4286cf326d"] =
            json!({ "type": "soarca-fin", "name": "fin" });
        let f = check(&doc);
        assert!(has(&f, "schema.property-names", "/agent_definitions", "soarca-fin-f896bb3b"), "{f:#?}");
    }

    #[test]
    fn on_completion_excludes_on_success_and_start_has_no_on_success() {
        let mut doc = minimal();
        doc["workflow"][ACTION]["on_success"] = json!(END);
        doc["workflow"][START]["on_success"] = json!(ACTION);
        let f = check(&doc);
        let action = pointer_of(&["workflow", ACTION, "on_success"]);
        let start = pointer_of(&["workflow", START, "on_success"]);
        assert!(has(&f, "schema.not-allowed", &action, "together with `on_completion`"), "{f:#?}");
        assert!(has(&f, "schema.not-allowed", &start, "not allowed on a start step"), "{f:#?}");
    }

    #[test]
    fn limits_and_empty_lists() {
        let mut doc = minimal();
        doc["priority"] = json!(101);
        doc["labels"] = json!([]);
        doc["workflow"][ACTION]["delay"] = json!(0);
        let f = check(&doc);
        assert!(has(&f, "schema.maximum", "/priority", "at most 100, found number 101"), "{f:#?}");
        assert!(has(&f, "schema.min-items", "/labels", "at least 1 item"), "{f:#?}");
        assert_eq!(f.len(), 2, "delay 0 is valid: {f:#?}");
    }

    #[test]
    fn findings_are_deduplicated() {
        let mut doc = minimal();
        doc["workflow"][ACTION]["commands"] = json!([{ "type": "manual", "x": 1 }, { "type": "manual", "x": 1 }]);
        doc["foo"] = json!(1);
        let f = check(&doc);
        for (i, a) in f.iter().enumerate() {
            assert!(!f[i + 1..].contains(a), "duplicate {a:?}");
        }
        assert!(has(&f, "schema.unevaluated-property", "", "`foo` is not a CACAO property of the playbook"));
    }

    #[test]
    fn semantics_are_not_schema_matters() {
        let mut doc = minimal();
        doc["workflow"][START]["on_completion"] = json!("action--11111111-2222-4333-8444-555555555555");
        doc["workflow_start"] = json!(ACTION);
        assert!(shared().is_valid(&doc));
    }
}
