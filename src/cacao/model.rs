//! Serde types for the whole CACAO v2.0 playbook.
//!
//! Two rules shape every type here:
//! - **Lossless.** Every object keeps the properties it does not know in an `extra` map (flattened),
//!   and maps keep document order (indexmap), so parse -> serialize gives back the same document.
//! - **Lenient.** Properties the spec requires are still `Option`s and identifiers are not checked on
//!   deserialization: a broken playbook must still load so it can be validated, drawn and repaired.
//!   Judging form is the validator's job ([`super::validate`]), which points at the exact place.

use super::ids::Identifier;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Playbook {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook_activities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook_processing_summary: Option<ProcessingSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<Vec<Identifier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_to: Option<Vec<Identifier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry_sectors: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_references: Option<Vec<ExternalReference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markings: Option<Vec<Identifier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook_variables: Option<IndexMap<String, Variable>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_start: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_exception: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<IndexMap<String, WorkflowStep>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook_extensions: Option<IndexMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_info_definitions: Option<IndexMap<String, AuthenticationInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_definitions: Option<IndexMap<String, AgentTarget>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_definitions: Option<IndexMap<String, AgentTarget>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_definitions: Option<IndexMap<String, ExtensionDefinition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_marking_definitions: Option<IndexMap<String, DataMarking>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signatures: Option<Vec<Signature>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `playbook_processing_summary` (section 10.14): which features a playbook uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessingSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_playbook: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_playbooks: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_processing: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_logic: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub while_logic: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_logic: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal_logic: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_markings: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digital_signatures: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub countersigned_signature: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An external reference (section 10.9).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExternalReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Identifier>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A variable (section 10.18.3): `__name__` keys in playbook_variables and step_variables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub variable_type: Option<VariableType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The spec says string; generators write numbers and booleans too, kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constant: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Properties every workflow step has (section 4.1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepCommon {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_references: Option<Vec<ExternalReference>>,
    /// Milliseconds to wait before the step starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<u64>,
    /// Milliseconds after which the step has failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_variables: Option<IndexMap<String, Variable>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_completion: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_extensions: Option<IndexMap<String, Value>>,
}

/// A step with only the common properties: `start` and `end`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimpleStep {
    #[serde(flatten)]
    pub common: StepCommon,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An `action` step (section 4.4): commands run by an agent against targets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionStep {
    #[serde(flatten)]
    pub common: StepCommon,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<CommandData>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<Identifier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_args: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_args: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `playbook-action` step (section 4.5): runs another playbook.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlaybookActionStep {
    #[serde(flatten)]
    pub common: StepCommon,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook_id: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<Identifier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_args: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_args: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `parallel` step (section 4.6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParallelStep {
    #[serde(flatten)]
    pub common: StepCommon,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_steps: Option<Vec<Identifier>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An `if-condition` step (section 4.7).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IfConditionStep {
    #[serde(flatten)]
    pub common: StepCommon,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_true: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_false: Option<Identifier>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `while-condition` step (section 4.8).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WhileConditionStep {
    #[serde(flatten)]
    pub common: StepCommon,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_true: Option<Identifier>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `switch-condition` step (section 4.9).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SwitchConditionStep {
    #[serde(flatten)]
    pub common: StepCommon,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cases: Option<IndexMap<String, Identifier>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A step whose `type` is outside CACAO v2.0 (or missing), kept whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OtherStep {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandData {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub command_type: Option<CommandType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_b64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playbook_activity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<IndexMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_b64: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An agent or target (section 7): one struct for the 10 types and custom ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentTarget {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub agent_target_type: Option<AgentTargetType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<CivicLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_target_extensions: Option<IndexMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logical: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Vec<String>>,
    /// Address type (`dname`, `ipv4`, `ipv6`, `l2mac`, `vlan`, `url`) -> addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IndexMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_info: Option<Identifier>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A civic location (section 10.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CivicLocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub administrative_area: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Contact information (section 10.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<IndexMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<IndexMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_details: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Authentication information (section 8): http-basic, oauth2, user-auth or custom.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationInfo {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<AuthenticationInfoType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_identifier: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An extension definition (section 6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtensionDefinition {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_references: Option<Vec<ExternalReference>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A data marking (section 9): statement, TLP or IEP; type-specific properties beyond the common
/// ones stay in `extra` (IEP has a dozen of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataMarking {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub marking_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_references: Option<Vec<ExternalReference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marking_extensions: Option<IndexMap<String, Value>>,
    /// marking-statement
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// marking-tlp: `TLP:RED`, `TLP:AMBER+STRICT`, `TLP:AMBER`, `TLP:GREEN`, `TLP:CLEAR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlpv2_level: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A JSON signature (section 10.15, Appendix A).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub signature_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_to: Option<Identifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_cert_chain: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// A countersignature: a signature of this signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
