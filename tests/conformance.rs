//! Differential conformance: our CACAO v2.0 schemas (schemas/, through `SchemaValidator`) against
//! the official OASIS schemas (../shared/cacao/schemas), document by document.
//!
//! The corpus is the 18 real playbooks of ../shared/cacao/examples, a synthetic playbook that uses
//! every kind of CACAO object, and thousands of deterministic mutations of them. For every
//! document both schemas give a verdict (valid/invalid); the verdicts must agree except for the
//! cases listed in [`DIFFERENCES`], each a deliberate choice justified by the specification.
//! A new disagreement, or a listed one that no longer happens, fails the test.
//!
//! # The reading of the official files
//! The official files declare draft-07 but use `unevaluatedProperties`, a 2019-09/2020-12 keyword
//! that a draft-07 validator ignores (every object would be open). We read them as JSON Schema
//! 2020-12 — their `$schema` is rewritten in memory — so the objects are closed as their authors
//! intended. Read literally, that closes too much: `workflows/action.json` sends every command to
//! `commands/command-data.json`, which is itself closed, so no command carrying a `command` (or
//! any type-specific) property can ever validate and all 18 examples are rejected (asserted by
//! `literal_2020_12_reading_rejects_every_example`). The test therefore applies exactly two
//! in-memory repairs of that wiring and nothing else:
//! 1. `workflows/action.json`: each command is checked against `commands/<type>.json` for the
//!    12 built-in types, and against `commands/command-data.json` (closed) for any other type
//!    (the command type vocabulary is open).
//! 2. `commands/command-data.json`: its top-level `unevaluatedProperties: false` is dropped, so the
//!    12 type files that extend it can add their properties; it still closes custom commands
//!    through repair 1.
//!
//! # Semantics are not schema matters
//! A reference to a step, agent or target that does not exist, or a `workflow_start` naming an
//! action step, is a semantic error (src/cacao/semantic.rs): both schemas accept such documents,
//! and the corpus contains them (`broken-ref` mutations and the `semantic` cases) to prove it.

use cacao_forge::cacao::schema::SchemaValidator;
use cacao_forge::finding::pointer;
use jsonschema::{Draft, Registry, Validator};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

const EXAMPLES_DIR: &str = "../shared/cacao/examples";
const OFFICIAL_DIR: &str = "../shared/cacao/schemas";
const OFFICIAL_BASE: &str = "https://raw.githubusercontent.com/oasis-open/cacao-json-schemas/main/schemas/";
const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";
const COMMAND_TYPES: [&str; 12] = [
    "manual",
    "bash",
    "caldera-cmd",
    "elastic",
    "http-api",
    "jupyter",
    "kestrel",
    "openc2-http",
    "powershell",
    "sigma",
    "ssh",
    "yara",
];

// ------------------------------------------------------------------------------------------------
// The deliberate differences

/// Why our verdict differs from the official one (each a clause of CACAO v2.0 CS01; D1-D9 as
/// numbered in schemas/README.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    /// §7 (agent-target-type-ov is an open vocabulary): an agent or target of a custom type, e.g.
    /// SOARCA's `soarca--…` agents, is valid against the common agent-target properties. The
    /// official files only accept keys of the 10 built-in types.
    OpenAgentTargetVocabulary,
    /// §4.1 `delay`: "MUST be greater than or equal to 0"; the official file says `minimum: 1`
    /// (its own description quotes the spec's ">= 0").
    DelayMayBeZero,
    /// §4.1 `timeout`: "MUST be greater than or equal to 0"; the official file has no minimum.
    TimeoutNotNegative,
    /// §4.1 `on_completion`: "If this property is defined, then on_success and on_failure MUST NOT
    /// be defined". The official `anyOf` meant to say it is always satisfied by its first branch.
    OnCompletionExcludesOnSuccessAndOnFailure,
    /// §9 data markings: `external_references` is a common data-marking property, a list of
    /// external-reference objects. marking-iep.json redefines it as a list of strings and requires
    /// it, while data-marking.json requires at least one object: no IEP marking can validate.
    IepMarkingSatisfiable,
    /// §10.18 variable: its properties are type, description, value, constant and external.
    /// Every official object is closed with `unevaluatedProperties: false` except variable.json;
    /// we close it like the rest (CACAO v2.0 adds properties through extensions only).
    VariableClosed,
    /// §4 switch condition step, `cases`: "The value for each entry … MUST be an identifier and it
    /// MUST represent a CACAO workflow step object." The official patterns allow `playbook--` (a
    /// typo for `playbook-action--`), which is not a step, and are not anchored at the start.
    SwitchCaseIsAStep,
    /// §7 address types: a `url` is a URL, an `ipv4`/`ipv6` entry is an address. Our patterns are
    /// anchored RFC 3986 forms. The official `url` pattern is a character class that demands a
    /// dotted top-level domain (so `http://10.0.0.1:8080/api` fails) and the official ipv4/ipv6
    /// patterns are not anchored at the start (so text before the address passes).
    AddressForms,
    /// §7 address `vlan`: VLAN ids are whole numbers 0-4095. The official http-api and ssh files say
    /// integer, linux and net-address say number; the address is one type, we say integer.
    VlanIsInteger,
}

impl Reason {
    fn text(self) -> &'static str {
        match self {
            Reason::OpenAgentTargetVocabulary => {
                "D1: agent-target-type-ov is open (§7): custom agent/target types are valid"
            }
            Reason::DelayMayBeZero => "D2: delay >= 0 (§4.1); official minimum is 1",
            Reason::TimeoutNotNegative => "D3: timeout >= 0 (§4.1); official has no minimum",
            Reason::OnCompletionExcludesOnSuccessAndOnFailure => {
                "D4: on_completion excludes on_success/on_failure (§4.1); official anyOf is vacuous"
            }
            Reason::IepMarkingSatisfiable => {
                "D5: marking-iep keeps the common external_references (§9); official IEP is unsatisfiable"
            }
            Reason::VariableClosed => {
                "D6: variables are closed like every other object (§10.18); official variable.json is open"
            }
            Reason::SwitchCaseIsAStep => "D7: switch cases name workflow steps (§4); official accepts `playbook--`",
            Reason::AddressForms => {
                "D8: addresses use anchored RFC 3986 forms (§7); official url/ipv4/ipv6 patterns are loose"
            }
            Reason::VlanIsInteger => {
                "D9: vlan ids are integers everywhere (§7); official linux/net-address allow fractions"
            }
        }
    }
}

