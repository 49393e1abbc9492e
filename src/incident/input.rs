//! Reading an incident from whatever a user hands over (used by `map`, `plan` and the library):
//! a serialized [`Incident`] (schemas/incident.json), a list of them, an
//! intake report (what `intake --json` prints: `{format, incidents, problems}`), or any raw input
//! intake reads (text, syslog, access logs, JSON Lines, Windows events, ECS, Wazuh, seed-004).
//!
//! Intake's own detection does not know serialized incidents (they are its output, not an input
//! format), so they are recognized here first: a JSON object with `id`, `source` and `observables`
//! is an incident; one with `format` and an `incidents` list is an intake report; a JSON list whose
//! first item is an incident is a list of incidents. Anything else goes to
//! [`intake::read_auto`] (or [`intake::read`] when a format is forced).

use crate::finding::Finding;
use crate::incident::intake::{self, Format, IntakeError, IntakeOptions};
use crate::incident::Incident;
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;

/// How to read the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// A serialized incident, list or intake report when it is one; otherwise intake's detection.
    Auto,
    /// A serialized incident, a list of them or an intake report, nothing else.
    Incident,
    /// A raw input in this intake format.
    Intake(Format),
}

impl FromStr for InputFormat {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(InputFormat::Auto),
            "incident" => Ok(InputFormat::Incident),
            other => {
                other.parse::<Format>().map(InputFormat::Intake).map_err(|_| InputError::FormatName(s.to_string()))
            }
        }
    }
}

/// What the input turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// One serialized incident.
    Incident,
    /// A JSON list of serialized incidents.
    IncidentList,
    /// An intake report (`intake --json`).
    IntakeReport,
    /// A raw input read by intake in this format.
    Intake(Format),
}

impl fmt::Display for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputKind::Incident => f.write_str("incident"),
            InputKind::IncidentList => f.write_str("incident list"),
            InputKind::IntakeReport => f.write_str("intake report"),
            InputKind::Intake(format) => write!(f, "{format}"),
        }
    }
}

/// The incidents read, and the problems intake met (warnings; empty for serialized incidents).
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentInput {
    pub kind: InputKind,
    pub incidents: Vec<Incident>,
    pub problems: Vec<Finding>,
}

/// Why the input gives no incident.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Intake(#[from] IntakeError),
    /// JSON that is meant as an incident but does not read as one.
    #[error("not a valid serialized incident: at {pointer}: {message}")]
    Incident { pointer: String, message: String },
    #[error("the intake report holds no incident")]
    NoIncident,
    #[error("not a serialized incident, incident list or intake report: {0}")]
    NotIncident(String),
    #[error(
        "unknown input format `{0}` (expected auto, incident, text, syslog, access-log, jsonl, windows-event, ecs, \
         wazuh, seed004 or mixed)"
    )]
    FormatName(String),
}

fn is_incident(obj: &Map<String, Value>) -> bool {
    obj.contains_key("id") && obj.get("source").is_some_and(Value::is_object) && obj.contains_key("observables")
}

fn is_report(obj: &Map<String, Value>) -> bool {
    obj.contains_key("format") && obj.get("incidents").is_some_and(Value::is_array)
}

/// What a JSON document is, if it is one of the serialized forms.
fn serialized_kind(value: &Value) -> Option<InputKind> {
    match value {
        Value::Object(obj) if is_report(obj) => Some(InputKind::IntakeReport),
        Value::Object(obj) if is_incident(obj) => Some(InputKind::Incident),
        Value::Array(items) => match items.first() {
            Some(Value::Object(obj)) if is_incident(obj) => Some(InputKind::IncidentList),
            _ => None,
        },
        _ => None,
    }
}

fn incident_at(value: Value, pointer: &str) -> Result<Incident, InputError> {
    serde_path_to_error::deserialize::<_, Incident>(value).map_err(|e| {
        let mut at = pointer.to_string();
        for seg in e.path().iter() {
            at.push('/');
            match seg {
                serde_path_to_error::Segment::Seq { index } => at.push_str(&index.to_string()),
                serde_path_to_error::Segment::Map { key } => at.push_str(&key.replace('~', "~0").replace('/', "~1")),
                serde_path_to_error::Segment::Enum { variant } => at.push_str(variant),
                serde_path_to_error::Segment::Unknown => at.push('?'),
            }
        }
        if at.is_empty() {
            at.push_str("(document)");
        }
        InputError::Incident { pointer: at, message: e.into_inner().to_string() }
    })
}

fn read_serialized(kind: InputKind, value: Value) -> Result<IncidentInput, InputError> {
    let incidents = match (kind, value) {
        (InputKind::Incident, v) => vec![incident_at(v, "")?],
        (InputKind::IncidentList, Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| incident_at(v, &format!("/{i}")))
            .collect::<Result<Vec<_>, _>>()?,
        (InputKind::IntakeReport, Value::Object(mut obj)) => {
            let Some(Value::Array(items)) = obj.remove("incidents") else { return Err(InputError::NoIncident) };
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| incident_at(v, &format!("/incidents/{i}")))
                .collect::<Result<Vec<_>, _>>()?
        }
        _ => return Err(InputError::NotIncident("unexpected JSON shape".into())),
    };
    if incidents.is_empty() {
        return Err(InputError::NoIncident);
    }
    Ok(IncidentInput { kind, incidents, problems: Vec::new() })
}

