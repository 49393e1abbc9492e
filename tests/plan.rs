//! `cacao-forge plan` end to end, on the fixtures in tests/fixtures/plan/: an auth.log with a brute
//! force then a download and execution, Windows events with credential dumping, shadow-copy
//! deletion and a scheduled task, an ECS alert, a free-text report, and a serialized incident with
//! hostile observable values.
//!
//! Assertions rest on what the indicator rules map (stable whatever the learned model ranks) and on
//! properties of the plan (phase order, observables of the incident in the commands, hostile values
//! never in a command, filters listing what they drop), not on exact scores.

mod common;

use common::cli;
use serde_json::Value;
use std::collections::BTreeSet;

const AUTH_LOG: &str = "tests/fixtures/plan/auth.log";
const WINDOWS: &str = "tests/fixtures/plan/windows-events.jsonl";
const ECS: &str = "tests/fixtures/plan/ecs-alert.json";
const REPORT: &str = "tests/fixtures/plan/report.txt";
const HOSTILE: &str = "tests/fixtures/plan/hostile.incident.json";

/// Runs `plan --json` and returns the JSON document, asserting exit 0.
fn plan_json(args: &[&str]) -> Value {
    let mut all = vec!["plan", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = cli(&all);
    assert_eq!(code, 0, "plan {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("plan --json is not JSON ({e}): {out}"))
}

fn the_plan(doc: &Value) -> &Value {
    let plans = doc["plans"].as_array().expect("plans is a list");
    assert_eq!(plans.len(), 1, "one incident, one plan");
    &plans[0]
}

fn parents(plan: &Value) -> BTreeSet<String> {
    plan["techniques"].as_array().unwrap().iter().map(|t| t["parent"].as_str().unwrap().to_string()).collect()
}

fn technique<'a>(plan: &'a Value, parent: &str) -> &'a Value {
    plan["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["parent"] == parent)
        .unwrap_or_else(|| panic!("{parent} not planned; got {:?}", parents(plan)))
}

fn steps(plan: &Value) -> &Vec<Value> {
    plan["steps"].as_array().expect("steps is a list")
}

fn step<'a>(plan: &'a Value, action_id: &str) -> &'a Value {
    steps(plan).iter().find(|s| s["action"]["id"] == action_id).unwrap_or_else(|| {
        panic!("no step {action_id} in {:?}", steps(plan).iter().map(|s| &s["action"]["id"]).collect::<Vec<_>>())
    })
}

fn commands(action: &Value) -> Vec<String> {
    action["commands"].as_array().unwrap().iter().map(|c| c["command"].as_str().unwrap().to_string()).collect()
}

fn all_commands(plan: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for s in steps(plan) {
        for c in s["action"]["commands"].as_array().unwrap() {
            out.push(c["command"].as_str().unwrap().to_string());
            if let Some(u) = c["undo"].as_str() {
                out.push(u.to_string());
            }
        }
    }
    out
}

const PHASES: [&str; 4] = ["containment", "eradication", "recovery", "verification"];

fn phase_rank(p: &Value) -> usize {
    PHASES.iter().position(|x| p == x).unwrap_or_else(|| panic!("unknown phase {p}"))
}

/// Steps numbered from 1 in phase order; technique actions grouped by phase and pointing at the
/// step that lists their technique.
fn assert_well_formed(plan: &Value) {
    let steps = steps(plan);
    assert!(!steps.is_empty(), "no step");
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s["number"], i + 1);
        assert_eq!(s["action"]["step"], i + 1);
    }
    let ranks: Vec<usize> = steps.iter().map(|s| phase_rank(&s["action"]["phase"])).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "steps out of phase order: {ranks:?}");
    for t in plan["techniques"].as_array().unwrap() {
        let groups = t["actions"].as_object().unwrap();
        assert_eq!(groups.keys().map(String::as_str).collect::<Vec<_>>(), PHASES);
        for (phase, actions) in groups {
            for a in actions.as_array().unwrap() {
                assert_eq!(&a["phase"], phase);
                let n = a["step"].as_u64().unwrap() as usize;
                let s = &steps[n - 1];
                assert_eq!(s["action"]["id"], a["id"]);
                assert!(s["techniques"].as_array().unwrap().contains(&t["id"]), "step {n} does not list {}", t["id"]);
            }
        }
    }
}