/// One listed disagreement: the case name, our verdict, the official verdict (true = valid).
struct Difference {
    case: &'static str,
    ours: bool,
    official: bool,
    reason: Reason,
}

const fn diff(case: &'static str, ours: bool, official: bool, reason: Reason) -> Difference {
    Difference { case, ours, official, reason }
}

/// Exactly the documents on which the two schemas disagree.
const DIFFERENCES: &[Difference] = &[
    // Examples: SOARCA's playbooks use custom agent types.
    diff("examples__http-playbook", true, false, Reason::OpenAgentTargetVocabulary),
    diff("examples__manual-playbook", true, false, Reason::OpenAgentTargetVocabulary),
    diff("examples__ssh-playbook", true, false, Reason::OpenAgentTargetVocabulary),
    // Targeted cases on the synthetic playbook.
    diff("fixture: spec custom agent type", true, false, Reason::OpenAgentTargetVocabulary),
    diff("fixture: spec custom target type", true, false, Reason::OpenAgentTargetVocabulary),
    diff("fixture: spec delay 0", true, false, Reason::DelayMayBeZero),
    diff("fixture: spec timeout -1", false, true, Reason::TimeoutNotNegative),
    diff("fixture: spec on_completion with on_success", false, true, Reason::OnCompletionExcludesOnSuccessAndOnFailure),
    diff("fixture: spec on_completion with on_failure", false, true, Reason::OnCompletionExcludesOnSuccessAndOnFailure),
    diff("fixture: spec iep marking", true, false, Reason::IepMarkingSatisfiable),
    diff("fixture: spec switch case names a playbook", false, true, Reason::SwitchCaseIsAStep),
    diff("fixture: spec url with an IP address host", true, false, Reason::AddressForms),
    diff("fixture: spec ipv4 with text before it", false, true, Reason::AddressForms),
    diff("fixture: spec ipv6 with text before it", false, true, Reason::AddressForms),
    diff("fixture: spec vlan id 1.5", false, true, Reason::VlanIsInteger),
    // Generated mutations: a property the spec does not define, added to a variable.
    diff("fixture: unknown-property @ /playbook_variables/__host__", false, true, Reason::VariableClosed),
    diff("fixture: unknown-property @ /playbook_variables/__verdict__", false, true, Reason::VariableClosed),
    diff(
        "fixture: unknown-property @ /workflow/action--00000000-0000-4000-8000-000000000103/step_variables/__scan_id__",
        false,
        true,
        Reason::VariableClosed,
    ),
    diff(
        "Examples__CACAO-2.0__spec-3.1-example: unknown-property @ /playbook_variables/__data_exfil_site__",
        false,
        true,
        Reason::VariableClosed,
    ),
    // SOARCA's integration playbook gives its variables a `name`; once its other defect (an agent
    // property `banana`) is gone, only that `name` is left, which only we reject.
    diff(
        "test__integration__api__routes__playbook: remove banana @ /agent_definitions/individual--6b23a237-ade8-4d00-9aa1-75999732d557",
        false,
        true,
        Reason::VariableClosed,
    ),
    diff("test__integration__api__routes__playbook: remove agent_definitions @ /", false, true, Reason::VariableClosed),
];

// ------------------------------------------------------------------------------------------------
// Reference material

fn crate_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn require_dir(rel: &str) -> PathBuf {
    let dir = crate_path(rel);
    assert!(
        dir.is_dir(),
        "missing `{rel}` (resolved to {}): the conformance test needs the CACAO reference material there",
        dir.display()
    );
    dir
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The 18 example playbooks, by file name without `.json`.
fn examples() -> Vec<(String, Value)> {
    let dir = require_dir(EXAMPLES_DIR);
    let out: Vec<(String, Value)> = json_files(&dir)
        .iter()
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), read_json(p)))
        .collect();
    assert_eq!(out.len(), 18, "expected the 18 example playbooks in {}", dir.display());
    out
}

/// Builds a validator for the official playbook schema, read as 2020-12, optionally repaired.
fn official_validator(repaired: bool) -> Validator {
    let dir = require_dir(OFFICIAL_DIR);
    let mut resources = Vec::new();
    for path in json_files(&dir) {
        let mut schema = read_json(&path);
        let rel = path.strip_prefix(&dir).unwrap().to_string_lossy().replace('\\', "/");
        let id = schema["$id"].as_str().unwrap_or_default().to_owned();
        assert_eq!(id, format!("{OFFICIAL_BASE}{rel}"), "unexpected $id in {rel}");
        schema["$schema"] = json!(DRAFT_2020_12);
        if repaired {
            repair(&rel, &mut schema);
        }
        resources.push((id, schema));
    }
    assert_eq!(resources.len(), 51, "expected the 51 official schema files in {}", dir.display());
    let registry = Registry::new().extend(resources).and_then(|b| b.prepare()).expect("the official schemas register");
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(&registry)
        .offline()
        .build(&json!({ "$ref": format!("{OFFICIAL_BASE}playbook.json") }))
        .expect("the official schemas compile")
}

/// The two repairs of the command wiring (see the module documentation).
fn repair(rel: &str, schema: &mut Value) {
    match rel {
        "workflows/action.json" => {
            let items = schema
                .pointer_mut("/allOf/1/properties/commands/items")
                .expect("action.json still defines commands.items where this test expects it");
            assert_eq!(*items, json!({ "$ref": "../commands/command-data.json" }), "action.json changed");
            let mut dispatch: Vec<Value> = COMMAND_TYPES
                .iter()
                .map(|t| {
                    json!({
                        "if": { "required": ["type"], "properties": { "type": { "const": t } } },
                        "then": { "$ref": format!("../commands/{t}.json") }
                    })
                })
                .collect();
            dispatch.push(json!({
                "if": { "required": ["type"], "properties": { "type": { "enum": COMMAND_TYPES } } },
                "else": { "$ref": "../commands/command-data.json", "unevaluatedProperties": false }
            }));
            *items = json!({ "allOf": dispatch });
        }
        "commands/command-data.json" => {
            let removed = schema.as_object_mut().unwrap().remove("unevaluatedProperties");
            assert_eq!(removed, Some(json!(false)), "command-data.json changed");
        }
        _ => {}
    }
}

