//! What the validator says about each of the 18 official examples, and why. A change in any verdict
//! or finding code fails here, so it must be a decision, not an accident.

mod common;

use cacao_forge::cacao::Validator;
use std::collections::BTreeSet;

/// (file, the distinct finding codes, why).
const EXPECTED: &[(&str, &[&str], &str)] = &[
    ("Examples__CACAO-2.0__basic-example-1.json", &[], "valid"),
    (
        "Examples__CACAO-2.0__locky-bart-mbc-examples.json",
        &["schema.unevaluated-property", "semantic.unknown-target"],
        "custom command types `ftp`/`subroutine` carry `command`, which command-data does not define; one action targets an undefined security-category",
    ),
    ("Examples__CACAO-2.0__spec-3.1-example.json", &[], "valid"),
    (
        "Extensions__layout__examples__playbook--aa1898b6-5251-49b4-aeb7-fd5e912583ff.json",
        &["schema.required", "schema.unevaluated-property"],
        "actions without commands/agent, a switch without `switch`, and `playbook_extension` (the spec says playbook_extensions)",
    ),
    (
        "examples__fin-playbook.json",
        &["schema.not", "schema.pattern", "schema.property-names", "semantic.modified-before-created"],
        "agent id `soarca-fin-pong-<uuid>` has no `--`, and modified is before created",
    ),
    ("examples__http-playbook.json", &[], "valid (custom SOARCA agent type, allowed by the open vocabulary)"),
    (
        "examples__manual-playbook.json",
        &["semantic.id-type-mismatch"],
        "agent `soarca-manual-capability--…` declares type `soarca-manual`: the id prefix must be the type",
    ),
    (
        "examples__openc2-playbook.json",
        &["schema.unevaluated-property"],
        "command type `openc2` (the spec's is `openc2-http`) with `command`/`content_b64`",
    ),
    (
        "examples__powershell-playbook.json",
        &["schema.property-names", "schema.unevaluated-property"],
        "auth info id `authentication-info--…` is not http-basic/oauth2/user-auth; `port` on a net-address",
    ),
    ("examples__ssh-playbook.json", &[], "valid"),
    (
        "test__integration__api__routes__playbook.json",
        &["schema.unevaluated-property", "semantic.unknown-step", "semantic.workflow-start-not-start"],
        "`name` on variables, `banana` on an agent, workflow_start is an action, workflow_exception names no step",
    ),
    (
        "test__playbooks__changed-playbook.json",
        &["schema.type", "semantic.unknown-step", "semantic.workflow-start-missing"],
        "workflow is an array, so start and exception steps cannot be found",
    ),
    (
        "test__playbooks__infinite_playbook.json",
        &[
            "schema.unevaluated-property",
            "semantic.cycle-without-while",
            "semantic.no-exit",
            "semantic.unknown-step",
            "semantic.workflow-start-not-start",
        ],
        "a step loops to itself with no while-condition and no way out",
    ),
    (
        "test__playbooks__invalid_email_playbook.json",
        &[
            "schema.unevaluated-property",
            "semantic.bad-email",
            "semantic.unknown-step",
            "semantic.workflow-start-not-start",
        ],
        "a contact e-mail with shell syntax in it (`;` and backticks)",
    ),
    (
        "test__playbooks__invalid_playbook.json",
        &["schema.const", "semantic.unknown-step", "semantic.workflow-start-not-start"],
        "agent `http-api--…` declares type `invalid`",
    ),
    (
        "test__playbooks__missing_step_playbook.json",
        &[
            "schema.unevaluated-property",
            "semantic.unknown-step",
            "semantic.unreachable-step",
            "semantic.workflow-start-not-start",
        ],
        "on_completion names a step that does not exist; the real end step is unreachable",
    ),
    (
        "test__playbooks__parallels_playbook.json",
        &["schema.unevaluated-property", "semantic.unknown-step", "semantic.workflow-start-not-start"],
        "workflow_start is a parallel step; `agent` on a parallel step",
    ),
    (
        "test__playbooks__playbook.json",
        &["schema.unevaluated-property", "semantic.unknown-step", "semantic.workflow-start-not-start"],
        "workflow_start names an action step (the spec requires a start step)",
    ),
];

#[test]
fn each_example_gets_the_expected_verdict_and_reasons() {
    let validator = Validator::default();
    let examples = common::examples();
    assert_eq!(examples.len(), EXPECTED.len());
    let mut mismatches = Vec::new();
    for ((name, bytes), (expected_name, expected_codes, why)) in examples.iter().zip(EXPECTED) {
        assert_eq!(name, expected_name);
        let report = validator.validate_bytes(bytes);
        let codes: BTreeSet<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
        let expected: BTreeSet<&str> = expected_codes.iter().copied().collect();
        if codes != expected {
            mismatches.push(format!("{name} ({why}):\n  expected {expected:?}\n  found    {codes:?}"));
        }
        assert_eq!(report.is_valid(), expected_codes.is_empty(), "{name}");
        for f in &report.findings {
            assert!(!f.message.is_empty(), "{name}: empty message for {}", f.code);
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
