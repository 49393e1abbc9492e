//! Response knowledge: for each ATT&CK technique (and, as a fallback, each threat type of the
//! classifier) the ATT&CK mitigations that apply and concrete response actions, grouped in phases
//! (containment, eradication, recovery, verification).
//!
//! The knowledge is data, in `playbooks/responses/` (format and rules in its README.md). Every file
//! is embedded at build time through the [`FILES`] table, parsed into typed structs and checked once
//! ([`library`]); a file that does not load is a programming error, caught by the unit tests below.
//!
//! # Rendering commands
//!
//! Commands are templates with `{{name}}` placeholders, where `name` is an observable kind listed in
//! the action's `acts_on` or a setting listed in the file's `settings`. Values are data, never code;
//! [`render_command`] substitutes them under these rules, by command type:
//!
//! - Every value: no control characters (newline, carriage return, NUL, ...). Values of typed kinds
//!   must have their shape: `ipv4`/`ipv6` parse as addresses, `md5`/`sha1`/`sha256` are hex of the
//!   right length, `cve` is `CVE-YYYY-N...`, `domain` is a host name, `email` is `local@domain`,
//!   `url` is an `http(s)://` URL without spaces.
//! - `bash`, `ssh`, `powershell`: a placeholder inside single quotes in the template accepts any value
//!   without a single quote (for PowerShell also without the typographic single quotes it treats as
//!   quotes). Anywhere else (bare or inside double quotes) the value must consist only of
//!   `A-Z a-z 0-9 . _ : / -` (plus `@` for bash/ssh) and must not start with `-`, so it can neither
//!   inject shell syntax nor be read as an option. The quoting analysis is conservative: a placeholder
//!   in single quotes nested inside `"$(...)"` is treated as double-quoted (stricter), never looser.
//! - `openc2-http`: the command is a JSON document; placeholders must sit inside JSON strings, values
//!   are JSON-escaped, and the result must parse as JSON.
//! - `http-api`: the first line is `METHOD URL`. In it, a setting (an operator-configured base URL)
//!   must be an `http(s)://` URL without spaces and is inserted as is (trailing `/` trimmed), and an
//!   observable value is percent-encoded (only RFC 3986 unreserved characters stay). Lines after the
//!   first are a JSON body, treated as for `openc2-http`.
//! - `manual`: text for a person; values are inserted as they are (control characters refused).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::is_technique_id;