static OURS: LazyLock<SchemaValidator> = LazyLock::new(|| SchemaValidator::new().expect("our schemas compile"));
static OFFICIAL: LazyLock<Validator> = LazyLock::new(|| official_validator(true));

// ------------------------------------------------------------------------------------------------
// The synthetic playbook: every step type, every built-in command, agent/target and authentication
// type, variables, markings, extensions, external references and a signature. Valid for both.

const FIXTURE: &str = r##"{
  "type": "playbook",
  "spec_version": "cacao-2.0",
  "id": "playbook--00000000-0000-4000-8000-000000000001",
  "name": "Contain a ransomware host",
  "description": "Synthetic playbook that uses every kind of CACAO v2.0 object.",
  "playbook_types": ["mitigation", "investigation"],
  "playbook_activities": ["analyze-collected-data", "restrict-access"],
  "playbook_processing_summary": {
    "manual_playbook": true, "external_playbooks": true, "parallel_processing": true, "if_logic": true,
    "while_logic": true, "switch_logic": true, "temporal_logic": true, "data_markings": true,
    "digital_signatures": true, "countersigned_signatures": false, "extensions": true
  },
  "created_by": "identity--00000000-0000-4000-8000-0000000000a1",
  "created": "2024-01-31T12:00:00.000Z",
  "modified": "2024-02-01T08:30:00.000Z",
  "revoked": false,
  "valid_from": "2024-02-01T00:00:00.000Z",
  "valid_until": "2025-02-01T00:00:00.000Z",
  "derived_from": ["playbook--00000000-0000-4000-8000-000000000002"],
  "related_to": ["playbook--00000000-0000-4000-8000-000000000003"],
  "priority": 2,
  "severity": 80,
  "impact": 40,
  "industry_sectors": ["financial"],
  "labels": ["ransomware"],
  "external_references": [
    { "name": "ATT&CK T1486", "description": "Data Encrypted for Impact", "source": "MITRE",
      "url": "https://attack.mitre.org/techniques/T1486/", "external_id": "T1486" }
  ],
  "markings": ["marking-tlp--00000000-0000-4000-8000-0000000000d1", "marking-statement--00000000-0000-4000-8000-0000000000d2"],
  "playbook_variables": {
    "__host__": { "type": "ipv4-addr", "description": "The infected host", "value": "10.0.0.5", "constant": false, "external": true },
    "__verdict__": { "type": "string", "value": null }
  },
  "workflow_start": "start--00000000-0000-4000-8000-000000000101",
  "workflow_exception": "end--00000000-0000-4000-8000-000000000199",
  "workflow": {
    "start--00000000-0000-4000-8000-000000000101": {
      "type": "start", "name": "Start", "on_completion": "parallel--00000000-0000-4000-8000-000000000102"
    },
    "parallel--00000000-0000-4000-8000-000000000102": {
      "type": "parallel", "name": "Isolate and notify",
      "next_steps": ["action--00000000-0000-4000-8000-000000000103", "action--00000000-0000-4000-8000-000000000104"],
      "on_completion": "if-condition--00000000-0000-4000-8000-000000000105"
    },
    "action--00000000-0000-4000-8000-000000000103": {
      "type": "action", "name": "Isolate the host", "description": "Cut the host off the network.",
      "external_references": [{ "name": "Isolation runbook", "reference_id": "RB-12" }],
      "delay": 1000, "timeout": 60000,
      "step_variables": { "__scan_id__": { "type": "string", "description": "EDR scan id" } },
      "owner": "identity--00000000-0000-4000-8000-0000000000a1",
      "commands": [
        { "type": "bash", "command": "iptables -I INPUT -s __host__:value -j DROP", "playbook_activity": "restrict-access" },
        { "type": "ssh", "command": "systemctl stop smb", "description": "Stop file sharing", "version": "1" },
        { "type": "powershell", "command_b64": "R2V0LVByb2Nlc3M=" },
        { "type": "caldera-cmd", "command": "isolate" }
      ],
      "agent": "http-api--00000000-0000-4000-8000-000000000305",
      "targets": ["linux--00000000-0000-4000-8000-000000000401"],
      "in_args": ["__host__"],
      "out_args": ["__scan_id__"],
      "step_extensions": { "extension-definition--00000000-0000-4000-8000-0000000000e1": { "x": 10, "y": 20 } },
      "on_success": "end--00000000-0000-4000-8000-000000000110",
      "on_failure": "end--00000000-0000-4000-8000-000000000199"
    },
    "action--00000000-0000-4000-8000-000000000104": {
      "type": "action", "name": "Notify",
      "commands": [
        { "type": "manual", "command": "Call the host owner" },
        { "type": "http-api", "command": "POST /api/v1/tickets HTTP/1.1", "headers": { "Content-Type": ["application/json"] },
          "content": "{\"title\": \"ransomware\"}" },
        { "type": "openc2-http", "command": "POST /openc2 HTTP/1.1", "content_b64": "eyJhY3Rpb24iOiAiZGVueSJ9",
          "headers": { "Accept": ["application/openc2+json"] } }
      ],
      "agent": "individual--00000000-0000-4000-8000-000000000301",
      "targets": ["security-category--00000000-0000-4000-8000-000000000404", "net-address--00000000-0000-4000-8000-000000000403"],
      "on_completion": "end--00000000-0000-4000-8000-000000000111"
    },
    "if-condition--00000000-0000-4000-8000-000000000105": {
      "type": "if-condition", "name": "Still infected?", "condition": "[__host__:value = '10.0.0.5']",
      "on_true": "while-condition--00000000-0000-4000-8000-000000000106",
      "on_false": "switch-condition--00000000-0000-4000-8000-000000000107",
      "on_completion": "end--00000000-0000-4000-8000-000000000112"
    },
    "while-condition--00000000-0000-4000-8000-000000000106": {
      "type": "while-condition", "name": "Hunt until clean", "condition": "[__verdict__:value = 'infected']",
      "on_true": "action--00000000-0000-4000-8000-000000000108",
      "on_completion": "end--00000000-0000-4000-8000-000000000113"
    },
    "action--00000000-0000-4000-8000-000000000108": {
      "type": "action", "name": "Hunt",
      "commands": [
        { "type": "elastic", "command_b64": "ZXZlbnQuY29kZTogNDY4OA==" },
        { "type": "jupyter", "command_b64": "e30=" },
        { "type": "kestrel", "command_b64": "cHJvY3MgPSBHRVQ=" },
        { "type": "sigma", "command_b64": "dGl0bGU6IHg=" },
        { "type": "yara", "command_b64": "cnVsZSB4IHt9" }
      ],
      "agent": "group--00000000-0000-4000-8000-000000000302",
      "targets": ["ssh--00000000-0000-4000-8000-000000000402", "sector--00000000-0000-4000-8000-000000000405"],
      "on_completion": "end--00000000-0000-4000-8000-000000000114"
    },
    "switch-condition--00000000-0000-4000-8000-000000000107": {
      "type": "switch-condition", "name": "By verdict", "switch": "__verdict__:value",
      "cases": {
        "clean": "playbook-action--00000000-0000-4000-8000-000000000109",
        "default": "end--00000000-0000-4000-8000-000000000115"
      },
      "on_completion": "end--00000000-0000-4000-8000-000000000112"
    },
    "playbook-action--00000000-0000-4000-8000-000000000109": {
      "type": "playbook-action", "name": "Restore from backup",
      "playbook_id": "playbook--00000000-0000-4000-8000-000000000003",
      "playbook_version": "2023-11-27T00:00:00.000Z",
      "in_args": ["__host__"], "out_args": ["__verdict__"],
      "on_completion": "end--00000000-0000-4000-8000-000000000116"
    },
    "end--00000000-0000-4000-8000-000000000110": { "type": "end", "name": "Isolated" },
    "end--00000000-0000-4000-8000-000000000111": { "type": "end" },
    "end--00000000-0000-4000-8000-000000000112": { "type": "end" },
    "end--00000000-0000-4000-8000-000000000113": { "type": "end" },
    "end--00000000-0000-4000-8000-000000000114": { "type": "end" },
    "end--00000000-0000-4000-8000-000000000115": { "type": "end" },
    "end--00000000-0000-4000-8000-000000000116": { "type": "end" },
    "end--00000000-0000-4000-8000-000000000199": { "type": "end", "name": "Exception", "description": "Something failed." }
  },
  "playbook_extensions": { "extension-definition--00000000-0000-4000-8000-0000000000e1": { "theme": "dark" } },
  "authentication_info_definitions": {
    "http-basic--00000000-0000-4000-8000-000000000201": {
      "type": "http-basic", "name": "SIEM API", "user_id": "soc", "password": "__siem_password__:value"
    },
    "oauth2--00000000-0000-4000-8000-000000000202": {
      "type": "oauth2", "oauth_header": "Authorization", "token": "__token__:value", "kms": true, "kms_key_identifier": "soc-key"
    },
    "user-auth--00000000-0000-4000-8000-000000000203": {
      "type": "user-auth", "description": "Responder account", "username": "responder", "password": "__pw__:value"
    }
  },
  "agent_definitions": {
    "individual--00000000-0000-4000-8000-000000000301": {
      "type": "individual", "name": "On-call responder",
      "contact": { "email": { "work": "oncall@example.org" }, "phone": { "mobile": "+31 6 0000 0000" }, "contact_details": "24/7" },
      "location": { "name": "SOC", "region": "western-europe", "country": "NL", "city": "The Hague" }
    },
    "group--00000000-0000-4000-8000-000000000302": { "type": "group", "name": "CSIRT", "description": "Incident response team" },
    "organization--00000000-0000-4000-8000-000000000303": { "type": "organization", "name": "Example Corp" },
    "location--00000000-0000-4000-8000-000000000304": { "type": "location", "name": "DC1", "logical": ["rack-12"] },
    "http-api--00000000-0000-4000-8000-000000000305": {
      "type": "http-api", "name": "SOAR API", "address": { "url": ["https://soar.example.org/api"] }, "port": "443",
      "authentication_info": "oauth2--00000000-0000-4000-8000-000000000202", "category": ["orchestrator"]
    }
  },
  "target_definitions": {
    "linux--00000000-0000-4000-8000-000000000401": {
      "type": "linux", "name": "Infected host", "address": { "ipv4": ["10.0.0.5"] }, "port": "22",
      "authentication_info": "user-auth--00000000-0000-4000-8000-000000000203", "category": ["server"]
    },
    "ssh--00000000-0000-4000-8000-000000000402": {
      "type": "ssh", "name": "Jump host", "address": { "dname": ["jump.example.org"] },
      "authentication_info": "user-auth--00000000-0000-4000-8000-000000000203"
    },
    "net-address--00000000-0000-4000-8000-000000000403": {
      "type": "net-address", "name": "Quarantine VLAN", "address": { "vlan": [666], "l2mac": ["00:11:22:33:44:55"] }
    },
    "security-category--00000000-0000-4000-8000-000000000404": { "type": "security-category", "name": "Edge firewall", "category": ["firewall"] },
    "sector--00000000-0000-4000-8000-000000000405": { "type": "sector", "name": "Finance", "sector": "financial" }
  },
  "extension_definitions": {
    "extension-definition--00000000-0000-4000-8000-0000000000e1": {
      "type": "extension-definition", "name": "layout", "description": "Where steps are drawn",
      "created_by": "identity--00000000-0000-4000-8000-0000000000a1", "schema": "https://example.org/layout.json",
      "version": "1.0.0", "external_references": [{ "name": "Layout extension" }]
    }
  },
  "data_marking_definitions": {
    "marking-tlp--00000000-0000-4000-8000-0000000000d1": {
      "type": "marking-tlp", "id": "marking-tlp--00000000-0000-4000-8000-0000000000d1",
      "created_by": "identity--00000000-0000-4000-8000-0000000000a1", "created": "2024-01-31T12:00:00.000Z",
      "tlpv2_level": "TLP:AMBER"
    },
    "marking-statement--00000000-0000-4000-8000-0000000000d2": {
      "type": "marking-statement", "id": "marking-statement--00000000-0000-4000-8000-0000000000d2", "name": "Copyright",
      "description": "Copyright notice", "created_by": "identity--00000000-0000-4000-8000-0000000000a1",
      "created": "2024-01-31T12:00:00.000Z", "labels": ["legal"], "external_references": [{ "name": "License" }],
      "statement": "Copyright 2024 Example Corp"
    }
  },
  "signatures": [
    {
      "type": "jss", "id": "signature--00000000-0000-4000-8000-0000000000f1",
      "created_by": "identity--00000000-0000-4000-8000-0000000000a1",
      "created": "2024-02-01T08:31:00.000Z", "modified": "2024-02-01T08:31:00.000Z", "signee": "Example Corp SOC",
      "related_to": "playbook--00000000-0000-4000-8000-000000000001", "related_version": "2024-02-01T08:30:00.000Z",
      "hash_algorithm": "sha256", "algorithm": "ES256", "public_key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE", "value": "c2lnbmF0dXJl"
    }
  ]
}"##;

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("the fixture is JSON")
}

