//! The seed-004 dataset format (CyberPlaybookLLM): a record, or a whole file of them, becomes one
//! incident per record, read by [`crate::score::dataset`] (the one reader of that format).
//!
//! An incident is built only from what [`DatasetRecord::generator_view`] exposes (technique,
//! description, attack logs): never from the ground-truth mitigations or the reference playbook,
//! so an incident can be handed to a generator without leaking the answer. The record key is used
//! as the incident's id and source name only, so generated playbooks can be matched back to the
//! record for scoring.

use super::{Builder, Format, IntakeError, IntakeOptions};
use crate::finding::Finding;
use crate::incident::{Event, Incident, ObservableKind};
use crate::score::dataset::{self, DatasetRecord, RecordProblem};
use serde_json::{Map, Value};

const RECORD_FIELDS: [&str; 4] = ["technique_id", "incident_description", "attack_logs", "ground_truth_mitigations"];

/// A record, or a `{key: record}` map.
pub(crate) fn looks_like(obj: &Map<String, Value>) -> bool {
    let is_record = |o: &Map<String, Value>| RECORD_FIELDS.iter().any(|f| o.contains_key(*f));
    is_record(obj) || obj.values().next().and_then(Value::as_object).is_some_and(is_record)
}

/// Every record as an incident, and every record that could not be read as a problem.
pub(crate) fn read(text: &str, opts: &IntakeOptions) -> Result<(Vec<Incident>, Vec<Finding>), IntakeError> {
    let data = dataset::parse_dataset(text)
        .map_err(|e| IntakeError::NotFormat { format: Format::Seed004, reason: e.to_string() })?;
    let problems: Vec<Finding> = data.problems.iter().map(problem).collect();
    if data.records.is_empty() {
        let reason = match problems.first() {
            Some(p) => format!("no record could be read; first problem at {}: {}", p.pointer, p.message),
            None => "no record in the input".to_owned(),
        };
        return Err(IntakeError::NotFormat { format: Format::Seed004, reason });
    }
    let incidents = data.records.iter().map(|r| incident(r, opts)).collect();
    Ok((incidents, problems))
}

/// One record as an incident (through its generator view only).
pub fn incident(record: &DatasetRecord, opts: &IntakeOptions) -> Incident {
    let view = record.generator_view();
    let mut b = Builder::new(Format::Seed004, opts);
    b.name = Some(record.key.clone());
    b.id = Some(record.key.clone());
    b.title = Some(match (view.technique_desc.trim(), view.technique_id.trim()) {
        ("", "") => super::shorten(view.incident_description, 120),
        (desc, "") => desc.to_owned(),
        ("", id) => id.to_owned(),
        (desc, id) => format!("{desc} ({id})"),
    });
    b.description = Some(view.incident_description.to_owned());
    b.set.scan(view.incident_description, "description", None);
    for (name, value) in [("technique_id", view.technique_id), ("technique_desc", view.technique_desc)] {
        if !value.is_empty() {
            b.free.insert(name.to_owned(), Value::String(value.to_owned()));
        }
    }
    for log in view.attack_logs {
        let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
        let idx = b.event(Event {
            timestamp: nonempty(&log.timestamp),
            host: nonempty(&log.host),
            action: nonempty(&log.action),
            details: log.details.clone(),
            raw: serde_json::to_string(log).unwrap_or_default(),
            line: None,
        });
        b.typed(ObservableKind::Host, &log.host, (0, log.host.len()), "host", Some(idx));
        b.set.scan(&log.details, "details", Some(idx));
    }
    // The id is the record key, so the input bytes do not matter for it.
    b.finish(&[]).0
}

/// A dataset problem as a finding: `item 3` becomes the pointer `/2`, `line 7` becomes `/lines/7`.
fn problem(p: &RecordProblem) -> Finding {
    let mut pointer = String::new();
    for part in p.position.split(", ") {
        if let Some(n) = part.strip_prefix("item ").and_then(|n| n.parse::<usize>().ok()) {
            pointer.push_str(&format!("/{}", n.saturating_sub(1)));
        } else if let Some(n) = part.strip_prefix("line ") {
            pointer.push_str(&format!("/lines/{n}"));
        }
    }
    if let Some(key) = &p.key {
        crate::finding::push_segment(&mut pointer, key);
    }
    Finding::warning("intake.bad-record", pointer, p.to_string())
}