/// Every knowledge file, embedded: (path relative to `playbooks/responses/`, contents). A unit test
/// checks that this table lists exactly the `.json` files of the directory.
pub const FILES: &[(&str, &str)] = &[
    ("baseline.json", include_str!("../../playbooks/responses/baseline.json")),
    ("T1003.json", include_str!("../../playbooks/responses/T1003.json")),
    ("T1018.json", include_str!("../../playbooks/responses/T1018.json")),
    ("T1021.json", include_str!("../../playbooks/responses/T1021.json")),
    ("T1027.json", include_str!("../../playbooks/responses/T1027.json")),
    ("T1033.json", include_str!("../../playbooks/responses/T1033.json")),
    ("T1036.json", include_str!("../../playbooks/responses/T1036.json")),
    ("T1041.json", include_str!("../../playbooks/responses/T1041.json")),
    ("T1046.json", include_str!("../../playbooks/responses/T1046.json")),
    ("T1047.json", include_str!("../../playbooks/responses/T1047.json")),
    ("T1048.json", include_str!("../../playbooks/responses/T1048.json")),
    ("T1053.json", include_str!("../../playbooks/responses/T1053.json")),
    ("T1055.json", include_str!("../../playbooks/responses/T1055.json")),
    ("T1059.json", include_str!("../../playbooks/responses/T1059.json")),
    ("T1068.json", include_str!("../../playbooks/responses/T1068.json")),
    ("T1069.json", include_str!("../../playbooks/responses/T1069.json")),
    ("T1070.json", include_str!("../../playbooks/responses/T1070.json")),
    ("T1071.json", include_str!("../../playbooks/responses/T1071.json")),
    ("T1078.json", include_str!("../../playbooks/responses/T1078.json")),
    ("T1082.json", include_str!("../../playbooks/responses/T1082.json")),
    ("T1083.json", include_str!("../../playbooks/responses/T1083.json")),
    ("T1087.json", include_str!("../../playbooks/responses/T1087.json")),
    ("T1090.json", include_str!("../../playbooks/responses/T1090.json")),
    ("T1098.json", include_str!("../../playbooks/responses/T1098.json")),
    ("T1102.json", include_str!("../../playbooks/responses/T1102.json")),
    ("T1105.json", include_str!("../../playbooks/responses/T1105.json")),
    ("T1110.json", include_str!("../../playbooks/responses/T1110.json")),
    ("T1112.json", include_str!("../../playbooks/responses/T1112.json")),
    ("T1127.json", include_str!("../../playbooks/responses/T1127.json")),
    ("T1133.json", include_str!("../../playbooks/responses/T1133.json")),
    ("T1134.json", include_str!("../../playbooks/responses/T1134.json")),
    ("T1136.json", include_str!("../../playbooks/responses/T1136.json")),
    ("T1137.json", include_str!("../../playbooks/responses/T1137.json")),
    ("T1140.json", include_str!("../../playbooks/responses/T1140.json")),
    ("T1189.json", include_str!("../../playbooks/responses/T1189.json")),
    ("T1190.json", include_str!("../../playbooks/responses/T1190.json")),
    ("T1195.json", include_str!("../../playbooks/responses/T1195.json")),
    ("T1197.json", include_str!("../../playbooks/responses/T1197.json")),
    ("T1202.json", include_str!("../../playbooks/responses/T1202.json")),
    ("T1203.json", include_str!("../../playbooks/responses/T1203.json")),
    ("T1204.json", include_str!("../../playbooks/responses/T1204.json")),
    ("T1210.json", include_str!("../../playbooks/responses/T1210.json")),
    ("T1216.json", include_str!("../../playbooks/responses/T1216.json")),
    ("T1218.json", include_str!("../../playbooks/responses/T1218.json")),
    ("T1219.json", include_str!("../../playbooks/responses/T1219.json")),
    ("T1482.json", include_str!("../../playbooks/responses/T1482.json")),
    ("T1485.json", include_str!("../../playbooks/responses/T1485.json")),
    ("T1486.json", include_str!("../../playbooks/responses/T1486.json")),
    ("T1489.json", include_str!("../../playbooks/responses/T1489.json")),
    ("T1490.json", include_str!("../../playbooks/responses/T1490.json")),
    ("T1496.json", include_str!("../../playbooks/responses/T1496.json")),
    ("T1505.json", include_str!("../../playbooks/responses/T1505.json")),
    ("T1528.json", include_str!("../../playbooks/responses/T1528.json")),
    ("T1543.json", include_str!("../../playbooks/responses/T1543.json")),
    ("T1546.json", include_str!("../../playbooks/responses/T1546.json")),
    ("T1547.json", include_str!("../../playbooks/responses/T1547.json")),
    ("T1548.json", include_str!("../../playbooks/responses/T1548.json")),
    ("T1550.json", include_str!("../../playbooks/responses/T1550.json")),
    ("T1552.json", include_str!("../../playbooks/responses/T1552.json")),
    ("T1553.json", include_str!("../../playbooks/responses/T1553.json")),
    ("T1555.json", include_str!("../../playbooks/responses/T1555.json")),
    ("T1556.json", include_str!("../../playbooks/responses/T1556.json")),
    ("T1557.json", include_str!("../../playbooks/responses/T1557.json")),
    ("T1558.json", include_str!("../../playbooks/responses/T1558.json")),
    ("T1560.json", include_str!("../../playbooks/responses/T1560.json")),
    ("T1562.json", include_str!("../../playbooks/responses/T1562.json")),
    ("T1564.json", include_str!("../../playbooks/responses/T1564.json")),
    ("T1566.json", include_str!("../../playbooks/responses/T1566.json")),
    ("T1567.json", include_str!("../../playbooks/responses/T1567.json")),
    ("T1569.json", include_str!("../../playbooks/responses/T1569.json")),
    ("T1572.json", include_str!("../../playbooks/responses/T1572.json")),
    ("T1574.json", include_str!("../../playbooks/responses/T1574.json")),
    ("T1595.json", include_str!("../../playbooks/responses/T1595.json")),
    ("threat-types/brute_force.json", include_str!("../../playbooks/responses/threat-types/brute_force.json")),
    (
        "threat-types/command_injection.json",
        include_str!("../../playbooks/responses/threat-types/command_injection.json"),
    ),
    (
        "threat-types/data_exfiltration.json",
        include_str!("../../playbooks/responses/threat-types/data_exfiltration.json"),
    ),
    ("threat-types/malware.json", include_str!("../../playbooks/responses/threat-types/malware.json")),
    ("threat-types/path_traversal.json", include_str!("../../playbooks/responses/threat-types/path_traversal.json")),
    ("threat-types/phishing.json", include_str!("../../playbooks/responses/threat-types/phishing.json")),
    (
        "threat-types/privilege_escalation.json",
        include_str!("../../playbooks/responses/threat-types/privilege_escalation.json"),
    ),
    ("threat-types/reconnaissance.json", include_str!("../../playbooks/responses/threat-types/reconnaissance.json")),
    ("threat-types/sql_injection.json", include_str!("../../playbooks/responses/threat-types/sql_injection.json")),
    ("threat-types/xss.json", include_str!("../../playbooks/responses/threat-types/xss.json")),
];

/// The threat types of the incident classifier that have fallback knowledge.
pub const THREAT_TYPES: &[&str] = &[
    "sql_injection",
    "xss",
    "command_injection",
    "path_traversal",
    "brute_force",
    "privilege_escalation",
    "malware",
    "reconnaissance",
    "phishing",
    "data_exfiltration",
];

/// Response phase, in the order a plan runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Containment,
    Eradication,
    Recovery,
    Verification,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Containment, Phase::Eradication, Phase::Recovery, Phase::Verification];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Containment => "containment",
            Phase::Eradication => "eradication",
            Phase::Recovery => "recovery",
            Phase::Verification => "verification",
        }
    }
}

/// How an action is carried out (maps to CACAO command types; `manual` is a human step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommandType {
    Bash,
    Powershell,
    Ssh,
    HttpApi,
    Openc2Http,
    Manual,
}

impl CommandType {
    /// Every command type, in the order the knowledge README lists them.
    pub const ALL: [CommandType; 6] = [
        CommandType::Bash,
        CommandType::Powershell,
        CommandType::Ssh,
        CommandType::HttpApi,
        CommandType::Openc2Http,
        CommandType::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommandType::Bash => "bash",
            CommandType::Powershell => "powershell",
            CommandType::Ssh => "ssh",
            CommandType::HttpApi => "http-api",
            CommandType::Openc2Http => "openc2-http",
            CommandType::Manual => "manual",
        }
    }
}

/// Where the action runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Linux,
    Windows,
    Macos,
    Network,
    Cloud,
    Any,
}

/// The kinds of observables an action acts on; also the placeholder names of commands. One
/// vocabulary with intake, so extracted observables fill placeholders directly.
pub use crate::incident::ObservableKind;

/// An operator-configured value a file's commands use (for example the identity provider's URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    pub name: String,
    pub description: String,
}

/// One concrete response action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseAction {
    /// Kebab-case, unique within its file.
    pub id: String,
    pub phase: Phase,
    /// What the action does, in a full sentence; a playbook step's description.
    pub name: String,
    /// The short imperative name a playbook step gets: 3 to 8 words, the words a responder would
    /// use ("Block the attacker IP at the firewall"). See [`check_title`] for the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rationale: String,
    /// The ATT&CK mitigation (`Mxxxx`) this action implements, when it implements one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitigation: Option<String>,
    pub acts_on: Vec<ObservableKind>,
    pub command_type: CommandType,
    pub platform: Platform,
    /// Template with `{{kind}}` / `{{setting}}` placeholders; see [`render_command`].
    pub command: String,
    /// What a passing result looks like (required for verification actions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    pub destructive: bool,
    pub reversible: bool,
    pub requires_approval: bool,
    /// How to reverse the action: guidance rendered with the same rules, never run automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<String>,
}

