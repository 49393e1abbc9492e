//! Reads the incident/playbook dataset format of seed 004 (CyberPlaybookLLM).
//!
//! Accepted shapes, detected in this order:
//! - a JSON list whose items are one-key objects `{"<incident_key>": {record}}` (the dataset format);
//! - a single JSON object: either such a `{"<incident_key>": {record}}` map (one or more keys), or a
//!   bare record (an object with any record field, keyed by its `incident_id`);
//! - JSON Lines, each line one of the above.
//!
//! Reading is lenient: a missing field takes its default (empty string, empty list, `null`
//! playbook), a number or boolean where text is expected is read as its text, and a playbook stored
//! as a JSON string is parsed. A field of the wrong shape makes its record a [`RecordProblem`] that
//! names the record key and the field; the good records are still returned. Nothing is dropped
//! silently: every skipped item (bad record, invalid JSON line, duplicate key) is in
//! [`Dataset::problems`].

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// One entry of `attack_logs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AttackLog {
    pub timestamp: String,
    pub host: String,
    pub action: String,
    pub details: String,
}

/// One entry of `ground_truth_mitigations`. A plain string entry becomes a mitigation with only
/// `step` set.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mitigation {
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Kept as written: datasets use strings or objects here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
    #[serde(rename = "loop", skip_serializing_if = "Option::is_none")]
    pub loop_: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<Value>,
}

/// One incident of the dataset, with its reference playbook.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DatasetRecord {
    /// The incident key of the dataset (`T1110_sample_1`); candidates are looked up by it.
    pub key: String,
    pub incident_id: String,
    pub technique_id: String,
    pub technique_desc: String,
    pub incident_description: String,
    pub attack_logs: Vec<AttackLog>,
    pub ground_truth_mitigations: Vec<Mitigation>,
    /// The reference CACAO playbook, as written (it often breaks CACAO).
    pub playbook: Value,
}

/// What a playbook generator may see of a record: never the mitigations or the playbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GeneratorView<'a> {
    pub technique_id: &'a str,
    pub technique_desc: &'a str,
    pub incident_description: &'a str,
    pub attack_logs: &'a [AttackLog],
}

impl DatasetRecord {
    /// Only what a generator may see (technique, description, logs).
    pub fn generator_view(&self) -> GeneratorView<'_> {
        GeneratorView {
            technique_id: &self.technique_id,
            technique_desc: &self.technique_desc,
            incident_description: &self.incident_description,
            attack_logs: &self.attack_logs,
        }
    }

    /// The non-blank `step` names of the ground-truth mitigations, for mitigation recall.
    pub fn expected_step_names(&self) -> Vec<String> {
        self.ground_truth_mitigations
            .iter()
            .map(|m| m.step.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A record or line that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordProblem {
    /// Where: `item 3` of the list, `line 7` of a JSON Lines file, or `document`.
    pub position: String,
    /// The incident key, when it is known.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "{} (record `{key}`): {}", self.position, self.message),
            None => write!(f, "{}: {}", self.position, self.message),
        }
    }
}

/// The records read from a dataset file, and the items that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Dataset {
    pub records: Vec<DatasetRecord>,
    pub problems: Vec<RecordProblem>,
}

/// Why a dataset could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("cannot read dataset {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("not a dataset: {0}")]
    Format(String),
}

/// Reads a dataset file (see the module documentation for the accepted shapes).
pub fn read_dataset(path: &Path) -> Result<Dataset, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io { path: path.to_owned(), source })?;
    parse_dataset(&text).map_err(|e| match e {
        DatasetError::Format(msg) => DatasetError::Format(format!("{}: {msg}", path.display())),
        other => other,
    })
}

/// Parses dataset text. Fails only when nothing in it is a dataset: not JSON, not JSON Lines, or a
/// top-level value that is neither a list nor an object.
pub fn parse_dataset(text: &str) -> Result<Dataset, DatasetError> {
    let mut reader = Reader::default();
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                reader.item(&format!("item {}", i + 1), item);
            }
        }
        Ok(value @ Value::Object(_)) => reader.item("document", &value),
        Ok(other) => {
            return Err(DatasetError::Format(format!("expected a list or an object, found {}", shape(&other))))
        }
        Err(whole) => {
            let mut any_json = false;
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let position = format!("line {}", n + 1);
                match serde_json::from_str::<Value>(line) {
                    Ok(value) => {
                        any_json = true;
                        reader.item(&position, &value);
                    }
                    Err(e) => reader.problem(&position, None, format!("invalid JSON: {e}")),
                }
            }
            if !any_json {
                return Err(DatasetError::Format(format!("invalid JSON: {whole}")));
            }
        }
    }
    Ok(reader.dataset)
}