#[test]
fn windows_events_credential_dumping_and_shadow_copy_deletion() {
    let doc = plan_json(&[WINDOWS]);
    assert_eq!(doc["input"], "windows-event");
    let plan = the_plan(&doc);
    assert_well_formed(plan);
    let got = parents(plan);
    for t in ["T1003", "T1490", "T1053"] {
        assert!(got.contains(t), "{t} missing from {got:?}");
    }
    let t1003 = technique(plan, "T1003");
    assert_eq!(t1003["knowledge"]["key"], "T1003");
    let mitigations: Vec<&str> =
        t1003["mitigations"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert!(mitigations.contains(&"M1043"), "{mitigations:?}");
    assert!(t1003["mitigations"].as_array().unwrap().iter().all(|m| m["name"].is_string()));
    let ev = &t1003["evidence"][0];
    assert_eq!((ev["event"].as_u64(), ev["line"].as_u64()), (Some(0), Some(1)), "{ev}");

    // One isolation step for both techniques, acting on this incident's host.
    let isolate = step(plan, "isolate-host");
    let for_: Vec<&str> = isolate["techniques"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(for_.iter().any(|t| t.starts_with("T1003")) && for_.iter().any(|t| t.starts_with("T1490")), "{for_:?}");
    assert_eq!(steps(plan).iter().filter(|s| s["action"]["id"] == "isolate-host").count(), 1);
    let cmds = commands(&isolate["action"]);
    assert!(cmds.iter().any(|c| c.contains("\"hostname\":\"ws-042.corp.example.com\"")), "{cmds:?}");
    assert!(isolate["action"]["observables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["kind"] == "host" && o["linked"] == true));

    // The dropped payload is a target; the system binaries around it never are.
    let unregister = step(plan, "unregister-task-windows");
    let cmds = commands(&unregister["action"]);
    assert!(cmds.iter().any(|c| c.contains(r"c:\users\public\upd.exe")), "{cmds:?}");
    let everything = all_commands(plan).join("\n");
    assert!(!everything.contains(r"c:\windows\system32\cmd.exe"), "a system binary was targeted");
    let skipped = unregister["action"]["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| s["targets"]["file_path"] == r"c:\windows\system32\schtasks.exe"
        && s["reason"].as_str().unwrap().contains("protected")));
    assert!(plan["incident"]["platforms_seen"].as_array().unwrap().contains(&Value::from("windows")));
}

#[test]
fn auth_log_download_then_execution() {
    let doc = plan_json(&["--year", "2026", AUTH_LOG]);
    assert_eq!(doc["input"], "syslog");
    let plan = the_plan(&doc);
    assert_well_formed(plan);
    let got = parents(plan);
    assert!(got.contains("T1105") && got.contains("T1059"), "{got:?}");
    // T1105's own block-ip acts on the download server only (the address of its evidence line), not
    // on every address of the log.
    let t1105 = technique(plan, "T1105");
    let block =
        t1105["actions"]["containment"].as_array().unwrap().iter().find(|a| a["id"] == "block-ip").expect("block-ip");
    let ips: Vec<(&str, bool)> = block["observables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["value"].as_str().unwrap(), o["linked"].as_bool().unwrap()))
        .collect();
    assert_eq!(ips, [("198.51.100.23", true)]);
    assert!(commands(block).iter().all(|c| c.contains("198.51.100.23")));
    // The payload is removed; curl and the home directory are not.
    let remove = step(plan, "remove-payload-linux");
    let cmds = commands(&remove["action"]);
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    assert!(cmds[0].contains("rm -f -- '/tmp/.k.sh'"), "{cmds:?}");
    // No command acts on them as a file: a manual telemetry search may quote the whole command
    // line (`/usr/bin/curl -fsSL ...`), which is a command_line observable, not a target.
    let everything = all_commands(plan).join("\n");
    for never in ["'/usr/bin/curl'", "'/home/deploy'", "'/bin/bash'", "-- /usr/bin/curl", "rm -f -- '/usr"] {
        assert!(!everything.contains(never), "{never} was targeted");
    }

    // Human output: phases in order, numbered steps, markers.
    let (code, out, err) = cli(&["plan", "--year", "2026", AUTH_LOG]);
    assert_eq!(code, 0, "{err}");
    let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s:?} not in output:\n{out}"));
    assert!(at("Techniques, in mapping order:") < at("\nContainment\n"));
    assert!(at("\nContainment\n") < at("\nEradication\n"));
    assert!(at("\nEradication\n") < at("\nVerification\n"));
    assert!(out.contains("  1. ") && out.contains("[destructive]") && out.contains("[needs approval]"));
    assert!(out.contains("[reversible]"));
    assert!(out.contains("rm -f -- '/tmp/.k.sh'"));
}

#[test]
fn ecs_alert() {
    let doc = plan_json(&[ECS]);
    assert_eq!(doc["input"], "ecs");
    let plan = the_plan(&doc);
    assert_well_formed(plan);
    assert_eq!(plan["incident"]["id"], "ecs-7f3a");
    assert_eq!(plan["incident"]["severity"], "high");
    assert!(parents(plan).contains("T1059"), "{:?}", parents(plan));
    let isolate = step(plan, "isolate-host");
    assert!(commands(&isolate["action"]).iter().any(|c| c.contains("ws-7.corp.example.com")));
    // The interpreter's own image is excluded from file removal.
    let everything = all_commands(plan).join("\n");
    assert!(!everything.contains(r"windowspowershell\v1.0\powershell.exe"));
}

#[test]
fn free_text_report() {
    let doc = plan_json(&[REPORT]);
    assert_eq!(doc["input"], "text");
    let plan = the_plan(&doc);
    assert_well_formed(plan);
    let got = parents(plan);
    assert!(got.contains("T1003") && got.contains("T1490"), "{got:?}");
    let t1003 = technique(plan, "T1003");
    assert!(
        t1003["evidence"].as_array().unwrap().iter().all(|e| e["event"].is_null()),
        "text evidence is the description"
    );
    // An action whose kind the report lacks keeps its template and says what is missing.
    let isolate = step(plan, "isolate-host");
    assert!(commands(&isolate["action"]).is_empty());
    let missing = isolate["action"]["missing"].as_array().unwrap();
    assert!(missing.iter().any(|m| m["name"] == "host" && m["setting"] == false), "{missing:?}");
    assert!(isolate["action"]["template"].as_str().unwrap().contains("{{host}}"));
    let (_, out, _) = cli(&["plan", REPORT]);
    assert!(out.contains("not rendered: no host observable in this incident"), "{out}");
}

#[test]
fn hostile_observable_values_are_never_rendered() {
    let doc = plan_json(&[HOSTILE]);
    assert_eq!(doc["input"], "incident", "a serialized incident is read as one");
    let plan = the_plan(&doc);
    assert_eq!(plan["incident"]["id"], "incident--hostile-values");
    assert_well_formed(plan);
    let everything = all_commands(plan);
    assert!(!everything.is_empty());
    for c in &everything {
        for bad in ["rm -rf", "reboot", "Remove-Item C:\\ -Recurse", "pwned", "\u{1b}", "\"x\":"] {
            assert!(!c.contains(bad), "hostile value {bad:?} rendered into {c}");
        }
    }
    // OpenC2 commands are still well-formed JSON after substitution.
    for s in steps(plan) {
        if s["action"]["command_type"] == "openc2-http" {
            for c in commands(&s["action"]) {
                let v: Value = serde_json::from_str(&c).unwrap_or_else(|e| panic!("{c}: {e}"));
                assert!(v.get("action").is_some() && v.get("target").is_some(), "{c}");
            }
        }
    }
    // Every hostile user is reported as a skipped target with the reason.
    let skipped: Vec<(String, String)> = steps(plan)
        .iter()
        .flat_map(|s| s["action"]["skipped"].as_array().unwrap().iter())
        .filter_map(|s| Some((s["targets"]["user"].as_str()?.to_string(), s["reason"].as_str()?.to_string())))
        .collect();
    for user in ["x;rm -rf /", "x'; rm -rf / #", "$(reboot)"] {
        let (_, why) =
            skipped.iter().find(|(u, _)| u == user).unwrap_or_else(|| panic!("{user} not skipped: {skipped:?}"));
        assert!(why.contains("implausible"), "{why}");
    }
    let file_refused = steps(plan)
        .iter()
        .flat_map(|s| s["action"]["skipped"].as_array().unwrap().iter())
        .find(|s| s["targets"]["file_path"].as_str().is_some_and(|p| p.contains("Remove-Item")))
        .expect("the quoted path is skipped");
    assert!(file_refused["reason"].as_str().unwrap().contains("single quote"), "{file_refused}");
    // A plain process is acted on, lsass never.
    let kill = step(plan, "kill-process");
    assert_eq!(commands(&kill["action"]), ["taskkill /F /T /IM 'mimikatz.exe'"]);
    assert!(kill["action"]["skipped"].as_array().unwrap().iter().any(|s| s["targets"]["process"] == "lsass"));
    // The terminal never receives the escape sequence hidden in a value.
    let (code, out, _) = cli(&["plan", HOSTILE]);
    assert_eq!(code, 0);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'));
    assert!(out.contains(r"evil\u{1b}]0;pwned\u{7}"), "the value is shown escaped");
}

#[test]
fn no_destructive_drops_and_lists_them() {
    let full = plan_json(&[WINDOWS]);
    let destructive: BTreeSet<String> = steps(the_plan(&full))
        .iter()
        .filter(|s| s["action"]["destructive"] == true)
        .map(|s| s["action"]["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!destructive.is_empty());
    let safe = plan_json(&["--no-destructive", WINDOWS]);
    let plan = the_plan(&safe);
    assert_well_formed(plan);
    assert!(steps(plan).iter().all(|s| s["action"]["destructive"] == false));
    for t in plan["techniques"].as_array().unwrap() {
        for (_, actions) in t["actions"].as_object().unwrap() {
            assert!(actions.as_array().unwrap().iter().all(|a| a["destructive"] == false));
        }
    }
    let dropped = plan["dropped"].as_array().unwrap();
    let dropped_ids: BTreeSet<String> = dropped.iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(dropped_ids, destructive);
    assert!(dropped.iter().all(|d| d["destructive"] == true && d["reason"].as_str().unwrap().contains("destructive")));
    let (code, out, _) = cli(&["plan", "--no-destructive", WINDOWS]);
    assert_eq!(code, 0);
    assert!(!out.contains("[destructive]"));
    assert!(out.contains("Dropped ("), "{out}");
}

#[test]
fn platform_filter() {
    let doc = plan_json(&["--platform", "windows", WINDOWS]);
    let plan = the_plan(&doc);
    assert!(steps(plan).iter().all(|s| s["action"]["platform"] == "windows" || s["action"]["platform"] == "any"));
    let dropped = plan["dropped"].as_array().unwrap();
    assert!(dropped.iter().any(|d| d["platform"] == "linux"), "the cron actions of T1053 are dropped");
    assert!(dropped.iter().all(|d| d["platform"] != "windows" && d["platform"] != "any"));
    // Without the filter, the plan says that the incident shows only Windows.
    let doc = plan_json(&[WINDOWS]);
    let notes = the_plan(&doc)["notes"].as_array().unwrap();
    assert!(notes.iter().any(|n| n.as_str().unwrap().contains("only windows")), "{notes:?}");
    let (code, _, err) = cli(&["plan", "--platform", "solaris", WINDOWS]);
    assert_eq!(code, 2);
    assert!(err.contains("solaris"), "{err}");
}

#[test]
fn intake_reports_and_serialized_incidents_are_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let (code, report, err) = cli(&["intake", "--json", WINDOWS]);
    assert_eq!(code, 0, "{err}");
    let report_path = dir.path().join("report.json");
    std::fs::write(&report_path, &report).unwrap();
    let v: Value = serde_json::from_str(&report).unwrap();
    let incident_path = dir.path().join("incident.json");
    std::fs::write(&incident_path, v["incidents"][0].to_string()).unwrap();

    let direct = plan_json(&[WINDOWS]);
    let via_report = plan_json(&[report_path.to_str().unwrap()]);
    let via_incident = plan_json(&["--format", "incident", incident_path.to_str().unwrap()]);
    assert_eq!(via_report["input"], "intake report");
    assert_eq!(via_incident["input"], "incident");
    // The same incident gives the same plan, whatever it came in as.
    assert_eq!(the_plan(&direct), the_plan(&via_report));
    assert_eq!(the_plan(&direct), the_plan(&via_incident));

    // Several incidents: each planned, or one picked with --incident.
    let mut second = v["incidents"][0].clone();
    second["id"] = Value::from("incident--second");
    let list_path = dir.path().join("list.json");
    std::fs::write(&list_path, Value::Array(vec![v["incidents"][0].clone(), second]).to_string()).unwrap();
    let both = plan_json(&[list_path.to_str().unwrap()]);
    assert_eq!(both["plans"].as_array().unwrap().len(), 2);
    let one = plan_json(&["--incident", "incident--second", list_path.to_str().unwrap()]);
    assert_eq!(the_plan(&one)["incident"]["id"], "incident--second");
    let (code, _, err) = cli(&["plan", "--incident", "nope", list_path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("nope") && err.contains("incident--second"), "{err}");
}

#[test]
fn nothing_mapped_exits_1_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("note.txt");
    std::fs::write(&path, "Quarterly review of the office plants: all watered, nothing to report.\n").unwrap();
    let p = path.to_str().unwrap();
    // No rule fires on this text, so no technique reaches 0.9 (the model alone gives at most 0.5).
    let (code, out, err) = cli(&["plan", "--min-score", "0.9", p]);
    assert_eq!(code, 1, "out: {out}\nerr: {err}");
    assert!(err.contains("no ATT&CK technique mapped") && err.contains(p), "{err}");
    assert!(out.trim().is_empty(), "{out}");
    let (code, out, _) = cli(&["plan", "--json", "--min-score", "0.9", p]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let plan = the_plan(&doc);
    assert!(plan["techniques"].as_array().unwrap().is_empty() && steps(plan).is_empty());
    assert!(plan["notes"][0].as_str().unwrap().contains("no ATT&CK technique"));
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.log");
    let (code, _, err) = cli(&["plan", missing.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.log"), "{err}");

    let binary = dir.path().join("blob.bin");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
    let (code, _, err) = cli(&["plan", binary.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("blob.bin") && err.contains("binary"), "{err}");

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let (code, _, err) = cli(&["plan", empty.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("empty.txt") && err.contains("empty"), "{err}");

    let broken = dir.path().join("broken.incident.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(HOSTILE).unwrap()).unwrap();
    v["observables"][0]["kind"] = Value::from("ipv5");
    std::fs::write(&broken, v.to_string()).unwrap();
    let (code, _, err) = cli(&["plan", broken.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("broken.incident.json") && err.contains("/observables/0/kind") && err.contains("ipv5"),
        "{err}"
    );

    let (code, _, err) = cli(&["plan", "--format", "incident", AUTH_LOG]);
    assert_eq!(code, 2);
    assert!(err.contains("auth.log") && err.contains("not JSON"), "{err}");
    let (code, _, err) = cli(&["plan", "--format", "nope", AUTH_LOG]);
    assert_eq!(code, 2);
    assert!(err.contains("nope"), "{err}");
    let (code, _, err) = cli(&["plan", "--set", "no-equals-sign", AUTH_LOG]);
    assert_eq!(code, 2);
    assert!(err.contains("NAME=VALUE"), "{err}");
    let (code, _, err) = cli(&["plan", "--min-score", "2", AUTH_LOG]);
    assert_eq!(code, 2);
    assert!(err.contains("--min-score"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn same_input_same_plan() {
    let a = cli(&["plan", "--json", WINDOWS]).1;
    let b = cli(&["plan", "--json", WINDOWS]).1;
    assert_eq!(a, b);
    let top1 = plan_json(&["--top-k", "1", WINDOWS]);
    assert_eq!(the_plan(&top1)["techniques"].as_array().unwrap().len(), 1);
}