impl ResponseAction {
    /// Placeholder names used by the command and the undo text, in order of first use.
    pub fn placeholders(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for text in std::iter::once(self.command.as_str()).chain(self.undo.as_deref()) {
            if let Ok(segments) = parse_template(text) {
                for seg in segments {
                    if let Segment::Placeholder { name, .. } = seg {
                        if !out.iter().any(|n| n == name) {
                            out.push(name.to_string());
                        }
                    }
                }
            }
        }
        out
    }
}

/// The knowledge for one technique or one threat type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseKnowledge {
    /// `Txxxx` or `Txxxx.yyy` for technique files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technique_id: Option<String>,
    /// A classifier threat type for fallback files (`threat-types/<name>.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat_type: Option<String>,
    pub name: String,
    /// For threat-type files: the ATT&CK techniques the threat type usually corresponds to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<String>,
    /// ATT&CK mitigation ids (`Mxxxx`) that apply.
    pub mitigations: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<Setting>,
    pub actions: Vec<ResponseAction>,
}

impl ResponseKnowledge {
    /// The technique id or the threat type: the key this knowledge is found under.
    pub fn key(&self) -> &str {
        self.technique_id.as_deref().or(self.threat_type.as_deref()).unwrap_or("")
    }

    /// The actions of one phase, in file order.
    pub fn actions_in(&self, phase: Phase) -> impl Iterator<Item = &ResponseAction> + '_ {
        self.actions.iter().filter(move |a| a.phase == phase)
    }

    /// The actions in plan order: by phase, file order within a phase.
    pub fn ordered_actions(&self) -> Vec<&ResponseAction> {
        Phase::ALL.iter().flat_map(|p| self.actions_in(*p)).collect()
    }
}

/// A knowledge file that does not load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: not valid response knowledge: {source}")]
    Parse { file: String, source: serde_json::Error },
    #[error("{file}: {problem}")]
    Invalid { file: String, problem: String },
    #[error("{key} is defined by more than one file ({file} is the second)")]
    Duplicate { key: String, file: String },
}

/// All response knowledge, indexed by technique id and by threat type.
#[derive(Debug, Clone, Default)]
pub struct ResponseLibrary {
    techniques: BTreeMap<String, ResponseKnowledge>,
    threat_types: BTreeMap<String, ResponseKnowledge>,
    baseline: Option<ResponseKnowledge>,
}

/// The path of the baseline file: the standard host-level response (kill, block, delete, lock,
/// reset, scan) per operating system, which the playbook planner adds to every technique's
/// knowledge. Its `threat_type` is `baseline`; it may hold any number of actions.
pub const BASELINE_FILE: &str = "baseline.json";

/// The embedded library, loaded and checked once.
///
/// # Panics
/// When an embedded file does not load: a programming error the unit tests of this module catch.
pub fn library() -> &'static ResponseLibrary {
    static LIBRARY: LazyLock<ResponseLibrary> = LazyLock::new(|| match ResponseLibrary::from_files(FILES) {
        Ok(lib) => lib,
        Err(e) => panic!("embedded response knowledge does not load: {e}"),
    });
    &LIBRARY
}

impl ResponseLibrary {
    /// Parses and checks knowledge files given as (path, contents); paths under `threat-types/` are
    /// threat-type files, the others technique files named `<technique_id>.json`.
    pub fn from_files(files: &[(&str, &str)]) -> Result<ResponseLibrary, LoadError> {
        let mut lib = ResponseLibrary::default();
        for (path, text) in files {
            let knowledge: ResponseKnowledge =
                serde_json::from_str(text).map_err(|source| LoadError::Parse { file: path.to_string(), source })?;
            check_knowledge(path, &knowledge)
                .map_err(|problem| LoadError::Invalid { file: path.to_string(), problem })?;
            if *path == BASELINE_FILE {
                lib.baseline = Some(knowledge);
                continue;
            }
            let (map, key) = match (&knowledge.technique_id, &knowledge.threat_type) {
                (Some(t), None) => (&mut lib.techniques, t.clone()),
                (None, Some(t)) => (&mut lib.threat_types, t.clone()),
                _ => unreachable!("check_knowledge requires exactly one of technique_id and threat_type"),
            };
            if map.contains_key(&key) {
                return Err(LoadError::Duplicate { key, file: path.to_string() });
            }
            map.insert(key, knowledge);
        }
        Ok(lib)
    }

    /// Knowledge for a technique: the exact id first, then its parent for a sub-technique
    /// (`T1059.001` falls back to `T1059`). Case-insensitive.
    pub fn for_technique(&self, id: &str) -> Option<&ResponseKnowledge> {
        let id = id.trim().to_ascii_uppercase();
        self.techniques.get(&id).or_else(|| id.split_once('.').and_then(|(parent, _)| self.techniques.get(parent)))
    }

    /// Fallback knowledge for a classifier threat type (`sql_injection`, `malware`, ...).
    pub fn for_threat_type(&self, threat_type: &str) -> Option<&ResponseKnowledge> {
        self.threat_types.get(threat_type.trim())
    }

    /// The baseline host response ([`BASELINE_FILE`]), when the files had one.
    pub fn baseline(&self) -> Option<&ResponseKnowledge> {
        self.baseline.as_ref()
    }

    /// Every technique's knowledge, by id.
    pub fn techniques(&self) -> impl Iterator<Item = &ResponseKnowledge> + '_ {
        self.techniques.values()
    }

    /// Every threat type's knowledge, by name.
    pub fn threat_types(&self) -> impl Iterator<Item = &ResponseKnowledge> + '_ {
        self.threat_types.values()
    }

    pub fn technique_count(&self) -> usize {
        self.techniques.len()
    }
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