/// Reads `bytes` as `format` (see the module documentation).
pub fn read_input(bytes: &[u8], format: InputFormat, opts: &IntakeOptions) -> Result<IncidentInput, InputError> {
    if bytes.len() > opts.max_bytes {
        return Err(IntakeError::TooLarge { size: bytes.len(), max: opts.max_bytes }.into());
    }
    let text = std::str::from_utf8(bytes).ok().map(|t| t.strip_prefix('\u{feff}').unwrap_or(t));
    let json_like = text.is_some_and(|t| {
        let t = t.trim_start();
        t.starts_with('{') || t.starts_with('[')
    });
    match format {
        InputFormat::Intake(f) => return intake_report(intake::read(bytes, f, opts)?),
        InputFormat::Incident => {
            let text = text.ok_or_else(|| InputError::NotIncident("the input is not UTF-8 text".into()))?;
            let value: Value = serde_json::from_str(text).map_err(|e| {
                InputError::NotIncident(format!("not JSON (line {}, column {}: {e})", e.line(), e.column()))
            })?;
            let kind = serialized_kind(&value).ok_or_else(|| {
                InputError::NotIncident(
                    "expected an object with id, source and observables, a list of them, or an object with format \
                     and incidents"
                        .into(),
                )
            })?;
            return read_serialized(kind, value);
        }
        InputFormat::Auto => {}
    }
    if let (true, Some(text)) = (json_like, text) {
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            if let Some(kind) = serialized_kind(&value) {
                return read_serialized(kind, value);
            }
        }
    }
    intake_report(intake::read_auto(bytes, opts)?)
}

fn intake_report(report: intake::IntakeReport) -> Result<IncidentInput, InputError> {
    if report.incidents.is_empty() {
        return Err(InputError::NoIncident);
    }
    Ok(IncidentInput { kind: InputKind::Intake(report.format), incidents: report.incidents, problems: report.problems })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str =
        "Mar  2 04:11:09 bastion-01 sshd[4411]: Failed password for root from 203.0.113.45 port 51022 ssh2\n";

    fn opts() -> IntakeOptions {
        IntakeOptions { year: Some(2026), ..IntakeOptions::default() }
    }

    #[test]
    fn raw_input_goes_through_intake() {
        let input = read_input(LOG.as_bytes(), InputFormat::Auto, &opts()).unwrap();
        assert_eq!(input.kind, InputKind::Intake(Format::Syslog));
        assert_eq!(input.incidents.len(), 1);
    }

    #[test]
    fn serialized_incident_report_and_list_round_trip() {
        let report = intake::read_auto(LOG.as_bytes(), &opts()).unwrap();
        let incident = report.incidents[0].clone();
        let one = serde_json::to_string(&incident).unwrap();
        let got = read_input(one.as_bytes(), InputFormat::Auto, &opts()).unwrap();
        assert_eq!((got.kind, &got.incidents[0]), (InputKind::Incident, &incident));
        let list = serde_json::to_string(&vec![incident.clone(), incident.clone()]).unwrap();
        let got = read_input(list.as_bytes(), InputFormat::Auto, &opts()).unwrap();
        assert_eq!((got.kind, got.incidents.len()), (InputKind::IncidentList, 2));
        let whole = serde_json::to_string_pretty(&report).unwrap();
        let got = read_input(whole.as_bytes(), InputFormat::Incident, &opts()).unwrap();
        assert_eq!((got.kind, &got.incidents[0]), (InputKind::IntakeReport, &incident));
    }

    #[test]
    fn bad_serialized_incident_names_the_place() {
        let report = intake::read_auto(LOG.as_bytes(), &opts()).unwrap();
        let mut v = serde_json::to_value(&report).unwrap();
        v["incidents"][0]["observables"][0]["kind"] = Value::String("ipv5".into());
        let e = read_input(v.to_string().as_bytes(), InputFormat::Auto, &opts()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("/incidents/0/observables/0/kind") && msg.contains("ipv5"), "{msg}");
        let e =
            read_input(b"{\"id\": 1, \"source\": {}, \"observables\": []}", InputFormat::Auto, &opts()).unwrap_err();
        assert!(matches!(e, InputError::Incident { .. }), "{e}");
        let e = read_input(b"{\"format\": \"syslog\", \"incidents\": []}", InputFormat::Auto, &opts()).unwrap_err();
        assert_eq!(e, InputError::NoIncident);
    }

    #[test]
    fn forced_formats() {
        let e = read_input(LOG.as_bytes(), InputFormat::Incident, &opts()).unwrap_err();
        assert!(e.to_string().contains("not JSON"), "{e}");
        let e = read_input(b"{\"a\": 1}", InputFormat::Incident, &opts()).unwrap_err();
        assert!(matches!(e, InputError::NotIncident(_)), "{e}");
        let got = read_input(LOG.as_bytes(), InputFormat::Intake(Format::Text), &opts()).unwrap();
        assert_eq!(got.kind, InputKind::Intake(Format::Text));
        assert_eq!("incident".parse::<InputFormat>().unwrap(), InputFormat::Incident);
        assert_eq!("ecs".parse::<InputFormat>().unwrap(), InputFormat::Intake(Format::Ecs));
        assert!("nope".parse::<InputFormat>().unwrap_err().to_string().contains("auto, incident"));
        let small = IntakeOptions { max_bytes: 4, ..opts() };
        assert!(matches!(read_input(LOG.as_bytes(), InputFormat::Auto, &small), Err(InputError::Intake(_))));
        assert!(read_input(b"", InputFormat::Auto, &opts()).is_err());
    }
}