/// Cases on the synthetic playbook that exercise each deliberate difference once, and the semantic
/// errors that both schemas must accept.
fn targeted_cases(fixture: &Value) -> Vec<Case> {
    const ISOLATE: &str = "action--00000000-0000-4000-8000-000000000103";
    const NOTIFY: &str = "action--00000000-0000-4000-8000-000000000104";
    const SWITCH: &str = "switch-condition--00000000-0000-4000-8000-000000000107";
    const SOAR_API: &str = "http-api--00000000-0000-4000-8000-000000000305";
    const INFECTED: &str = "linux--00000000-0000-4000-8000-000000000401";
    const QUARANTINE: &str = "net-address--00000000-0000-4000-8000-000000000403";
    let edit = |name: &str, f: &dyn Fn(&mut Value)| {
        let mut doc = fixture.clone();
        f(&mut doc);
        Case { name: format!("fixture: {name}"), kind: None, doc }
    };
    vec![
        edit("spec custom agent type", &|d| {
            d["agent_definitions"]["soarca--00040001-1000-1000-a000-000100010001"] =
                json!({ "type": "soarca", "name": "soarca-ssh", "description": "SOARCA's own agent" });
        }),
        edit("spec custom target type", &|d| {
            d["target_definitions"]["x-kubernetes-pod--00000000-0000-4000-8000-000000000406"] =
                json!({ "type": "x-kubernetes-pod", "name": "web-7f9c" });
        }),
        edit("spec delay 0", &|d| d["workflow"][ISOLATE]["delay"] = json!(0)),
        edit("spec timeout -1", &|d| d["workflow"][ISOLATE]["timeout"] = json!(-1)),
        edit("spec on_completion with on_success", &|d| {
            d["workflow"][NOTIFY]["on_success"] = json!("end--00000000-0000-4000-8000-000000000110");
        }),
        edit("spec on_completion with on_failure", &|d| {
            d["workflow"][NOTIFY]["on_failure"] = json!("end--00000000-0000-4000-8000-000000000199");
        }),
        edit("spec iep marking", &|d| {
            let id = "marking-iep--00000000-0000-4000-8000-0000000000d3";
            d["data_marking_definitions"][id] = json!({
                "type": "marking-iep", "id": id, "name": "IEP", "description": "Exchange policy",
                "created_by": "identity--00000000-0000-4000-8000-0000000000a1", "created": "2024-01-31T12:00:00.000Z",
                "tlp": "AMBER", "iep_version": 2, "start_date": "2024-01-31T12:00:00.000Z", "end_date": null,
                "encrypt_in_transit": "must", "permitted_actions": "internal-use-only",
                "affected_party_notifications": "may", "attribution": "must-not", "unmodified_resale": "must-not",
                "external_references": [{ "name": "FIRST IEP 2.0", "url": "https://www.first.org/iep/" }]
            });
        }),
        edit("spec switch case names a playbook", &|d| {
            d["workflow"][SWITCH]["cases"]["clean"] = json!("playbook--00000000-0000-4000-8000-000000000003");
        }),
        edit("spec url with an IP address host", &|d| {
            d["agent_definitions"][SOAR_API]["address"]["url"] = json!(["http://10.0.0.1:8080/api"]);
        }),
        edit("spec ipv4 with text before it", &|d| {
            d["target_definitions"][INFECTED]["address"]["ipv4"] = json!(["host 10.0.0.5"]);
        }),
        edit("spec ipv6 with text before it", &|d| {
            d["target_definitions"][INFECTED]["address"]["ipv6"] = json!(["zz::1"]);
        }),
        edit("spec vlan id 1.5", &|d| d["target_definitions"][QUARANTINE]["address"]["vlan"] = json!([1.5])),
        edit("semantic on_completion names a missing step", &|d| {
            d["workflow"][NOTIFY]["on_completion"] = json!("end--00000000-0000-4000-8000-00000000dead");
        }),
        edit("semantic workflow_start names an action step", &|d| d["workflow_start"] = json!(ISOLATE)),
        edit("semantic agent is not defined", &|d| {
            d["workflow"][NOTIFY]["agent"] = json!("individual--00000000-0000-4000-8000-00000000dead");
        }),
        edit("semantic switch case names a missing step", &|d| {
            d["workflow"][SWITCH]["cases"]["default"] = json!("end--00000000-0000-4000-8000-00000000dead");
        }),
    ]
}