fn is_mitigation_id(s: &str) -> bool {
    s.len() == 5 && s.starts_with('M') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

fn is_setting_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Fewest and most words of an action `title`.
pub const TITLE_WORDS: std::ops::RangeInclusive<usize> = 3..=8;
/// Most characters of an action `title`.
pub const TITLE_MAX_CHARS: usize = 60;

/// The rule for an action `title`: 3 to 8 whitespace-separated words, at most 60 characters, no
/// `{{placeholder}}` (a step name is the same for every incident), no trailing full stop (it is a
/// name, not a sentence), no surrounding whitespace. Returns the problem when the title breaks the
/// rule.
pub fn check_title(title: &str) -> Result<(), String> {
    let words = title.split_whitespace().count();
    if !TITLE_WORDS.contains(&words) {
        return Err(format!(
            "title `{title}` has {words} words; {} to {} are required",
            TITLE_WORDS.start(),
            TITLE_WORDS.end()
        ));
    }
    let chars = title.chars().count();
    if chars > TITLE_MAX_CHARS {
        return Err(format!("title `{title}` has {chars} characters; at most {TITLE_MAX_CHARS} are allowed"));
    }
    if title.contains("{{") || title.contains("}}") {
        return Err(format!("title `{title}` contains a placeholder"));
    }
    if title.trim_end().ends_with('.') {
        return Err(format!("title `{title}` ends with a full stop"));
    }
    if title.trim() != title {
        return Err(format!("title `{title}` has leading or trailing whitespace"));
    }
    Ok(())
}

/// The rules every knowledge file obeys (README.md of playbooks/responses).
fn check_knowledge(path: &str, k: &ResponseKnowledge) -> Result<(), String> {
    let stem = path.rsplit('/').next().unwrap_or(path).trim_end_matches(".json");
    let in_threat_dir = path.starts_with("threat-types/");
    let baseline = path == BASELINE_FILE;
    match (&k.technique_id, &k.threat_type) {
        (None, Some(t)) if baseline => {
            if t != "baseline" {
                return Err(format!("threat_type of {BASELINE_FILE} is `baseline`, not `{t}`"));
            }
        }
        (Some(t), None) if !in_threat_dir => {
            if !is_technique_id(t) {
                return Err(format!("technique_id `{t}` is not of the form Txxxx or Txxxx.yyy"));
            }
            if t != stem {
                return Err(format!("technique_id `{t}` does not match the file name"));
            }
        }
        (None, Some(t)) if in_threat_dir => {
            if t != stem {
                return Err(format!("threat_type `{t}` does not match the file name"));
            }
            if let Some(bad) = k.techniques.iter().find(|t| !is_technique_id(t)) {
                return Err(format!("techniques: `{bad}` is not a technique id"));
            }
        }
        _ => {
            return Err("a technique file has technique_id, a threat-types/ file has threat_type (exactly one)".into());
        }
    }
    if k.name.trim().is_empty() {
        return Err("name is empty".into());
    }
    if let Some(bad) = k.mitigations.iter().find(|m| !is_mitigation_id(m)) {
        return Err(format!("mitigations: `{bad}` is not a mitigation id (Mxxxx)"));
    }
    let mut settings = BTreeSet::new();
    for s in &k.settings {
        if !is_setting_name(&s.name) || ObservableKind::from_name(&s.name).is_some() {
            return Err(format!("setting `{}` must be snake_case and not an observable kind", s.name));
        }
        if !settings.insert(s.name.as_str()) {
            return Err(format!("setting `{}` is listed twice", s.name));
        }
    }
    if !baseline && !(4..=8).contains(&k.actions.len()) {
        return Err(format!("has {} actions; 4 to 8 are required", k.actions.len()));
    }
    let mut ids = BTreeSet::new();
    let mut used_settings = BTreeSet::new();
    for a in &k.actions {
        let at = |problem: String| format!("action `{}`: {problem}", a.id);
        if !is_kebab(&a.id) {
            return Err(at("id is not kebab-case".into()));
        }
        if !ids.insert(a.id.as_str()) {
            return Err(at("id is not unique in the file".into()));
        }
        for (field, value) in [("name", &a.name), ("rationale", &a.rationale), ("command", &a.command)] {
            if value.trim().is_empty() {
                return Err(at(format!("{field} is empty")));
            }
        }
        if let Some(title) = a.title.as_deref() {
            check_title(title).map_err(at)?;
        }
        if let Some(m) = a.mitigation.as_deref().filter(|m| !is_mitigation_id(m)) {
            return Err(at(format!("mitigation `{m}` is not a mitigation id")));
        }
        if a.destructive && !a.requires_approval {
            return Err(at("destructive actions require approval".into()));
        }
        if a.phase == Phase::Verification && a.expect.as_deref().is_none_or(|e| e.trim().is_empty()) {
            return Err(at("a verification action states its expected result (`expect`)".into()));
        }
        for text in std::iter::once(a.command.as_str()).chain(a.undo.as_deref()) {
            for seg in parse_template(text).map_err(|e| at(e.to_string()))? {
                let Segment::Placeholder { name, .. } = seg else { continue };
                if settings.contains(name) {
                    used_settings.insert(name);
                } else if !ObservableKind::from_name(name).is_some_and(|kind| a.acts_on.contains(&kind)) {
                    return Err(at(format!("placeholder {{{{{name}}}}} is neither in acts_on nor a setting")));
                }
            }
        }
    }
    for phase in [Phase::Containment, Phase::Verification] {
        if !k.actions.iter().any(|a| a.phase == phase) {
            return Err(format!("no {} action", phase.as_str()));
        }
    }
    if !k.actions.iter().any(|a| matches!(a.phase, Phase::Eradication | Phase::Recovery)) {
        return Err("no eradication or recovery action".into());
    }
    if let Some(unused) = settings.iter().find(|s| !used_settings.contains(*s)) {
        return Err(format!("setting `{unused}` is not used by any command"));
    }
    Ok(())
}

/// Why a command could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("template is malformed: {0}")]
    Template(String),
    #[error("no value for placeholder {{{{{0}}}}}")]
    Missing(String),
    #[error("value for {{{{{placeholder}}}}} is not a valid {placeholder}: {reason}")]
    Invalid { placeholder: String, reason: String },
    #[error("value for {{{{{placeholder}}}}} is unsafe in a {command_type} command: {reason}")]
    Unsafe { placeholder: String, command_type: &'static str, reason: String },
}

/// Renders an action's command with `values` (placeholder name -> value) under the rules in the
/// module documentation.
pub fn render_command(action: &ResponseAction, values: &HashMap<String, String>) -> Result<String, RenderError> {
    render_template(&action.command, action.command_type, values)
}

/// Renders an action's undo text, when it has one, with the same rules as its command.
pub fn render_undo(action: &ResponseAction, values: &HashMap<String, String>) -> Option<Result<String, RenderError>> {
    action.undo.as_deref().map(|u| render_template(u, action.command_type, values))
}

/// Where a placeholder sits in its template, as far as quoting is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// Bare or inside double quotes (shell), outside a JSON string, or in the text of a manual step.
    Plain,
    /// Inside single quotes (shell).
    SingleQuoted,
    /// Inside a JSON string literal.
    JsonString,
    /// On the request line of an http-api command.
    UrlLine,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment<'a> {
    Text(&'a str),
    Placeholder { name: &'a str },
}

/// Splits a template into text and `{{name}}` placeholders (names are `[a-z0-9_]+`, spaces allowed
/// inside the braces).
fn parse_template(template: &str) -> Result<Vec<Segment<'_>>, RenderError> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            out.push(Segment::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| RenderError::Template("`{{` without `}}`".into()))?;
        let name = after[..end].trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(RenderError::Template(format!("bad placeholder name `{name}`")));
        }
        out.push(Segment::Placeholder { name });
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest));
    }
    Ok(out)
}

