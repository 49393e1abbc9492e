//! Incidents: the first stage of the pipeline. An [`Incident`] is what every later stage (threat
//! model, ATT&CK mapping, generation) reads, whatever the input looked like: free text, a log file,
//! an alert, or a record of the seed-004 dataset.
//!
//! - [`intake`] detects the input format and reads it into an incident, reporting bad lines as
//!   [`Finding`](crate::finding::Finding)s instead of dropping them silently.
//! - [`input`] reads what a user hands over: a serialized incident (or a list, or an intake
//!   report) recognized first, anything else through [`intake`]. `map` and `plan` read with it.
//! - [`observables`] extracts indicators (IPs, domains, URLs, hashes, paths, users, ...) with their
//!   exact positions, so a reviewer can always see where a value came from.
//!
//! The serialized form is described by `schemas/incident.json` ([`SCHEMA`]).

pub mod input;
pub mod intake;
pub mod observables;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The JSON Schema (draft 2020-12) of a serialized [`Incident`], embedded so tools can check
/// incidents written by hand or by other programs without the source tree.
pub const SCHEMA: &str = include_str!("../../schemas/incident.json");

/// One security incident, as read from its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// The input's own identifier when it has one (alert id, dataset record key), otherwise
    /// `incident--<uuid>` derived from the input bytes, so reading the same input twice gives the
    /// same id.
    pub id: String,
    pub title: String,
    pub description: String,
    pub source: Source,
    pub severity: Severity,
    /// Earliest and latest event time, when any event time could be understood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_range: Option<TimeRange>,
    #[serde(default)]
    pub events: Vec<Event>,
    #[serde(default)]
    pub observables: Vec<Observable>,
    /// Whatever else the source said that has no typed home (rule ids, MITRE tags, technique),
    /// kept so later stages can use it without re-reading the input.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub free: IndexMap<String, Value>,
}

/// Where an incident came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The input format, as `--format` names it (`syslog`, `ecs`, `seed004`, ...).
    pub format: String,
    /// The file name or dataset record key, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// How bad an incident is, on one scale for every source (syslog priorities, Wazuh levels,
/// Windows levels and ECS severities are mapped onto it by the readers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Unknown,
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Parses the usual words (`low`, `medium`, `high`, `critical`, `info`, `warning`, `error`).
    pub fn from_word(word: &str) -> Option<Severity> {
        const WORDS: [(Severity, &[&str]); 5] = [
            (Severity::Informational, &["info", "informational", "information", "notice", "debug"]),
            (Severity::Low, &["low", "minor"]),
            (Severity::Medium, &["medium", "moderate", "warning", "warn"]),
            (Severity::High, &["high", "major", "error", "err", "severe"]),
            (Severity::Critical, &["critical", "crit", "emergency", "emerg", "alert", "fatal"]),
        ];
        // Called for every JSON log line: compared without a lower-cased copy.
        let word = word.trim();
        WORDS.iter().find(|(_, words)| words.iter().any(|w| w.eq_ignore_ascii_case(word))).map(|(s, _)| *s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Unknown => "unknown",
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// The span of time the events cover, as RFC 3339 timestamps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub start: String,
    pub end: String,
}

/// One thing that happened: a log line, an alert, an attack-log entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// RFC 3339 when the reader understood the time, otherwise as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// What happened, in a few words (`authentication failure`, `process creation`, `GET`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The message: the human-readable part of the event.
    pub details: String,
    /// The event as written in the input (a log line, a JSON object), for reviewers.
    pub raw: String,
    /// 1-based line of the input, for line-oriented inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// The kinds of observable: what [`observables`] extracts, what response actions act on, and the
/// `{{placeholder}}` names of their command templates (one vocabulary for the whole pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObservableKind {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
    FilePath,
    User,
    Host,
    /// A process or executable name (`Stop-Process -Name {{process}}`); taken from events' image
    /// fields, not from free text.
    Process,
    CommandLine,
    Cve,
    RegistryKey,
    /// A process id named in the text (`PID 6412`, `pid=6412`, `process id 6412`): the exact
    /// process to stop when a log gives it (`kill -9 {{pid}}`).
    Pid,
}

