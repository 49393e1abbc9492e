//! Each semantic check fires on the mutation it is for, with the right code and JSON pointer, and
//! the full fixture (every step type and definition kind) is valid.

use cacao_forge::cacao::validate;
use serde_json::{json, Value};

fn fixture() -> Value {
    serde_json::from_str(include_str!("../playbooks/samples/contain-beaconing-host.json")).unwrap()
}

const A1: &str = "action--33333333-3333-4333-8333-333333333333";
const A2: &str = "action--44444444-4444-4444-8444-444444444444";
const PAR: &str = "parallel--22222222-2222-4222-8222-222222222222";
const SWITCH: &str = "switch-condition--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
const END: &str = "end--66666666-6666-4666-8666-666666666666";

/// Applies `mutate` to the fixture and returns (code, pointer) of every finding.
fn findings(mutate: impl FnOnce(&mut Value)) -> Vec<(String, String)> {
    let mut doc = fixture();
    mutate(&mut doc);
    validate(&doc).findings.into_iter().map(|f| (f.code, f.pointer)).collect()
}

fn assert_finding(found: &[(String, String)], code: &str, pointer: &str) {
    assert!(found.iter().any(|(c, p)| c == code && p == pointer), "expected {code} at {pointer}, found {found:#?}");
}

#[test]
fn the_fixture_is_valid() {
    let report = validate(&fixture());
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn workflow_start_must_exist_and_be_a_start_step() {
    let f = findings(|d| d["workflow_start"] = json!("start--00000000-0000-4000-8000-000000000000"));
    assert_finding(&f, "semantic.workflow-start-missing", "/workflow_start");
    let f = findings(|d| d["workflow_start"] = json!(A1));
    assert_finding(&f, "semantic.workflow-start-not-start", "/workflow_start");
}

#[test]
fn references_must_resolve() {
    let ghost = "action--00000000-0000-4000-8000-00000000dead";
    let f = findings(|d| d["workflow"][A1]["on_success"] = json!(ghost));
    assert_finding(&f, "semantic.unknown-step", &format!("/workflow/{A1}/on_success"));
    let f = findings(|d| d["workflow"][PAR]["next_steps"][1] = json!(ghost));
    assert_finding(&f, "semantic.unknown-step", &format!("/workflow/{PAR}/next_steps/1"));
    let f = findings(|d| d["workflow"][SWITCH]["cases"]["high"] = json!(ghost));
    assert_finding(&f, "semantic.unknown-step", &format!("/workflow/{SWITCH}/cases/high"));
    let f = findings(|d| d["workflow_exception"] = json!(ghost));
    assert_finding(&f, "semantic.unknown-step", "/workflow_exception");
    let f = findings(|d| d["workflow"][A1]["agent"] = json!("soarca--00000000-0000-4000-8000-0000000000ff"));
    assert_finding(&f, "semantic.unknown-agent", &format!("/workflow/{A1}/agent"));
    let f = findings(|d| d["workflow"][A1]["targets"][0] = json!("ssh--00000000-0000-4000-8000-0000000000ff"));
    assert_finding(&f, "semantic.unknown-target", &format!("/workflow/{A1}/targets/0"));
    let f = findings(|d| {
        d["target_definitions"]["ssh--00000000-0000-4000-8000-00000000000b"]["authentication_info"] =
            json!("user-auth--00000000-0000-4000-8000-0000000000ff")
    });
    assert_finding(
        &f,
        "semantic.unknown-authentication-info",
        "/target_definitions/ssh--00000000-0000-4000-8000-00000000000b/authentication_info",
    );
    let f = findings(|d| d["extension_definitions"] = json!({}));
    assert_finding(
        &f,
        "semantic.unknown-extension",
        &format!("/workflow/{A2}/step_extensions/extension-definition--77777777-7777-4777-8777-777777777777"),
    );
    let f = findings(|d| d["markings"][0] = json!("marking-statement--00000000-0000-4000-8000-0000000000ff"));
    assert_finding(&f, "semantic.unknown-marking", "/markings/0");
}

#[test]
fn every_path_reaches_an_end_and_every_step_is_reachable() {
    let f = findings(|d| {
        d["workflow"][A1].as_object_mut().unwrap().remove("on_success");
        d["workflow"][A1].as_object_mut().unwrap().remove("on_failure");
    });
    assert_finding(&f, "semantic.dead-end", &format!("/workflow/{A1}"));
    let orphan = "action--eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee";
    let f = findings(|d| {
        d["workflow"][orphan] = json!({"type": "action", "name": "Orphan", "agent": "soarca--00000000-0000-4000-8000-00000000000a",
            "commands": [{"type": "manual", "command": "x"}], "on_completion": END});
    });
    assert_finding(&f, "semantic.unreachable-step", &format!("/workflow/{orphan}"));
}

#[test]
fn cycles_only_through_while_conditions() {
    // A2 -> A1 -> A2 bypasses the while-condition.
    let f = findings(|d| d["workflow"][A1]["on_success"] = json!(A2));
    let f2 = findings(|d| {
        d["workflow"][A1]["on_success"] = json!(A2);
        d["workflow"][A2]["on_completion"] = json!(A1);
    });
    assert!(f.iter().all(|(c, _)| c != "semantic.cycle-without-while"), "no cycle yet: {f:?}");
    assert!(f2.iter().any(|(c, _)| c == "semantic.cycle-without-while"), "{f2:#?}");
    // A1's on_failure still leads out of the loop, so it is not a loop without exit.
    assert!(f2.iter().all(|(c, _)| c != "semantic.no-exit"), "{f2:#?}");
}

#[test]
fn step_shape_rules() {
    let f = findings(|d| d["workflow"][A1]["on_completion"] = json!(END));
    // These three are schema rules, reported once with the property's own pointer.
    assert_finding(&f, "schema.not-allowed", &format!("/workflow/{A1}/on_success"));
    assert!(!f.iter().any(|(c, _)| c.starts_with("semantic.mixed")), "reported twice: {f:#?}");
    let f = findings(|d| d["workflow"][PAR]["next_steps"] = json!([A1]));
    assert_finding(&f, "schema.min-items", &format!("/workflow/{PAR}/next_steps"));
    let f = findings(|d| d["workflow"][END]["on_completion"] = json!(A1));
    assert_finding(&f, "schema.not-allowed", &format!("/workflow/{END}/on_completion"));
    let f = findings(|d| d["workflow"][SWITCH]["cases"] = json!({}));
    assert_finding(&f, "semantic.switch-no-cases", &format!("/workflow/{SWITCH}/cases"));
}

#[test]
fn id_prefix_must_match_object_type() {
    let f = findings(|d| d["workflow"][A1]["type"] = json!("end"));
    // Built-in types: a schema rule, reported once, at `type`.
    assert_finding(&f, "schema.const", &format!("/workflow/{A1}/type"));
    assert!(!f.iter().any(|(c, _)| c.starts_with("semantic.id")), "reported twice: {f:#?}");
    let f = findings(|d| {
        let t = d["target_definitions"]["ssh--00000000-0000-4000-8000-00000000000b"].take();
        d["target_definitions"] = json!({"linux--00000000-0000-4000-8000-00000000000b": t});
        d["workflow"][A1]["targets"][0] = json!("linux--00000000-0000-4000-8000-00000000000b");
    });
    assert_finding(&f, "schema.const", "/target_definitions/linux--00000000-0000-4000-8000-00000000000b/type");
    assert!(!f.iter().any(|(c, _)| c.starts_with("semantic.id")), "reported twice: {f:#?}");
    // A custom type (open vocabulary) under another custom prefix: only semantics can tell.
    let agent = "soarca--00000000-0000-4000-8000-00000000000a";
    let f = findings(|d| d["agent_definitions"][agent]["type"] = json!("soarca-manual"));
    assert_finding(&f, "semantic.id-type-mismatch", &format!("/agent_definitions/{agent}"));
    let f = findings(|d| d["id"] = json!("playbook--not-a-uuid"));
    assert_finding(&f, "schema.pattern", "/id");
    assert!(!f.iter().any(|(c, _)| c.starts_with("semantic.")), "reported twice: {f:#?}");
}

#[test]
fn variables_used_in_commands_must_be_declared() {
    let f = findings(|d| d["workflow"][A1]["commands"][0]["command"] = json!("block __attacker_ip__:value now"));
    assert_finding(&f, "semantic.undeclared-variable", &format!("/workflow/{A1}/commands/0/command"));
    // A step variable is visible in its own step only.
    let f = findings(|d| d["workflow"][A1]["commands"][0]["command"] = json!("ls __dump_path__:value"));
    assert_finding(&f, "semantic.undeclared-variable", &format!("/workflow/{A1}/commands/0/command"));
    let f = findings(|d| d["workflow"][A2]["out_args"] = json!(["__nowhere__"]));
    assert_finding(&f, "semantic.undeclared-variable", &format!("/workflow/{A2}/out_args/0"));
}

#[test]
fn created_must_not_be_after_modified() {
    let f = findings(|d| d["modified"] = json!("2025-12-31T10:00:00.000Z"));
    assert_finding(&f, "semantic.modified-before-created", "/modified");
    let f = findings(|d| {
        d["valid_from"] = json!("2026-02-01T00:00:00.000Z");
        d["valid_until"] = json!("2026-01-01T00:00:00.000Z");
    });
    assert_finding(&f, "semantic.valid-until-before-valid-from", "/valid_until");
}

#[test]
fn every_finding_is_reported_not_just_the_first() {
    let f = findings(|d| {
        d["workflow"][A1]["agent"] = json!("soarca--00000000-0000-4000-8000-0000000000ff");
        d["workflow"][SWITCH]["cases"] = json!({});
        d["modified"] = json!("2025-12-31T10:00:00.000Z");
    });
    for code in ["semantic.unknown-agent", "semantic.switch-no-cases", "semantic.modified-before-created"] {
        assert!(f.iter().any(|(c, _)| c == code), "{code} missing from {f:#?}");
    }
}

#[test]
fn free_text_conditions_are_rejected_with_the_position() {
    let f = findings(|d| {
        d["workflow"][SWITCH] = json!({"type": "if-condition", "condition": "host is still infected",
                                       "on_true": A1, "on_completion": END});
    });
    assert_finding(&f, "semantic.condition-unreadable", &format!("/workflow/{SWITCH}/condition"));
    let f = findings(|d| {
        d["workflow"][SWITCH] = json!({"type": "if-condition", "condition": "__x__:value = 'yes'",
                                       "on_true": A1, "on_completion": END});
    });
    assert!(!f.iter().any(|(c, _)| c == "semantic.condition-unreadable"), "{f:#?}");
}