/// Tracks quoting through template text (never through substituted values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
    Json,
}

fn advance(command_type: CommandType, mut state: Quote, text: &str, line: &mut usize) -> Quote {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            *line += 1;
        }
        match command_type {
            CommandType::Bash | CommandType::Ssh => match (state, c) {
                (Quote::None, '\'') => state = Quote::Single,
                (Quote::None, '"') => state = Quote::Double,
                (Quote::None | Quote::Double, '\\') => {
                    chars.next();
                }
                (Quote::Single, '\'') | (Quote::Double, '"') => state = Quote::None,
                _ => {}
            },
            CommandType::Powershell => match (state, c) {
                (Quote::None, '\'') => state = Quote::Single,
                (Quote::None, '"') => state = Quote::Double,
                (Quote::None | Quote::Double, '`') => {
                    chars.next();
                }
                (Quote::Single, '\'') => {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        state = Quote::None;
                    }
                }
                (Quote::Double, '"') => state = Quote::None,
                _ => {}
            },
            CommandType::Openc2Http | CommandType::HttpApi => match (state, c) {
                (Quote::None, '"') => state = Quote::Json,
                (Quote::Json, '\\') => {
                    chars.next();
                }
                (Quote::Json, '"') => state = Quote::None,
                _ => {}
            },
            CommandType::Manual => {}
        }
    }
    state
}

/// Renders `template` for `command_type` with `values` (placeholder name -> value).
pub fn render_template(
    template: &str,
    command_type: CommandType,
    values: &HashMap<String, String>,
) -> Result<String, RenderError> {
    let segments = parse_template(template)?;
    let mut out = String::with_capacity(template.len() + 32);
    let mut state = Quote::None;
    let mut line = 0usize;
    for seg in segments {
        match seg {
            Segment::Text(t) => {
                state = advance(command_type, state, t, &mut line);
                out.push_str(t);
            }
            Segment::Placeholder { name } => {
                let value = values.get(name).ok_or_else(|| RenderError::Missing(name.to_string()))?;
                let context = match command_type {
                    CommandType::Bash | CommandType::Ssh | CommandType::Powershell => {
                        if state == Quote::Single {
                            Context::SingleQuoted
                        } else {
                            Context::Plain
                        }
                    }
                    CommandType::HttpApi if line == 0 => Context::UrlLine,
                    CommandType::HttpApi | CommandType::Openc2Http => {
                        if state != Quote::Json {
                            return Err(RenderError::Template(format!(
                                "placeholder {{{{{name}}}}} is outside a JSON string"
                            )));
                        }
                        Context::JsonString
                    }
                    CommandType::Manual => Context::Plain,
                };
                out.push_str(&substitute(name, value, command_type, context)?);
            }
        }
    }
    if command_type == CommandType::Openc2Http {
        serde_json::from_str::<serde_json::Value>(&out)
            .map_err(|e| RenderError::Template(format!("rendered command is not JSON: {e}")))?;
    }
    Ok(out)
}

