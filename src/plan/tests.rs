//! Unit tests of the planner on incidents whose techniques the indicator rules map (stable whatever
//! the learned model says), and on hand-made technique lists for the paths the rules do not reach.

use super::*;
use crate::attack::mapper::Evidence;
use crate::incident::intake::{read_auto, IntakeOptions};

/// Credential dumping then shadow-copy deletion on one Windows host, as Windows events.
fn windows_incident() -> Incident {
    let events = serde_json::json!([
        {"EventID": 4688, "Computer": "WS-042.corp.example.com", "TimeCreated": "2026-03-02T06:00:00Z",
         "EventData": {"SubjectUserName": "alice", "NewProcessName": "C:\\Users\\Public\\mimikatz.exe",
                       "CommandLine": "mimikatz.exe \"privilege::debug\" \"sekurlsa::logonpasswords\" exit"}},
        {"EventID": 4688, "Computer": "WS-042.corp.example.com", "TimeCreated": "2026-03-02T06:02:00Z",
         "EventData": {"SubjectUserName": "alice", "NewProcessName": "C:\\Windows\\System32\\vssadmin.exe",
                       "CommandLine": "vssadmin.exe delete shadows /all /quiet"}}
    ]);
    let report = read_auto(events.to_string().as_bytes(), &IntakeOptions::default()).expect("windows events read");
    report.incidents[0].clone()
}

fn planner(options: PlanOptions) -> Planner<'static> {
    Planner::embedded(options)
}

fn technique<'p>(plan: &'p Plan, parent: &str) -> &'p PlannedTechnique {
    plan.techniques.iter().find(|t| t.parent == parent).unwrap_or_else(|| {
        panic!("{parent} not planned: {:?}", plan.techniques.iter().map(|t| &t.id).collect::<Vec<_>>())
    })
}

fn hand_made(id: &str, tactics: &[&str], score: f32) -> TechniqueMatch {
    TechniqueMatch {
        id: id.into(),
        parent: id.split('.').next().unwrap().into(),
        name: format!("name of {id}"),
        tactics: tactics.iter().map(|t| t.to_string()).collect(),
        score,
        rule_score: score,
        model_score: 0.0,
        evidence: Vec::<Evidence>::new(),
    }
}

#[test]
fn rule_mapped_techniques_get_mitigations_and_phased_actions() {
    let incident = windows_incident();
    let plan = planner(PlanOptions::default()).plan(&incident);
    let t1003 = technique(&plan, "T1003");
    let t1490 = technique(&plan, "T1490");
    for t in [t1003, t1490] {
        assert!(!t.mitigations.is_empty(), "{}: no mitigations", t.id);
        assert!(t.knowledge.is_some(), "{}: no knowledge", t.id);
        assert!(!t.actions.containment.is_empty() && !t.actions.verification.is_empty(), "{}", t.id);
        assert!(!t.evidence.is_empty());
        // Phases in order, every action numbered.
        let phases: Vec<Phase> = t.actions.iter().map(|a| a.phase).collect();
        assert!(phases.windows(2).all(|w| w[0] <= w[1]), "{phases:?}");
        assert!(t.actions.iter().all(|a| a.step >= 1 && a.step <= plan.steps.len()));
    }
    // The knowledge's mitigations come first.
    let k = crate::attack::responses::library().for_technique("T1003").unwrap();
    assert_eq!(t1003.mitigations[0].id, k.mitigations[0]);
    // Actions act on this incident's host.
    let isolate = t1003.actions.iter().find(|a| a.acts_on.contains(&ObservableKind::Host)).expect("a host action");
    assert!(isolate.observables.iter().any(|o| o.value == "ws-042.corp.example.com" && o.linked), "{isolate:?}");
    assert!(isolate.commands.iter().any(|c| c.command.contains("ws-042.corp.example.com")), "{isolate:?}");
}

#[test]
fn steps_are_phase_ordered_numbered_and_merged() {
    let plan = planner(PlanOptions::default()).plan(&windows_incident());
    assert!(!plan.steps.is_empty());
    for (i, s) in plan.steps.iter().enumerate() {
        assert_eq!(s.number, i + 1);
        assert_eq!(s.action.step, s.number);
    }
    assert!(plan.steps.windows(2).all(|w| w[0].action.phase <= w[1].action.phase));
    // Each technique action is found in its step, which lists the technique.
    for t in &plan.techniques {
        for a in t.actions.iter() {
            let s = &plan.steps[a.step - 1];
            assert_eq!((s.action.id.as_str(), s.action.phase), (a.id.as_str(), a.phase));
            assert!(s.techniques.contains(&t.id));
        }
    }
    // No two steps share the merge key; isolate-host is used by both techniques and appears once.
    let mut keys: Vec<_> = plan.steps.iter().map(|s| s.action.merge_key()).collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n);
    let isolate: Vec<&Step> = plan.steps.iter().filter(|s| s.action.id == "isolate-host").collect();
    assert_eq!(isolate.len(), 1, "{isolate:?}");
    let ids: Vec<&str> = isolate[0].techniques.iter().map(|t| t.split('.').next().unwrap()).collect();
    assert!(ids.contains(&"T1003") && ids.contains(&"T1490"), "{ids:?}");
    assert!(plan.steps_in(Phase::Containment).all(|s| s.action.phase == Phase::Containment));
}

