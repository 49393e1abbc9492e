//! Parse -> serialize of every official example is lossless, and keeps the workflow's key order.

mod common;

use cacao_forge::cacao::Playbook;
use serde_json::Value;

fn keys(v: &Value) -> Vec<String> {
    v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn every_example_round_trips_losslessly() {
    let mut round_tripped = 0;
    for (name, bytes) in common::examples() {
        let doc: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        match Playbook::from_document(&doc) {
            Ok(playbook) => {
                let back = playbook.to_document();
                assert_eq!(back, doc, "{name}: parse -> serialize changed the document");
                assert_eq!(keys(&back["workflow"]), keys(&doc["workflow"]), "{name}: workflow order changed");
                // And through text, as a user would see it.
                let text = serde_json::to_string_pretty(&playbook).unwrap();
                let reparsed: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(reparsed, doc, "{name}: text round trip changed the document");
                round_tripped += 1;
            }
            Err(e) => {
                // The only example the model cannot hold is SOARCA's changed-playbook, whose
                // workflow is a JSON array instead of a map of step id -> step.
                assert_eq!(name, "test__playbooks__changed-playbook.json", "{name} does not fit the model: {e}");
                assert_eq!(e.pointer, "/workflow", "{name}: {e}");
                assert!(e.message.contains("invalid type: sequence"), "{name}: {e}");
            }
        }
    }
    assert_eq!(round_tripped, 17);
}

#[test]
fn unknown_properties_and_extension_data_survive() {
    let mut doc: Value = serde_json::from_slice(&common::examples()[0].1).unwrap();
    doc["x_vendor_field"] = serde_json::json!({"nested": [1, "two", {"three": null}]});
    let step_id = keys(&doc["workflow"])[1].clone();
    doc["workflow"][&step_id]["x_step_note"] = Value::from(7);
    doc["workflow"][&step_id]["step_extensions"] = serde_json::json!({
        "extension-definition--11111111-2222-4333-8444-555555555555": {"a": {"b": [true]}}
    });
    let back = Playbook::from_document(&doc).unwrap().to_document();
    assert_eq!(back, doc);
}