#[derive(Default)]
struct Reader {
    dataset: Dataset,
    keys: HashSet<String>,
}

/// The record fields, to tell a bare record from a `{key: record}` map.
const RECORD_FIELDS: [&str; 7] = [
    "incident_id",
    "technique_id",
    "technique_desc",
    "incident_description",
    "attack_logs",
    "ground_truth_mitigations",
    "playbook",
];

impl Reader {
    fn problem(&mut self, position: &str, key: Option<&str>, message: String) {
        self.dataset.problems.push(RecordProblem {
            position: position.to_owned(),
            key: key.map(str::to_owned),
            message,
        });
    }

    /// One item of the list, one line, or the whole document.
    fn item(&mut self, position: &str, value: &Value) {
        match value {
            Value::Object(obj) if RECORD_FIELDS.iter().any(|f| obj.contains_key(*f)) => {
                let key = obj.get("incident_id").and_then(Value::as_str).filter(|k| !k.is_empty());
                match key {
                    Some(key) => self.record(position, key, value),
                    None => self.problem(position, None, "a bare record needs an `incident_id` to be keyed by".into()),
                }
            }
            Value::Object(obj) if !obj.is_empty() => {
                for (key, record) in obj {
                    self.record(position, key, record);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.item(&format!("{position}, item {}", i + 1), item);
                }
            }
            other => self.problem(
                position,
                None,
                format!("expected a `{{\"<incident_key>\": {{...}}}}` object, found {}", shape(other)),
            ),
        }
    }

    fn record(&mut self, position: &str, key: &str, value: &Value) {
        if self.keys.contains(key) {
            self.problem(position, Some(key), "duplicate incident key: this later record is skipped".into());
            return;
        }
        match parse_record(key, value) {
            Ok(record) => {
                self.keys.insert(key.to_owned());
                self.dataset.records.push(record);
            }
            Err(message) => self.problem(position, Some(key), message),
        }
    }
}

/// Reads one record; the error names the field.
fn parse_record(key: &str, value: &Value) -> Result<DatasetRecord, String> {
    let obj =
        value.as_object().ok_or_else(|| format!("expected the record to be an object, found {}", shape(value)))?;
    let attack_logs = list(obj, "attack_logs")?
        .iter()
        .enumerate()
        .map(|(i, log)| {
            let field = format!("attack_logs[{i}]");
            let log =
                log.as_object().ok_or_else(|| format!("field `{field}`: expected an object, found {}", shape(log)))?;
            Ok(AttackLog {
                timestamp: text(log, "timestamp", &field)?,
                host: text(log, "host", &field)?,
                action: text(log, "action", &field)?,
                details: text(log, "details", &field)?,
            })
        })
        .collect::<Result<_, String>>()?;
    let ground_truth_mitigations = list(obj, "ground_truth_mitigations")?
        .iter()
        .enumerate()
        .map(|(i, m)| mitigation(m, &format!("ground_truth_mitigations[{i}]")))
        .collect::<Result<_, String>>()?;
    let playbook = match obj.get("playbook") {
        None | Some(Value::Null) => Value::Null,
        Some(p @ Value::Object(_)) => p.clone(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(p @ Value::Object(_)) => p,
            Ok(other) => {
                return Err(format!("field `playbook`: the string holds {}, not a playbook object", shape(&other)))
            }
            Err(e) => return Err(format!("field `playbook`: a string that is not JSON ({e})")),
        },
        Some(other) => return Err(format!("field `playbook`: expected an object, found {}", shape(other))),
    };
    Ok(DatasetRecord {
        key: key.to_owned(),
        incident_id: text(obj, "incident_id", "")?,
        technique_id: text(obj, "technique_id", "")?,
        technique_desc: text(obj, "technique_desc", "")?,
        incident_description: text(obj, "incident_description", "")?,
        attack_logs,
        ground_truth_mitigations,
        playbook,
    })
}

fn mitigation(value: &Value, field: &str) -> Result<Mitigation, String> {
    let obj = match value {
        Value::String(step) => return Ok(Mitigation { step: step.clone(), ..Mitigation::default() }),
        Value::Object(obj) => obj,
        other => return Err(format!("field `{field}`: expected an object or a string, found {}", shape(other))),
    };
    let optional = |name: &str| -> Result<Option<String>, String> {
        Ok(if obj.get(name).is_some_and(|v| !v.is_null()) { Some(text(obj, name, field)?) } else { None })
    };
    let kept = |name: &str| obj.get(name).filter(|v| !v.is_null()).cloned();
    Ok(Mitigation {
        step: text(obj, "step", field)?,
        uuid: optional("uuid")?,
        agent: optional("agent")?,
        command: optional("command")?,
        condition: kept("condition"),
        loop_: kept("loop"),
        variables: kept("variables"),
    })
}