// ------------------------------------------------------------------------------------------------
// Mutations

/// The kinds of CACAO objects a mutation can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    Playbook,
    Step,
    Command,
    Agent,
    Target,
    AuthenticationInfo,
    Variable,
    DataMarking,
    ExtensionDefinition,
    ExternalReference,
    Signature,
    CivicLocation,
    Contact,
    Address,
    ProcessingSummary,
    Cases,
}

struct Case {
    name: String,
    kind: Option<Kind>,
    doc: Value,
}

/// Every object of `doc` that a mutation can target, with its pointer.
fn sites(doc: &Value) -> Vec<(String, Kind)> {
    fn nested(out: &mut Vec<(String, Kind)>, at: &str, value: &Value) {
        let Some(obj) = value.as_object() else { return };
        for (key, v) in obj {
            let here = format!("{at}{}", pointer(&[key]));
            match (key.as_str(), v) {
                ("external_references", Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        if item.is_object() {
                            out.push((format!("{here}/{i}"), Kind::ExternalReference));
                        }
                    }
                }
                ("step_variables", Value::Object(vars)) => {
                    for name in vars.keys() {
                        out.push((format!("{here}{}", pointer(&[name])), Kind::Variable));
                    }
                }
                ("commands", Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        if item.is_object() {
                            let p = format!("{here}/{i}");
                            out.push((p.clone(), Kind::Command));
                            nested(out, &p, item);
                        }
                    }
                }
                ("location", Value::Object(_)) => out.push((here, Kind::CivicLocation)),
                ("contact", Value::Object(_)) => out.push((here, Kind::Contact)),
                ("address", Value::Object(_)) => out.push((here, Kind::Address)),
                ("cases", Value::Object(_)) => out.push((here, Kind::Cases)),
                _ => {}
            }
        }
    }
    let mut out = vec![(String::new(), Kind::Playbook)];
    let Some(root) = doc.as_object() else { return out };
    for (key, value) in root {
        let here = pointer(&[key]);
        let kind = match key.as_str() {
            "workflow" => Some(Kind::Step),
            "agent_definitions" => Some(Kind::Agent),
            "target_definitions" => Some(Kind::Target),
            "authentication_info_definitions" => Some(Kind::AuthenticationInfo),
            "playbook_variables" => Some(Kind::Variable),
            "data_marking_definitions" => Some(Kind::DataMarking),
            "extension_definitions" => Some(Kind::ExtensionDefinition),
            _ => None,
        };
        match (kind, value) {
            (Some(kind), Value::Object(dict)) => {
                for (id, entry) in dict {
                    if entry.is_object() {
                        let p = format!("{here}{}", pointer(&[id]));
                        out.push((p.clone(), kind));
                        nested(&mut out, &p, entry);
                    }
                }
            }
            _ => match (key.as_str(), value) {
                ("signatures", Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        if item.is_object() {
                            out.push((format!("{here}/{i}"), Kind::Signature));
                        }
                    }
                }
                ("playbook_processing_summary", Value::Object(_)) => out.push((here, Kind::ProcessingSummary)),
                _ => {}
            },
        }
    }
    nested(&mut out, "", doc);
    out
}