#[test]
fn no_destructive_drops_and_lists() {
    let all = planner(PlanOptions::default()).plan(&windows_incident());
    let destructive: Vec<String> =
        all.steps.iter().filter(|s| s.action.destructive).map(|s| s.action.id.clone()).collect();
    assert!(!destructive.is_empty(), "the fixture should call for some destructive action");
    let safe = planner(PlanOptions { include_destructive: false, ..PlanOptions::default() }).plan(&windows_incident());
    assert!(safe.steps.iter().all(|s| !s.action.destructive));
    assert!(safe.techniques.iter().flat_map(|t| t.actions.iter()).all(|a| !a.destructive));
    for id in &destructive {
        assert!(safe.dropped.iter().any(|d| &d.id == id && d.destructive && d.reason.contains("destructive")), "{id}");
    }
    assert!(safe.steps.len() < all.steps.len());
}

#[test]
fn platform_filter_keeps_named_and_any() {
    let full = planner(PlanOptions::default()).plan(&windows_incident());
    assert!(full.steps.iter().any(|s| s.action.platform == Platform::Windows));
    let opts = PlanOptions { platforms: vec![Platform::Linux], ..PlanOptions::default() };
    let plan = planner(opts).plan(&windows_incident());
    assert!(!plan.steps.is_empty(), "the `any` actions stay");
    assert!(plan.steps.iter().all(|s| matches!(s.action.platform, Platform::Linux | Platform::Any)));
    assert!(plan.dropped.iter().all(|d| !matches!(d.platform, Platform::Linux | Platform::Any)));
    assert!(plan.dropped.iter().any(|d| d.platform == Platform::Windows && d.reason.contains("platform windows")));
    // Every step of the full plan is either kept or dropped.
    for s in &full.steps {
        let kept = plan.steps.iter().any(|k| k.action.merge_key() == s.action.merge_key());
        let dropped = plan.dropped.iter().any(|d| d.id == s.action.id && d.platform == s.action.platform);
        assert!(kept != dropped, "{} kept={kept} dropped={dropped}", s.action.id);
    }
    assert_eq!(parse_platform("Windows"), Some(Platform::Windows));
    assert_eq!(parse_platform("solaris"), None);
}

#[test]
fn techniques_without_knowledge_say_so() {
    let incident = windows_incident();
    let p = planner(PlanOptions::default());
    let list = [
        hand_made("T1649", &["credential-access"], 0.9),
        hand_made("T1114.002", &["collection"], 0.8),
        hand_made("T1003.001", &["credential-access"], 0.7),
    ];
    let plan = p.plan_techniques(&incident, &list);
    let order: Vec<&str> = plan.techniques.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(order, ["T1649", "T1114.002", "T1003.001"], "mapping order kept");
    let none = &plan.techniques[0];
    assert!(none.knowledge.is_none() && none.actions.is_empty());
    assert!(none.note.as_deref().unwrap().contains("no response knowledge for T1649"));
    assert!(!none.mitigations.is_empty(), "ATT&CK mitigations are still listed");
    assert!(none.mitigations.iter().all(|m| m.source == MitigationSource::Attack));
    assert!(plan.notes.iter().any(|n| n.contains("T1649")));
    let fallback = &plan.techniques[1];
    let k = fallback.knowledge.as_ref().unwrap();
    assert_eq!((k.key.as_str(), k.matched), ("data_exfiltration", KnowledgeMatch::ThreatType));
    assert!(fallback.note.as_deref().unwrap().contains("falls back to threat type `data_exfiltration`"));
    assert!(fallback.actions.iter().all(|a| a.knowledge == "data_exfiltration"));
    assert_eq!(plan.techniques[2].knowledge.as_ref().unwrap().matched, KnowledgeMatch::Parent);
}

