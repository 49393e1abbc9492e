//! The binary end to end: exit codes, human and --json output of validate, graph, score and fmt.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};

const SAMPLE: &str = "playbooks/samples/contain-beaconing-host.json";

use common::run_cli as run;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn example(name: &str) -> PathBuf {
    common::examples_dir().join(name)
}

#[test]
fn validate_exit_codes() {
    let ok = run(&["validate", SAMPLE]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("valid (0 errors, 0 warnings)"));

    let bad = example("test__playbooks__missing_step_playbook.json");
    let out = run(&["validate", SAMPLE, bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("INVALID"), "{text}");
    assert!(text.contains("semantic.unknown-step"), "{text}");
    assert!(text.contains("2 files: 1 valid, 1 invalid"), "{text}");

    let missing = run(&["validate", "no/such/file.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/file.json"));

    let usage = run(&["validate", "--no-such-flag", SAMPLE]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn validate_json_over_a_directory() {
    let out = run(&["validate", "--json", common::examples_dir().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "some official examples are invalid");
    let reports: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 18);
    for r in reports {
        let findings = r["findings"].as_array().unwrap();
        assert_eq!(r["valid"], findings.iter().all(|f| f["severity"] != "error"));
        for f in findings {
            assert!(f["code"].as_str().unwrap().contains('.'));
            let p = f["pointer"].as_str().unwrap();
            assert!(p.is_empty() || p.starts_with('/'), "pointer {p}");
        }
    }
    let valid = reports.iter().filter(|r| r["valid"] == true).count();
    assert!(valid >= 4, "the OASIS basic example, spec example, locky-bart and SOARCA http/ssh examples are valid");
}

#[test]
fn validate_reports_too_large_files_without_reading_them() {
    let out = run(&["validate", "--max-bytes", "100", SAMPLE]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("load.too-large"), "{}", stdout(&out));
}

#[test]
fn graph_draws_svg_mermaid_dot_and_summarizes() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("flow.svg");
    let out = run(&["graph", SAMPLE, "-o", svg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") || text.starts_with("<?xml"), "{}", &text[..100.min(text.len())]);
    assert!(text.contains("Block the host at the firewall"));

    let mermaid = stdout(&run(&["graph", SAMPLE, "--format", "mermaid"]));
    assert!(mermaid.contains("flowchart TD"), "{mermaid}");
    let dot = stdout(&run(&["graph", SAMPLE, "--format", "dot"]));
    assert!(dot.starts_with("digraph"), "{dot}");

    let summary = stdout(&run(&["graph", SAMPLE]));
    assert!(summary.contains("critical path:"), "{summary}");
    let json: Value = serde_json::from_slice(&run(&["graph", SAMPLE, "--json"]).stdout).unwrap();
    assert_eq!(json["steps"], 11);
    assert_eq!(json["cycles"].as_array().unwrap().len(), 1, "the while loop");
    assert!(json["unreachable"].as_array().unwrap().is_empty());
}

#[test]
fn score_pair_json_has_top_level_numbers() {
    let out = run(&["score", "--reference", SAMPLE, "--candidate", SAMPLE, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["node_recall", "node_precision", "edge_recall", "edge_precision", "node_f1", "edge_f1"] {
        assert_eq!(s[key].as_f64(), Some(1.0), "{key} of a playbook against itself");
    }
    let usage = run(&["score", "--reference", SAMPLE]);
    assert_eq!(usage.status.code(), Some(2), "a reference needs a candidate");
}

#[test]
fn score_batch_over_the_sample_dataset() {
    let dataset = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cyberplaybookllm/sample.json");
    assert!(dataset.is_file(), "missing {} (../shared beside the repository)", dataset.display());
    let records: Value = serde_json::from_str(&std::fs::read_to_string(&dataset).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Write each reference as its own candidate: every metric must be 1.
    for item in records.as_array().unwrap() {
        let (key, record) = item.as_object().unwrap().iter().next().unwrap();
        std::fs::write(dir.path().join(format!("{key}.json")), record["playbook"].to_string()).unwrap();
    }
    let out = run(&["score", "--dataset", dataset.to_str().unwrap(), "--candidates", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let table = stdout(&out);
    assert!(table.contains("node_recall"), "{table}");
    let json: Value = serde_json::from_slice(
        &run(&[
            "score",
            "--json",
            "--dataset",
            dataset.to_str().unwrap(),
            "--candidates",
            dir.path().to_str().unwrap(),
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(json["count"], 2);
    let node_recall = json["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == "node_recall").unwrap();
    assert_eq!(node_recall["mean"].as_f64(), Some(1.0));
}

#[test]
fn fmt_check_and_write_are_lossless() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.json");
    let original: Value =
        serde_json::from_str(&std::fs::read_to_string(example("examples__ssh-playbook.json")).unwrap()).unwrap();
    std::fs::write(&file, serde_json::to_string(&original).unwrap()).unwrap();
    let f = file.to_str().unwrap();
    assert_eq!(run(&["fmt", "--check", f]).status.code(), Some(1), "one-line JSON is not canonical");
    assert_eq!(run(&["fmt", "--write", f]).status.code(), Some(0));
    assert_eq!(run(&["fmt", "--check", f]).status.code(), Some(0), "canonical after --write");
    let rewritten: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(rewritten, original, "fmt must not change the content");
}
