//! Hostile input ends in a clear error or a result, never a crash or a hang: a 50 MB playbook,
//! 10,000-deep nesting, 100,000 steps, reference cycles.

use cacao_forge::cacao::{Limits, Validator};
use serde_json::{json, Map, Value};

const START: &str = "start--00000000-0000-4000-8000-000000000000";
const END: &str = "end--00000000-0000-4000-8000-ffffffffffff";

fn action_id(i: usize) -> String {
    format!("action--00000000-0000-4000-8000-{i:012}")
}

/// A valid playbook whose workflow is start -> n chained actions -> end.
fn chain_playbook(n: usize) -> Value {
    let mut wf = Map::new();
    let first = if n == 0 { END.to_owned() } else { action_id(0) };
    wf.insert(START.into(), json!({"type": "start", "on_completion": first}));
    for i in 0..n {
        let next = if i + 1 == n { END.to_owned() } else { action_id(i + 1) };
        wf.insert(
            action_id(i),
            json!({"type": "action", "name": format!("Step {i}"), "agent": "individual--00000000-0000-4000-8000-00000000000a",
                   "commands": [{"type": "manual", "command": "Check the host"}], "on_completion": next}),
        );
    }
    wf.insert(END.into(), json!({"type": "end"}));
    json!({
        "type": "playbook", "spec_version": "cacao-2.0",
        "id": "playbook--00000000-0000-4000-8000-000000000001", "name": "chain",
        "created_by": "identity--00000000-0000-4000-8000-000000000002",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "workflow_start": START, "workflow": wf,
        "agent_definitions": {"individual--00000000-0000-4000-8000-00000000000a": {"type": "individual", "name": "Analyst"}}
    })
}

fn codes(report: &cacao_forge::cacao::Report) -> Vec<&str> {
    report.findings.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn the_chain_fixture_is_valid() {
    let report = Validator::default().validate_document(&chain_playbook(3));
    assert!(report.is_valid(), "{:#?}", report.findings);
}

#[test]
fn fifty_megabytes_is_refused_by_default_and_validated_when_allowed() {
    let mut doc = chain_playbook(2);
    doc["description"] = Value::String("x".repeat(50 * 1024 * 1024));
    let bytes = serde_json::to_vec(&doc).unwrap();
    assert!(bytes.len() > 50 * 1024 * 1024);

    let report = Validator::default().validate_bytes(&bytes);
    assert_eq!(codes(&report), ["load.too-large"]);
    assert!(report.findings[0].message.contains("over the limit of 16777216 bytes"), "{}", report.findings[0]);

    let roomy = Validator::new(Limits { max_bytes: 64 * 1024 * 1024, ..Limits::default() });
    let report = roomy.validate_bytes(&bytes);
    assert!(report.is_valid(), "{:#?}", report.findings);
}

#[test]
fn ten_thousand_deep_nesting_is_refused_with_its_place() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let report = Validator::default().validate_bytes(deep.as_bytes());
    assert_eq!(codes(&report), ["load.too-deep"]);
    assert!(report.findings[0].message.contains("deeper than 64 levels at byte 64"), "{}", report.findings[0]);

    // Deep nesting hidden in extension data of an otherwise valid playbook.
    let mut text = serde_json::to_string(&chain_playbook(1)).unwrap();
    text.insert_str(1, &format!("\"x_deep\": {}1{}, ", "{\"a\":".repeat(10_000), "}".repeat(10_000)));
    let report = Validator::default().validate_bytes(text.as_bytes());
    assert_eq!(codes(&report), ["load.too-deep"]);

    // Even with the depth limit raised past serde_json's own, the answer is an error, not a crash.
    let unlimited = Validator::new(Limits { max_depth: usize::MAX, ..Limits::default() });
    let report = unlimited.validate_bytes(deep.as_bytes());
    assert_eq!(codes(&report), ["load.syntax"]);
    assert!(report.findings[0].message.contains("recursion limit exceeded"), "{}", report.findings[0]);
}

#[test]
fn a_hundred_thousand_steps_are_refused_by_default_and_validated_when_allowed() {
    let doc = chain_playbook(100_000);
    let report = Validator::default().validate_document(&doc);
    assert_eq!(codes(&report), ["load.too-many-steps"]);
    assert!(report.findings[0].message.contains("100002 steps, over the limit of 10000"), "{}", report.findings[0]);

    let roomy = Validator::new(Limits { max_steps: 200_000, ..Limits::default() });
    let report = roomy.validate_document(&doc);
    assert!(report.is_valid(), "{:#?}", &report.findings[..report.findings.len().min(5)]);

    // A broken reference deep in the chain is found and pointed at.
    let mut broken = doc;
    broken["workflow"][action_id(77_777)]["on_completion"] = Value::from(action_id(999_999));
    let report = roomy.validate_document(&broken);
    let unknown: Vec<_> = report.findings.iter().filter(|f| f.code == "semantic.unknown-step").collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].pointer, format!("/workflow/{}/on_completion", action_id(77_777)));
}

#[test]
fn reference_cycles_are_reported_not_followed() {
    // start -> a0 -> a1 -> ... -> a999 -> a0: a cycle with no while-condition and no way out.
    let mut doc = chain_playbook(1000);
    doc["workflow"][action_id(999)]["on_completion"] = Value::from(action_id(0));
    let report = Validator::default().validate_document(&doc);
    let c = codes(&report);
    assert!(c.contains(&"semantic.cycle-without-while"), "{c:?}");
    assert!(c.contains(&"semantic.no-exit"), "{c:?}");
    assert!(c.contains(&"semantic.unreachable-step"), "the end step is cut off: {c:?}");

    // A step that points at itself.
    let mut doc = chain_playbook(1);
    doc["workflow"][action_id(0)]["on_completion"] = Value::from(action_id(0));
    let report = Validator::default().validate_document(&doc);
    assert!(codes(&report).contains(&"semantic.cycle-without-while"));
}