#[test]
fn top_k_and_min_score() {
    let incident = windows_incident();
    let list = [hand_made("T1003", &[], 0.9), hand_made("T1490", &[], 0.8), hand_made("T1059", &[], 0.05)];
    let p = planner(PlanOptions { top_k: 1, min_score: 0.1, ..PlanOptions::default() });
    let plan = p.plan_techniques(&incident, &list);
    assert_eq!(plan.techniques.len(), 1);
    assert_eq!(plan.mapping.below_min_score, ["T1059"]);
    let plan = p.plan_techniques(&incident, &[]);
    assert!(!plan.has_techniques() && plan.steps.is_empty());
    assert!(plan.notes[0].contains("no ATT&CK technique"));
}

#[test]
fn missing_settings_are_reported_and_settings_render() {
    // T1078 Valid Accounts revokes sessions through the identity provider: {{idp_url}}.
    let incident = windows_incident();
    let list = [hand_made("T1078", &[], 0.9)];
    let plan = planner(PlanOptions::default()).plan_techniques(&incident, &list);
    let revoke = plan.steps.iter().find(|s| s.action.id == "revoke-sessions").expect("revoke-sessions");
    assert!(revoke.action.commands.is_empty());
    assert!(revoke.action.missing.iter().any(|m| m.setting && m.name == "idp_url"));
    assert!(plan.missing_settings.iter().any(|s| s.name == "idp_url" && !s.description.is_empty()));
    let settings = [("idp_url".to_string(), "https://idp.example.org/api/v1".to_string())].into();
    let plan = planner(PlanOptions { settings, ..PlanOptions::default() }).plan_techniques(&incident, &list);
    let revoke = plan.steps.iter().find(|s| s.action.id == "revoke-sessions").unwrap();
    assert!(revoke.action.missing.is_empty());
    assert!(
        revoke
            .action
            .commands
            .iter()
            .any(|c| c.command.contains("https://idp.example.org/api/v1/") && c.command.contains("alice")),
        "{:?}",
        revoke.action.commands
    );
    assert!(plan.missing_settings.is_empty());
}

#[test]
fn json_shape_is_stable() {
    let plan = planner(PlanOptions::default()).plan(&windows_incident());
    let v = serde_json::to_value(&plan).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["incident", "mapping", "techniques", "steps", "dropped", "missing_settings", "notes", "baseline"]
    );
    let t = &v["techniques"][0];
    let phases: Vec<&str> = t["actions"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(phases, ["containment", "eradication", "recovery", "verification"]);
    let a = &v["steps"][0]["action"];
    for key in [
        "id",
        "phase",
        "rationale",
        "acts_on",
        "observables",
        "command_type",
        "platform",
        "destructive",
        "reversible",
        "requires_approval",
        "commands",
        "skipped",
        "missing",
        "template",
    ] {
        assert!(a.get(key).is_some(), "step action lacks {key}: {a}");
    }
    assert_eq!(v["steps"][0]["action"]["phase"], "containment");
    // Same input, same plan.
    assert_eq!(
        serde_json::to_string(&plan).unwrap(),
        serde_json::to_string(&planner(PlanOptions::default()).plan(&windows_incident())).unwrap()
    );
}

#[test]
fn truncate_counts_characters() {
    assert_eq!(truncate("abcdef", 10), "abcdef");
    assert_eq!(truncate("ééééééé", 5), "éé...");
}

#[test]
fn baseline_is_planned_for_the_inferred_os_and_honours_the_filters() {
    let plan = planner(PlanOptions::default()).plan(&windows_incident());
    let baseline = plan.baseline.as_ref().expect("a mapped incident gets a baseline");
    assert_eq!(baseline.os, Platform::Windows);
    assert!(!baseline.os_default);
    assert!(baseline.actions.iter().all(|a| a.platform == Platform::Windows || a.platform == Platform::Any));
    let kill = baseline.actions.iter().find(|a| a.id == "kill-process-windows").expect("kill planned");
    assert!(kill.commands.iter().any(|c| c.command.contains("mimikatz")), "{:?}", kill.commands);
    // The baseline is not part of the merged steps.
    assert!(plan.steps.iter().all(|s| s.action.knowledge != "baseline"));
    let safe = planner(PlanOptions { include_destructive: false, ..PlanOptions::default() }).plan(&windows_incident());
    let safe = safe.baseline.expect("baseline");
    assert!(!safe.actions.is_empty() && safe.actions.iter().all(|a| !a.destructive), "{:?}", safe.actions);
    // Nothing mapped, nothing planned.
    let none = planner(PlanOptions::default()).plan_techniques(&windows_incident(), &[]);
    assert!(none.baseline.is_none());
}
