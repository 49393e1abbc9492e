//! Scoring candidates against references: hand-computed figures on small playbooks, the seed-004
//! sample dataset, batch mode, and broken references.

use cacao_forge::score::{
    parse_dataset, read_dataset, render_table, score, score_dir, Candidate, Dataset, Score, ScoreOptions,
};
use serde_json::{json, Value};
use std::path::PathBuf;

fn opts(threshold: f64) -> ScoreOptions {
    ScoreOptions { threshold }
}

fn default_score(reference: &Value, candidate: &Value) -> Score {
    score(reference, candidate, None, &ScoreOptions::default())
}

fn six(s: &Score) -> [f64; 6] {
    [s.node_recall, s.node_precision, s.node_f1, s.edge_recall, s.edge_precision, s.edge_f1]
}

fn exact_six(s: &Score) -> [f64; 6] {
    let e = &s.exact;
    [e.node_recall, e.node_precision, e.node_f1, e.edge_recall, e.edge_precision, e.edge_f1]
}

/// start -> A -> B -> end, with names only.
fn chain(start: &str, a: &str, b: &str, end: &str) -> Value {
    json!({"workflow_start": start, "workflow": {
        start: {"type": "start", "on_completion": "action--a"},
        "action--a": {"type": "action", "name": a, "on_completion": "action--b"},
        "action--b": {"type": "action", "name": b, "on_completion": end},
        end: {"type": "end"}
    }})
}

/// Every kind of step: conditions, parallel, switch, a loop, unnamed steps, commands.
fn rich() -> Value {
    json!({"type": "playbook", "workflow_start": "start--1", "workflow": {
        "start--1": {"type": "start", "on_completion": "action--1"},
        "action--1": {"type": "action", "name": "Isolate host",
            "commands": [{"type": "bash", "command": "nmcli networking off"}], "on_completion": "if-condition--2"},
        "if-condition--2": {"type": "if-condition", "condition": "malware_found == true",
            "on_true": "parallel--3", "on_false": "end--1"},
        "parallel--3": {"type": "parallel", "next_steps": ["action--4", "switch-condition--5"]},
        "action--4": {"type": "action", "name": "Kill malicious process",
            "commands": [{"type": "bash", "command": "pkill -f evil.sh"}], "on_completion": "end--1"},
        "switch-condition--5": {"type": "switch-condition", "switch": "os_family",
            "cases": {"linux": "loop--6", "default": "end--2"}},
        "loop--6": {"type": "loop", "name": "Scan until clean",
            "commands": [{"type": "bash", "command": "clamscan -r /home"}], "on_completion": "end--2"},
        "end--1": {"type": "end"},
        "end--2": {"type": "end"}
    }})
}

fn sample_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cyberplaybookllm/sample.json")
}