fn substitute(name: &str, value: &str, command_type: CommandType, context: Context) -> Result<String, RenderError> {
    let invalid = |reason: &str| RenderError::Invalid { placeholder: name.to_string(), reason: reason.to_string() };
    let unsafe_value = |reason: &str| RenderError::Unsafe {
        placeholder: name.to_string(),
        command_type: command_type.as_str(),
        reason: reason.to_string(),
    };
    if value.is_empty() {
        return Err(invalid("empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(unsafe_value("contains a control character (newline, tab, NUL, ...)"));
    }
    let kind = ObservableKind::from_name(name);
    if let Some(kind) = kind {
        check_shape(kind, value).map_err(|r| invalid(&r))?;
    }
    match context {
        Context::Plain if command_type == CommandType::Manual => Ok(value.to_string()),
        Context::Plain => {
            if value.starts_with('-') {
                return Err(unsafe_value("starts with `-` outside single quotes (would read as an option)"));
            }
            let at_ok = matches!(command_type, CommandType::Bash | CommandType::Ssh);
            match value.chars().find(|c| !(c.is_ascii_alphanumeric() || "._:/-".contains(*c) || (at_ok && *c == '@'))) {
                Some(c) => Err(unsafe_value(&format!("contains `{c}` outside single quotes"))),
                None => Ok(value.to_string()),
            }
        }
        Context::SingleQuoted => {
            let quotes: &[char] = if command_type == CommandType::Powershell {
                &['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}']
            } else {
                &['\'']
            };
            if value.contains(quotes) {
                Err(unsafe_value("contains a single quote inside a single-quoted argument"))
            } else {
                Ok(value.to_string())
            }
        }
        Context::JsonString => {
            let quoted = serde_json::to_string(value).map_err(|e| invalid(&e.to_string()))?;
            Ok(quoted[1..quoted.len() - 1].to_string())
        }
        Context::UrlLine => {
            if kind.is_none() {
                // An operator setting: a base URL inserted as is.
                if !(value.starts_with("https://") || value.starts_with("http://"))
                    || value.contains(char::is_whitespace)
                {
                    return Err(invalid("a setting used in a URL must be an http(s):// URL without spaces"));
                }
                Ok(value.trim_end_matches('/').to_string())
            } else {
                Ok(percent_encode(value))
            }
        }
    }
}

fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn is_hostname(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The shape a value of a typed kind must have; free-form kinds only get a length bound.
fn check_shape(kind: ObservableKind, value: &str) -> Result<(), String> {
    let hex = |n: usize| value.len() == n && value.bytes().all(|b| b.is_ascii_hexdigit());
    let ok = match kind {
        ObservableKind::Ipv4 => value.parse::<std::net::Ipv4Addr>().is_ok(),
        ObservableKind::Ipv6 => value.parse::<std::net::Ipv6Addr>().is_ok(),
        ObservableKind::Md5 => hex(32),
        ObservableKind::Sha1 => hex(40),
        ObservableKind::Sha256 => hex(64),
        ObservableKind::Domain => is_hostname(value.trim_end_matches('.')),
        ObservableKind::Email => value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !local.contains(['@', ' ', '"', '\'']) && is_hostname(domain)
        }),
        ObservableKind::Url => {
            (value.starts_with("http://") || value.starts_with("https://")) && !value.contains(char::is_whitespace)
        }
        ObservableKind::Cve => {
            let parts: Vec<&str> = value.split('-').collect();
            parts.len() == 3
                && parts[0] == "CVE"
                && parts[1].len() == 4
                && parts[1].bytes().all(|b| b.is_ascii_digit())
                && parts[2].len() >= 4
                && parts[2].bytes().all(|b| b.is_ascii_digit())
        }
        ObservableKind::FilePath
        | ObservableKind::User
        | ObservableKind::Host
        | ObservableKind::Process
        | ObservableKind::CommandLine
        | ObservableKind::RegistryKey => value.len() <= 4096,
        ObservableKind::Pid => (1..=10).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("`{}` does not have the form of a {kind}", value.chars().take(80).collect::<String>()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_values() -> HashMap<String, String> {
        [
            ("ipv4", "203.0.113.7"),
            ("ipv6", "2001:db8::7"),
            ("domain", "evil-cdn.example"),
            ("url", "https://evil-cdn.example/gate.php?id=1&x=2"),
            ("email", "billing@evil-cdn.example"),
            ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
            ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("file_path", r"C:\Users\Public\Music Files\upd.exe"),
            ("user", "jdoe"),
            ("host", "ws-042.corp.example"),
            ("process", "upd"),
            ("command_line", "powershell.exe -nop -w hidden -enc SQBFAFgA"),
            ("cve", "CVE-2024-3400"),
            ("registry_key", r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run\Updater"),
            ("pid", "6412"),
            ("idp_url", "https://idp.example.org/api/v1/"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn all_knowledge() -> Vec<&'static ResponseKnowledge> {
        library().techniques().chain(library().threat_types()).chain(library().baseline()).collect()
    }

    #[test]
    fn every_file_loads_and_obeys_the_rules() {
        // from_files runs check_knowledge on each file: phases, 4-8 actions, unique kebab ids,
        // placeholders within acts_on and settings, destructive => approval, expect on verification.
        let lib = ResponseLibrary::from_files(FILES).unwrap_or_else(|e| panic!("{e}"));
        assert!(lib.technique_count() >= 60, "only {} techniques", lib.technique_count());
        assert!(lib.baseline().is_some(), "the baseline file loads");
        assert_eq!(lib.techniques().count() + lib.threat_types().count() + 1, FILES.len());
    }

    #[test]
    fn every_action_has_a_title_that_obeys_the_rule() {
        // A file added without titles, or with a sentence for a title, fails here.
        let mut count = 0;
        for k in all_knowledge() {
            for a in &k.actions {
                let title = a.title.as_deref().unwrap_or_else(|| panic!("{}/{}: no title", k.key(), a.id));
                check_title(title).unwrap_or_else(|e| panic!("{}/{}: {e}", k.key(), a.id));
                count += 1;
            }
        }
        assert!(count >= 400, "only {count} actions");
    }

    #[test]
    fn title_rule() {
        for good in ["Kill the malicious process", "Block the attacker IP at the firewall", "Reset the user's password"]
        {
            assert_eq!(check_title(good), Ok(()), "{good}");
        }
        let long = "Block the attacking address at the perimeter firewall of the site";
        assert!(check_title(long).unwrap_err().contains("words"));
        assert!(check_title("Block attacker").unwrap_err().contains("words"));
        assert!(check_title("").unwrap_err().contains("words"));
        let wide = "Disable LLMNR/NetBIOS/mDNS/WPAD name-resolution-protocols fleet-wide everywhere";
        assert!(check_title(wide).unwrap_err().contains("characters"));
        assert!(check_title("Block {{ipv4}} at the firewall").unwrap_err().contains("placeholder"));
        assert!(check_title("Kill the malicious process.").unwrap_err().contains("full stop"));
        assert!(check_title(" Kill the malicious process").unwrap_err().contains("whitespace"));
    }

    #[test]
    fn loader_checks_titles() {
        let with_title = |title: &str| {
            let actions = [
                action("a", "containment", &format!(r#","title":{}"#, serde_json::json!(title))),
                action("b", "eradication", ""),
                action("c", "recovery", ""),
                action("d", "verification", ""),
            ];
            ResponseLibrary::from_files(&[("T1110.json", &minimal(&actions.join(",")))])
        };
        let lib = with_title("Block the attacker IP at the firewall").unwrap();
        let a = &lib.for_technique("T1110").unwrap().actions[0];
        assert_eq!(a.title.as_deref(), Some("Block the attacker IP at the firewall"));
        // Absent titles load (the field is optional for the loader; the embedded library has them all).
        assert_eq!(lib.for_technique("T1110").unwrap().actions[1].title, None);
        for bad in [
            "Block it",
            "Block the attacker IP at the perimeter firewall now please",
            "Block {{ipv4}} now",
            "Block the attacker IP.",
        ] {
            let err = with_title(bad).unwrap_err().to_string();
            assert!(err.contains("action `a`") && err.contains("title"), "{bad}: {err}");
        }
        // Serialization skips an absent title and keeps a present one.
        let json = serde_json::to_value(&lib.for_technique("T1110").unwrap().actions).unwrap();
        assert_eq!(json[0]["title"], "Block the attacker IP at the firewall");
        assert!(json[1].get("title").is_none());
    }

    #[test]
    fn files_table_lists_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks/responses");
        let mut on_disk = Vec::new();
        for (sub, prefix) in [(dir.clone(), ""), (dir.join("threat-types"), "threat-types/")] {
            for entry in std::fs::read_dir(&sub).unwrap_or_else(|e| panic!("read {}: {e}", sub.display())) {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(".json") {
                    on_disk.push(format!("{prefix}{name}"));
                }
            }
        }
        on_disk.sort();
        let mut table: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        table.sort();
        assert_eq!(table, on_disk, "FILES must list exactly the knowledge files");
    }

    #[test]
    fn all_threat_types_present() {
        let have: Vec<&str> = library().threat_types().map(|k| k.key()).collect();
        for t in THREAT_TYPES {
            assert!(library().for_threat_type(t).is_some(), "no knowledge for threat type {t}");
        }
        assert_eq!(have.len(), THREAT_TYPES.len(), "unexpected threat types: {have:?}");
    }

    #[test]
    fn ids_unique_and_phases_covered() {
        for k in all_knowledge() {
            let ids: BTreeSet<&str> = k.actions.iter().map(|a| a.id.as_str()).collect();
            assert_eq!(ids.len(), k.actions.len(), "{}: duplicate action ids", k.key());
            assert!(k.actions_in(Phase::Containment).next().is_some(), "{}: no containment", k.key());
            assert!(k.actions_in(Phase::Verification).next().is_some(), "{}: no verification", k.key());
            assert!(
                k.actions_in(Phase::Eradication).chain(k.actions_in(Phase::Recovery)).next().is_some(),
                "{}: no eradication/recovery",
                k.key()
            );
            for a in &k.actions {
                assert!(!a.destructive || a.requires_approval, "{}/{}: destructive without approval", k.key(), a.id);
                let allowed: BTreeSet<String> = a
                    .acts_on
                    .iter()
                    .map(|o| o.as_str().to_string())
                    .chain(k.settings.iter().map(|s| s.name.clone()))
                    .collect();
                for p in a.placeholders() {
                    assert!(allowed.contains(&p), "{}/{}: placeholder {p} not in acts_on/settings", k.key(), a.id);
                }
            }
            let ordered = k.ordered_actions();
            assert!(ordered.windows(2).all(|w| w[0].phase <= w[1].phase));
        }
    }

    #[test]
    fn every_command_renders_with_well_formed_values() {
        let values = sample_values();
        for k in all_knowledge() {
            for a in &k.actions {
                let out = render_command(a, &values).unwrap_or_else(|e| panic!("{}/{}: {e}", k.key(), a.id));
                assert!(!out.contains("{{"), "{}/{}: unrendered placeholder", k.key(), a.id);
                if a.command_type == CommandType::Openc2Http {
                    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                    assert!(v.get("action").is_some() && v.get("target").is_some(), "{}/{}: not OpenC2", k.key(), a.id);
                }
                if let Some(r) = render_undo(a, &values) {
                    r.unwrap_or_else(|e| panic!("{}/{} undo: {e}", k.key(), a.id));
                }
            }
        }
    }

    #[test]
    fn hostile_values_are_refused_in_shell_commands() {
        let hostile = ["x'; rm -rf / #", "a\nb", "$(id)", "`id`"];
        for k in all_knowledge() {
            for a in &k.actions {
                if !matches!(a.command_type, CommandType::Bash | CommandType::Ssh | CommandType::Powershell) {
                    continue;
                }
                for p in a.placeholders() {
                    let Some(kind) = ObservableKind::from_name(&p) else { continue };
                    if matches!(kind, ObservableKind::Ipv4 | ObservableKind::Ipv6 | ObservableKind::Sha256) {
                        // Shape checks alone refuse these; covered by the typed test below.
                        continue;
                    }
                    for h in hostile {
                        let mut values = sample_values();
                        values.insert(p.clone(), h.to_string());
                        let r = render_command(a, &values);
                        // `$(id)` and backticks are inert inside single quotes (refused elsewhere by the charset);
                        // a single quote or a newline is refused in every context.
                        if h.contains('\'') || h.contains('\n') {
                            assert!(r.is_err(), "{}/{}: accepted {h:?} for {p}: {r:?}", k.key(), a.id);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn typed_kinds_are_shape_checked() {
        let mut v = sample_values();
        v.insert("ipv4".into(), "1.2.3.4; reboot".into());
        let r = render_template("iptables -I INPUT -s {{ipv4}} -j DROP", CommandType::Bash, &v);
        assert!(matches!(r, Err(RenderError::Invalid { .. })), "{r:?}");
        v.insert("sha256".into(), "abc".into());
        assert!(render_template("'{{sha256}}'", CommandType::Bash, &v).is_err());
        v.insert("cve".into(), "CVE-2024-3400".into());
        assert_eq!(render_template("{{cve}}", CommandType::Manual, &v).unwrap(), "CVE-2024-3400");
    }

    #[test]
    fn quoting_rules() {
        let mut v = HashMap::new();
        v.insert("file_path".to_string(), "/tmp/a b".to_string());
        assert!(render_template("rm -- {{file_path}}", CommandType::Bash, &v).is_err());
        assert!(render_template("rm -- \"{{file_path}}\"", CommandType::Bash, &v).is_err());
        assert_eq!(render_template("rm -- '{{file_path}}'", CommandType::Bash, &v).unwrap(), "rm -- '/tmp/a b'");
        v.insert("user".to_string(), "-rf".to_string());
        assert!(render_template("passwd -l {{user}}", CommandType::Bash, &v).is_err());
        // PowerShell: '' is an escaped quote, so the placeholder after it is still single-quoted.
        v.insert("process".to_string(), "my tool".to_string());
        assert_eq!(
            render_template("Write-Host 'it''s {{process}}'", CommandType::Powershell, &v).unwrap(),
            "Write-Host 'it''s my tool'"
        );
        v.insert("process".to_string(), "a\u{2019}b".to_string());
        assert!(render_template("Stop-Process -Name '{{process}}'", CommandType::Powershell, &v).is_err());
        assert!(render_template("echo '{{process}}'", CommandType::Bash, &v).is_ok());
        // JSON: values are escaped and must sit inside strings.
        v.insert("host".to_string(), "a\"b\\c".to_string());
        let out =
            render_template(r#"{"target":{"device":{"hostname":"{{host}}"}}}"#, CommandType::Openc2Http, &v).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["target"]["device"]["hostname"], "a\"b\\c");
        assert!(matches!(
            render_template(r#"{"n":{{host}}}"#, CommandType::Openc2Http, &v),
            Err(RenderError::Template(_))
        ));
        // http-api: settings are base URLs, observables are percent-encoded on the request line.
        v.insert("idp_url".to_string(), "https://idp.example.org/api/".to_string());
        v.insert("user".to_string(), "j doe/../admin".to_string());
        assert_eq!(
            render_template("POST {{idp_url}}/users/{{user}}/sessions/revoke", CommandType::HttpApi, &v).unwrap(),
            "POST https://idp.example.org/api/users/j%20doe%2F..%2Fadmin/sessions/revoke"
        );
        v.insert("idp_url".to_string(), "javascript:alert(1)".to_string());
        assert!(render_template("POST {{idp_url}}/x", CommandType::HttpApi, &v).is_err());
        assert!(matches!(render_template("{{nope}}", CommandType::Manual, &v), Err(RenderError::Missing(_))));
    }

    #[test]
    fn lookups() {
        let lib = library();
        assert_eq!(lib.for_technique("T1059").unwrap().key(), "T1059");
        assert_eq!(lib.for_technique("t1059.001").unwrap().key(), "T1059");
        assert!(lib.for_technique("T9999").is_none());
        assert!(lib.for_technique("T9999.001").is_none());
        assert_eq!(lib.for_threat_type("sql_injection").unwrap().key(), "sql_injection");
        assert!(lib.for_threat_type("nope").is_none());
    }

    fn minimal(actions: &str) -> String {
        format!(r#"{{"technique_id":"T1110","name":"Brute Force","mitigations":["M1032"],"actions":[{actions}]}}"#)
    }

    fn action(id: &str, phase: &str, extra: &str) -> String {
        format!(
            r#"{{"id":"{id}","phase":"{phase}","name":"n","rationale":"r","acts_on":["ipv4"],"command_type":"bash","platform":"linux","command":"echo {{{{ipv4}}}}","destructive":false,"reversible":true,"requires_approval":false,"expect":"e"{extra}}}"#
        )
    }

    #[test]
    fn loader_rejects_rule_breaks() {
        let good = [
            action("a", "containment", ""),
            action("b", "eradication", ""),
            action("c", "recovery", ""),
            action("d", "verification", ""),
        ];
        let load = |actions: &[String]| ResponseLibrary::from_files(&[("T1110.json", &minimal(&actions.join(",")))]);
        assert!(load(&good).is_ok());
        let mut bad = good.clone();
        bad[1] = action("a", "eradication", "");
        assert!(load(&bad).unwrap_err().to_string().contains("not unique"));
        let mut bad = good.clone();
        bad[3] = action("d", "recovery", "");
        assert!(load(&bad).unwrap_err().to_string().contains("no verification"));
        let mut bad = good.clone();
        bad[0] = action("a", "containment", "").replace(r#""destructive":false"#, r#""destructive":true"#);
        assert!(load(&bad).unwrap_err().to_string().contains("approval"));
        let mut bad = good.clone();
        bad[0] = action("a", "containment", "").replace("{{ipv4}}", "{{user}}");
        assert!(load(&bad).unwrap_err().to_string().contains("placeholder"));
        let mut bad = good.clone();
        bad[0] = action("Not_Kebab", "containment", "");
        assert!(load(&bad).is_err());
        let wrong_name = ResponseLibrary::from_files(&[("T1059.json", &minimal(&good.join(",")))]);
        assert!(wrong_name.unwrap_err().to_string().contains("file name"));
        let typo = minimal(&good.join(",")).replace("\"mitigations\"", "\"mitigation\"");
        assert!(matches!(ResponseLibrary::from_files(&[("T1110.json", &typo)]), Err(LoadError::Parse { .. })));
    }
}