impl ObservableKind {
    /// Every kind, in the order summaries list them.
    pub const ALL: [ObservableKind; 16] = [
        ObservableKind::Ipv4,
        ObservableKind::Ipv6,
        ObservableKind::Domain,
        ObservableKind::Url,
        ObservableKind::Email,
        ObservableKind::Md5,
        ObservableKind::Sha1,
        ObservableKind::Sha256,
        ObservableKind::FilePath,
        ObservableKind::User,
        ObservableKind::Host,
        ObservableKind::Process,
        ObservableKind::CommandLine,
        ObservableKind::Cve,
        ObservableKind::RegistryKey,
        ObservableKind::Pid,
    ];

    /// The serialized name (`ipv4`, `file_path`, ...), also the placeholder name in commands.
    pub fn as_str(self) -> &'static str {
        match self {
            ObservableKind::Ipv4 => "ipv4",
            ObservableKind::Ipv6 => "ipv6",
            ObservableKind::Domain => "domain",
            ObservableKind::Url => "url",
            ObservableKind::Email => "email",
            ObservableKind::Md5 => "md5",
            ObservableKind::Sha1 => "sha1",
            ObservableKind::Sha256 => "sha256",
            ObservableKind::FilePath => "file_path",
            ObservableKind::User => "user",
            ObservableKind::Host => "host",
            ObservableKind::Process => "process",
            ObservableKind::CommandLine => "command_line",
            ObservableKind::Cve => "cve",
            ObservableKind::RegistryKey => "registry_key",
            ObservableKind::Pid => "pid",
        }
    }

    /// The kind with this serialized name.
    pub fn from_name(name: &str) -> Option<ObservableKind> {
        ObservableKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for ObservableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An indicator found in the incident, deduplicated by `(kind, value)`.
///
/// The flat `raw`, `event`, `field` and `span` describe the first occurrence; `count` counts all
/// of them and `elsewhere` lists the later ones (up to
/// [`IntakeOptions::max_occurrences`](intake::IntakeOptions::max_occurrences), so a value repeated
/// on a million log lines does not hold a million positions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observable {
    pub kind: ObservableKind,
    /// Normalized: refanged (`hxxp` -> `http`, `[.]` -> `.`), lower-cased where the kind is
    /// case-insensitive (domains, e-mails, hashes, Windows paths and registry keys, URL scheme and
    /// host), IPv6 in its canonical compressed form.
    pub value: String,
    /// As written in the input.
    pub raw: String,
    /// The index in [`Incident::events`] of the event it was found in; `None` for the title or
    /// description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<usize>,
    /// Which text it was found in: `title`, `description`, `raw` (an event's line), `details`,
    /// `host`, or a JSON pointer into the event's JSON object (`/data/srcip`).
    pub field: String,
    /// Byte offsets `[start, end)` of `raw` in that text.
    pub span: (usize, usize),
    /// How many times the value occurs in the incident.
    pub count: usize,
    /// The later occurrences, in input order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elsewhere: Vec<Occurrence>,
}

/// One more place an observable occurs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    pub raw: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<usize>,
    pub field: String,
    pub span: (usize, usize),
}

impl Incident {
    /// The observables of one kind, in first-seen order.
    pub fn observables_of(&self, kind: ObservableKind) -> impl Iterator<Item = &Observable> {
        self.observables.iter().filter(move |o| o.kind == kind)
    }

    /// True when an observable of `kind` has the normalized `value`.
    pub fn has_observable(&self, kind: ObservableKind, value: &str) -> bool {
        self.observables_of(kind).any(|o| o.value == value)
    }
}