fn sample() -> Dataset {
    let path = sample_path();
    assert!(
        path.is_file(),
        "the seed-004 sample dataset is missing at {} (tests expect ../shared next to the crate)",
        path.display()
    );
    read_dataset(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn a_playbook_scores_one_against_itself() {
    let pb = rich();
    let expected: Vec<String> =
        ["Isolate host", "Kill malicious process", "Scan until clean"].map(String::from).to_vec();
    let s = score(&pb, &pb, Some(&expected), &ScoreOptions::default());
    assert_eq!(six(&s), [1.0; 6]);
    assert_eq!(exact_six(&s), [1.0; 6]);
    assert_eq!(s.mitigation_recall, Some(1.0));
    // 6 nodes (all but start/end); edges: (S,1) (1,2) (2,3) (2,E) (3,4) (3,5) (4,E) (5,6) (5,E) (6,E).
    assert_eq!((s.counts.reference_nodes, s.counts.matched_nodes), (6, 6));
    assert_eq!((s.counts.reference_edges, s.counts.matched_edges), (10, 10));
    assert!(s.matches.iter().all(|m| m.reference == m.candidate && m.similarity == 1.0), "{:?}", s.matches);
}

#[test]
fn an_empty_candidate_scores_zero() {
    let expected = vec!["Isolate host".to_owned()];
    for empty in [json!({}), json!({"workflow": {}}), json!(null), json!({"workflow": {"s": {"type": "start"}}})] {
        let s = score(&rich(), &empty, Some(&expected), &ScoreOptions::default());
        assert_eq!(six(&s), [0.0; 6], "candidate {empty}");
        assert_eq!(exact_six(&s), [0.0; 6]);
        assert_eq!(s.mitigation_recall, Some(0.0));
    }
    // Documented: nothing expected and nothing produced is a perfect score.
    assert_eq!(six(&default_score(&json!({}), &json!({"workflow": {}}))), [1.0; 6]);
}

#[test]
fn similar_names_match_by_jaccard_but_not_by_exact_name() {
    let reference = chain("start--1", "Block IP address at firewall", "Lock compromised user account", "end--1");
    let candidate = chain("start--9", "Block attacker IP address", "Lock user account", "end--9");
    let s = default_score(&reference, &candidate);
    // {block, ip, address, firewall} vs {block, attacker, ip, address}: 3/5.
    // {lock, compromised, user, account} vs {lock, user, account}: 3/4.
    let sims: Vec<f64> = s.matches.iter().map(|m| m.similarity).collect();
    assert_eq!(sims, [0.6, 0.75]);
    assert_eq!(six(&s), [1.0; 6], "start and end match by type whatever their ids");
    assert_eq!(exact_six(&s), [0.0; 6]);
    assert_eq!(s.counts.reference_edges, 3);
}

#[test]
fn edges_through_start_and_end_stand_for_their_type() {
    // Reference: S->A, A-(success)->end--1, A-(failure)->B, B->end--2: edges (S,A) (A,E) (A,B) (B,E).
    let reference = json!({"workflow_start": "start--1", "workflow": {
        "start--1": {"type": "start", "on_completion": "action--a"},
        "action--a": {"type": "action", "name": "Block IP", "on_success": "end--1", "on_failure": "action--b"},
        "action--b": {"type": "action", "name": "Lock account", "on_completion": "end--2"},
        "end--1": {"type": "end"}, "end--2": {"type": "end"}
    }});
    // Candidate: S'->A'->B'->E' (no A->end): (S,A) (A,B) (B,E), all in the reference.
    let candidate = json!({"workflow_start": "start--x", "workflow": {
        "start--x": {"type": "start", "on_completion": "action--p"},
        "action--p": {"type": "action", "name": "block ip", "on_completion": "action--q"},
        "action--q": {"type": "action", "name": "Lock Account ", "on_completion": "end--x"},
        "end--x": {"type": "end"}
    }});
    let s = default_score(&reference, &candidate);
    assert_eq!([s.node_recall, s.node_precision], [1.0, 1.0]);
    assert_eq!([s.edge_recall, s.edge_precision], [0.75, 1.0]);
    assert!((s.edge_f1 - 6.0 / 7.0).abs() < 1e-12, "{}", s.edge_f1);
    assert_eq!((s.counts.reference_edges, s.counts.candidate_edges, s.counts.matched_edges), (4, 3, 3));
    assert_eq!(exact_six(&s), six(&s), "names equal after trimming and lower-casing");

    // A start that skips straight to B is an edge (S,B) the reference does not have.
    let mut skipping = candidate.clone();
    skipping["workflow"]["start--x"]["on_completion"] = json!("action--q");
    let s = default_score(&reference, &skipping);
    // Candidate edges (S,B) (A,B) (B,E): 2 of 3 in the reference; 2 of the 4 reference edges.
    assert_eq!([s.edge_recall, s.edge_precision], [0.5, 2.0 / 3.0]);
}

#[test]
fn edges_to_unmatched_nodes_are_not_recalled() {
    let reference = chain("start--1", "Block IP address", "Lock user account", "end--1");
    let candidate = chain("start--1", "Block IP address", "Reboot the server", "end--1");
    let s = default_score(&reference, &candidate);
    assert_eq!([s.node_recall, s.node_precision, s.node_f1], [0.5, 0.5, 0.5]);
    // (S,A) is recalled; (A,B) and (B,E) touch the unmatched B.
    assert_eq!([s.edge_recall, s.edge_precision], [1.0 / 3.0, 1.0 / 3.0]);
}

#[test]
fn matching_is_one_to_one_and_greedy_from_the_most_similar_pair() {
    let reference = json!({"workflow": {
        "action--r": {"type": "action", "name": "Block IP address"}
    }});
    // The weaker copy comes first in the document; the exact one must win.
    let candidate = json!({"workflow": {
        "action--weak": {"type": "action", "name": "Block IP address now"},
        "action--best": {"type": "action", "name": "Block IP address"}
    }});
    let s = default_score(&reference, &candidate);
    assert_eq!(s.matches.len(), 1, "two candidate steps cannot both match one reference step");
    assert_eq!((s.matches[0].candidate.as_str(), s.matches[0].similarity), ("action--best", 1.0));
    assert_eq!([s.node_recall, s.node_precision], [1.0, 0.5]);
    assert!((s.node_f1 - 2.0 / 3.0).abs() < 1e-12);

    // Same with equal names: exact matching is one-to-one too, the first in document order wins.
    let twins = json!({"workflow": {
        "action--1": {"type": "action", "name": "Block IP address"},
        "action--2": {"type": "action", "name": "block ip address"}
    }});
    let s = default_score(&reference, &twins);
    assert_eq!(s.matches[0].candidate, "action--1");
    assert_eq!([s.exact.node_recall, s.exact.node_precision], [1.0, 0.5]);

    // Greedy, not optimal: r1 takes c0 (1.0), so r0 (which only likes c0) is left unmatched.
    let reference = json!({"workflow": {
        "action--r0": {"type": "action", "name": "Block IP"},
        "action--r1": {"type": "action", "name": "Block IP address"}
    }});
    let candidate = json!({"workflow": {
        "action--c0": {"type": "action", "name": "Block IP address"},
        "action--c1": {"type": "action", "name": "Block address range"}
    }});
    let s = default_score(&reference, &candidate);
    // r0-c0 2/3, r1-c0 1.0, r1-c1 {block, address}/{block, ip, address, range} = 2/4, r0-c1 1/4.
    let got: Vec<(&str, &str, f64)> =
        s.matches.iter().map(|m| (m.reference.as_str(), m.candidate.as_str(), m.similarity)).collect();
    assert_eq!(got, [("action--r1", "action--c0", 1.0)]);
}

#[test]
fn the_threshold_decides_which_pairs_match() {
    let reference = chain("start--1", "Block IP address at firewall", "Lock compromised user account", "end--1");
    let candidate = chain("start--1", "Block attacker IP address", "Lock user account", "end--1");
    // Similarities 0.6 and 0.75.
    let at = |t: f64| score(&reference, &candidate, None, &opts(t));
    assert_eq!(at(0.6).counts.matched_nodes, 2);
    let s = at(0.7);
    assert_eq!(s.counts.matched_nodes, 1);
    assert_eq!([s.node_recall, s.node_precision], [0.5, 0.5]);
    assert_eq!(s.edge_recall, 1.0 / 3.0, "only (B,E) survives");
    assert_eq!(at(0.8).counts.matched_nodes, 0);
    assert_eq!(at(0.8).edge_recall, 0.0);
}

#[test]
fn mitigation_recall_counts_expected_names() {
    let candidate = chain("start--1", "Block the attacking address at the firewall", "Reboot", "end--1");
    let expected: Vec<String> =
        ["Block the attacking address at the firewall", "Lock the compromised account"].map(String::from).to_vec();
    let s = score(&json!({}), &candidate, Some(&expected), &ScoreOptions::default());
    assert_eq!(s.mitigation_recall, Some(0.5));
}

#[test]
fn sample_records_load_and_score_one_against_themselves() {
    let dataset = sample();
    assert!(dataset.problems.is_empty(), "{:?}", dataset.problems);
    let keys: Vec<&str> = dataset.records.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["T1110_sample_1", "T1486_sample_1"]);
    for record in &dataset.records {
        assert_eq!(record.attack_logs.len(), 3);
        assert_eq!(record.ground_truth_mitigations.len(), 4);
        let view = serde_json::to_string(&record.generator_view()).unwrap();
        for m in &record.ground_truth_mitigations {
            assert!(!view.contains(&m.step), "the generator view leaks the mitigation {:?}", m.step);
        }
        let expected = record.expected_step_names();
        let s = score(&record.playbook, &record.playbook, Some(&expected), &ScoreOptions::default());
        assert_eq!(six(&s), [1.0; 6], "{}", record.key);
        assert_eq!(exact_six(&s), [1.0; 6], "{}", record.key);
        assert_eq!(s.mitigation_recall, Some(1.0));
        assert_eq!((s.counts.reference_nodes, s.counts.reference_edges), (4, 5), "{}", record.key);
    }
    // The two incidents have nothing in common.
    let (a, b) = (&dataset.records[0].playbook, &dataset.records[1].playbook);
    let s = default_score(a, b);
    assert_eq!(s.counts.matched_nodes, 0);
    // Only the edge (start, end) could match, and neither playbook has it.
    assert_eq!(s.edge_recall, 0.0);
}

#[test]
fn batch_mode_scores_a_directory_and_lists_missing_candidates() {
    let dataset = sample();
    let dir = tempfile::tempdir().unwrap();
    let first = &dataset.records[0];
    std::fs::write(dir.path().join(format!("{}.json", first.key)), first.playbook.to_string()).unwrap();
    let summary = score_dir(&dataset.records, dir.path(), &ScoreOptions::default());
    assert_eq!(summary.count, 2);
    assert_eq!(summary.missing, ["T1486_sample_1"]);
    assert!(summary.unreadable.is_empty());
    let metric = |name: &str| summary.metrics.iter().find(|m| m.metric == name).unwrap();
    assert_eq!((metric("node_recall").mean, metric("node_recall").median), (Some(0.5), Some(0.5)));
    assert_eq!(metric("edge_f1").mean, Some(0.5));
    assert_eq!(metric("mitigation_recall").n, 2);
    assert_eq!(metric("mitigation_recall").mean, Some(0.5));
    assert_eq!(summary.per_technique["T1110"].node_recall, 1.0);
    assert_eq!(summary.per_technique["T1486"].edge_recall, 0.0);
    assert_eq!(summary.records[1].candidate, "missing");
    let table = render_table(&summary);
    assert!(table.contains("missing candidates (scored 0): T1486_sample_1"), "{table}");
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["records"][0]["score"]["node_recall"], json!(1.0));

    // An unreadable candidate is listed and scores zero too.
    std::fs::write(dir.path().join("T1486_sample_1.json"), "{ not json").unwrap();
    let summary = score_dir(&dataset.records, dir.path(), &ScoreOptions::default());
    assert!(summary.missing.is_empty());
    assert_eq!(summary.unreadable.len(), 1);
    assert_eq!(summary.records[1].score.node_recall, 0.0);
}

