//! Serde types for the whole CACAO v2.0 playbook.
//!
//! Two rules shape every type here:
//! - **Lossless.** Every object keeps the properties it does not know in an `extra` map (flattened),
//!   and maps keep document order (indexmap), so parse -> serialize gives back the same document.
//! - **Lenient.** Properties the spec requires are still `Option`s and identifiers are not checked on
//!   deserialization: a broken playbook must still load so it can be validated, drawn and repaired.
//!   Judging form is the validator's job ([`super::validate`]), which points at the exact place.
//!
//! `Option` properties are optional when reading (serde's rule for `Option`) and left out when
//! writing (`#[skip_serializing_none]`), so absent stays absent and present stays present. The one
//! thing not kept is an explicit `null` on a modelled property (CACAO has no null values; the schema
//! rejects them): it reads as absent.

use super::ids::Identifier;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

/// Properties this crate does not model, kept verbatim and in order.
pub type Extra = IndexMap<String, Value>;

macro_rules! string_vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value outside the spec's list, kept as written.
            Other(String),
        }

        impl $name {
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }

            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                Ok($name::from(s.as_ref()))
            }
        }
    };
}

string_vocabulary! {
    /// The 12 command types of CACAO v2.0 (section 5), plus any custom type.
    CommandType {
        Manual => "manual",
        Bash => "bash",
        CalderaCmd => "caldera-cmd",
        Elastic => "elastic",
        HttpApi => "http-api",
        Jupyter => "jupyter",
        Kestrel => "kestrel",
        Openc2Http => "openc2-http",
        Powershell => "powershell",
        Sigma => "sigma",
        Ssh => "ssh",
        Yara => "yara",
    }
}

string_vocabulary! {
    /// The 10 agent and target types of CACAO v2.0 (section 7); the vocabulary is open.
    AgentTargetType {
        Group => "group",
        Individual => "individual",
        Location => "location",
        Organization => "organization",
        Sector => "sector",
        NetAddress => "net-address",
        SecurityCategory => "security-category",
        HttpApi => "http-api",
        Ssh => "ssh",
        Linux => "linux",
    }
}

string_vocabulary! {
    /// Authentication information types (section 8).
    AuthenticationInfoType {
        HttpBasic => "http-basic",
        Oauth2 => "oauth2",
        UserAuth => "user-auth",
    }
}

string_vocabulary! {
    /// Variable types (section 10.18.3).
    VariableType {
        Bool => "bool",
        Dictionary => "dictionary",
        Float => "float",
        HexString => "hexstring",
        Integer => "integer",
        Ipv4Addr => "ipv4-addr",
        Ipv6Addr => "ipv6-addr",
        Long => "long",
        MacAddr => "mac-addr",
        Hash => "hash",
        Md5Hash => "md5-hash",
        Sha256Hash => "sha256-hash",
        String => "string",
        Uri => "uri",
        Uuid => "uuid",
    }
}