/// A list field: missing or `null` is empty.
fn list<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a [Value], String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!("field `{name}`: expected a list, found {}", shape(other))),
    }
}

/// A text field of `obj` (inside `parent`, for messages): missing or `null` is empty, a number or
/// boolean is read as its text.
fn text(obj: &Map<String, Value>, name: &str, parent: &str) -> Result<String, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
        Some(other) => {
            let field = if parent.is_empty() { name.to_owned() } else { format!("{parent}.{name}") };
            Err(format!("field `{field}`: expected text, found {}", shape(other)))
        }
    }
}

fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_list_format_with_defaults() {
        let text = json!([
            {"k1": {"incident_id": "id-1", "technique_id": "T1059",
                    "attack_logs": [{"timestamp": 17, "host": "h", "action": "a", "details": "d"}],
                    "ground_truth_mitigations": ["Block IP", {"step": "Lock", "command": "usermod -L x", "loop": "until done"}],
                    "playbook": {"workflow": {}}}},
            {"k2": {}}
        ])
        .to_string();
        let d = parse_dataset(&text).unwrap();
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(d.records.len(), 2);
        let r = &d.records[0];
        assert_eq!((r.key.as_str(), r.technique_id.as_str()), ("k1", "T1059"));
        assert_eq!(r.attack_logs[0].timestamp, "17");
        assert_eq!(r.ground_truth_mitigations[0], Mitigation { step: "Block IP".into(), ..Mitigation::default() });
        assert_eq!(r.ground_truth_mitigations[1].command.as_deref(), Some("usermod -L x"));
        assert_eq!(r.ground_truth_mitigations[1].loop_, Some(json!("until done")));
        assert_eq!(r.expected_step_names(), ["Block IP", "Lock"]);
        assert_eq!(d.records[1].playbook, Value::Null);
        assert!(d.records[1].attack_logs.is_empty());
    }

    #[test]
    fn bad_records_are_listed_and_good_ones_kept() {
        let text = json!([
            {"good": {"technique_id": "T1"}},
            {"bad-logs": {"attack_logs": "not a list"}},
            {"bad-host": {"attack_logs": [{"host": ["x"]}]}},
            {"bad-playbook": {"playbook": 5}},
            {"good": {"technique_id": "T2"}},
            7
        ])
        .to_string();
        let d = parse_dataset(&text).unwrap();
        assert_eq!(d.records.len(), 1);
        let messages: Vec<String> = d.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "item 2 (record `bad-logs`): field `attack_logs`: expected a list, found a string",
                "item 3 (record `bad-host`): field `attack_logs[0].host`: expected text, found a list",
                "item 4 (record `bad-playbook`): field `playbook`: expected an object, found a number",
                "item 5 (record `good`): duplicate incident key: this later record is skipped",
                "item 6: expected a `{\"<incident_key>\": {...}}` object, found a number",
            ]
        );
    }

    #[test]
    fn single_records_jsonl_and_string_playbooks() {
        let bare = json!({"incident_id": "inc-9", "technique_id": "T1486", "playbook": "{\"workflow\": {}}"});
        let d = parse_dataset(&bare.to_string()).unwrap();
        assert_eq!(d.records[0].key, "inc-9");
        assert_eq!(d.records[0].playbook, json!({"workflow": {}}));

        let jsonl = format!("{}\n\n{{oops\n{}\n", json!({"a": {"technique_id": "T1"}}), json!({"b": {}}));
        let d = parse_dataset(&jsonl).unwrap();
        assert_eq!(d.records.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(d.problems.len(), 1);
        assert_eq!(d.problems[0].position, "line 3");

        assert!(matches!(parse_dataset("not json at all"), Err(DatasetError::Format(_))));
        assert!(matches!(parse_dataset("42"), Err(DatasetError::Format(_))));
    }

    #[test]
    fn generator_view_hides_mitigations_and_playbook() {
        let record = DatasetRecord {
            key: "k".into(),
            technique_id: "T1110".into(),
            ground_truth_mitigations: vec![Mitigation { step: "secret".into(), ..Mitigation::default() }],
            playbook: json!({"workflow": {"x": {"name": "secret"}}}),
            ..DatasetRecord::default()
        };
        let seen = serde_json::to_value(record.generator_view()).unwrap();
        assert_eq!(
            seen,
            json!({"technique_id": "T1110", "technique_desc": "", "incident_description": "", "attack_logs": []})
        );
    }
}