#[test]
fn broken_references_score_without_panic() {
    let broken = json!({"workflow_start": "start--missing", "workflow": {
        "start--abc": {"type": "start", "on_completion": "action--xyz"},
        "action--xyz": {"type": "action", "name": "Kill the process", "agent": "organization--abc",
            "commands": [{"type": "bash", "command": "kill -9 1234"}], "on_completion": "loop--1",
            "on_failure": "action--does-not-exist"},
        "loop--1": {"type": "loop", "name": "Repeat scan", "condition": "until clean",
            "on_true": ["action--xyz", "decision--2"], "on_false": "end--1", "next_steps": [5, null]},
        "decision--2": {"type": "decision", "condition": "Is the host still infected?", "cases": {"yes": ["action--xyz"], "no": 3}},
        "orphan": "not an object",
        "untyped--1": {"name": 42},
        "end--1": {"type": "end", "on_completion": "end--1"}
    }});
    let s = default_score(&broken, &broken);
    // Nodes: action--xyz, loop--1, decision--2, orphan, untyped--1. Edges (dangling action--does-not-exist
    // excluded): (S,x) (x,loop) (loop,x) (loop,decision) (loop,E) (decision,x) (E,E).
    assert_eq!((s.counts.reference_nodes, s.counts.reference_edges, s.counts.reference_dangling_edges), (5, 7, 1));
    assert_eq!(six(&s), [1.0; 6]);

    let sample = sample();
    for candidate in [json!({}), sample.records[0].playbook.clone(), json!([1, 2]), json!({"workflow": "x"})] {
        let a = score(&broken, &candidate, Some(&["x".to_owned()]), &ScoreOptions::default());
        let b = score(&candidate, &broken, None, &opts(0.0));
        for v in six(&a).into_iter().chain(six(&b)) {
            assert!((0.0..=1.0).contains(&v), "{v}");
        }
    }

    // A dataset with a broken record keeps the good one and names the bad one.
    let text = json!([{"ok": {"playbook": broken}}, {"bad": {"ground_truth_mitigations": {"step": "x"}}}]).to_string();
    let dataset = parse_dataset(&text).unwrap();
    assert_eq!(dataset.records.len(), 1);
    assert_eq!(
        dataset.problems[0].to_string(),
        "item 2 (record `bad`): field `ground_truth_mitigations`: expected a list, found an object"
    );
    let summary = cacao_forge::score::score_records(&dataset.records, |_| Candidate::Missing, &ScoreOptions::default());
    assert_eq!(summary.missing, ["ok"]);
}
