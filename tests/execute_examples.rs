//! Conformance: each of the 18 official/SOARCA example playbooks in ../shared/cacao/examples
//! either runs to completion in a dry run, or is refused before it starts with the reason
//! (the first finding's code and where it points). The table below says which and why; a
//! change in either direction fails the test.

mod common;

use std::sync::Arc;

use cacao_forge::execute::connector::manual::ApproveAll;
use cacao_forge::execute::connector::ConnectorSettings;
use cacao_forge::execute::engine::{Bundle, Engine, EngineError, RunRequest};
use cacao_forge::execute::event::{Event, RunStatus};
use cacao_forge::execute::policy::ExecutionPolicy;
use cacao_forge::execute::Connectors;

/// File -> what must happen: `run` (a dry run reaches the end), `fails: <reason>` (the dry run
/// starts but a step cannot run, for that reason, and its failure path is taken), or the finding
/// codes it is refused with before it starts (all of them must be among the reasons).
const EXPECTED: &[(&str, &[&str])] = &[
    // Its ssh command targets a security-category, which has no address to connect to.
    (
        "Examples__CACAO-2.0__basic-example-1.json",
        &["fails: target `security-category--3c1daf98-7e22-4e0c-bb8c-6bd78159ca5d` has no ipv4, ipv6 or dname address"],
    ),
    ("Examples__CACAO-2.0__locky-bart-mbc-examples.json", &["schema.unevaluated-property", "semantic.unknown-target"]),
    ("Examples__CACAO-2.0__spec-3.1-example.json", &["run"]),
    (
        "Extensions__layout__examples__playbook--aa1898b6-5251-49b4-aeb7-fd5e912583ff.json",
        &["schema.required", "schema.unevaluated-property"],
    ),
    ("examples__fin-playbook.json", &["schema.property-names", "schema.pattern", "semantic.modified-before-created"]),
    ("examples__http-playbook.json", &["run"]),
    ("examples__manual-playbook.json", &["semantic.id-type-mismatch"]),
    ("examples__openc2-playbook.json", &["schema.unevaluated-property"]),
    ("examples__powershell-playbook.json", &["schema.property-names", "schema.unevaluated-property"]),
    ("examples__ssh-playbook.json", &["run"]),
    ("test__integration__api__routes__playbook.json", &["semantic.workflow-start-not-start", "semantic.unknown-step"]),
    ("test__playbooks__changed-playbook.json", &["schema.type", "semantic.workflow-start-missing"]),
    ("test__playbooks__infinite_playbook.json", &["semantic.cycle-without-while", "semantic.no-exit"]),
    ("test__playbooks__invalid_email_playbook.json", &["semantic.bad-email"]),
    ("test__playbooks__invalid_playbook.json", &["schema.const", "semantic.workflow-start-not-start"]),
    ("test__playbooks__missing_step_playbook.json", &["semantic.unknown-step", "semantic.unreachable-step"]),
    ("test__playbooks__parallels_playbook.json", &["semantic.workflow-start-not-start"]),
    ("test__playbooks__playbook.json", &["semantic.workflow-start-not-start", "semantic.unknown-step"]),
];

#[test]
fn every_example_runs_in_a_dry_run_or_is_refused_with_its_reasons() {
    let examples = common::examples();
    assert_eq!(
        examples.len(),
        EXPECTED.len(),
        "the examples folder changed: {:?}",
        examples.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
    let op = Arc::new(ApproveAll);
    let engine = Engine::new(
        Connectors::standard(&ConnectorSettings::default(), op.clone()).unwrap(),
        op,
        None,
        ExecutionPolicy::default(),
    );
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut table = Vec::new();
    for (name, bytes) in &examples {
        let expected =
            EXPECTED.iter().find(|(f, _)| f == name).unwrap_or_else(|| panic!("{name} is not in the table")).1;
        let doc: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        let req = RunRequest {
            bundle: Bundle { main: doc, subs: Default::default() },
            started_by: "conformance".into(),
            dry_run: true,
            ..RunRequest::default()
        };
        match rt.block_on(engine.run(req)) {
            Ok(report) => {
                let commands = report.events.iter().filter(|e| matches!(e, Event::CommandStarted { .. })).count();
                if let Some(reason) = expected[0].strip_prefix("fails: ") {
                    assert_eq!(report.status, RunStatus::Failed, "{name}: {}", report.detail);
                    assert!(report.detail.contains(reason), "{name}: {}", report.detail);
                    table.push(format!("{name}: dry run fails: {}", report.detail));
                    continue;
                }
                assert_eq!(
                    expected,
                    ["run"],
                    "{name} ran ({}: {}) but should be refused",
                    report.status.as_str(),
                    report.detail
                );
                assert_eq!(report.status, RunStatus::Succeeded, "{name}: {}", report.detail);
                table.push(format!("{name}: runs ({commands} commands rendered)"));
            }
            Err(EngineError::Rejected(problems)) => {
                assert!(
                    expected.iter().all(|e| *e != "run" && !e.starts_with("fails: ")),
                    "{name} was refused:\n{}",
                    problems.join("\n")
                );
                for code in expected {
                    assert!(
                        problems.iter().any(|p| p.contains(code)),
                        "{name}: no {code} among\n{}",
                        problems.join("\n")
                    );
                }
                table.push(format!("{name}: refused: {}", problems[0]));
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
    eprintln!("{}", table.join("\n"));
}