/// `(prefix, uuid)` when `s` looks like a CACAO identifier.
fn split_id(s: &str) -> Option<(&str, &str)> {
    let i = s.rfind("--")?;
    let (prefix, uuid) = (&s[..i], &s[i + 2..]);
    (!prefix.is_empty() && uuid.len() == 36 && uuid::Uuid::parse_str(uuid).is_ok()).then_some((prefix, uuid))
}

fn is_timestamp(s: &str) -> bool {
    s.len() >= 20 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T' && s.ends_with('Z')
}

/// A value of another JSON type than `v`.
fn wrong_type(v: &Value) -> Value {
    match v {
        Value::Null => json!(0),
        Value::Bool(_) => json!("true"),
        Value::Number(_) => json!("42"),
        Value::String(_) => json!(42),
        Value::Array(_) => json!("not a list"),
        Value::Object(_) => json!(["not", "an", "object"]),
    }
}

/// Values that are out of an enumeration for known enumerated or constant properties.
fn bad_enum_value(key: &str) -> Option<Value> {
    Some(match key {
        "spec_version" => json!("cacao-1.1"),
        "tlpv2_level" => json!("TLP:BLUE"),
        "region" => json!("atlantis"),
        _ => return None,
    })
}

const UNKNOWN_PROPERTY: &str = "x_forge_unknown";
const FRESH_UUID: &str = "0b5e1e7e-0000-4000-8000-00000000beef";

