//! `cacao-forge run` and `cacao-forge runs` as a person uses them: a dry run's plan, a run that
//! waits for an answer given from another process, cancel, list and show.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::exec::{sid, Pb};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_cacao-forge");

fn cli(args: &[&str], db: &Path) -> Output {
    Command::new(BIN).args(args).args(["--db", db.to_str().unwrap()]).env("USER", "alice").output().unwrap()
}

fn show(run_id: &str, db: &Path) -> Value {
    let out = cli(&["runs", "show", run_id, "--json"], db);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn dry_run_prints_the_plan_and_rejections_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("pb.json");
    let doc = Pb::new(1)
        .var("__ip__", "ipv4-addr", "198.51.100.1")
        .step("start1", json!({"on_completion": "a1"}))
        .bash("a1", &["iptables -A INPUT -s __ip__:value -j DROP"], "end1")
        .step("end1", json!({}))
        .build();
    std::fs::write(&pb, doc.to_string()).unwrap();
    let db = dir.path().join("runs.db");
    let out = cli(&["run", pb.to_str().unwrap(), "--dry-run", "--var", "ip=203.0.113.7"], &db);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("iptables -A INPUT -s '203.0.113.7' -j DROP"), "{stdout}");
    assert!(stdout.contains("would ask a person (approval)"), "{stdout}");
    assert!(!db.exists(), "a dry run stores nothing");

    let out = cli(&["run", pb.to_str().unwrap(), "--dry-run", "--var", "nope=1"], &db);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("declares no variable __nope__"));
}

#[test]
fn a_waiting_run_is_answered_from_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("pb.json");
    let log = dir.path().join("log");
    let doc = Pb::new(2)
        .var("__owner__", "string", "")
        .step("start1", json!({"on_completion": "a1"}))
        .step("a1", json!({"commands": [{"type": "manual", "command": "Name the host owner"}], "out_args": ["__owner__"], "on_completion": "a2"}))
        .bash("a2", &[&format!("echo \"owner: __owner__:value\" > {}", log.display())], "end1")
        .step("end1", json!({}))
        .build();
    std::fs::write(&pb, doc.to_string()).unwrap();
    let db = dir.path().join("runs.db");
    let child = Command::new(BIN)
        .args(["run", pb.to_str().unwrap(), "--run-id", "ask-1", "--db", db.to_str().unwrap(), "--quiet"])
        .env("USER", "alice")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let key = format!("{}#0", sid("a1"));
    let mut waiting = false;
    for _ in 0..200 {
        if db.exists() {
            let out = cli(&["runs", "show", "ask-1", "--json"], &db);
            if out.status.success() {
                let v: Value = serde_json::from_slice(&out.stdout).unwrap();
                if v["pending_questions"].as_array().is_some_and(|p| !p.is_empty()) {
                    assert_eq!(v["run"]["status"], "waiting");
                    assert_eq!(v["pending_questions"][0]["key"], key.as_str());
                    waiting = true;
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(waiting, "the run never asked");
    let out = cli(&["runs", "answer", "ask-1", &key, "value", "--value", "bob's team", "--by", "carol"], &db);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = cli(&["runs", "answer", "ask-1", &key, "deny"], &db);
    assert_eq!(out.status.code(), Some(1), "the first answer stands");
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "owner: bob's team\n");
    let v = show("ask-1", &db);
    assert_eq!(v["run"]["status"], "succeeded");
    assert_eq!(v["run"]["started_by"], "alice");
    let answered = v["events"].as_array().unwrap().iter().find(|e| e["event"]["event"] == "answered").unwrap();
    assert_eq!(answered["event"]["answer"]["by"], "carol");
    let list = cli(&["runs", "list", "--json"], &db);
    let runs: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(runs[0]["run_id"], "ask-1");
}

#[test]
fn cancelling_a_run_whose_process_died_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("pb.json");
    let doc = Pb::new(3)
        .step("start1", json!({"on_completion": "a1"}))
        .step("a1", json!({"commands": [{"type": "manual", "command": "Wait"}], "on_completion": "end1"}))
        .step("end1", json!({}))
        .build();
    std::fs::write(&pb, doc.to_string()).unwrap();
    let db = dir.path().join("runs.db");
    let mut child = Command::new(BIN)
        .args(["run", pb.to_str().unwrap(), "--run-id", "dead-1", "--db", db.to_str().unwrap(), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if db.exists() && cli(&["runs", "show", "dead-1", "--json"], &db).status.success() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let out = cli(&["runs", "cancel", "dead-1"], &db);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(show("dead-1", &db)["run"]["status"], "cancelled");
    let out = cli(&["runs", "resume", "dead-1"], &db);
    assert!(!out.status.success(), "an ended run cannot be resumed");
}