/// A CACAO v2.0 playbook (section 3).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Playbook {
    #[serde(rename = "type")]
    pub object_type: Option<String>,
    pub spec_version: Option<String>,
    pub id: Option<Identifier>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub playbook_types: Option<Vec<String>>,
    pub playbook_activities: Option<Vec<String>>,
    pub playbook_processing_summary: Option<ProcessingSummary>,
    pub created_by: Option<Identifier>,
    pub created: Option<String>,
    pub modified: Option<String>,
    pub revoked: Option<bool>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub derived_from: Option<Vec<Identifier>>,
    pub related_to: Option<Vec<Identifier>>,
    pub priority: Option<i64>,
    pub severity: Option<i64>,
    pub impact: Option<i64>,
    pub industry_sectors: Option<Vec<String>>,
    pub labels: Option<Vec<String>>,
    pub external_references: Option<Vec<ExternalReference>>,
    pub markings: Option<Vec<Identifier>>,
    pub playbook_variables: Option<IndexMap<String, Variable>>,
    pub workflow_start: Option<Identifier>,
    pub workflow_exception: Option<Identifier>,
    pub workflow: Option<IndexMap<String, WorkflowStep>>,
    pub playbook_extensions: Option<IndexMap<String, Value>>,
    pub authentication_info_definitions: Option<IndexMap<String, AuthenticationInfo>>,
    pub agent_definitions: Option<IndexMap<String, AgentTarget>>,
    pub target_definitions: Option<IndexMap<String, AgentTarget>>,
    pub extension_definitions: Option<IndexMap<String, ExtensionDefinition>>,
    pub data_marking_definitions: Option<IndexMap<String, DataMarking>>,
    pub signatures: Option<Vec<Signature>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `playbook_processing_summary` (section 10.14): which features a playbook uses.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessingSummary {
    pub manual_playbook: Option<bool>,
    pub external_playbooks: Option<bool>,
    pub parallel_processing: Option<bool>,
    pub if_logic: Option<bool>,
    pub while_logic: Option<bool>,
    pub switch_logic: Option<bool>,
    pub temporal_logic: Option<bool>,
    pub data_markings: Option<bool>,
    pub digital_signatures: Option<bool>,
    pub countersigned_signature: Option<bool>,
    pub extensions: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An external reference (section 10.9).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExternalReference {
    pub name: Option<String>,
    pub description: Option<String>,
    pub source: Option<String>,
    pub url: Option<String>,
    pub external_id: Option<String>,
    pub hash: Option<String>,
    pub location: Option<Identifier>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A variable (section 10.18.3): `__name__` keys in playbook_variables and step_variables.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    #[serde(rename = "type")]
    pub variable_type: Option<VariableType>,
    pub description: Option<String>,
    /// The spec says string; generators write numbers and booleans too, kept as written.
    pub value: Option<Value>,
    pub constant: Option<bool>,
    pub external: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Properties every workflow step has (section 4.1).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepCommon {
    pub name: Option<String>,
    pub description: Option<String>,
    pub external_references: Option<Vec<ExternalReference>>,
    /// Milliseconds to wait before the step starts.
    pub delay: Option<u64>,
    /// Milliseconds after which the step has failed.
    pub timeout: Option<u64>,
    pub step_variables: Option<IndexMap<String, Variable>>,
    pub owner: Option<Identifier>,
    pub on_completion: Option<Identifier>,
    pub on_success: Option<Identifier>,
    pub on_failure: Option<Identifier>,
    pub step_extensions: Option<IndexMap<String, Value>>,
}

/// A step with only the common properties: `start` and `end`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimpleStep {
    #[serde(flatten)]
    pub common: StepCommon,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An `action` step (section 4.4): commands run by an agent against targets.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionStep {
    #[serde(flatten)]
    pub common: StepCommon,
    pub commands: Option<Vec<CommandData>>,
    pub agent: Option<Identifier>,
    pub targets: Option<Vec<Identifier>>,
    pub in_args: Option<Vec<String>>,
    pub out_args: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `playbook-action` step (section 4.5): runs another playbook.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlaybookActionStep {
    #[serde(flatten)]
    pub common: StepCommon,
    pub playbook_id: Option<Identifier>,
    pub playbook_version: Option<String>,
    pub agent: Option<Identifier>,
    pub targets: Option<Vec<Identifier>>,
    pub in_args: Option<Vec<String>>,
    pub out_args: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `parallel` step (section 4.6).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParallelStep {
    #[serde(flatten)]
    pub common: StepCommon,
    pub next_steps: Option<Vec<Identifier>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An `if-condition` step (section 4.7).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IfConditionStep {
    #[serde(flatten)]
    pub common: StepCommon,
    pub condition: Option<String>,
    pub on_true: Option<Identifier>,
    pub on_false: Option<Identifier>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `while-condition` step (section 4.8).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WhileConditionStep {
    #[serde(flatten)]
    pub common: StepCommon,
    pub condition: Option<String>,
    pub on_true: Option<Identifier>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `switch-condition` step (section 4.9).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SwitchConditionStep {
    #[serde(flatten)]
    pub common: StepCommon,
    pub switch: Option<String>,
    pub cases: Option<IndexMap<String, Identifier>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A step whose `type` is outside CACAO v2.0 (or missing), kept whole.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OtherStep {
    #[serde(rename = "type")]
    pub step_type: Option<Value>,
    #[serde(flatten)]
    pub common: StepCommon,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A workflow step of any of the 8 CACAO v2.0 types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum WorkflowStep {
    #[serde(rename = "start")]
    Start(SimpleStep),
    #[serde(rename = "end")]
    End(SimpleStep),
    #[serde(rename = "action")]
    Action(ActionStep),
    #[serde(rename = "playbook-action")]
    PlaybookAction(PlaybookActionStep),
    #[serde(rename = "parallel")]
    Parallel(ParallelStep),
    #[serde(rename = "if-condition")]
    IfCondition(IfConditionStep),
    #[serde(rename = "while-condition")]
    WhileCondition(WhileConditionStep),
    #[serde(rename = "switch-condition")]
    SwitchCondition(SwitchConditionStep),
    /// Any other `type`: read and written back unchanged.
    #[serde(untagged)]
    Other(OtherStep),
}

impl WorkflowStep {
    pub fn common(&self) -> &StepCommon {
        match self {
            WorkflowStep::Start(s) | WorkflowStep::End(s) => &s.common,
            WorkflowStep::Action(s) => &s.common,
            WorkflowStep::PlaybookAction(s) => &s.common,
            WorkflowStep::Parallel(s) => &s.common,
            WorkflowStep::IfCondition(s) => &s.common,
            WorkflowStep::WhileCondition(s) => &s.common,
            WorkflowStep::SwitchCondition(s) => &s.common,
            WorkflowStep::Other(s) => &s.common,
        }
    }

    pub fn common_mut(&mut self) -> &mut StepCommon {
        match self {
            WorkflowStep::Start(s) | WorkflowStep::End(s) => &mut s.common,
            WorkflowStep::Action(s) => &mut s.common,
            WorkflowStep::PlaybookAction(s) => &mut s.common,
            WorkflowStep::Parallel(s) => &mut s.common,
            WorkflowStep::IfCondition(s) => &mut s.common,
            WorkflowStep::WhileCondition(s) => &mut s.common,
            WorkflowStep::SwitchCondition(s) => &mut s.common,
            WorkflowStep::Other(s) => &mut s.common,
        }
    }

    /// The CACAO `type` of the step.
    pub fn type_name(&self) -> &str {
        match self {
            WorkflowStep::Start(_) => "start",
            WorkflowStep::End(_) => "end",
            WorkflowStep::Action(_) => "action",
            WorkflowStep::PlaybookAction(_) => "playbook-action",
            WorkflowStep::Parallel(_) => "parallel",
            WorkflowStep::IfCondition(_) => "if-condition",
            WorkflowStep::WhileCondition(_) => "while-condition",
            WorkflowStep::SwitchCondition(_) => "switch-condition",
            WorkflowStep::Other(s) => s.step_type.as_ref().and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// A command (section 5): one struct for all 12 types, whose properties differ only in which of
/// these apply (`headers`/`content` for http-api and openc2-http, `command_b64` everywhere).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandData {
    #[serde(rename = "type")]
    pub command_type: Option<CommandType>,
    pub description: Option<String>,
    pub command: Option<String>,
    pub command_b64: Option<String>,
    pub version: Option<String>,
    pub playbook_activity: Option<String>,
    pub headers: Option<IndexMap<String, Vec<String>>>,
    pub content: Option<String>,
    pub content_b64: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An agent or target (section 7): one struct for the 10 types and custom ones.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentTarget {
    #[serde(rename = "type")]
    pub agent_target_type: Option<AgentTargetType>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub location: Option<CivicLocation>,
    pub agent_target_extensions: Option<IndexMap<String, Value>>,
    pub contact: Option<Contact>,
    pub logical: Option<Vec<String>>,
    pub sector: Option<String>,
    pub category: Option<Vec<String>>,
    /// Address type (`dname`, `ipv4`, `ipv6`, `l2mac`, `vlan`, `url`) -> addresses.
    pub address: Option<IndexMap<String, Vec<String>>>,
    pub port: Option<String>,
    pub authentication_info: Option<Identifier>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A civic location (section 10.3).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CivicLocation {
    pub name: Option<String>,
    pub description: Option<String>,
    pub building_details: Option<String>,
    pub network_details: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub administrative_area: Option<String>,
    pub city: Option<String>,
    pub street_address: Option<String>,
    pub postal_code: Option<String>,
    pub latitude: Option<String>,
    pub longitude: Option<String>,
    pub precision: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Contact information (section 10.4).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub email: Option<IndexMap<String, String>>,
    pub phone: Option<IndexMap<String, String>>,
    pub contact_details: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Authentication information (section 8): http-basic, oauth2, user-auth or custom.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationInfo {
    #[serde(rename = "type")]
    pub auth_type: Option<AuthenticationInfoType>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub private_key: Option<String>,
    pub token: Option<String>,
    pub oauth_header: Option<String>,
    pub kms: Option<bool>,
    pub kms_key_identifier: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An extension definition (section 6).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtensionDefinition {
    #[serde(rename = "type")]
    pub object_type: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub created_by: Option<Identifier>,
    pub schema: Option<String>,
    pub version: Option<String>,
    pub external_references: Option<Vec<ExternalReference>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A data marking (section 9): statement, TLP or IEP; type-specific properties beyond the common
/// ones stay in `extra` (IEP has a dozen of them).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataMarking {
    #[serde(rename = "type")]
    pub marking_type: Option<String>,
    pub id: Option<Identifier>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub created_by: Option<Identifier>,
    pub created: Option<String>,
    pub modified: Option<String>,
    pub revoked: Option<bool>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub labels: Option<Vec<String>>,
    pub external_references: Option<Vec<ExternalReference>>,
    pub marking_extensions: Option<IndexMap<String, Value>>,
    /// marking-statement
    pub statement: Option<String>,
    /// marking-tlp: `TLP:RED`, `TLP:AMBER+STRICT`, `TLP:AMBER`, `TLP:GREEN`, `TLP:CLEAR`.
    pub tlpv2_level: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A JSON signature (section 10.15, Appendix A).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    #[serde(rename = "type")]
    pub signature_type: Option<String>,
    pub id: Option<Identifier>,
    pub created_by: Option<Identifier>,
    pub created: Option<String>,
    pub modified: Option<String>,
    pub revoked: Option<bool>,
    pub signee: Option<String>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub related_to: Option<Identifier>,
    pub related_version: Option<String>,
    pub hash_algorithm: Option<String>,
    pub algorithm: Option<String>,
    pub public_key: Option<String>,
    pub public_cert_chain: Option<Vec<String>>,
    pub cert_url: Option<String>,
    pub thumbprint: Option<String>,
    pub value: Option<String>,
    /// A countersignature: a signature of this signature.
    pub signature: Option<Box<Signature>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_dispatch_on_type_and_keep_unknown_properties() {
        let doc = json!({
            "type": "action", "name": "Block", "on_completion": "end--1",
            "commands": [{"type": "bash", "command": "true", "x_note": 1}],
            "agent": "linux--a", "x_custom": {"k": [1, 2]}
        });
        let step: WorkflowStep = serde_json::from_value(doc.clone()).unwrap();
        let WorkflowStep::Action(a) = &step else { panic!("not an action: {step:?}") };
        assert_eq!(a.common.name.as_deref(), Some("Block"));
        assert_eq!(a.commands.as_ref().unwrap()[0].command_type, Some(CommandType::Bash));
        assert_eq!(a.extra["x_custom"], json!({"k": [1, 2]}));
        assert_eq!(serde_json::to_value(&step).unwrap(), doc);
    }

    #[test]
    fn unknown_step_types_survive() {
        let doc = json!({"type": "loop", "name": "Repeat", "on_completion": "end--1", "iterations": 3});
        let step: WorkflowStep = serde_json::from_value(doc.clone()).unwrap();
        assert!(matches!(step, WorkflowStep::Other(_)));
        assert_eq!(step.type_name(), "loop");
        assert_eq!(step.common().on_completion.as_ref().unwrap().as_str(), "end--1");
        assert_eq!(serde_json::to_value(&step).unwrap(), doc);
    }

    #[test]
    fn vocabularies_keep_custom_values() {
        let t: AgentTargetType = serde_json::from_value(json!("soarca")).unwrap();
        assert_eq!(t, AgentTargetType::Other("soarca".into()));
        assert!(!t.is_known());
        assert_eq!(CommandType::KNOWN.len(), 12);
        assert_eq!(AgentTargetType::KNOWN.len(), 10);
        assert_eq!(serde_json::to_value(CommandType::Openc2Http).unwrap(), json!("openc2-http"));
    }
}

/// Why a document does not fit the typed model, with the JSON pointer of the value that broke it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {}: {message}", if pointer.is_empty() { "(document)" } else { pointer.as_str() })]
pub struct ModelError {
    pub pointer: String,
    pub message: String,
}

impl Playbook {
    /// Reads a parsed document into the typed model.
    pub fn from_document(doc: &Value) -> Result<Playbook, ModelError> {
        deserialize_with_pointer::<Playbook>(doc).map_err(|mut e| {
            // Internally tagged enums buffer their content, so the path stops at the step; read the
            // step again as its own type to point inside it.
            if is_step_pointer(&e.pointer) {
                if let Some(Err(inner)) = doc.pointer(&e.pointer).map(deserialize_step) {
                    e.pointer.push_str(&inner.pointer);
                    e.message = inner.message;
                }
            }
            e
        })
    }

    /// The playbook as a JSON document.
    pub fn to_document(&self) -> Value {
        serde_json::to_value(self).expect("a playbook always serializes: string keys, finite numbers")
    }
}

fn deserialize_with_pointer<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, ModelError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let mut pointer = String::new();
        for segment in e.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                serde_path_to_error::Segment::Map { key } => crate::finding::push_segment(&mut pointer, key),
                serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
            }
        }
        ModelError { pointer, message: e.into_inner().to_string() }
    })
}

/// `/workflow/<id>` exactly.
fn is_step_pointer(pointer: &str) -> bool {
    pointer.strip_prefix("/workflow/").is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// Deserializes a step as the struct its `type` names, for errors that point inside it.
fn deserialize_step(step: &Value) -> Result<(), ModelError> {
    // Flattened fields lose their path too: read the common properties on their own first.
    deserialize_with_pointer::<StepCommon>(step)?;
    match step.get("type").and_then(Value::as_str).unwrap_or("") {
        "start" | "end" => deserialize_with_pointer::<SimpleStep>(step).map(drop),
        "action" => deserialize_with_pointer::<ActionStep>(step).map(drop),
        "playbook-action" => deserialize_with_pointer::<PlaybookActionStep>(step).map(drop),
        "parallel" => deserialize_with_pointer::<ParallelStep>(step).map(drop),
        "if-condition" => deserialize_with_pointer::<IfConditionStep>(step).map(drop),
        "while-condition" => deserialize_with_pointer::<WhileConditionStep>(step).map(drop),
        "switch-condition" => deserialize_with_pointer::<SwitchConditionStep>(step).map(drop),
        _ => deserialize_with_pointer::<OtherStep>(step).map(drop),
    }
}

#[cfg(test)]
mod document_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn model_errors_point_at_the_value() {
        let doc = json!({"workflow": {"action--1": {"type": "action", "timeout": "5s"}}});
        let err = Playbook::from_document(&doc).unwrap_err();
        assert_eq!(err.pointer, "/workflow/action--1/timeout");
        assert!(err.message.contains("invalid type"), "{err}");
    }

    #[test]
    fn workflow_order_is_kept() {
        let doc = json!({"workflow": {"z": {"type": "end"}, "a": {"type": "start", "on_completion": "z"}}});
        let pb = Playbook::from_document(&doc).unwrap();
        let keys: Vec<&String> = pb.workflow.as_ref().unwrap().keys().collect();
        assert_eq!(keys, ["z", "a"]);
        assert_eq!(pb.to_document(), doc);
    }
}