/// Mutations of `seed`: each changes one thing and is named after it.
fn mutations(seed_name: &str, seed: &Value) -> Vec<Case> {
    let mut out = Vec::new();
    let mut push = |what: String, at: &str, kind: Kind, doc: Value| {
        out.push(Case {
            name: format!("{seed_name}: {what} @ {}", if at.is_empty() { "/" } else { at }),
            kind: Some(kind),
            doc,
        });
    };
    for (at, kind) in sites(seed) {
        let Some(object) = seed.pointer(&at).and_then(Value::as_object) else { continue };
        let with = |f: &dyn Fn(&mut Map<String, Value>)| {
            let mut doc = seed.clone();
            f(doc.pointer_mut(&at).and_then(Value::as_object_mut).expect("site exists"));
            doc
        };
        if kind != Kind::Cases {
            push(
                "unknown-property".into(),
                &at,
                kind,
                with(&|o| {
                    o.insert(UNKNOWN_PROPERTY.into(), json!("?"));
                }),
            );
        }
        for (key, value) in object {
            let k = key.as_str();
            // Keys of the id-keyed dictionaries: a wrong prefix, a broken UUID.
            if kind == Kind::Playbook && (k == "workflow" || k.ends_with("_definitions")) {
                for id in value.as_object().into_iter().flat_map(|d| d.keys()).take(3) {
                    let Some((prefix, uuid)) = split_id(id) else { continue };
                    let dict_at = pointer(&[k]);
                    for (what, new_id) in [
                        ("key-bad-prefix", format!("x-custom--{uuid}")),
                        ("key-bad-uuid", format!("{prefix}--not-a-uuid")),
                    ] {
                        let mut doc = seed.clone();
                        let dict = doc.pointer_mut(&dict_at).and_then(Value::as_object_mut).expect("dictionary");
                        let entry = dict.shift_remove(id).expect("entry");
                        dict.insert(new_id, entry);
                        push(format!("{what} {id}"), &dict_at, kind, doc);
                    }
                }
            }
            if kind == Kind::Playbook && k == "workflow" {
                push(
                    format!("wrong-type {k}"),
                    &at,
                    kind,
                    with(&|o| {
                        o.insert(key.clone(), json!([]));
                    }),
                );
                continue;
            }
            push(
                format!("remove {k}"),
                &at,
                kind,
                with(&|o| {
                    o.shift_remove(k);
                }),
            );
            push(
                format!("wrong-type {k}"),
                &at,
                kind,
                with(&|o| {
                    o.insert(key.clone(), wrong_type(value));
                }),
            );
            if let Some(bad) = bad_enum_value(k) {
                push(
                    format!("bad-enum {k}"),
                    &at,
                    kind,
                    with(&|o| {
                        o.insert(key.clone(), bad.clone());
                    }),
                );
            }
            match value {
                Value::String(s) if k == "type" => {
                    push(
                        format!("type-typo {s}"),
                        &at,
                        kind,
                        with(&|o| {
                            o.insert(key.clone(), json!(format!("{s}x")));
                        }),
                    );
                    let swapped = match kind {
                        Kind::Step => Some(if s == "end" { "start" } else { "end" }),
                        Kind::Command => Some(if s == "elastic" { "bash" } else { "elastic" }),
                        Kind::Agent | Kind::Target => Some(if s == "individual" { "group" } else { "individual" }),
                        Kind::AuthenticationInfo => Some(if s == "oauth2" { "user-auth" } else { "oauth2" }),
                        Kind::DataMarking => Some(if s == "marking-tlp" { "marking-statement" } else { "marking-tlp" }),
                        _ => None,
                    };
                    if let Some(t) = swapped {
                        push(
                            format!("type-swapped {s}->{t}"),
                            &at,
                            kind,
                            with(&|o| {
                                o.insert(key.clone(), json!(t));
                            }),
                        );
                    }
                    if kind == Kind::Command {
                        push(
                            format!("command-type-custom {s}"),
                            &at,
                            kind,
                            with(&|o| {
                                o.insert(key.clone(), json!("x-forge-command"));
                            }),
                        );
                    }
                }
                Value::String(s) => {
                    if let Some((prefix, uuid)) = split_id(s) {
                        push(
                            format!("bad-uuid {k}"),
                            &at,
                            kind,
                            with(&|o| {
                                o.insert(key.clone(), json!(format!("{prefix}--not-a-uuid")));
                            }),
                        );
                        push(
                            format!("bad-id-prefix {k}"),
                            &at,
                            kind,
                            with(&|o| {
                                o.insert(key.clone(), json!(format!("Not_A_Type--{uuid}")));
                            }),
                        );
                        push(
                            format!("uuid-version-0 {k}"),
                            &at,
                            kind,
                            with(&|o| {
                                let mut u = uuid.to_owned();
                                u.replace_range(14..15, "0");
                                o.insert(key.clone(), json!(format!("{prefix}--{u}")));
                            }),
                        );
                        if k != "id" {
                            push(
                                format!("broken-ref {k}"),
                                &at,
                                kind,
                                with(&|o| {
                                    o.insert(key.clone(), json!(format!("{prefix}--{FRESH_UUID}")));
                                }),
                            );
                        }
                    } else if is_timestamp(s) {
                        for (what, bad) in
                            [("bad-timestamp-no-zone", &s[..19]), ("bad-timestamp-format", "31/01/2024 12:00")]
                        {
                            push(
                                format!("{what} {k}"),
                                &at,
                                kind,
                                with(&|o| {
                                    o.insert(key.clone(), json!(bad));
                                }),
                            );
                        }
                    }
                }
                Value::Number(_) if matches!(k, "priority" | "severity" | "impact") => {
                    for (what, n) in [
                        ("out-of-range-high", 101),
                        ("out-of-range-low", -1),
                        ("boundary-low", 0),
                        ("boundary-high", 100),
                    ] {
                        push(
                            format!("{what} {k}"),
                            &at,
                            kind,
                            with(&|o| {
                                o.insert(key.clone(), json!(n));
                            }),
                        );
                    }
                }
                Value::Number(n) if n.is_u64() => {
                    push(
                        format!("fraction {k}"),
                        &at,
                        kind,
                        with(&|o| {
                            o.insert(key.clone(), json!(1.5));
                        }),
                    );
                }
                Value::Array(items) if !items.is_empty() => {
                    push(
                        format!("empty-array {k}"),
                        &at,
                        kind,
                        with(&|o| {
                            o.insert(key.clone(), json!([]));
                        }),
                    );
                    push(
                        format!("wrong-item-type {k}"),
                        &at,
                        kind,
                        with(&|o| {
                            let mut items = items.clone();
                            items[0] = wrong_type(&items[0]);
                            o.insert(key.clone(), Value::Array(items));
                        }),
                    );
                    if let Some((prefix, _)) = items[0].as_str().and_then(split_id) {
                        push(
                            format!("bad-uuid {k}[0]"),
                            &at,
                            kind,
                            with(&|o| {
                                let mut items = items.clone();
                                items[0] = json!(format!("{prefix}--not-a-uuid"));
                                o.insert(key.clone(), Value::Array(items));
                            }),
                        );
                        push(
                            format!("broken-ref {k}[0]"),
                            &at,
                            kind,
                            with(&|o| {
                                let mut items = items.clone();
                                items[0] = json!(format!("{prefix}--{FRESH_UUID}"));
                                o.insert(key.clone(), Value::Array(items));
                            }),
                        );
                    }
                }
                Value::Object(dict) if !dict.is_empty() => {
                    push(
                        format!("empty-object {k}"),
                        &at,
                        kind,
                        with(&|o| {
                            o.insert(key.clone(), json!({}));
                        }),
                    );
                    if matches!(k, "playbook_variables" | "step_variables") {
                        let name = dict.keys().next().unwrap().clone();
                        push(
                            format!("bad-variable-name {name}"),
                            &at,
                            kind,
                            with(&|o| {
                                let vars = o.get_mut(k).unwrap().as_object_mut().unwrap();
                                let v = vars.shift_remove(&name).unwrap();
                                vars.insert(name.trim_matches('_').to_owned(), v);
                            }),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// The tests

struct Verdicts {
    name: String,
    ours: bool,
    official: bool,
}

fn judge(name: &str, doc: &Value) -> Verdicts {
    Verdicts { name: name.to_owned(), ours: OURS.is_valid(doc), official: OFFICIAL.is_valid(doc) }
}

fn listed(name: &str) -> Option<&'static Difference> {
    DIFFERENCES.iter().find(|d| d.case == name)
}

#[test]
fn literal_2020_12_reading_rejects_every_example() {
    // Why the reading repairs the command wiring: without it the official files reject everything.
    let literal = official_validator(false);
    let examples = examples();
    let accepted: Vec<&str> = examples.iter().filter(|(_, d)| literal.is_valid(d)).map(|(n, _)| n.as_str()).collect();
    assert!(accepted.is_empty(), "the literal reading accepts {accepted:?}");
    println!("literal 2020-12 reading of the official files: 0 of {} examples accepted", examples.len());
}

#[test]
fn examples_accepted_by_the_official_schemas_are_accepted_by_ours() {
    let examples = examples();
    let mut accepted = 0;
    for (name, doc) in &examples {
        if OFFICIAL.is_valid(doc) {
            accepted += 1;
            assert!(
                OURS.is_valid(doc),
                "{name}: accepted by the official schemas, rejected by ours: {:#?}",
                OURS.check(doc)
            );
        }
    }
    let ours = examples.iter().filter(|(_, d)| OURS.is_valid(d)).count();
    println!(
        "{accepted} of {} examples accepted by the official schemas, all accepted by ours ({ours} accepted by ours in all)",
        examples.len()
    );
    assert!(accepted > 0, "no example is accepted by the official schemas: the reading is broken");
}

#[test]
fn the_fixture_is_valid_for_both() {
    let doc = fixture();
    assert!(OFFICIAL.is_valid(&doc), "official schemas reject the fixture");
    assert_eq!(OURS.check(&doc), vec![], "our schemas reject the fixture");
}

#[test]
fn differential_conformance() {
    let examples = examples();
    let fixture = fixture();

    // The documents: the examples and the fixture as they are, the targeted cases, then the
    // mutations of every seed on which the two schemas agree (mutating a seed they disagree on
    // would only repeat that seed's listed difference).
    let mut verdicts: Vec<Verdicts> = Vec::new();
    let mut seeds: Vec<(String, Value)> = Vec::new();
    for (name, doc) in examples.iter().cloned().chain([("fixture".to_owned(), fixture.clone())]) {
        let v = judge(&name, &doc);
        if v.ours == v.official {
            seeds.push((name, doc));
        }
        verdicts.push(v);
    }
    let targeted = targeted_cases(&fixture);
    let semantic: Vec<&Case> = targeted.iter().filter(|c| c.name.starts_with("fixture: semantic")).collect();
    for case in &targeted {
        verdicts.push(judge(&case.name, &case.doc));
    }

    let mut seen_docs = HashSet::new();
    let mut mutation_count = 0;
    let mut per_kind: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut names = HashSet::new();
    for (seed_name, seed) in &seeds {
        for case in mutations(seed_name, seed) {
            assert!(names.insert(case.name.clone()), "duplicate case name {}", case.name);
            if !seen_docs.insert(serde_json::to_string(&case.doc).unwrap()) {
                continue; // another mutation already produced this document
            }
            mutation_count += 1;
            *per_kind.entry(case.kind.expect("mutations name their kind")).or_default() += 1;
            verdicts.push(judge(&case.name, &case.doc));
        }
    }

    // Compare.
    let disagreements: Vec<&Verdicts> = verdicts.iter().filter(|v| v.ours != v.official).collect();
    let agreements = verdicts.len() - disagreements.len();
    let valid_both = verdicts.iter().filter(|v| v.ours && v.official).count();
    println!("differential conformance against the official schemas (2020-12 reading, command wiring repaired)");
    println!(
        "  documents: {} ({} examples, 1 fixture, {} targeted cases, {} mutations of {} seeds)",
        verdicts.len(),
        examples.len(),
        targeted.len(),
        mutation_count,
        seeds.len()
    );
    println!("  mutations by object kind: {per_kind:?}");
    println!("  agree: {agreements} ({valid_both} valid for both, {} invalid for both)", agreements - valid_both);
    println!("  listed deliberate differences: {}", DIFFERENCES.len());
    for d in DIFFERENCES {
        println!("    - {}", d.case);
        println!("        ours {}, official {}: {}", verdict(d.ours), verdict(d.official), d.reason.text());
    }

    let mut unexpected = Vec::new();
    for v in &disagreements {
        match listed(&v.name) {
            Some(d) if d.ours == v.ours && d.official == v.official => {}
            _ => unexpected.push(format!("diff({:?}, {}, {}, Reason::?),", v.name, v.ours, v.official)),
        }
    }
    let found: BTreeSet<&str> = disagreements.iter().map(|v| v.name.as_str()).collect();
    let missing: Vec<&str> = DIFFERENCES.iter().map(|d| d.case).filter(|c| !found.contains(c)).collect();
    assert!(
        unexpected.is_empty() && missing.is_empty(),
        "the schemas disagree outside the listed differences:\n{}\nlisted differences that no longer happen: {missing:?}",
        unexpected.join("\n")
    );

    // Semantic errors are accepted by both.
    for case in semantic {
        let v = judge(&case.name, &case.doc);
        assert!(v.ours && v.official, "{}: semantic errors are not schema matters", case.name);
    }
    // The corpus is big and spread over every kind of object.
    assert!(mutation_count >= 500, "only {mutation_count} mutations");
    for kind in [
        Kind::Playbook,
        Kind::Step,
        Kind::Command,
        Kind::Agent,
        Kind::Target,
        Kind::AuthenticationInfo,
        Kind::Variable,
        Kind::DataMarking,
        Kind::ExternalReference,
        Kind::ExtensionDefinition,
        Kind::Signature,
    ] {
        assert!(per_kind.get(&kind).copied().unwrap_or(0) >= 10, "too few mutations of {kind:?}: {per_kind:?}");
    }
}

fn verdict(valid: bool) -> &'static str {
    if valid {
        "valid"
    } else {
        "invalid"
    }
}
